package e2e_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/oauth2"
)

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	formHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// TestSignIn is the sign-in flow over HTTP only, as a relying party and a
// browser (cookie jar, the page's form) would do it: discovery, authorize
// with PKCE, a sandbox persona, the code exchange, userinfo and a replay.
func TestSignIn(t *testing.T) {
	a := target(t)
	tok := a.accessToken(t)
	org := a.call(t, tok, http.MethodPost, "/v1/organisations", `{"name":"E2E sign-in `+uuid.NewString()[:8]+`"}`).json(t)
	orgID, _ := org["id"].(string)
	defer a.call(t, tok, http.MethodDelete, "/v1/organisations/"+orgID, "")
	redirect := "https://rp.example/callback"
	cl := a.call(t, tok, http.MethodPost, "/v1/organisations/"+orgID+"/clients",
		`{"name":"E2E RP","return_urls":["`+redirect+`"],"grant_types":["authorization_code","refresh_token"]}`)
	if cl.status != http.StatusCreated {
		t.Fatalf("create client: %d %s", cl.status, cl.body)
	}
	c := cl.json(t)
	clientID, secret := c["id"].(string), c["secret"].(string)
	defer a.call(t, tok, http.MethodDelete, "/v1/clients/"+clientID, "")

	meta := a.do(t, http.MethodGet, "/.well-known/openid-configuration", nil).json(t)
	issuer, _ := meta["issuer"].(string)
	local := func(u string) string { return a.base + strings.TrimPrefix(u, issuer) } // in process the issuer is not the test server

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := oauth2.GenerateVerifier()
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "scope": {"openid email offline_access"},
		"state": {"st"}, "nonce": {"nn"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
	resp, err := browser.Get(local(meta["authorization_endpoint"].(string)) + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formAction.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("sign-in page: %d %.300s", resp.StatusCode, page)
	}
	form := url.Values{"choice": {"sandbox:alice"}}
	for _, h := range formHidden.FindAllSubmatch(page, -1) {
		form.Set(string(h[1]), html.UnescapeString(string(h[2])))
	}
	resp, err = browser.PostForm(local(html.UnescapeString(string(m[1]))), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("iss") != issuer || loc.Query().Get("state") != "st" {
		t.Fatalf("after sign-in: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	post := func() response {
		req, _ := http.NewRequest(http.MethodPost, a.base+"/v1/token", strings.NewReader(exchange.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		r, err := a.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return response{r.StatusCode, r.Header, b}
	}
	first := post()
	if first.status != 200 {
		t.Fatalf("exchange: %d %s", first.status, first.body)
	}
	tokens := first.json(t)
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		if s, _ := tokens[k].(string); s == "" {
			t.Errorf("token response lacks %s: %s", k, first.body)
		}
	}
	info := a.do(t, http.MethodGet, "/v1/userinfo", nil, "Authorization", "Bearer "+tokens["access_token"].(string))
	if info.status != 200 || info.json(t)["email"] != "alice.smith@example.com" {
		t.Errorf("userinfo: %d %s", info.status, info.body)
	}
	if again := post(); again.status != 400 || again.json(t)["error"] != "invalid_grant" {
		t.Errorf("replay: %d %s, want invalid_grant", again.status, again.body)
	}
}
