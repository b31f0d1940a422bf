package organisations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/apptest"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/secret"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/testenv"
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

// problemBody is an RFC 9457 error body.
type problemBody struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
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
	id, sec := "client-"+uuid.NewString()[:8], secret.Generate()
	err := c.e.App.Store.CreatePrincipal(context.Background(), store.Principal{
		ID: id, Kind: store.KindClient, PartnerID: c.partnerID, OrganisationID: orgID, Name: "client",
		Enabled: true, SecretHash: secret.Hash(sec), Scopes: []string{scope.OrganisationsRead, scope.OrganisationsWrite},
	})
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return &caller{e: c.e, partnerID: c.partnerID, token: c.e.Token(t, id, sec, nil)}
}

// do sends a request; body is sent as is when it is a string, else as
// JSON. headers are name, value pairs; Content-Type defaults to
// application/json when there is a body.
func (c *caller) do(t *testing.T, method, path string, body any, headers ...string) apptest.Response {
	t.Helper()
	var r *bytes.Reader
	switch b := body.(type) {
	case nil:
		r = bytes.NewReader(nil)
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.e.Server.URL+path, r)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.e.Do(t, req)
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

// wantProblem checks that resp is a problem with status and code and, when
// fields is not nil, exactly those fields in errors[] (in any order).
func wantProblem(t *testing.T, resp apptest.Response, status int, code string, fields ...string) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		t.Fatalf("status %d, body %s: not a problem: %v", resp.StatusCode, resp.Body, err)
	}
	if resp.StatusCode != status || p.Code != code || p.Status != status {
		t.Fatalf("got %d %s, want %d %s: %s", resp.StatusCode, p.Code, status, code, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	if fields != nil {
		var got []string
		for _, f := range p.Errors {
			got = append(got, f.Field)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(fields))
		if !slices.Equal(got, want) {
			t.Errorf("error fields %q, want %q: %s", got, want, resp.Body)
		}
	}
	return p
}
