package signin_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/oauth2"
)

// rp is a relying party built only from third-party libraries:
// golang.org/x/oauth2 (PKCE) and github.com/coreos/go-oidc/v3.
type rp struct {
	f        *fixture
	ctx      context.Context
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRP(t *testing.T, f *fixture, clientID, secret string, scopes ...string) *rp {
	t.Helper()
	ctx := oidc.ClientContext(t.Context(), f.env.Server.Client())
	provider, err := oidc.NewProvider(ctx, f.issuer) // discovery
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rp{
		f: f, ctx: ctx, provider: provider,
		conf: oauth2.Config{
			ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
			RedirectURL: f.redirect, Scopes: scopes,
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
	}
}

// signIn runs the browser part: authorize, choose persona, and returns
// the code (checking state and iss).
func (r *rp) signIn(t *testing.T, b *http.Client, verifier, nonce, persona string) string {
	t.Helper()
	state := "state-" + nonce
	u := r.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	page := readPage(t, get(t, b, u))
	if page.status != http.StatusOK || !slices.Contains(page.choices, persona) {
		t.Fatalf("sign-in page: status %d, choices %v; body %.300s", page.status, page.choices, page.body)
	}
	q := r.f.redirectParams(t, choose(t, b, page, persona))
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("got redirect %v, want code and state %s", q, state)
	}
	return q.Get("code")
}

// TestSignInWithLibraries is the whole flow for each signing algorithm:
// discovery, authorize with PKCE, the hosted page, the code exchange,
// ID token verification (signature through the JWKS, iss, aud, nonce,
// at_hash), userinfo, and refresh rotation.
func TestSignInWithLibraries(t *testing.T) {
	for _, alg := range []string{"PS256", "ES384", "ES512"} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, clientOpts{alg: alg})
			r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID, "profile", "email", "address", "phone", oidc.ScopeOfflineAccess)
			verifier, nonce := oauth2.GenerateVerifier(), "n-"+alg
			code := r.signIn(t, browser(t), verifier, nonce, "sandbox:alice")
			tok, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			rawID, _ := tok.Extra("id_token").(string)
			idt, err := r.verifier.Verify(r.ctx, rawID)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idt.Nonce != nonce {
				t.Errorf("got nonce %q, want %q", idt.Nonce, nonce)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var claims struct {
				AZP      string `json:"azp"`
				AuthTime int64  `json:"auth_time"`
			}
			if err := idt.Claims(&claims); err != nil || claims.AZP != f.clientID || claims.AuthTime == 0 {
				t.Errorf("got azp %q auth_time %d (%v), want %s and a time", claims.AZP, claims.AuthTime, err, f.clientID)
			}
			if tok.RefreshToken == "" {
				t.Error("no refresh token with offline_access")
			}
			info, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if info.Subject != idt.Subject || info.Email != "alice.smith@example.com" || !info.EmailVerified {
				t.Errorf("got userinfo sub %q email %q verified %v, want sub %q alice's verified email", info.Subject, info.Email, info.EmailVerified, idt.Subject)
			}
			var ui map[string]any
			if err := info.Claims(&ui); err != nil || ui["address"] == nil || ui["phone_number"] == nil || ui["given_name"] != "Alice" {
				t.Errorf("got userinfo %v, want address, phone and profile claims", ui)
			}
			if alg != "PS256" { // moto's PS256 signatures use the maximum salt length, which jwx refuses
				verifyWithJWX(t, f, rawID, tok.AccessToken)
			}

			// Refresh: rotation, then reuse of the replaced token kills the family.
			src := r.conf.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)})
			next, err := src.Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
				t.Fatalf("refresh did not rotate the refresh token")
			}
			if _, err := r.verifier.Verify(r.ctx, next.Extra("id_token").(string)); err != nil {
				t.Errorf("refreshed ID token: %v", err)
			}
			resp := f.tokenForm(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if resp.StatusCode != 400 || !strings.Contains(string(resp.Body), "invalid_grant") {
				t.Errorf("reuse: got %d %s, want 400 invalid_grant", resp.StatusCode, resp.Body)
			}
			resp = f.tokenForm(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next.RefreshToken}})
			if resp.StatusCode != 400 {
				t.Errorf("family member after reuse: got %d %s, want 400", resp.StatusCode, resp.Body)
			}
			if active := f.introspect(t, next.AccessToken); active {
				t.Error("access token of a killed family is still active")
			}
		})
	}
}

func verifyWithJWX(t *testing.T, f *fixture, tokens ...string) {
	t.Helper()
	set, err := jwk.Fetch(t.Context(), f.issuer+"/.well-known/jwks.json")
	if err != nil {
		t.Fatalf("fetch JWKS: %v", err)
	}
	for _, raw := range tokens {
		if _, err := jwt.Parse([]byte(raw), jwt.WithKeySet(set), jwt.WithIssuer(f.issuer)); err != nil {
			t.Errorf("jwx: %v", err)
		}
	}
}

// tokenForm posts form to the token endpoint as the fixture's client.
func (f *fixture) tokenForm(t *testing.T, form url.Values) apptestResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.env.Server.URL+"/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.clientID), url.QueryEscape(f.secret))
	r := f.env.Do(t, req)
	return apptestResponse{StatusCode: r.StatusCode, Body: r.Body}
}

type apptestResponse struct {
	StatusCode int
	Body       []byte
}

// introspect reports whether the partner's introspection says active.
func (f *fixture) introspect(t *testing.T, tok string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.env.Server.URL+"/v1/token/introspect", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.partnerID), url.QueryEscape(f.partnerSec))
	r := f.env.Do(t, req)
	return strings.Contains(string(r.Body), `"active":true`)
}

// TestCodeReplay: a code works once, sequentially and under a race of two
// exchanges (one winner); the replay revokes what the first use issued.
func TestCodeReplay(t *testing.T) {
	f := newFixture(t, clientOpts{})
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	t.Run("sequential", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := r.signIn(t, browser(t), verifier, "seq", "sandbox:bob")
		tok, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if !f.introspect(t, tok.AccessToken) {
			t.Fatal("fresh token not active")
		}
		if _, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(verifier)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("second use: got %v, want invalid_grant", err)
		}
		if f.introspect(t, tok.AccessToken) {
			t.Error("the replay did not revoke the first access token")
		}
		resp := f.tokenForm(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if resp.StatusCode != 400 {
			t.Errorf("refresh after replay: got %d, want 400", resp.StatusCode)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		code := r.signIn(t, browser(t), verifier, "conc", "sandbox:bob")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		toks := make([]*oauth2.Token, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				toks[i], errs[i] = r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(verifier))
			}()
		}
		wg.Wait()
		var won *oauth2.Token
		for i, err := range errs {
			if err == nil {
				won = toks[i]
			}
		}
		if won == nil || errs[0] == nil && errs[1] == nil {
			t.Fatalf("got errors %v, want exactly one successful exchange", errs)
		}
		// The loser claimed a used code: what the winner issued is revoked.
		if f.introspect(t, won.AccessToken) {
			t.Error("the concurrent replay did not revoke the winner's access token")
		}
	})
}
