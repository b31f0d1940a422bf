package clients_test

import (
	"encoding/json"
	"net/http"
	"net/url"
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

// caller is a partner or client of the service under test, with this
// package's helpers.
type caller struct{ *apptest.Caller }

// newPartner creates a partner and a token with every partner scope.
func newPartner(t *testing.T, e *apptest.Env) *caller {
	t.Helper()
	return &caller{apptest.NewPartner(t, e)}
}

// create creates a client of organisation orgID, failing the test unless
// it gets 201.
func (c *caller) create(t *testing.T, orgID string, body map[string]any) client {
	t.Helper()
	return decodeClient(t, c.Do(t, http.MethodPost, "/v1/organisations/"+orgID+"/clients", body), http.StatusCreated)
}

// login creates a client of orgID with body and returns a caller holding
// its token.
func (c *caller) login(t *testing.T, orgID string, body map[string]any) (*caller, client) {
	t.Helper()
	self, resp := c.Client(t, orgID, body)
	return &caller{self}, decodeClient(t, resp, http.StatusCreated)
}

// get reads client id, failing the test unless it gets 200.
func (c *caller) get(t *testing.T, id string) client {
	t.Helper()
	return decodeClient(t, c.Do(t, http.MethodGet, "/v1/clients/"+id, nil), http.StatusOK)
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
	get := func(path string) apptest.Response { return c.Do(t, http.MethodGet, path, nil) }
	all := apptest.ListAll(t, get, "/v1/organisations/"+orgID+"/clients", limit, func(cl client) string { return cl.ID })
	for _, cl := range all {
		if cl.Secret != "" {
			t.Errorf("list shows the secret of %s", cl.ID)
		}
	}
	return all
}
