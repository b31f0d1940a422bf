package signin_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// authorizeURL is a valid authorization request of f's client with the
// given parameters changed ("" deletes one).
func (f *fixture) authorizeURL(change map[string]string) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {f.clientID}, "redirect_uri": {f.redirect},
		"scope": {"openid profile"}, "state": {"xyz"}, "nonce": {"n1"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(strings.Repeat("v", 43))}, "code_challenge_method": {"S256"},
	}
	for k, v := range change {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return f.issuer + "/v1/authorize?" + q.Encode()
}

// TestAuthorizeErrors: an unknown client or unregistered redirect URI is
// an HTML page and never a redirect; every other error redirects back with
// error, error_description, state and iss.
func TestAuthorizeErrors(t *testing.T) {
	f := newFixture(t, clientOpts{})
	ccOnly, _ := f.newClient(t, clientOpts{grants: []string{"client_credentials"}})
	tests := []struct {
		name      string
		change    map[string]string
		wantPage  int    // status of an error page
		wantError string // error of a redirect
	}{
		{"no client_id", map[string]string{"client_id": ""}, 400, ""},
		{"unknown client", map[string]string{"client_id": "no-such-client"}, 400, ""},
		{"no redirect_uri", map[string]string{"redirect_uri": ""}, 400, ""},
		{"unregistered redirect_uri", map[string]string{"redirect_uri": "https://evil.example/cb"}, 400, ""},
		{"redirect_uri differs in query", map[string]string{"redirect_uri": "http://127.0.0.1:9/callback?tenant=b"}, 400, ""},
		{"no response_type", map[string]string{"response_type": ""}, 0, "invalid_request"},
		{"token response_type", map[string]string{"response_type": "token"}, 0, "unsupported_response_type"},
		{"hybrid response_type", map[string]string{"response_type": "code id_token"}, 0, "unsupported_response_type"},
		{"no PKCE", map[string]string{"code_challenge": "", "code_challenge_method": ""}, 0, "invalid_request"},
		{"plain PKCE", map[string]string{"code_challenge_method": "plain"}, 0, "invalid_request"},
		{"PKCE without method", map[string]string{"code_challenge_method": ""}, 0, "invalid_request"},
		{"short challenge", map[string]string{"code_challenge": "abc"}, 0, "invalid_request"},
		{"request object", map[string]string{"request": "eyJhbGciOiJub25lIn0.e30."}, 0, "request_not_supported"},
		{"request_uri", map[string]string{"request_uri": "https://x.example/r"}, 0, "request_uri_not_supported"},
		{"bad scope", map[string]string{"scope": "openid  profile"}, 0, "invalid_scope"},
		{"prompt none without session", map[string]string{"prompt": "none"}, 0, "login_required"},
		{"prompt none with login", map[string]string{"prompt": "none login"}, 0, "invalid_request"},
		{"bad max_age", map[string]string{"max_age": "-1"}, 0, "invalid_request"},
		{"client without authorization_code", map[string]string{"client_id": ccOnly}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := f.authorizeURL(tc.change)
			if tc.name == "client without authorization_code" {
				// its redirect URI is the same; it is refused by a redirect
				tc.wantError = "unauthorized_client"
			}
			resp := get(t, browser(t), u)
			defer resp.Body.Close()
			if tc.wantPage != 0 {
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != tc.wantPage || resp.Header.Get("Location") != "" || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("got %d Location %q, want an HTML page %d", resp.StatusCode, resp.Header.Get("Location"), tc.wantPage)
				}
				if !strings.Contains(string(body), `<html lang="en">`) || resp.Header.Get("X-Frame-Options") != "DENY" {
					t.Errorf("error page lacks lang or framing protection")
				}
				return
			}
			q := f.redirectParams(t, resp)
			if q.Get("error") != tc.wantError || q.Get("error_description") == "" || q.Get("code") != "" {
				t.Errorf("got %v, want error %s with a description", q, tc.wantError)
			}
			if tc.change["state"] == "" && q.Get("state") != "xyz" {
				t.Errorf("got state %q, want xyz", q.Get("state"))
			}
		})
	}
}

// TestAuthorizeByPOST: OIDC Core §3.1.2.1 requires POST too; unknown
// parameters are ignored.
func TestAuthorizeByPOST(t *testing.T) {
	f := newFixture(t, clientOpts{})
	u, _ := url.Parse(f.authorizeURL(map[string]string{"foo": "bar", "ui_locales": "fr en", "login_hint": "alice", "display": "page"}))
	resp, err := browser(t).PostForm(f.issuer+"/v1/authorize", u.Query())
	if err != nil {
		t.Fatal(err)
	}
	p := readPage(t, resp)
	if p.status != 200 || len(p.choices) != 4 {
		t.Fatalf("got %d with %d choices, want the page with 4 personas", p.status, len(p.choices))
	}
}

// TestSignInPageSecurity checks the page's headers, form and cookie, and
// the CSRF protection of its POST.
func TestSignInPageSecurity(t *testing.T) {
	f := newFixture(t, clientOpts{})
	b := browser(t)
	resp := get(t, b, f.authorizeURL(nil))
	p := readPage(t, resp)
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self' http://127.0.0.1:9", "style-src 'nonce-", "img-src 'self' data: https:"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := p.header.Get(h); got != want {
			t.Errorf("got %s %q, want %q", h, got, want)
		}
	}
	if strings.Contains(p.body, "<script") || !strings.Contains(p.body, `<html lang="en">`) || !strings.Contains(p.body, "Acme Retail") {
		t.Errorf("page has script, lacks lang or the organisation's display name")
	}
	// #FFD500 is light: black text on it.
	if !strings.Contains(p.body, "--on-primary:#000000") {
		t.Errorf("text on the light primary colour is not black")
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-partner-api-session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %q", cookie, want)
		}
	}
	if p.fields.Get("csrf_token") == "" || p.fields.Get("request") == "" {
		t.Fatalf("form lacks csrf_token or request: %v", p.fields)
	}
	tests := []struct {
		name   string
		modify func(p *signInPage) *http.Client
	}{
		{"missing CSRF token", func(p *signInPage) *http.Client { p.fields.Del("csrf_token"); return b }},
		{"wrong CSRF token", func(p *signInPage) *http.Client { p.fields.Set("csrf_token", "AAAA"); return b }},
		{"another browser (no cookie)", func(p *signInPage) *http.Client { return browser(t) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cp := p
			cp.fields = url.Values{}
			for k, v := range p.fields {
				cp.fields[k] = v
			}
			client := tc.modify(&cp)
			resp := choose(t, client, cp, "sandbox:alice")
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
				t.Errorf("got %d Location %q, want a 403 page", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	t.Run("tampered request", func(t *testing.T) {
		cp := p
		cp.fields = url.Values{"csrf_token": {p.fields.Get("csrf_token")}, "request": {p.fields.Get("request") + "x"}}
		resp := choose(t, b, cp, "sandbox:alice")
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("got %d, want 400", resp.StatusCode)
		}
	})
}

// TestProductionClientNoSandbox: a production client's page offers no
// persona, and a forged POST choosing one for it is refused.
func TestProductionClientNoSandbox(t *testing.T) {
	f := newFixture(t, clientOpts{})
	prodID, _ := f.newClient(t, clientOpts{production: true})
	b := browser(t)
	prod := f.authorizeURL(map[string]string{"client_id": prodID, "redirect_uri": "https://app.example/callback"})
	p := readPage(t, get(t, b, prod))
	if p.status != 200 || len(p.choices) != 0 || strings.Contains(p.body, "Alice") {
		t.Fatalf("production page: status %d choices %v, want no persona", p.status, p.choices)
	}
	if !strings.Contains(p.body, "No way to sign in") {
		t.Errorf("production page does not say no method is available")
	}
	// The forgery: the sealed request and CSRF token of a page shown while
	// the client was not production, posted after it became production.
	testID, _ := f.newClient(t, clientOpts{https: true})
	page := readPage(t, get(t, b, f.authorizeURL(map[string]string{"client_id": testID, "redirect_uri": "https://app.example/callback"})))
	if len(page.choices) == 0 {
		t.Fatal("a non-production client's page offers no persona")
	}
	resp := f.env.Request(t, f.partnerToken, http.MethodPatch, "/v1/clients/"+testID, `{"is_production":true}`,
		"Content-Type", "application/merge-patch+json")
	if resp.StatusCode != 200 {
		t.Fatalf("make client production: %d %s", resp.StatusCode, resp.Body)
	}
	out := choose(t, b, page, "sandbox:alice")
	defer out.Body.Close()
	if out.StatusCode != http.StatusForbidden || out.Header.Get("Location") != "" {
		t.Fatalf("got %d Location %q, want the persona refused with a 403 page", out.StatusCode, out.Header.Get("Location"))
	}
}

// TestSessionPromptAndMaxAge: a signed-in browser is not asked again;
// prompt=none then works, prompt=login and max_age=0 ask again, and the
// ID token's auth_time is the sign-in's.
func TestSessionPromptAndMaxAge(t *testing.T) {
	f := newFixture(t, clientOpts{})
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID)
	b := browser(t)
	verifier := oauth2.GenerateVerifier()
	r.signIn(t, b, verifier, "first", "sandbox:chloe")
	f.env.Clock.Advance(10 * time.Second)
	for _, tc := range []struct {
		name     string
		change   map[string]string
		wantPage bool
	}{
		{"no prompt: SSO", nil, false},
		{"prompt none: SSO", map[string]string{"prompt": "none"}, false},
		{"max_age 3600: SSO", map[string]string{"max_age": "3600"}, false},
		{"prompt login", map[string]string{"prompt": "login"}, true},
		{"max_age 0", map[string]string{"max_age": "0"}, true},
		{"max_age 5", map[string]string{"max_age": "5"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, b, f.authorizeURL(tc.change))
			if tc.wantPage {
				p := readPage(t, resp)
				if p.status != 200 || len(p.choices) == 0 {
					t.Errorf("got %d, want the sign-in page", p.status)
				}
				return
			}
			q := f.redirectParams(t, resp)
			if q.Get("code") == "" {
				t.Errorf("got %v, want a code", q)
			}
		})
	}
}

// TestExchangeErrors covers the code exchange's refusals.
func TestExchangeErrors(t *testing.T) {
	f := newFixture(t, clientOpts{})
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID)
	otherID, otherSecret := f.newClient(t, clientOpts{})
	code := func() (string, string) {
		v := oauth2.GenerateVerifier()
		return r.signIn(t, browser(t), v, "x", "sandbox:dev"), v
	}
	tests := []struct {
		name  string
		setup func() url.Values
		auth  [2]string
		want  string
	}{
		{"wrong verifier", func() url.Values {
			c, _ := code()
			return url.Values{"code": {c}, "code_verifier": {oauth2.GenerateVerifier()}, "redirect_uri": {f.redirect}}
		}, [2]string{}, "invalid_grant"},
		{"short verifier", func() url.Values {
			c, _ := code()
			return url.Values{"code": {c}, "code_verifier": {"abc"}, "redirect_uri": {f.redirect}}
		}, [2]string{}, "invalid_request"},
		{"wrong redirect_uri", func() url.Values {
			c, v := code()
			return url.Values{"code": {c}, "code_verifier": {v}, "redirect_uri": {"http://127.0.0.1:9/callback"}}
		}, [2]string{}, "invalid_grant"},
		{"another client's code", func() url.Values {
			c, v := code()
			return url.Values{"code": {c}, "code_verifier": {v}, "redirect_uri": {f.redirect}}
		}, [2]string{otherID, otherSecret}, "invalid_grant"},
		{"expired code", func() url.Values {
			c, v := code()
			f.env.Clock.Advance(61 * time.Second)
			return url.Values{"code": {c}, "code_verifier": {v}, "redirect_uri": {f.redirect}}
		}, [2]string{}, "invalid_grant"},
		{"unknown code", func() url.Values {
			return url.Values{"code": {"nope"}, "code_verifier": {oauth2.GenerateVerifier()}, "redirect_uri": {f.redirect}}
		}, [2]string{}, "invalid_grant"},
		{"missing verifier", func() url.Values {
			c, _ := code()
			return url.Values{"code": {c}, "redirect_uri": {f.redirect}}
		}, [2]string{}, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.setup()
			form.Set("grant_type", "authorization_code")
			id, sec := f.clientID, f.secret
			if tc.auth[0] != "" {
				id, sec = tc.auth[0], tc.auth[1]
			}
			req, _ := http.NewRequest(http.MethodPost, f.env.Server.URL+"/v1/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(sec))
			resp := f.env.Do(t, req)
			if resp.StatusCode != 400 || !strings.Contains(string(resp.Body), `"error":"`+tc.want+`"`) {
				t.Errorf("got %d %s, want 400 %s", resp.StatusCode, resp.Body, tc.want)
			}
		})
	}
}

// TestDisabledClientMidFlow: a client disabled between the page and the
// choice gets no code; one disabled after the code gets no token; and its
// refresh tokens stop.
func TestDisabledClientMidFlow(t *testing.T) {
	f := newFixture(t, clientOpts{})
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	b := browser(t)
	v := oauth2.GenerateVerifier()
	tok, err := r.conf.Exchange(r.ctx, r.signIn(t, b, v, "a", "sandbox:alice"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	page := readPage(t, get(t, browser(t), f.authorizeURL(nil)))
	patch := func(enabled bool) {
		resp := f.env.Request(t, f.partnerToken, http.MethodPatch, "/v1/clients/"+f.clientID, map[string]any{"enabled": enabled},
			"Content-Type", "application/merge-patch+json")
		if resp.StatusCode != 200 {
			t.Fatalf("patch client: %d %s", resp.StatusCode, resp.Body)
		}
	}
	patch(false)
	resp := choose(t, b, page, "sandbox:alice")
	resp.Body.Close()
	if strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Error("a disabled client got a code")
	}
	resp2 := f.tokenForm(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if resp2.StatusCode != 401 {
		t.Errorf("refresh of a disabled client: got %d %s, want 401 invalid_client", resp2.StatusCode, resp2.Body)
	}
	if f.introspect(t, tok.AccessToken) {
		t.Error("a disabled client's sign-in token is active")
	}
}

// TestDisabledOrganisation: a client of a disabled organisation gets no
// sign-in: the authorization request is refused with unauthorized_client.
func TestDisabledOrganisation(t *testing.T) {
	f := newFixture(t, clientOpts{})
	resp := f.env.Request(t, f.partnerToken, http.MethodPatch, "/v1/organisations/"+f.orgID, map[string]any{"enabled": false},
		"Content-Type", "application/merge-patch+json")
	if resp.StatusCode != 200 {
		t.Fatalf("disable organisation: %d %s", resp.StatusCode, resp.Body)
	}
	q := f.redirectParams(t, get(t, browser(t), f.authorizeURL(nil)))
	if q.Get("error") != "unauthorized_client" {
		t.Errorf("got %v, want unauthorized_client", q)
	}
}
