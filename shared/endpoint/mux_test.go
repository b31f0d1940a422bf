package endpoint_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/problem"
)

// group is a registry group with one route of each access kind.
var group = registry.Group{
	Name: "test",
	Routes: []registry.Route{
		{Method: "GET", Path: "/v1/things", Op: "listThings", Access: registry.Partner, Scope: "things:read", NotForClients: "partners only"},
		{Method: "POST", Path: "/v1/things", Op: "createThing", Access: registry.PartnerOrManager, Scope: "things:write"},
		{Method: "GET", Path: "/v1/things/me", Op: "getMe", Access: registry.Client, NotForPartners: "clients only"},
		{Method: "GET", Path: "/v1/open", Op: "open", Access: registry.Public},
	},
}

// noAuth stands in for bearer authentication: the tests put the caller in
// the request's context themselves.
func noAuth(h http.Handler) http.Handler { return h }

func ok(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func ops() endpoint.Operations {
	return endpoint.Operations{"listThings": ok, "createThing": ok, "getMe": ok, "open": ok}
}

var (
	partner       = &auth.Caller{ClientID: "p", PartnerID: "p", Scopes: []string{"things:read", "things:write"}}
	partnerNoRead = &auth.Caller{ClientID: "p", PartnerID: "p", Scopes: []string{"things:write"}}
	client        = &auth.Caller{ClientID: "c", PartnerID: "p", OrganisationID: "o", Scopes: []string{"openid"}}
	manager       = &auth.Caller{ClientID: "m", PartnerID: "p", OrganisationID: "o", Scopes: []string{"clients:manage"}}
)

func TestMuxAccess(t *testing.T) {
	t.Parallel()
	h, err := endpoint.Mux(group, ops(), problem.Write, noAuth)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path string
		caller             *auth.Caller
		status             int
		detail             string
	}{
		{"partner with scope", "GET", "/v1/things", partner, 204, ""},
		{"partner without scope", "GET", "/v1/things", partnerNoRead, 403, "the access token lacks the scope things:read"},
		{"client on a partner route", "GET", "/v1/things", client, 403, "partners only"},
		{"no caller", "GET", "/v1/things", nil, 401, "authentication required"},
		{"partner on a manager route", "POST", "/v1/things", partner, 204, ""},
		{"manager on a manager route", "POST", "/v1/things", manager, 204, ""},
		{"client without clients:manage", "POST", "/v1/things", client, 403, "the access token lacks the scope clients:manage"},
		{"client on its own route", "GET", "/v1/things/me", client, 204, ""},
		{"partner on a client route", "GET", "/v1/things/me", partner, 403, "clients only"},
		{"public route", "GET", "/v1/open", nil, 204, ""},
		{"method not served", "DELETE", "/v1/things", partner, 405, "use GET, POST"},
		{"path not served", "GET", "/v1/other", partner, 404, "no such endpoint: GET /v1/other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.caller != nil {
				r = r.WithContext(auth.WithCaller(r.Context(), *tc.caller))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.detail == "" {
				return
			}
			var p struct{ Detail string }
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Detail != tc.detail {
				t.Errorf("detail = %q (%v), want %q", p.Detail, err, tc.detail)
			}
			if tc.status == 405 && rec.Header().Get("Allow") != "GET, POST" {
				t.Errorf("Allow = %q, want GET, POST", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestMuxBindsEveryRouteAndOperation(t *testing.T) {
	t.Parallel()
	missing := ops()
	delete(missing, "getMe")
	if _, err := endpoint.Mux(group, missing, problem.Write, noAuth); err == nil || !strings.Contains(err.Error(), `no operation "getMe"`) {
		t.Errorf("a route without an operation: err = %v", err)
	}
	extra := ops()
	extra["stray"] = ok
	if _, err := endpoint.Mux(group, extra, problem.Write, noAuth); err == nil || !strings.Contains(err.Error(), `operation "stray" has no route`) {
		t.Errorf("an operation without a route: err = %v", err)
	}
}

// TestRegistry checks the registry's own consistency: every route is
// unique, an operation serves one path, and every bearer route but the
// calling client's own names a scope.
func TestRegistry(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, g := range registry.Groups() {
		opPath := map[registry.Op]string{}
		for _, r := range g.Routes {
			key := r.Method + " " + r.Path
			if other, dup := seen[key]; dup {
				t.Errorf("%s in %s and %s", key, other, g.Name)
			}
			seen[key] = g.Name
			if p, ok := opPath[r.Op]; ok && p != r.Path {
				t.Errorf("%s: operation %s serves %s and %s", g.Name, r.Op, p, r.Path)
			}
			opPath[r.Op] = r.Path
			if r.Access != registry.Public && r.Access != registry.Client && r.Scope == "" {
				t.Errorf("%s: %s needs a scope", g.Name, key)
			}
		}
	}
}
