package clients_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/credential"
)

// rotated is the body of a rotation.
type rotated struct {
	ClientID                string  `json:"client_id"`
	Secret                  string  `json:"secret"`
	PreviousSecretExpiresAt *string `json:"previous_secret_expires_at"`
}

func (c *caller) rotate(t *testing.T, path string, body any) rotated {
	t.Helper()
	resp := c.Do(t, http.MethodPost, path, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate %s: %d %s", path, resp.StatusCode, resp.Body)
	}
	var r rotated
	if err := json.Unmarshal(resp.Body, &r); err != nil || len(r.Secret) < 43 {
		t.Fatalf("rotate %s: body %s (%v)", path, resp.Body, err)
	}
	return r
}

// authenticates reports whether id and sec get a token.
func authenticates(t *testing.T, e *apptest.Env, id, sec string) bool {
	t.Helper()
	status, body := tokenStatus(t, e, id, sec, nil)
	if status != http.StatusOK && status != http.StatusUnauthorized {
		t.Fatalf("token for %s: %d %s", id, status, body)
	}
	return status == http.StatusOK
}

func TestSecretRotation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	cl := p.create(t, orgID, map[string]any{"name": "Rotating"})
	secrets := []string{p.Secret, cl.Secret}
	path := "/v1/clients/" + cl.ID + "/secret"
	if !authenticates(t, e, cl.ID, cl.Secret) {
		t.Fatal("the created secret does not authenticate")
	}

	t.Run("without overlap the old secret stops at once", func(t *testing.T) {
		r := p.rotate(t, path, nil)
		secrets = append(secrets, r.Secret)
		if r.ClientID != cl.ID || r.PreviousSecretExpiresAt != nil || r.Secret == cl.Secret {
			t.Errorf("rotation = %+v", r)
		}
		if authenticates(t, e, cl.ID, cl.Secret) || !authenticates(t, e, cl.ID, r.Secret) {
			t.Error("after rotation: want the old secret refused and the new one accepted")
		}
		cl.Secret = r.Secret
	})
	t.Run("with overlap both work until it ends", func(t *testing.T) {
		r := p.rotate(t, path, map[string]any{"previous_secret_expires_in": 3600})
		secrets = append(secrets, r.Secret)
		want := e.Clock.Now().UTC().Add(time.Hour).Format(time.RFC3339)
		if r.PreviousSecretExpiresAt == nil || *r.PreviousSecretExpiresAt != want {
			t.Errorf("previous_secret_expires_at %v, want %s", r.PreviousSecretExpiresAt, want)
		}
		if !authenticates(t, e, cl.ID, cl.Secret) || !authenticates(t, e, cl.ID, r.Secret) {
			t.Error("during the overlap: want both secrets accepted")
		}
		// A second rotation during the overlap keeps only the one before it.
		r2 := p.rotate(t, path, `{"previous_secret_expires_in":60}`)
		secrets = append(secrets, r2.Secret)
		if authenticates(t, e, cl.ID, cl.Secret) || !authenticates(t, e, cl.ID, r.Secret) || !authenticates(t, e, cl.ID, r2.Secret) {
			t.Error("after a second rotation: want the oldest refused, the two others accepted")
		}
		e.Clock.Advance(61 * time.Second)
		if authenticates(t, e, cl.ID, r.Secret) || !authenticates(t, e, cl.ID, r2.Secret) {
			t.Error("after the overlap: want only the newest accepted")
		}
		stored, err := e.App.Store.GetClient(context.Background(), cl.ID)
		if ok, _ := credential.Verify(r2.Secret, stored.SecretHash); err != nil || !ok {
			t.Errorf("stored hash does not verify the newest secret (%v)", err)
		}
	})
	t.Run("bounds of the overlap", func(t *testing.T) {
		for _, tc := range []struct {
			body   string
			fields []string
		}{
			{`{"previous_secret_expires_in":-1}`, []string{"previous_secret_expires_in"}},
			{`{"previous_secret_expires_in":604801}`, []string{"previous_secret_expires_in"}},
			{`{"previous_secret_expires_in":"60"}`, []string{"previous_secret_expires_in"}},
			{`{"previous_secret_expires_in":1.5}`, []string{"previous_secret_expires_in"}},
			{`{"overlap":60}`, []string{"overlap"}},
			{`[]`, []string{}},
		} {
			wantProblem(t, p.Do(t, http.MethodPost, path, tc.body), 400, "invalid_request", tc.fields...)
		}
		wantProblem(t, p.Do(t, http.MethodPost, path, `{}`, "Content-Type", "text/plain"), 415, "unsupported_media_type")
		r := p.rotate(t, path, `{"previous_secret_expires_in":604800}`)
		secrets = append(secrets, r.Secret)
		r = p.rotate(t, path, `{"previous_secret_expires_in":null}`)
		secrets = append(secrets, r.Secret)
		if r.PreviousSecretExpiresAt != nil {
			t.Errorf("null overlap = %+v, want none", r)
		}
	})

	t.Run("a client rotates its own secret; its tokens live on", func(t *testing.T) {
		self, created := p.login(t, orgID, map[string]any{"name": "Self-service", "access_token_lifetime": 900, "token_signing_algorithm": "ES512"})
		secrets = append(secrets, created.Secret)
		r := self.rotate(t, "/v1/clients/me/secret", nil)
		secrets = append(secrets, r.Secret)
		if r.ClientID != self.ID || authenticates(t, e, self.ID, self.Secret) || !authenticates(t, e, self.ID, r.Secret) {
			t.Errorf("self rotation = %+v", r)
		}
		// The token it had still works: rotation does not revoke tokens.
		me := decodeClient(t, self.Do(t, http.MethodGet, "/v1/clients/me", nil), http.StatusOK)
		if me.ID != self.ID {
			t.Errorf("GET /v1/clients/me = %+v", me)
		}
		// Its tokens follow its settings.
		status, body := tokenStatus(t, e, self.ID, r.Secret, nil)
		var tok struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
		}
		if err := json.Unmarshal(body, &tok); err != nil || status != 200 || tok.ExpiresIn != 900 || jwtAlg(t, tok.AccessToken) != "ES512" {
			t.Errorf("client token = %d %s, want ES512 for 900 s", status, body)
		}
		// Disabling it stops its tokens at once; deleting it too.
		decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+self.ID, `{"enabled":false}`), http.StatusOK)
		wantProblem(t, self.Do(t, http.MethodGet, "/v1/clients/me", nil), 401, "unauthorized")
		if authenticates(t, e, self.ID, r.Secret) {
			t.Error("a disabled client got a token")
		}
		decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+self.ID, `{"enabled":true}`), http.StatusOK)
		decodeClient(t, self.Do(t, http.MethodGet, "/v1/clients/me", nil), http.StatusOK)
		if resp := p.Do(t, http.MethodDelete, "/v1/clients/"+self.ID, nil); resp.StatusCode != 204 {
			t.Fatalf("delete: %d %s", resp.StatusCode, resp.Body)
		}
		wantProblem(t, self.Do(t, http.MethodGet, "/v1/clients/me", nil), 401, "unauthorized")
		if authenticates(t, e, self.ID, r.Secret) {
			t.Error("a deleted client got a token")
		}
	})

	// No secret was ever logged.
	log := e.Log.String()
	if !strings.Contains(log, cl.ID) {
		t.Fatal("the log is empty: nothing was captured")
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("a secret appears in the log")
		}
	}
}

// jwtAlg returns the alg of a JWT's header.
func jwtAlg(t *testing.T, raw string) string {
	t.Helper()
	header, _, _ := strings.Cut(raw, ".")
	data, err := base64.RawURLEncoding.DecodeString(header)
	var h struct {
		Alg string `json:"alg"`
	}
	if err != nil || json.Unmarshal(data, &h) != nil {
		t.Fatalf("JWT header %q", header)
	}
	return h.Alg
}
