package signin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/oautherr"
)

// TestDiscovery checks the OpenID Connect and RFC 8414 documents, also at
// the path-inserted location of an issuer with a path.
func TestDiscovery(t *testing.T) {
	f := newFixture(t, clientOpts{})
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp := f.env.Request(t, "", http.MethodGet, path, nil)
		var md map[string]any
		if err := json.Unmarshal(resp.Body, &md); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Body)
		}
		want := map[string]any{
			"issuer": f.issuer, "authorization_endpoint": f.issuer + "/v1/authorize", "userinfo_endpoint": f.issuer + "/v1/userinfo",
			"token_endpoint": f.issuer + "/v1/token", "jwks_uri": f.issuer + "/.well-known/jwks.json",
			"authorization_response_iss_parameter_supported": true, "request_parameter_supported": false,
			"request_uri_parameter_supported": false, "claims_parameter_supported": false,
		}
		for k, v := range want {
			if md[k] != v {
				t.Errorf("%s: got %s %v, want %v", path, k, md[k], v)
			}
		}
		lists := map[string][]string{
			"response_types_supported":              {"code"},
			"code_challenge_methods_supported":      {"S256"},
			"id_token_signing_alg_values_supported": {"PS256", "ES384", "ES512"},
			"grant_types_supported":                 {"authorization_code", "client_credentials", "refresh_token"},
			"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post"},
			"scopes_supported":                      {"openid", "profile", "email", "address", "phone", "offline_access"},
			"claims_supported":                      {"sub", "email", "email_verified", "address", "phone_number"},
			"subject_types_supported":               {"pairwise"},
		}
		for k, wantAll := range lists {
			got, _ := md[k].([]any)
			for _, w := range wantAll {
				if !slices.Contains(got, any(w)) {
					t.Errorf("%s: %s %v lacks %s", path, k, got, w)
				}
			}
		}
	}
	for _, path := range []string{"/.well-known/openid-configuration/dev", "/.well-known/oauth-authorization-server/dev"} {
		if resp := f.env.Request(t, "", http.MethodGet, path, nil); resp.StatusCode != 404 {
			t.Errorf("%s without an issuer path: got %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestUserinfoErrors covers RFC 6750's ways and errors, and the three
// ways of sending the token.
func TestUserinfoErrors(t *testing.T) {
	f := newFixture(t, clientOpts{})
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID, "email")
	v := oauth2.GenerateVerifier()
	tok, err := r.conf.Exchange(r.ctx, r.signIn(t, browser(t), v, "u", "sandbox:alice"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	noOpenID := newRP(t, f, f.clientID, f.secret, "profile")
	v2 := oauth2.GenerateVerifier()
	plain, err := noOpenID.conf.Exchange(noOpenID.ctx, noOpenID.signIn(t, browser(t), v2, "p", "sandbox:alice"), oauth2.VerifierOption(v2))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Extra("id_token") != nil {
		t.Error("an ID token was issued without openid")
	}
	ccID, ccSecret := f.newClient(t, clientOpts{grants: []string{"client_credentials"}})
	ccToken := f.env.Token(t, ccID, ccSecret, nil)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, authz, body string
		status                    int
		wantErr                   string
	}{
		{"GET with header", "GET", "Bearer " + tok.AccessToken, "", 200, ""},
		{"POST with header", "POST", "Bearer " + tok.AccessToken, "", 200, ""},
		{"POST with form", "POST", "", "access_token=" + tok.AccessToken, 200, ""},
		{"no token", "GET", "", "", 401, ""},
		{"garbage token", "GET", "Bearer abc.def.ghi", "", 401, "invalid_token"},
		{"client credentials token", "GET", "Bearer " + ccToken, "", 401, "invalid_token"},
		{"no openid", "GET", "Bearer " + plain.AccessToken, "", 403, "insufficient_scope"},
		{"two ways", "POST", "Bearer " + tok.AccessToken, "access_token=" + tok.AccessToken, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, f.issuer+"/v1/userinfo", strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", form)
			}
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp := f.env.Do(t, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			ch := resp.Header.Get("WWW-Authenticate")
			if tc.status == 200 {
				var m map[string]any
				_ = json.Unmarshal(resp.Body, &m)
				if m["email"] != "alice.smith@example.com" || m["name"] != nil || m["sub"] == "" {
					t.Errorf("got %v, want sub and email claims only", m)
				}
				return
			}
			if !strings.HasPrefix(ch, "Bearer") || tc.wantErr != "" && !strings.Contains(ch, `error="`+tc.wantErr+`"`) {
				t.Errorf("got WWW-Authenticate %q, want Bearer error=%q", ch, tc.wantErr)
			}
		})
	}
	t.Run("end-user token refused by management endpoints", func(t *testing.T) {
		resp := f.env.Request(t, tok.AccessToken, http.MethodGet, "/v1/clients/me", nil)
		if resp.StatusCode != 403 {
			t.Errorf("got %d %s, want 403", resp.StatusCode, resp.Body)
		}
		resp = f.env.Request(t, tok.AccessToken, http.MethodPost, "/v1/clients/me/secret", nil)
		if resp.StatusCode != 403 {
			t.Errorf("rotate secret with an end user's token: got %d, want 403", resp.StatusCode)
		}
	})
}

// TestUserinfoHidesTheCause: a refused token's error_description (body and
// WWW-Authenticate) is the verifier's description, safe to show; the JWT
// library's own error, its hidden cause, stays out of the answer.
func TestUserinfoHidesTheCause(t *testing.T) {
	f := newFixture(t, clientOpts{})
	const garbage = "abc.def.ghi"
	_, err := f.env.App.Verifier.Verify(t.Context(), garbage)
	refused, ok := errors.AsType[*oautherr.Error](err)
	if !ok || refused.Code != oautherr.CodeInvalidToken || refused.Description == "" {
		t.Fatalf("verifier: got %v, want an invalid_token with a description", err)
	}
	req, _ := http.NewRequest(http.MethodGet, f.issuer+"/v1/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+garbage)
	resp := f.env.Do(t, req)
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("got %d %s, want 401 JSON", resp.StatusCode, resp.Body)
	}
	if body.Error != "invalid_token" || body.Description != refused.Description {
		t.Errorf("got %+v, want invalid_token with %q", body, refused.Description)
	}
	if ch := resp.Header.Get("WWW-Authenticate"); strings.Contains(ch, err.Error()) || !strings.Contains(ch, refused.Description) {
		t.Errorf("WWW-Authenticate %q: want the description %q and not the cause %q", ch, refused.Description, err.Error())
	}
}

// TestMint covers POST /v1/clients/{id}/tokens.
func TestMint(t *testing.T) {
	f := newFixture(t, clientOpts{})
	otherID, otherSecret := f.env.Partner(t)
	otherToken := f.env.Token(t, otherID, otherSecret, nil)
	path := "/v1/clients/" + f.clientID + "/tokens"
	t.Run("tokens with custom claims", func(t *testing.T) {
		resp := f.env.Request(t, f.partnerToken, http.MethodPost, path, map[string]any{
			"subject": "user-42", "scope": "openid offline_access accounts", "custom_claims": map[string]any{"foo": "bar", "baz": map[string]any{"everything": 42}},
		})
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
		}
		var body struct {
			AccessToken, IDToken, RefreshToken, Scope string
		}
		var raw map[string]any
		_ = json.Unmarshal(resp.Body, &raw)
		body.AccessToken, _ = raw["access_token"].(string)
		body.IDToken, _ = raw["id_token"].(string)
		body.RefreshToken, _ = raw["refresh_token"].(string)
		if body.IDToken == "" || body.RefreshToken == "" || raw["scope"] != "accounts offline_access openid" {
			t.Fatalf("got %s, want id_token, refresh_token and the scopes", resp.Body)
		}
		r := newRP(t, f, f.clientID, f.secret)
		idt, err := r.verifier.Verify(r.ctx, body.IDToken)
		if err != nil || idt.Subject != "user-42" {
			t.Fatalf("verify minted ID token: %v (sub %v)", err, idt)
		}
		var c map[string]any
		_ = idt.Claims(&c)
		if c["foo"] != "bar" || !slices.Equal(toStrings(c["authenticated_methods"]), []string{"api"}) {
			t.Errorf("got claims %v, want foo and authenticated_methods [api]", c)
		}
		verifyWithJWX(t, f, body.AccessToken, body.IDToken)
		access := claimsOf(t, body.AccessToken)
		if access["sub"] != "user-42" || access["client_id"] != f.clientID || access["foo"] != "bar" {
			t.Errorf("got access token claims %v", access)
		}
		if !f.introspect(t, body.AccessToken) {
			t.Error("minted access token is not active")
		}
		// It acts for the end user, never as its client: no management
		// endpoint takes it (or it could rotate the client's secret).
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/v1/clients/me"}, {http.MethodPost, "/v1/clients/me/secret"}, {http.MethodGet, "/v1/organisations"},
		} {
			if resp := f.env.Request(t, body.AccessToken, r.method, r.path, nil); resp.StatusCode != http.StatusForbidden ||
				!strings.Contains(string(resp.Body), "end user's access token") {
				t.Errorf("%s %s with an end user's token: %d %s, want 403", r.method, r.path, resp.StatusCode, resp.Body)
			}
		}
		audit := f.env.Request(t, f.partnerToken, http.MethodGet, "/v1/audit-events?resource_id="+f.clientID, nil)
		if !strings.Contains(string(audit.Body), `"action":"mint_tokens"`) {
			t.Errorf("no mint_tokens audit record: %s", audit.Body)
		}
	})
	tests := []struct {
		name   string
		token  string
		path   string
		body   any
		status int
		fields []string
	}{
		{"reserved claims named each", f.partnerToken, path, map[string]any{"subject": "u", "custom_claims": map[string]any{"sub": 1, "email": "x", "slashid": 1, "ok": 1}}, 400,
			[]string{"custom_claims.email", "custom_claims.slashid", "custom_claims.sub"}},
		{"too large", f.partnerToken, path, map[string]any{"subject": "u", "custom_claims": map[string]any{"big": strings.Repeat("x", 5000)}}, 400, []string{"custom_claims"}},
		{"no subject", f.partnerToken, path, map[string]any{}, 400, []string{"subject"}},
		{"scope not allowed", f.partnerToken, path, map[string]any{"subject": "u", "scope": "clients:manage"}, 400, []string{"scope"}},
		{"another partner's client", otherToken, path, map[string]any{"subject": "u"}, 404, nil},
		{"without tokens:mint", f.env.Token(t, f.partnerID, f.partnerSec, url.Values{"scope": {"clients:read"}}), path, map[string]any{"subject": "u"}, 403, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.env.Request(t, tc.token, http.MethodPost, tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, resp.Body, tc.status)
			}
			if tc.fields != nil {
				apptest.WantProblem(t, resp, tc.status, "invalid_request", tc.fields...)
			}
		})
	}
}

// TestGrantTypes covers the clients' grant_types and its effect on the
// client credentials grant.
func TestGrantTypes(t *testing.T) {
	f := newFixture(t, clientOpts{})
	create := func(body map[string]any) apptest.Response {
		body["name"] = "c"
		return f.env.Request(t, f.partnerToken, http.MethodPost, "/v1/organisations/"+f.orgID+"/clients", body)
	}
	tests := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"unknown grant", map[string]any{"grant_types": []string{"password"}}, []string{"grant_types[0]"}},
		{"repeated grant", map[string]any{"grant_types": []string{"client_credentials", "client_credentials"}}, []string{"grant_types[1]"}},
		{"refresh without code", map[string]any{"grant_types": []string{"client_credentials", "refresh_token"}}, []string{"grant_types"}},
		{"code without return URL", map[string]any{"grant_types": []string{"authorization_code"}}, []string{"grant_types"}},
		{"idle above absolute", map[string]any{"refresh_token_absolute_lifetime": 3600, "refresh_token_idle_lifetime": 7200}, []string{"refresh_token_idle_lifetime"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apptest.WantProblem(t, create(tc.body), 400, "invalid_request", tc.fields...)
		})
	}
	t.Run("default", func(t *testing.T) {
		resp := create(map[string]any{})
		if got := jsonList(t, resp.Body, "grant_types"); !slices.Equal(got, []string{"client_credentials"}) {
			t.Errorf("got grant_types %v, want [client_credentials]", got)
		}
	})
	t.Run("client credentials refused without the grant", func(t *testing.T) {
		resp := f.env.TokenRequest(t, f.clientID, f.secret, nil)
		if resp.StatusCode != 400 || !strings.Contains(string(resp.Body), "unauthorized_client") {
			t.Errorf("got %d %s, want 400 unauthorized_client", resp.StatusCode, resp.Body)
		}
	})
}

// TestSignInUsage: sign-ins and exchanges are counted as "signin".
func TestSignInUsage(t *testing.T) {
	f := newFixture(t, clientOpts{})
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID)
	v := oauth2.GenerateVerifier()
	if _, err := r.conf.Exchange(r.ctx, r.signIn(t, browser(t), v, "m", "sandbox:alice"), oauth2.VerifierOption(v)); err != nil {
		t.Fatal(err)
	}
	day := f.env.Clock.Now().UTC().Format(time.DateOnly)
	resp := f.env.Request(t, f.partnerToken, http.MethodGet, "/v1/usage?from="+day+"&to="+day+"&group_by=client", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(resp.Body), `"client_id":"`+f.clientID+`","token":0,"api":0,"signin":2`) {
		t.Errorf("got %d %s, want 2 signin for the client", resp.StatusCode, resp.Body)
	}
}

func jsonList(t *testing.T, body []byte, name string) []string {
	t.Helper()
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return toStrings(m[name])
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// claimsOf decodes a JWT's payload (its signature is checked elsewhere).
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := decodeSegment(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// TestRefreshIntrospectRevoke: refresh tokens are visible to
// introspection and revocable at /v1/token/revoke whatever the hint says.
func TestRefreshIntrospectRevoke(t *testing.T) {
	f := newFixture(t, clientOpts{})
	r := newRP(t, f, f.clientID, f.secret, oidc.ScopeOpenID, oidc.ScopeOfflineAccess)
	v := oauth2.GenerateVerifier()
	tok, err := r.conf.Exchange(r.ctx, r.signIn(t, browser(t), v, "r", "sandbox:alice"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string, form url.Values) apptest.Response {
		req, _ := http.NewRequest(http.MethodPost, f.env.Server.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(f.clientID), url.QueryEscape(f.secret))
		return f.env.Do(t, req)
	}
	resp := post("/v1/token/introspect", url.Values{"token": {tok.RefreshToken}})
	if !strings.Contains(string(resp.Body), `"active":true`) || !strings.Contains(string(resp.Body), `"token_type":"refresh_token"`) {
		t.Fatalf("introspect refresh token: got %s", resp.Body)
	}
	resp = post("/v1/token/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"access_token"}})
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: got %d %s", resp.StatusCode, resp.Body)
	}
	resp = post("/v1/token/introspect", url.Values{"token": {tok.RefreshToken}})
	if !strings.Contains(string(resp.Body), `"active":false`) {
		t.Errorf("revoked refresh token: got %s, want inactive", resp.Body)
	}
	if f.introspect(t, tok.AccessToken) {
		t.Error("revoking the refresh token left its access token active")
	}
	resp = post("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	if resp.StatusCode != 400 {
		t.Errorf("refresh with a revoked token: got %d %s, want 400", resp.StatusCode, resp.Body)
	}
}
