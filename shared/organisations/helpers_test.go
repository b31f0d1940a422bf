package organisations_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
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

// caller sends requests to the service under test with one token.
type caller struct {
	e         *apptest.Env
	partnerID string
	secret    string
	token     string
}

// newPartner creates a partner and a token with every partner scope.
func newPartner(t *testing.T, e *apptest.Env) *caller {
	t.Helper()
	id, sec := e.Partner(t)
	return &caller{e: e, partnerID: id, secret: sec, token: e.Token(t, id, sec, nil)}
}

// withScopes returns a caller of the same partner whose token carries only
// scopes.
func (c *caller) withScopes(t *testing.T, scopes ...string) *caller {
	t.Helper()
	tok := c.e.Token(t, c.partnerID, c.secret, url.Values{"scope": {strings.Join(scopes, " ")}})
	return &caller{e: c.e, partnerID: c.partnerID, secret: c.secret, token: tok}
}

// orgClient returns a caller holding the token of a client of organisation
// orgID, with the organisation scopes.
func (c *caller) orgClient(t *testing.T, orgID string) *caller {
	t.Helper()
	id, sec := "client-"+uuid.NewString()[:8], credential.NewSecret()
	err := c.e.App.Store.CreatePrincipal(context.Background(), store.Principal{
		ID: id, Kind: store.KindClient, PartnerID: c.partnerID, OrganisationID: orgID, Name: "client",
		Enabled: true, SecretHash: credential.Hash(sec), Scopes: []string{scope.OrganisationsRead, scope.OrganisationsWrite},
	})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return &caller{e: c.e, partnerID: c.partnerID, token: c.e.Token(t, id, sec, nil)}
}

// do sends a request with the caller's token (see apptest.Env.Request).
func (c *caller) do(t *testing.T, method, path string, body any, headers ...string) apptest.Response {
	t.Helper()
	return c.e.Request(t, c.token, method, path, body, headers...)
}

// create creates an organisation, failing the test unless it gets 201.
func (c *caller) create(t *testing.T, body map[string]any) org {
	t.Helper()
	resp := c.do(t, http.MethodPost, "/v1/organisations", body)
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
	return decodeOrg(t, c.do(t, http.MethodGet, "/v1/organisations/"+id, nil), http.StatusOK)
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
