package signin_test

import (
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

// fixture is a running service with a partner, an organisation and a
// sign-in client.
type fixture struct {
	env     *apptest.Env
	partner *apptest.Caller
	issuer  string
	// partner's token, id and secret.
	partnerToken string
	partnerID    string
	partnerSec   string

	orgID    string
	clientID string
	secret   string
	redirect string
}

type clientOpts struct {
	alg        string
	production bool
	// https gives the client the redirect URI https://app.example/callback
	// (production clients always have it).
	https  bool
	grants []string
	// redirect replaces the client's redirect URI.
	redirect string
}

func newFixture(t testing.TB, o clientOpts) *fixture {
	t.Helper()
	e := apptest.New(t, apptest.Options{LoopbackIssuer: true})
	p := apptest.NewPartner(t, e)
	f := &fixture{
		env: e, partner: p, issuer: e.App.Config.IssuerURL, redirect: "http://127.0.0.1:9/callback?tenant=a",
		partnerToken: p.Token, partnerID: p.PartnerID, partnerSec: p.Secret,
	}
	f.orgID = p.Org(t, map[string]any{"name": "Acme Retail", "has_production_access": true, "enable_custom_logo": true})
	p.Must(t, http.StatusOK, http.MethodPut, "/v1/organisations/"+f.orgID+"/ui-config", map[string]any{
		"display_name": "Acme Retail", "primary_colour": "#FFD500",
	})
	f.clientID, f.secret = f.newClient(t, o)
	return f
}

func (f *fixture) newClient(t testing.TB, o clientOpts) (string, string) {
	t.Helper()
	if o.grants == nil {
		o.grants = []string{"authorization_code", "refresh_token"}
	}
	if o.alg == "" {
		o.alg = "ES384"
	}
	redirect := f.redirect
	if o.production || o.https {
		redirect = "https://app.example/callback"
	}
	if o.redirect != "" {
		redirect = o.redirect
	}
	// Not Caller.Client: that also requests the new client's token.
	cl := f.partner.Must(t, http.StatusCreated, http.MethodPost, "/v1/organisations/"+f.orgID+"/clients", map[string]any{
		"name": "Acme web", "token_signing_algorithm": o.alg, "return_urls": []string{redirect},
		"grant_types": o.grants, "is_production": o.production, "additional_scopes": []string{"accounts"},
	})
	id, _ := cl["id"].(string)
	secret, _ := cl["secret"].(string)
	return id, secret
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signInPage is a parsed sign-in page.
type signInPage struct {
	status  int
	header  http.Header
	body    string
	action  string
	fields  url.Values
	choices []string
}

var (
	actionRe = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	choiceRe = regexp.MustCompile(`<button type="submit" name="choice" value="([^"]+)">`)
)

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp
}

func readPage(t *testing.T, resp *http.Response) signInPage {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := signInPage{status: resp.StatusCode, header: resp.Header, body: string(b), fields: url.Values{}}
	if m := actionRe.FindStringSubmatch(p.body); m != nil {
		p.action = html.UnescapeString(m[1])
	}
	for _, m := range hiddenRe.FindAllStringSubmatch(p.body, -1) {
		p.fields.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range choiceRe.FindAllStringSubmatch(p.body, -1) {
		p.choices = append(p.choices, html.UnescapeString(m[1]))
	}
	return p
}

// choose submits the page's form with choice and returns the response.
func choose(t *testing.T, c *http.Client, p signInPage, choice string) *http.Response {
	t.Helper()
	form := url.Values{}
	for k, v := range p.fields {
		form[k] = v
	}
	form.Set("choice", choice)
	resp, err := c.PostForm(p.action, form)
	if err != nil {
		t.Fatalf("POST %s: %v", p.action, err)
	}
	return resp
}

// redirectParams checks resp is a 302 to f.redirect and returns its query.
func (f *fixture) redirectParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("got status %d, want 302; body %.500s", resp.StatusCode, b)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "http://127.0.0.1:9/callback?") {
		t.Fatalf("got Location %q, want the redirect URI", loc)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("tenant") != "a" || q.Get("iss") != f.issuer {
		t.Errorf("got redirect query %v, want tenant=a and iss=%s", q, f.issuer)
	}
	return q
}

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
