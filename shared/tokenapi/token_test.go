package tokenapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/keyring"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
)

// post sends a form to path with optional Basic credentials and headers.
func post(t *testing.T, e *apptest.Env, path, body string, mutate func(*http.Request)) apptest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.Server.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if mutate != nil {
		mutate(req)
	}
	return e.Do(t, req)
}

func basic(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

type tokenBody struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// TestTokenVerifiesWithIndependentLibrary issues a partner token with each
// algorithm and verifies it with go-jose against the JWKS served over HTTP.
func TestTokenVerifiesWithIndependentLibrary(t *testing.T) {
	for _, alg := range []signer.Algorithm{signer.PS256, signer.ES384, signer.ES512} {
		t.Run(string(alg), func(t *testing.T) {
			e := apptest.New(t, apptest.Options{PartnerAlgorithm: alg})
			id, sec := e.Partner(t)
			resp := post(t, e, "/v1/token", "grant_type=client_credentials", basic(id, sec))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", resp.StatusCode, resp.Body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			var tb tokenBody
			if err := json.Unmarshal(resp.Body, &tb); err != nil {
				t.Fatal(err)
			}
			if tb.TokenType != "Bearer" || tb.ExpiresIn != 86400 || tb.Scope != scope.Format(scope.Partner()) {
				t.Errorf("body = %+v, want Bearer, 86400, all partner scopes", tb)
			}

			jwksResp := e.Do(t, mustGet(t, e.Server.URL+"/.well-known/jwks.json"))
			var jwks jose.JSONWebKeySet
			if err := json.Unmarshal(jwksResp.Body, &jwks); err != nil {
				t.Fatalf("JWKS does not parse with go-jose: %v", err)
			}
			tok, err := josejwt.ParseSigned(tb.AccessToken, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			h := tok.Headers[0]
			keys := jwks.Key(h.KeyID)
			if len(keys) != 1 {
				t.Fatalf("JWKS has %d keys with kid %q, want 1", len(keys), h.KeyID)
			}
			if keys[0].Algorithm != string(alg) || keys[0].Use != "sig" {
				t.Errorf("JWK alg/use = %s/%s, want %s/sig", keys[0].Algorithm, keys[0].Use, alg)
			}
			var std josejwt.Claims
			var extra struct {
				Scope     string `json:"scope"`
				ClientID  string `json:"client_id"`
				PartnerID string `json:"partner_id"`
			}
			if err := tok.Claims(keys[0].Key, &std, &extra); err != nil {
				t.Fatalf("signature does not verify with go-jose: %v", err)
			}
			err = std.ValidateWithLeeway(josejwt.Expected{
				Issuer: "https://partner-api.test", Subject: id,
				AnyAudience: josejwt.Audience{"https://partner-api.test"}, Time: e.Clock.Now(),
			}, time.Second)
			if err != nil {
				t.Errorf("claims: %v", err)
			}
			if std.ID == "" || std.NotBefore == nil || std.IssuedAt == nil {
				t.Errorf("jti/nbf/iat missing: %+v", std)
			}
			if got, want := std.Expiry.Time().Sub(std.IssuedAt.Time()), 24*time.Hour; got != want {
				t.Errorf("lifetime = %v, want %v", got, want)
			}
			if extra.ClientID != id || extra.PartnerID != id || extra.Scope != tb.Scope {
				t.Errorf("claims = %+v, want client_id and partner_id %q and scope %q", extra, id, tb.Scope)
			}
		})
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTokenClientSecretPostAndScopeNarrowing(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, sec := e.Partner(t)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec},
		"scope": {"organisations:read clients:read"}}
	resp := post(t, e, "/v1/token", form.Encode(), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.StatusCode, resp.Body)
	}
	var tb tokenBody
	_ = json.Unmarshal(resp.Body, &tb)
	if tb.Scope != "clients:read organisations:read" {
		t.Errorf("scope = %q, want %q", tb.Scope, "clients:read organisations:read")
	}
}

// TestTokenBadInput covers every malformed token request: each gets the
// RFC 6749 error, never a 5xx, and 401s carry a WWW-Authenticate challenge.
func TestTokenBadInput(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, sec := e.Partner(t)
	disabledID, disabledSecret := e.Partner(t)
	if _, err := e.App.Admin().Handle(t.Context(), admin.Request{Action: admin.ActionDisable, PartnerID: disabledID}); err != nil {
		t.Fatal(err)
	}
	good := "grant_type=client_credentials"
	postForm := func(extra string) string {
		return "grant_type=client_credentials&client_id=" + url.QueryEscape(id) + "&client_secret=" + url.QueryEscape(sec) + extra
	}
	header := func(k, v string) func(*http.Request) { return func(r *http.Request) { r.Header.Set(k, v) } }
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		mutate func(*http.Request)
		status int
		code   string
	}{
		{"missing grant_type", "", "", "", basic(id, sec), 400, "invalid_request"},
		{"wrong grant_type", "", "", "grant_type=password", basic(id, sec), 400, "unsupported_grant_type"},
		{"authorization_code grant of a partner", "", "", "grant_type=authorization_code&code=x", basic(id, sec), 400, "unauthorized_client"},
		{"no client authentication", "", "", good, nil, 401, "invalid_client"},
		{"both auth methods", "", "", postForm(""), basic(id, sec), 400, "invalid_request"},
		{"basic plus client_id in form", "", "", good + "&client_id=" + id, basic(id, sec), 400, "invalid_request"},
		{"bad base64 in Basic", "", "", good, header("Authorization", "Basic %%%not-base64"), 400, "invalid_request"},
		{"Basic without colon", "", "", good, header("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+sec))), 400, "invalid_request"},
		{"Basic with a wrong secret that is not percent-encoding", "", "", good, header("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":%zz"))), 401, "invalid_client"},
		{"Basic empty secret", "", "", good, basic(id, ""), 401, "invalid_client"},
		{"Bearer scheme", "", "", good, header("Authorization", "Bearer abc"), 401, "invalid_client"},
		{"client_id without secret", "", "", good + "&client_id=" + id, nil, 401, "invalid_client"},
		{"unknown client", "", "", good, basic("no-such-client", sec), 401, "invalid_client"},
		{"wrong secret", "", "", good, basic(id, sec+"x"), 401, "invalid_client"},
		{"wrong secret by post", "", "", "grant_type=client_credentials&client_id=" + id + "&client_secret=nope", nil, 401, "invalid_client"},
		{"disabled partner", "", "", good, basic(disabledID, disabledSecret), 401, "invalid_client"},
		{"unknown scope", "", "", good + "&scope=admin", basic(id, sec), 400, "invalid_scope"},
		{"malformed scope", "", "", good + "&scope=a%20%20b", basic(id, sec), 400, "invalid_scope"},
		{"repeated parameter", "", "", good + "&grant_type=client_credentials", basic(id, sec), 400, "invalid_request"},
		{"huge body", "", "", good + "&pad=" + strings.Repeat("a", 20<<10), basic(id, sec), 400, "invalid_request"},
		{"JSON content type", "", "", `{"grant_type":"client_credentials"}`, func(r *http.Request) {
			basic(id, sec)(r)
			r.Header.Set("Content-Type", "application/json")
		}, 400, "invalid_request"},
		{"no content type", "", "", good, func(r *http.Request) { basic(id, sec)(r); r.Header.Del("Content-Type") }, 400, "invalid_request"},
		{"secret in query string", "", "/v1/token?client_secret=" + sec, good, basic(id, sec), 400, "invalid_request"},
		{"GET", http.MethodGet, "", "", basic(id, sec), 405, "invalid_request"},
		{"bad form encoding", "", "", "grant_type=%zz", basic(id, sec), 400, "invalid_request"},
		{"bad interaction id", "", "", good, func(r *http.Request) { basic(id, sec)(r); r.Header.Set("x-fapi-interaction-id", "nope") }, 400, "invalid_request"},
	}
	// Descriptions carried by typed errors from other packages (scope, the
	// middleware), pinned byte for byte.
	descriptions := map[string]string{
		"unknown scope":      `scope 'admin' is not allowed for this client`,
		"malformed scope":    `scope '' is not a valid scope token`,
		"bad interaction id": "x-fapi-interaction-id: must be an RFC 4122 UUID",
		"wrong grant_type":   `grant_type 'password' is not supported; use client_credentials`,
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/v1/token"
			}
			resp := post(t, e, path, tc.body, func(r *http.Request) {
				if tc.method != "" {
					r.Method = tc.method
				}
				if tc.mutate != nil {
					tc.mutate(r)
				}
			})
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tc.status, resp.Body)
			}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(resp.Body, &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", resp.Body, err)
			}
			if body.Error != tc.code || body.Description == "" {
				t.Errorf("error = %q (%q), want %q with a description", body.Error, body.Description, tc.code)
			}
			if want, ok := descriptions[tc.name]; ok && body.Description != want {
				t.Errorf("error_description = %q, want %q", body.Description, want)
			}
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge", resp.Header.Get("WWW-Authenticate"))
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if resp.Header.Get("x-fapi-interaction-id") == "" {
				t.Error("no x-fapi-interaction-id on the response")
			}
			if strings.Contains(string(resp.Body), sec) {
				t.Error("response contains the secret")
			}
		})
	}
	if log := e.Log.String(); strings.Contains(log, sec) || strings.Contains(log, disabledSecret) {
		t.Error("log contains a client secret")
	}
}

func TestInteractionIDEchoedOrGenerated(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	const given = "1f0e8a59-7c0b-4f39-9a8e-2b7f6f1f2a3c"
	req := mustGet(t, e.Server.URL+"/.well-known/jwks.json")
	req.Header.Set("x-fapi-interaction-id", given)
	if got := e.Do(t, req).Header.Get("x-fapi-interaction-id"); got != given {
		t.Errorf("echoed id = %q, want %q", got, given)
	}
	got := e.Do(t, mustGet(t, e.Server.URL+"/.well-known/jwks.json")).Header.Get("x-fapi-interaction-id")
	if len(got) != 36 {
		t.Errorf("generated id = %q, want a UUID", got)
	}
	if !strings.Contains(e.Log.String(), `"interaction_id":"`+given+`"`) {
		t.Error("log lines do not carry the interaction id")
	}
}

func TestSecretRotation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, first := e.Partner(t)
	svc := e.App.Admin()

	// With overlap: both secrets work until the overlap ends.
	resp, err := svc.Handle(t.Context(), admin.Request{Action: admin.ActionRotate, PartnerID: id, PreviousSecretExpiresIn: 600})
	if err != nil {
		t.Fatal(err)
	}
	second := resp.ClientSecret
	if second == "" || second == first {
		t.Fatalf("rotation returned secret %q", second)
	}
	tokenStatus := func(sec string) int {
		return post(t, e, "/v1/token", "grant_type=client_credentials", basic(id, sec)).StatusCode
	}
	if got := tokenStatus(first); got != 200 {
		t.Errorf("old secret during overlap: status %d, want 200", got)
	}
	if got := tokenStatus(second); got != 200 {
		t.Errorf("new secret: status %d, want 200", got)
	}
	e.Clock.Advance(601 * time.Second)
	if got := tokenStatus(first); got != 401 {
		t.Errorf("old secret after overlap: status %d, want 401", got)
	}

	// Without overlap: the old secret stops at once.
	resp, err = svc.Handle(t.Context(), admin.Request{Action: admin.ActionRotate, PartnerID: id})
	if err != nil {
		t.Fatal(err)
	}
	if got := tokenStatus(second); got != 401 {
		t.Errorf("old secret after rotation without overlap: status %d, want 401", got)
	}
	if got := tokenStatus(resp.ClientSecret); got != 200 {
		t.Errorf("newest secret: status %d, want 200", got)
	}
}

func TestMetadata(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	resp := e.Do(t, mustGet(t, e.Server.URL+"/.well-known/oauth-authorization-server"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"issuer":                 "https://partner-api.test",
		"token_endpoint":         "https://partner-api.test/v1/token",
		"jwks_uri":               "https://partner-api.test/.well-known/jwks.json",
		"introspection_endpoint": "https://partner-api.test/v1/token/introspect",
		"revocation_endpoint":    "https://partner-api.test/v1/token/revoke",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %s", k, m[k], v)
		}
	}
	if got := join(m["access_token_signing_alg_values_supported"]); got != "ES384,ES512,PS256" {
		t.Errorf("algorithms = %s, want ES384,ES512,PS256", got)
	}
	if got := join(m["token_endpoint_auth_methods_supported"]); got != "client_secret_basic,client_secret_post" {
		t.Errorf("auth methods = %s", got)
	}
	if got := join(m["grant_types_supported"]); got != "authorization_code,client_credentials,refresh_token" {
		t.Errorf("grant types = %s", got)
	}
}

func join(v any) string {
	list, _ := v.([]any)
	var s []string
	for _, x := range list {
		s = append(s, x.(string))
	}
	return strings.Join(s, ",")
}

// TestJWKSCacheLifetime: the JWKS's max-age is the JWKS cache lifetime the
// key rotation assumes (wrapped mode), and five minutes in kms mode; a key
// rotated in appears in the JWKS at once, before it signs.
func TestJWKSCacheLifetime(t *testing.T) {
	for _, tc := range []struct {
		mode config.SigningMode
		want string
	}{
		{config.SigningWrapped, "public, max-age=" + strconv.Itoa(int(keyring.DefaultPolicy.JWKSCacheLifetime/time.Second))},
		{config.SigningKMS, "public, max-age=300"},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			e := apptest.New(t, apptest.Options{SigningMode: tc.mode})
			resp := e.Do(t, mustGet(t, e.Server.URL+"/.well-known/jwks.json"))
			if got := resp.Header.Get("Cache-Control"); got != tc.want {
				t.Errorf("Cache-Control = %q, want %q", got, tc.want)
			}
			var before signer.JWKSet
			_ = json.Unmarshal(resp.Body, &before)
			if tc.mode != config.SigningWrapped {
				return
			}
			id, sec := e.Partner(t)
			if _, err := e.App.Admin().RotateSigningKeys(t.Context()); err != nil {
				t.Fatal(err)
			}
			e.Clock.Advance(signer.DefaultRefreshInterval)
			var after signer.JWKSet
			_ = json.Unmarshal(e.Do(t, mustGet(t, e.Server.URL+"/.well-known/jwks.json")).Body, &after)
			if got, want := len(after.Keys), len(before.Keys)+3; got != want {
				t.Errorf("JWKS after rotation: %d keys, want %d", got, want)
			}
			e.Token(t, id, sec, nil) // still signs with the old key
		})
	}
}
