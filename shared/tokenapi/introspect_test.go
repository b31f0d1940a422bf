package tokenapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

type introspection struct {
	Active    bool   `json:"active"`
	ClientID  string `json:"client_id"`
	Sub       string `json:"sub"`
	Scope     string `json:"scope"`
	PartnerID string `json:"partner_id"`
	Exp       int64  `json:"exp"`
	Jti       string `json:"jti"`
}

func introspect(t *testing.T, e *apptest.Env, id, sec, tok string) introspection {
	t.Helper()
	resp := post(t, e, "/v1/token/introspect", url.Values{"token": {tok}}.Encode(), basic(id, sec))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspect: status %d: %s", resp.StatusCode, resp.Body)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	var out introspection
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIntrospectAndRevoke(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, sec := e.Partner(t)
	otherID, otherSecret := e.Partner(t)
	tok := e.Token(t, id, sec, url.Values{"scope": {"clients:read"}})
	otherTok := e.Token(t, otherID, otherSecret, nil)

	got := introspect(t, e, id, sec, tok)
	if !got.Active || got.ClientID != id || got.Sub != id || got.PartnerID != id || got.Scope != "clients:read" || got.Exp == 0 || got.Jti == "" {
		t.Errorf("introspection of own token = %+v, want active with its claims", got)
	}
	if got := introspect(t, e, id, sec, otherTok); got.Active || got.ClientID != "" {
		t.Errorf("introspection of another partner's token = %+v, want only active=false", got)
	}
	if got := introspect(t, e, id, sec, "garbage"); got.Active {
		t.Errorf("introspection of garbage = %+v, want inactive", got)
	}

	// Another partner's revocation of the token is a no-op (200, token stays active).
	if resp := post(t, e, "/v1/token/revoke", url.Values{"token": {tok}}.Encode(), basic(otherID, otherSecret)); resp.StatusCode != 200 {
		t.Fatalf("foreign revoke: status %d", resp.StatusCode)
	}
	if got := introspect(t, e, id, sec, tok); !got.Active {
		t.Error("another partner revoked the token")
	}
	resp := post(t, e, "/v1/token/revoke", url.Values{"token": {tok}, "token_type_hint": {"access_token"}}.Encode(), basic(id, sec))
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: status %d: %s", resp.StatusCode, resp.Body)
	}
	if got := introspect(t, e, id, sec, tok); got.Active {
		t.Error("revoked token is still active")
	}
	// Revoking again, or revoking garbage, is 200 (RFC 7009 §2.2).
	for _, tk := range []string{tok, "garbage"} {
		if resp := post(t, e, "/v1/token/revoke", url.Values{"token": {tk}}.Encode(), basic(id, sec)); resp.StatusCode != 200 {
			t.Errorf("revoke %q: status %d, want 200", tk[:7], resp.StatusCode)
		}
	}
}

func TestIntrospectAndRevokeBadInput(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, sec := e.Partner(t)
	tok := e.Token(t, id, sec, nil)
	for _, path := range []string{"/v1/token/introspect", "/v1/token/revoke"} {
		tests := []struct {
			name   string
			body   string
			mutate func(*http.Request)
			status int
			code   string
		}{
			{"no client authentication", url.Values{"token": {tok}}.Encode(), nil, 401, "invalid_client"},
			{"wrong secret", url.Values{"token": {tok}}.Encode(), basic(id, "wrong"), 401, "invalid_client"},
			{"missing token", "", basic(id, sec), 400, "invalid_request"},
			{"repeated token", "token=a&token=b", basic(id, sec), 400, "invalid_request"},
		}
		if path == "/v1/token/revoke" {
			tests = append(tests, struct {
				name   string
				body   string
				mutate func(*http.Request)
				status int
				code   string
			}{"refresh token hint only guides (RFC 7009 §2.1)", url.Values{"token": {tok}, "token_type_hint": {"refresh_token"}}.Encode(), basic(id, sec), 200, ""})
		}
		for _, tc := range tests {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				resp := post(t, e, path, tc.body, tc.mutate)
				var body struct {
					Error string `json:"error"`
				}
				_ = json.Unmarshal(resp.Body, &body)
				if resp.StatusCode != tc.status || body.Error != tc.code {
					t.Errorf("got %d %q, want %d %q (%s)", resp.StatusCode, body.Error, tc.status, tc.code, resp.Body)
				}
			})
		}
	}
}
