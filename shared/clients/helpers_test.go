package clients_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// These tests run the whole service (apptest) against DynamoDB Local and
// moto's KMS: clients are created through the API and authenticate at the
// real token endpoint.

// client is a client as the API returns it.
type client struct {
	ID                    string   `json:"id"`
	OrganisationID        string   `json:"organisation_id"`
	Name                  string   `json:"name"`
	TokenSigningAlgorithm string   `json:"token_signing_algorithm"`
	AdditionalScopes      []string `json:"additional_scopes"`
	RequiredScopes        []string `json:"required_scopes"`
	ReturnURLs            []string `json:"return_urls"`
	IsProduction          bool     `json:"is_production"`
	SelectedProduct       *string  `json:"selected_product"`
	AllowedProviderGroups []string `json:"allowed_provider_groups"`
	AccessTokenLifetime   int64    `json:"access_token_lifetime"`
	Enabled               bool     `json:"enabled"`
	CreatedAt             string   `json:"created_at"`
	UpdatedAt             string   `json:"updated_at"`
	// Secret is set in the create response only.
	Secret string `json:"secret"`
}

// caller sends requests to the service under test with one token.
type caller struct {
	e         *apptest.Env
	partnerID string
	// id and secret authenticate at the token endpoint.
	id, secret string
	token      string
}

// newPartner creates a partner and a token with every partner scope.
func newPartner(t *testing.T, e *apptest.Env) *caller {
	t.Helper()
	id, sec := e.Partner(t)
	return &caller{e: e, partnerID: id, id: id, secret: sec, token: e.Token(t, id, sec, nil)}
}

// withScopes returns a caller with the same credentials whose token carries
// only scopes.
func (c *caller) withScopes(t *testing.T, scopes ...string) *caller {
	t.Helper()
	tok := c.e.Token(t, c.id, c.secret, url.Values{"scope": {strings.Join(scopes, " ")}})
	return &caller{e: c.e, partnerID: c.partnerID, id: c.id, secret: c.secret, token: tok}
}

// org creates an organisation of the partner with extra attributes and
// returns its id.
func (c *caller) org(t *testing.T, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"name": "Org"}
	for k, v := range extra {
		body[k] = v
	}
	resp := c.do(t, http.MethodPost, "/v1/organisations", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create organisation: %d %s", resp.StatusCode, resp.Body)
	}
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(resp.Body, &o)
	return o.ID
}

// create creates a client of organisation orgID, failing the test unless
// it gets 201.
func (c *caller) create(t *testing.T, orgID string, body map[string]any) client {
	t.Helper()
	return decodeClient(t, c.do(t, http.MethodPost, "/v1/organisations/"+orgID+"/clients", body), http.StatusCreated)
}

// login creates a client of orgID with body and returns a caller holding
// its token.
func (c *caller) login(t *testing.T, orgID string, body map[string]any) (*caller, client) {
	t.Helper()
	cl := c.create(t, orgID, body)
	return &caller{e: c.e, partnerID: c.partnerID, id: cl.ID, secret: cl.Secret, token: c.e.Token(t, cl.ID, cl.Secret, nil)}, cl
}

// do sends a request with the caller's token (see apptest.Env.Request).
func (c *caller) do(t *testing.T, method, path string, body any, headers ...string) apptest.Response {
	t.Helper()
	return c.e.Request(t, c.token, method, path, body, headers...)
}

// get reads client id, failing the test unless it gets 200.
func (c *caller) get(t *testing.T, id string) client {
	t.Helper()
	return decodeClient(t, c.do(t, http.MethodGet, "/v1/clients/"+id, nil), http.StatusOK)
}

// tokenStatus asks the token endpoint for a token with id and secret and
// returns the status and body.
func tokenStatus(t *testing.T, e *apptest.Env, id, secret string, form url.Values) (int, []byte) {
	t.Helper()
	resp := e.TokenRequest(t, id, secret, form)
	return resp.StatusCode, resp.Body
}

// decodeClient checks resp's status and returns its client.
func decodeClient(t *testing.T, resp apptest.Response, status int) client {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	var cl client
	if err := json.Unmarshal(resp.Body, &cl); err != nil {
		t.Fatalf("decode client %s: %v", resp.Body, err)
	}
	return cl
}

// wantProblem is apptest.WantProblem.
var wantProblem = apptest.WantProblem

// listAll walks every page of an organisation's clients, failing the test
// on a duplicate, an oversize page or a secret shown.
func listAll(t *testing.T, c *caller, orgID string, limit int) []client {
	t.Helper()
	get := func(path string) apptest.Response { return c.do(t, http.MethodGet, path, nil) }
	all := apptest.ListAll(t, get, "/v1/organisations/"+orgID+"/clients", limit, func(cl client) string { return cl.ID })
	for _, cl := range all {
		if cl.Secret != "" {
			t.Errorf("list shows the secret of %s", cl.ID)
		}
	}
	return all
}
