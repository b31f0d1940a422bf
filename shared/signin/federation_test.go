package signin_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

// newServer registers an authorisation server of the fixture's
// organisation whose discovery document is docURL, with federation
// credentials, and returns its id.
func (f *fixture) newServer(t *testing.T, docURL, clientID, secret string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{
		"auto_registration_supported": false, "customer_friendly_name": "Acme Bank",
		"customer_friendly_description": "Sign in with your Acme Bank login", "supports_redirect": true,
		"openid_discovery_document": docURL, "federation_client_id": clientID, "federation_client_secret": secret,
		"customer_friendly_logo_uri": "https://bank.example/logo.png",
	}
	for k, v := range extra {
		body[k] = v
	}
	resp := f.env.Request(t, f.partnerToken, http.MethodPost, "/v1/organisations/"+f.orgID+"/authorisation-servers", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create authorisation server: %d %s", resp.StatusCode, resp.Body)
	}
	var got struct {
		ID                string   `json:"id"`
		Issuer            *string  `json:"issuer"`
		SecretSet         bool     `json:"federation_client_secret_set"`
		OperationWarnings []string `json:"operation_warnings"`
		Secret            *string  `json:"federation_client_secret"`
	}
	if err := json.Unmarshal(resp.Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Issuer == nil || got.Issuer != nil && *got.Issuer+"/.well-known/openid-configuration" != docURL || len(got.OperationWarnings) > 0 {
		t.Fatalf("discovery: got issuer %v, warnings %v; want the document's issuer, none", got.Issuer, got.OperationWarnings)
	}
	if !got.SecretSet || got.Secret != nil || strings.Contains(string(resp.Body), secret) {
		t.Fatalf("got secret set %v, body %s; want set and never shown", got.SecretSet, resp.Body)
	}
	return got.ID
}

// upstreamSignIn starts a sign-in of r's client in browser b, chooses
// choice and returns the response to the choice (the redirect upstream).
func upstreamSignIn(t *testing.T, r *rp, b *http.Client, verifier, state, nonce, choice string) (signInPage, *http.Response) {
	t.Helper()
	u := r.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	page := readPage(t, get(t, b, u))
	if page.status != http.StatusOK || !slices.Contains(page.choices, choice) {
		t.Fatalf("sign-in page: status %d, choices %v, want %s; body %.300s", page.status, page.choices, choice, page.body)
	}
	return page, choose(t, b, page, choice)
}

// follow GETs the Location of resp (a 302) with b.
func follow(t *testing.T, b *http.Client, resp *http.Response) *http.Response {
	t.Helper()
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("got status %d, want 302", resp.StatusCode)
	}
	return get(t, b, resp.Header.Get("Location"))
}

// TestFederatedSignInWithMockOIDC is the whole chain with an upstream
// OpenID provider nobody here wrote (github.com/oauth2-proxy/mockoidc) on
// loopback: the partner's client (x/oauth2 + go-oidc) → our authorize →
// the upstream's authorize → our callback → our code → our ID token,
// verified by go-oidc; the sub is ours, not the upstream's, and stable.
func TestFederatedSignInWithMockOIDC(t *testing.T) {
	f := newFixture(t, clientOpts{})
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	asID := f.newServer(t, m.DiscoveryEndpoint(), cfg.ClientID, cfg.ClientSecret, nil)
	choice := "federation:" + asID
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID, "profile", "email")

	var subs []string
	var b *http.Client
	for i := range 2 {
		b = browser(t)
		verifier, nonce, state := oauth2.GenerateVerifier(), fmt.Sprintf("n-%d", i), fmt.Sprintf("s-%d", i)
		page, resp := upstreamSignIn(t, r, b, verifier, state, nonce, choice)
		upstream, _ := url.Parse(m.Issuer())
		if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9 http://"+upstream.Host) {
			t.Errorf("got CSP %q, want form-action allowing the upstream's origin", csp)
		}
		if !strings.Contains(page.body, `src="https://bank.example/logo.png"`) || !strings.Contains(page.body, "Acme Bank") {
			t.Errorf("the page does not show the server's name and logo: %.600s", page.body)
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if q := loc.Query(); !strings.HasPrefix(loc.String(), m.AuthorizationEndpoint()) || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("nonce") == nonce || len(q.Get("state")) < 43 ||
			q.Get("redirect_uri") != f.issuer+"/v1/authorize/callback" || q.Get("client_id") != cfg.ClientID {
			t.Fatalf("got upstream request %s, want code flow with PKCE S256, our own state and nonce, our callback", loc)
		}
		back := follow(t, b, resp) // mockoidc's answer: back to our callback
		q := f.redirectParams(t, follow(t, b, back))
		if q.Get("state") != state || q.Get("code") == "" {
			t.Fatalf("got redirect %v, want code and state %s", q, state)
		}
		tok, err := r.conf.Exchange(r.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		idt, err := r.verifier.Verify(r.ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("verify our ID token: %v", err)
		}
		if idt.Nonce != nonce || idt.Subject == mockoidc.DefaultUser().Subject || len(idt.Subject) != 43 {
			t.Errorf("got nonce %q sub %q; want %q and a pairwise sub", idt.Nonce, idt.Subject, nonce)
		}
		info, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if info.Subject != idt.Subject || info.Email != mockoidc.DefaultUser().Email || !info.EmailVerified {
			t.Errorf("got userinfo sub %q email %q %v, want the upstream user's verified email", info.Subject, info.Email, info.EmailVerified)
		}
		subs = append(subs, idt.Subject)
	}
	if subs[0] != subs[1] {
		t.Errorf("got subs %v, want one stable sub", subs)
	}

	// prompt=login goes upstream too.
	_, resp := upstreamSignIn(t, r, browser(t), oauth2.GenerateVerifier(), "s-login", "n", choice)
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc.Query().Get("prompt") != "" {
		t.Errorf("got prompt %q upstream without prompt=login", loc.Query().Get("prompt"))
	}
	u0 := r.conf.AuthCodeURL("s-login", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "login"))
	page := readPage(t, get(t, b, u0))
	resp = choose(t, b, page, choice)
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc.Query().Get("prompt") != "login" {
		t.Errorf("got upstream request %s, want prompt=login", loc)
	}

	// The browser's session resumes the upstream sign-in: prompt=none
	// answers with a code at once, for the same user and claims.
	verifier := oauth2.GenerateVerifier()
	u := r.conf.AuthCodeURL("s-none", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"))
	q := f.redirectParams(t, get(t, b, u))
	if q.Get("code") == "" {
		t.Fatalf("prompt=none after an upstream sign-in: got %v, want a code", q)
	}
	tok, err := r.conf.Exchange(r.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	info, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != subs[0] || info.Email != mockoidc.DefaultUser().Email {
		t.Errorf("resumed: got %+v (%v), want sub %s and the upstream email", info, err, subs[0])
	}
}

// badUpstream is a small hand-written OpenID provider on loopback that
// misbehaves as mode says: its authorization endpoint answers at once.
type badUpstream struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	other *rsa.PrivateKey
	mu    sync.Mutex
	mode  string
	nonce string
	// ourJWKS is the service's JWKS: a client_assertion (private_key_jwt)
	// must verify with one of its keys.
	ourJWKS string
}

func newBadUpstream(t *testing.T) *badUpstream {
	t.Helper()
	u := &badUpstream{}
	var err error
	if u.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if u.other, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := u.srv.URL
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &u.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		u.mu.Lock()
		u.nonce = q.Get("nonce")
		mode := u.mode
		u.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		v := url.Values{"state": {q.Get("state")}}
		switch mode {
		case "access_denied":
			v.Set("error", "access_denied")
			v.Set("error_description", "the user said no")
		case "wrong iss parameter":
			v.Set("code", "c")
			v.Set("iss", "https://evil.example")
		default:
			v.Set("code", "c")
		}
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		mode, nonce := u.mode, u.nonce
		u.mu.Unlock()
		if r.FormValue("code_verifier") == "" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		if a := r.FormValue("client_assertion"); a != "" {
			if err := u.checkAssertion(a, r.FormValue("client_id")); err != nil {
				t.Logf("client assertion refused: %v", err)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
				return
			}
		} else if _, secret, ok := r.BasicAuth(); !ok || secret != "fed-secret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		claims := map[string]any{
			"iss": u.srv.URL, "aud": "fed-client", "sub": "upstream-user-1", "nonce": nonce,
			"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(), "email": "u@example.com",
		}
		key, kid, alg := u.key, "k1", jose.RS256
		switch mode {
		case "wrong issuer":
			claims["iss"] = "https://evil.example"
		case "wrong audience":
			claims["aud"] = "someone-else"
		case "wrong nonce":
			claims["nonce"] = "not-ours"
		case "expired":
			claims["exp"] = time.Now().Add(-time.Hour).Unix()
		case "azp of another client":
			claims["aud"] = []string{"fed-client", "other"}
			claims["azp"] = "other"
		case "bad signature":
			key = u.other
		case "unknown kid":
			key, kid = u.other, "k2"
		case "slow":
			time.Sleep(4 * time.Second)
		case "huge":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id_token":"` + strings.Repeat("a", 300<<10) + `"}`))
			return
		case "redirect to a private address":
			http.Redirect(w, r, "http://10.0.0.1/token", http.StatusTemporaryRedirect)
			return
		case "exchange refused":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		payload, _ := json.Marshal(claims)
		var raw string
		if mode == "alg none" {
			raw = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
		} else {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			jws, err := signer.Sign(payload)
			if err != nil {
				t.Error(err)
				return
			}
			raw, _ = jws.CompactSerialize()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": raw})
	})
	u.srv = httptest.NewServer(mux)
	t.Cleanup(u.srv.Close)
	return u
}

// checkAssertion verifies a private_key_jwt client assertion (RFC 7523)
// with the service's published keys, as an upstream provider would.
func (u *badUpstream) checkAssertion(raw, clientID string) error {
	resp, err := http.Get(u.ourJWKS)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES384, jose.ES512, jose.PS256})
	if err != nil {
		return err
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		return fmt.Errorf("kid %q not in the service's JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return err
	}
	var c struct {
		Iss, Sub, Aud, JTI string
		Exp                int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	if c.Iss != clientID || c.Sub != clientID || c.Aud != u.srv.URL+"/token" || c.JTI == "" || time.Unix(c.Exp, 0).Before(time.Now()) {
		return fmt.Errorf("claims %+v", c)
	}
	return nil
}

func (u *badUpstream) set(mode string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.mode = mode
}

// TestFederatedSignInRefusesMisbehavingUpstream: each misbehaviour of the
// upstream provider comes back to the partner's client as an OIDC error
// redirect (error, error_description, state, iss), never a hanging page.
func TestFederatedSignInRefusesMisbehavingUpstream(t *testing.T) {
	f := newFixture(t, clientOpts{})
	up := newBadUpstream(t)
	up.ourJWKS = f.issuer + "/.well-known/jwks.json"
	asID := f.newServer(t, up.srv.URL+"/.well-known/openid-configuration", "fed-client", "fed-secret", nil)
	choice := "federation:" + asID
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID, "email")

	for _, tc := range []struct {
		mode, wantError, wantDescription string
	}{
		{"", "", ""}, // the well-behaved case first
		{"access_denied", "access_denied", "did not sign the user in"},
		{"wrong iss parameter", "access_denied", "another issuer"},
		{"wrong issuer", "access_denied", "issuer is not the provider's"},
		{"wrong audience", "access_denied", "audience"},
		{"wrong nonce", "access_denied", "nonce"},
		{"expired", "access_denied", "expired"},
		{"azp of another client", "access_denied", "azp"},
		{"bad signature", "access_denied", "signature"},
		{"unknown kid", "access_denied", "signature"},
		{"alg none", "access_denied", "algorithm"},
		{"exchange refused", "access_denied", "refused the code exchange"},
		{"slow", "temporarily_unavailable", "did not answer in time"},
		{"huge", "server_error", "too large"},
		{"redirect to a private address", "server_error", "refused"},
	} {
		t.Run(cmp(tc.mode, "well-behaved"), func(t *testing.T) {
			up.set(tc.mode)
			b := browser(t)
			state := "s-" + strings.ReplaceAll(tc.mode, " ", "-")
			_, resp := upstreamSignIn(t, r, b, oauth2.GenerateVerifier(), state, "n", choice)
			back := follow(t, b, resp)
			callbackURL := back.Header.Get("Location")
			start := time.Now()
			q := f.redirectParams(t, follow(t, b, back))
			if d := time.Since(start); d > 6*time.Second {
				t.Errorf("the callback took %v", d)
			}
			if q.Get("state") != state {
				t.Errorf("got state %q, want %q", q.Get("state"), state)
			}
			if tc.wantError == "" {
				if q.Get("code") == "" {
					t.Fatalf("got %v, want a code", q)
				}
				// Replayed state: the same callback again is refused, to the client.
				q := f.redirectParams(t, get(t, b, callbackURL))
				if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "replayed") {
					t.Errorf("replay: got %v, want access_denied (replayed state)", q)
				}
				return
			}
			if q.Get("error") != tc.wantError || !strings.Contains(q.Get("error_description"), tc.wantDescription) || q.Get("code") != "" {
				t.Errorf("got %v, want error %s with %q", q, tc.wantError, tc.wantDescription)
			}
		})
	}

	t.Run("private_key_jwt", func(t *testing.T) {
		up.set("")
		pkID := f.newServer(t, up.srv.URL+"/.well-known/openid-configuration", "fed-client", "unused", map[string]any{
			"federation_token_endpoint_auth_method": "private_key_jwt", "customer_friendly_name": "Acme Bank (keys)",
		})
		b := browser(t)
		_, resp := upstreamSignIn(t, r, b, oauth2.GenerateVerifier(), "s-pk", "n", "federation:"+pkID)
		q := f.redirectParams(t, follow(t, b, follow(t, b, resp)))
		if q.Get("code") == "" {
			t.Errorf("got %v, want a code (the upstream verified our client assertion)", q)
		}
	})
	t.Run("callback in another browser", func(t *testing.T) {
		up.set("")
		_, resp := upstreamSignIn(t, r, browser(t), oauth2.GenerateVerifier(), "s-x", "n", choice)
		back := follow(t, browser(t), resp)
		q := f.redirectParams(t, follow(t, browser(t), back))
		if q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "not started in this browser") {
			t.Errorf("got %v, want access_denied", q)
		}
	})
	t.Run("unknown state", func(t *testing.T) {
		p := readPage(t, get(t, browser(t), f.issuer+"/v1/authorize/callback?state=forged&code=c"))
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "expired") {
			t.Errorf("got %d %.300s, want 400 page", p.status, p.body)
		}
	})
	t.Run("forged choice of a server not offered", func(t *testing.T) {
		b := browser(t)
		u := r.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		page := readPage(t, get(t, b, u))
		resp := choose(t, b, page, "federation:00000000-0000-4000-8000-000000000000")
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("got %d, want 403", resp.StatusCode)
		}
	})
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestCallbackMethods: only GET reaches the callback's logic (a HEAD probe
// must not use up a state).
func TestCallbackMethods(t *testing.T) {
	f := newFixture(t, clientOpts{})
	for _, m := range []string{http.MethodHead, http.MethodPost} {
		req, _ := http.NewRequest(m, f.issuer+"/v1/authorize/callback?state=s&code=c", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: got %d, want 405", m, resp.StatusCode)
		}
	}
}
