package organisations_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// org is an organisation as the API returns it.
type org struct {
	ID                    string   `json:"id"`
	ParentID              *string  `json:"parent_id"`
	Name                  string   `json:"name"`
	EnableCustomLogo      bool     `json:"enable_custom_logo"`
	AllowedScopes         []string `json:"allowed_scopes"`
	AllowedProducts       []string `json:"allowed_products"`
	AllowedProviderGroups []string `json:"allowed_provider_groups"`
	HasProductionAccess   bool     `json:"has_production_access"`
	Enabled               bool     `json:"enabled"`
	CreatedAt             string   `json:"created_at"`
	UpdatedAt             string   `json:"updated_at"`
}

// caller is a partner or client of the service under test, with this
// package's helpers.
type caller struct{ *apptest.Caller }

// newPartner creates a partner and a token with every partner scope.
func newPartner(t *testing.T, e *apptest.Env) *caller {
	t.Helper()
	return &caller{apptest.NewPartner(t, e)}
}

// create creates an organisation, failing the test unless it gets 201.
func (c *caller) create(t *testing.T, body map[string]any) org {
	t.Helper()
	resp := c.Do(t, http.MethodPost, "/v1/organisations", body)
	return decodeOrg(t, resp, http.StatusCreated)
}

// child creates an organisation named name under parent (a root when
// parent is nil) with extra attributes.
func (c *caller) child(t *testing.T, parent *org, name string, extra map[string]any) org {
	t.Helper()
	body := map[string]any{"name": name}
	if parent != nil {
		body["parent_id"] = parent.ID
	}
	for k, v := range extra {
		body[k] = v
	}
	return c.create(t, body)
}

func (c *caller) get(t *testing.T, id string) org {
	t.Helper()
	return decodeOrg(t, c.Do(t, http.MethodGet, "/v1/organisations/"+id, nil), http.StatusOK)
}

// decodeOrg checks resp's status and returns its organisation.
func decodeOrg(t *testing.T, resp apptest.Response, status int) org {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	var o org
	if err := json.Unmarshal(resp.Body, &o); err != nil {
		t.Fatalf("decode organisation %s: %v", resp.Body, err)
	}
	return o
}

// wantProblem is apptest.WantProblem.
var wantProblem = apptest.WantProblem
