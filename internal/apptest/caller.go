package apptest

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/store"
)

// Caller is a partner or a client of the service under test, holding one
// access token. Every helper states the requests it sends, because tests of
// usage count them.
//
// A zero Token sends requests without one; tests build such callers as
// &Caller{Env: e}.
type Caller struct {
	Env *Env
	// PartnerID is the partner the caller is or belongs to.
	PartnerID string
	// ID and Secret authenticate at the token endpoint (empty when the
	// caller only holds a token).
	ID, Secret string
	// Token is the access token sent as the bearer token.
	Token string
}

// NewPartner creates a partner through the admin service and returns it
// holding a token with every partner scope (one token request).
func NewPartner(t testing.TB, e *Env) *Caller {
	t.Helper()
	id, secret := e.Partner(t)
	return &Caller{Env: e, PartnerID: id, ID: id, Secret: secret, Token: e.Token(t, id, secret, nil)}
}

// Do sends a request with the caller's token (see Env.Request).
func (c *Caller) Do(t testing.TB, method, path string, body any, headers ...string) Response {
	t.Helper()
	return c.Env.Request(t, c.Token, method, path, body, headers...)
}

// Must sends a request with the caller's token and fails the test unless
// it gets status; it returns the body's JSON object (nil when the body is
// not one).
func (c *Caller) Must(t testing.TB, status int, method, path string, body any, headers ...string) map[string]any {
	t.Helper()
	resp := c.Do(t, method, path, body, headers...)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, resp.Body, status)
	}
	var out map[string]any
	_ = json.Unmarshal(resp.Body, &out)
	return out
}

// WithScopes returns a caller with the same credentials whose token
// carries only scopes (one token request).
func (c *Caller) WithScopes(t testing.TB, scopes ...string) *Caller {
	t.Helper()
	return c.login(t, c.ID, c.Secret, url.Values{"scope": {strings.Join(scopes, " ")}})
}

// Login returns a caller of the same partner authenticated as id with
// secret, holding a token with every scope it may have (one token
// request).
func (c *Caller) Login(t testing.TB, id, secret string) *Caller {
	t.Helper()
	return c.login(t, id, secret, nil)
}

// Org creates an organisation named "Org" with the extra attributes (one
// API request), failing the test unless it gets 201, and returns its id.
func (c *Caller) Org(t testing.TB, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"name": "Org"}
	maps.Copy(body, extra)
	resp := c.Do(t, http.MethodPost, "/v1/organisations", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create organisation: %d %s", resp.StatusCode, resp.Body)
	}
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(resp.Body, &o)
	return o.ID
}

// Client creates a client of organisation orgID with body through the API
// (one API request), failing the test unless it gets 201, and returns a
// caller holding the new client's token (one token request) and the create
// response, the only one that shows the secret.
func (c *Caller) Client(t testing.TB, orgID string, body any) (*Caller, Response) {
	t.Helper()
	resp := c.Do(t, http.MethodPost, "/v1/organisations/"+orgID+"/clients", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create client: %d %s", resp.StatusCode, resp.Body)
	}
	var cl struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(resp.Body, &cl); err != nil {
		t.Fatalf("create client: body %s: %v", resp.Body, err)
	}
	return c.Login(t, cl.ID, cl.Secret), resp
}

// StoredClient writes a client of organisation orgID with scopes straight
// to the store, bypassing the API and its rules (no API request, so the
// caller's own scopes do not matter), and returns a caller holding its
// token (one token request).
func (c *Caller) StoredClient(t testing.TB, orgID string, scopes ...string) *Caller {
	t.Helper()
	id, secret := "client-"+uuid.NewString()[:8], credential.NewSecret()
	err := c.Env.App.Store.CreatePrincipal(context.Background(), store.Principal{
		ID: id, Kind: store.KindClient, PartnerID: c.PartnerID, OrganisationID: orgID, Name: "client",
		Enabled: true, SecretHash: credential.HashGenerated(secret), Scopes: scopes,
	})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return c.Login(t, id, secret)
}

// login returns a caller of the same partner holding a token for id and
// secret with the extra form parameters.
func (c *Caller) login(t testing.TB, id, secret string, extra url.Values) *Caller {
	t.Helper()
	return &Caller{Env: c.Env, PartnerID: c.PartnerID, ID: id, Secret: secret, Token: c.Env.Token(t, id, secret, extra)}
}
