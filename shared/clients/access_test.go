package clients_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/scope"
)

// route is one request of the group, with a body where it takes one.
type route struct{ method, path, body string }

func (r route) send(t *testing.T, c *caller, headers ...string) apptest.Response {
	t.Helper()
	var body any
	if r.body != "" {
		body = r.body
	}
	return c.Do(t, r.method, r.path, body, headers...)
}

// routesOf lists every route of the group on client id and organisation
// orgID; writes come after reads.
func routesOf(orgID, id string) (reads, writes []route) {
	list, one := "/v1/organisations/"+orgID+"/clients", "/v1/clients/"+id
	reads = []route{{http.MethodGet, list, ""}, {http.MethodGet, one, ""}}
	writes = []route{
		{http.MethodPost, list, `{"name":"x"}`}, {http.MethodPut, one, `{"name":"x"}`}, {http.MethodPatch, one, `{"name":"x"}`},
		{http.MethodPost, one + "/secret", ""}, {http.MethodDelete, one, ""},
	}
	return reads, writes
}

func TestAuthorisation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	target := p.create(t, orgID, map[string]any{"name": "Guarded"})
	reads, writes := routesOf(orgID, target.ID)
	me := []route{{http.MethodGet, "/v1/clients/me", ""}, {http.MethodPost, "/v1/clients/me/secret", ""}}

	anonymous := &caller{&apptest.Caller{Env: e}}
	orgsOnly := &caller{p.WithScopes(t, scope.OrganisationsRead, scope.OrganisationsWrite)}
	readOnly := &caller{p.WithScopes(t, scope.ClientsRead)}
	plain, _ := p.login(t, orgID, map[string]any{"name": "Plain", "additional_scopes": []string{"accounts"}})
	for _, r := range slices.Concat(reads, writes, me) {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			resp := r.send(t, anonymous)
			wantProblem(t, resp, 401, "unauthorized")
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			wantProblem(t, r.send(t, &caller{&apptest.Caller{Env: e, Token: "not.a.jwt"}}), 401, "unauthorized")
			wantProblem(t, r.send(t, orgsOnly), 403, "forbidden")
		})
	}
	for _, r := range writes {
		t.Run("read-only "+r.method+" "+r.path, func(t *testing.T) {
			resp := r.send(t, readOnly)
			wantProblem(t, resp, 403, "forbidden")
			if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="clients:write"`) {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	for _, r := range reads {
		if resp := r.send(t, readOnly); resp.StatusCode != 200 {
			t.Errorf("read-only %s %s = %d %s", r.method, r.path, resp.StatusCode, resp.Body)
		}
	}
	// A partner has no /me.
	for _, r := range me {
		wantProblem(t, r.send(t, p), 403, "forbidden")
	}
	// A client without clients:manage reaches /me only, not even itself by
	// id, nor anything of the organisations group.
	own := []route{{http.MethodGet, "/v1/clients/" + plain.ID, ""}, {http.MethodPost, "/v1/clients/" + plain.ID + "/secret", ""}}
	for _, r := range slices.Concat(reads, writes, own) {
		resp := r.send(t, plain)
		wantProblem(t, resp, 403, "forbidden")
		if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="clients:manage"`) {
			t.Errorf("%s %s: WWW-Authenticate %q", r.method, r.path, resp.Header.Get("WWW-Authenticate"))
		}
	}
	wantProblem(t, plain.Do(t, http.MethodGet, "/v1/organisations", nil), 403, "forbidden")
	self := decodeClient(t, plain.Do(t, http.MethodGet, "/v1/clients/me", nil), http.StatusOK)
	if self.ID != plain.ID || self.Secret != "" || !slices.Equal(self.AdditionalScopes, []string{"accounts"}) {
		t.Errorf("GET /v1/clients/me = %+v", self)
	}
	wantProblem(t, plain.Do(t, http.MethodDelete, "/v1/clients/me", nil), 405, "method_not_allowed")
}

// TestDelegatedManagement: a client with clients:manage manages the clients
// of its own organisation, and nothing else, and cannot escalate.
func TestDelegatedManagement(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	home := p.Org(t, map[string]any{"allowed_scopes": []string{"s1", "s2"}, "allowed_provider_groups": []string{"g1", "g2"}, "has_production_access": true})
	away := p.Org(t, nil)
	manager, _ := p.login(t, home, map[string]any{"name": "Primary", "additional_scopes": []string{scope.ClientsManage, "s1"}, "access_token_lifetime": 3600})
	stranger := p.create(t, away, map[string]any{"name": "Elsewhere"})
	other := newPartner(t, e)
	foreign := other.create(t, other.Org(t, nil), map[string]any{"name": "Another partner's"})

	t.Run("manages its own organisation's clients", func(t *testing.T) {
		peer := decodeClient(t, manager.Do(t, http.MethodPost, "/v1/organisations/"+home+"/clients", map[string]any{"name": "Secondary", "additional_scopes": []string{"s1"}, "access_token_lifetime": 600}), http.StatusCreated)
		if peer.Secret == "" || peer.OrganisationID != home {
			t.Errorf("created %+v", peer)
		}
		if items := listAll(t, manager, home, 100); len(items) != 2 {
			t.Errorf("list = %d clients, want 2", len(items))
		}
		decodeClient(t, manager.Do(t, http.MethodGet, "/v1/clients/"+peer.ID, nil), http.StatusOK)
		decodeClient(t, manager.Do(t, http.MethodPatch, "/v1/clients/"+peer.ID, `{"additional_scopes":[],"required_scopes":["s1"]}`), http.StatusOK)
		decodeClient(t, manager.Do(t, http.MethodPut, "/v1/clients/"+peer.ID, `{"name":"Secondary v2"}`), http.StatusOK)
		if resp := manager.Do(t, http.MethodPost, "/v1/clients/"+peer.ID+"/secret", nil); resp.StatusCode != 200 {
			t.Errorf("rotate a peer's secret: %d %s", resp.StatusCode, resp.Body)
		}
		if resp := manager.Do(t, http.MethodDelete, "/v1/clients/"+peer.ID, nil); resp.StatusCode != 204 {
			t.Errorf("delete a peer: %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("nothing outside its organisation", func(t *testing.T) {
		for _, target := range []struct{ org, id string }{{away, stranger.ID}, {foreign.OrganisationID, foreign.ID}} {
			reads, writes := routesOf(target.org, target.id)
			for _, r := range slices.Concat(reads, writes) {
				pb := wantProblem(t, r.send(t, manager), 404, "not_found")
				if strings.Contains(pb.Detail, "organisation "+home) {
					t.Errorf("detail %q", pb.Detail)
				}
			}
		}
		wantProblem(t, manager.Do(t, http.MethodGet, "/v1/organisations", nil), 403, "forbidden")
		wantProblem(t, manager.Do(t, http.MethodGet, "/v1/organisations/"+home, nil), 403, "forbidden")
		wantProblem(t, manager.Do(t, http.MethodPatch, "/v1/organisations/"+home, `{"allowed_scopes":[]}`), 403, "forbidden")
		// Untouched.
		if got := p.get(t, stranger.ID); got.Name != "Elsewhere" {
			t.Errorf("stranger = %+v", got)
		}
	})
	t.Run("hands out only what it holds", func(t *testing.T) {
		// The security review's case: a manager holding s1, non-production,
		// 3600 s tokens, all provider groups, client credentials only.
		wider := p.create(t, home, map[string]any{"name": "Wider sibling", "additional_scopes": []string{"s1", "s2"}})
		inside := p.create(t, home, map[string]any{"name": "Narrow sibling", "additional_scopes": []string{"s1"}})
		create := "/v1/organisations/" + home + "/clients"
		for _, tc := range []struct {
			name, method, path, body, field string
		}{
			{"create with a scope it lacks", http.MethodPost, create, `{"name":"x","additional_scopes":["s2"]}`, "scopes"},
			{"create with a required scope it lacks", http.MethodPost, create, `{"name":"x","required_scopes":["s2"]}`, "scopes"},
			{"create a production client", http.MethodPost, create, `{"name":"x","is_production":true}`, "is_production"},
			{"create with longer tokens", http.MethodPost, create, `{"name":"x","access_token_lifetime":86400}`, "access_token_lifetime"},
			{"create with the authorization code grant", http.MethodPost, create,
				`{"name":"x","grant_types":["authorization_code"],"return_urls":["https://app.example/cb"]}`, "grant_types"},
			{"widen a sibling", http.MethodPatch, "/v1/clients/" + inside.ID, `{"additional_scopes":["s1","s2"]}`, "scopes"},
			{"make a sibling production", http.MethodPatch, "/v1/clients/" + inside.ID, `{"is_production":true}`, "is_production"},
			{"rotate (and receive) a wider sibling's secret", http.MethodPost, "/v1/clients/" + wider.ID + "/secret", "", "scopes"},
			{"change a wider sibling", http.MethodPatch, "/v1/clients/" + wider.ID, `{"name":"renamed"}`, "scopes"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pb := wantProblem(t, route{tc.method, tc.path, tc.body}.send(t, manager), 403, "forbidden")
				if !strings.Contains(pb.Detail, tc.field) {
					t.Errorf("detail %q does not name %s", pb.Detail, tc.field)
				}
			})
		}
		// Untouched, and still within reach of the partner.
		if got := p.get(t, wider.ID); got.Name != "Wider sibling" {
			t.Errorf("wider sibling = %+v", got)
		}
		decodeClient(t, manager.Do(t, http.MethodPatch, "/v1/clients/"+inside.ID, `{"access_token_lifetime":900}`), http.StatusOK)
		if resp := manager.Do(t, http.MethodPost, "/v1/clients/"+inside.ID+"/secret", nil); resp.StatusCode != 200 {
			t.Errorf("rotate a sibling within its rights: %d %s", resp.StatusCode, resp.Body)
		}
		// Deleting a wider sibling hands over nothing.
		if resp := manager.Do(t, http.MethodDelete, "/v1/clients/"+wider.ID, nil); resp.StatusCode != 204 {
			t.Errorf("delete a wider sibling: %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("cannot escalate", func(t *testing.T) {
		peer := p.create(t, home, map[string]any{"name": "Peer"})
		managed := p.create(t, home, map[string]any{"name": "Also primary", "additional_scopes": []string{scope.ClientsManage}})
		for _, tc := range []struct {
			name, method, path, body string
		}{
			{"create a manager", http.MethodPost, "/v1/organisations/" + home + "/clients", `{"name":"x","additional_scopes":["clients:manage"]}`},
			{"grant clients:manage to a peer", http.MethodPatch, "/v1/clients/" + peer.ID, `{"additional_scopes":["clients:manage"]}`},
			{"remove clients:manage from a peer", http.MethodPut, "/v1/clients/" + managed.ID, `{"name":"Also primary"}`},
			{"drop its own clients:manage", http.MethodPatch, "/v1/clients/" + manager.ID, `{"additional_scopes":["s1"]}`},
			{"widen its own scopes", http.MethodPatch, "/v1/clients/" + manager.ID, `{"additional_scopes":["clients:manage","s1","s2"]}`},
			{"widen its own scopes by required_scopes", http.MethodPatch, "/v1/clients/" + manager.ID, `{"required_scopes":["s2"]}`},
			{"turn on its own production", http.MethodPatch, "/v1/clients/" + manager.ID, `{"is_production":true}`},
			{"lengthen its own tokens", http.MethodPatch, "/v1/clients/" + manager.ID, `{"access_token_lifetime":7200}`},
			{"delete itself", http.MethodDelete, "/v1/clients/" + manager.ID, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantProblem(t, route{tc.method, tc.path, tc.body}.send(t, manager), 403, "forbidden")
			})
		}
		// Narrowing itself is fine; widening back is not.
		decodeClient(t, manager.Do(t, http.MethodPatch, "/v1/clients/"+manager.ID, `{"allowed_provider_groups":["g1"],"access_token_lifetime":1800}`), http.StatusOK)
		wantProblem(t, manager.Do(t, http.MethodPatch, "/v1/clients/"+manager.ID, `{"allowed_provider_groups":[]}`), 403, "forbidden")
		wantProblem(t, manager.Do(t, http.MethodPatch, "/v1/clients/"+manager.ID, `{"allowed_provider_groups":["g1","g2"]}`), 403, "forbidden")
		decodeClient(t, manager.Do(t, http.MethodPatch, "/v1/clients/"+manager.ID, `{"additional_scopes":["clients:manage"]}`), http.StatusOK)
		// Its next token carries what it has now.
		status, body := tokenStatus(t, e, manager.ID, manager.Secret, url.Values{"scope": {"s1"}})
		if status != http.StatusBadRequest || !strings.Contains(string(body), "invalid_scope") {
			t.Errorf("token asking for a dropped scope = %d %s, want invalid_scope", status, body)
		}
		// The partner can do what the client could not.
		decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+manager.ID, `{"additional_scopes":["clients:manage","s1","s2"],"is_production":true}`), http.StatusOK)
		decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+peer.ID, `{"additional_scopes":["clients:manage"]}`), http.StatusOK)
	})
	t.Run("losing clients:manage takes effect at once", func(t *testing.T) {
		decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+manager.ID, `{"additional_scopes":["s1"]}`), http.StatusOK)
		// Its token still carries the scope, but the client no longer does.
		wantProblem(t, manager.Do(t, http.MethodGet, "/v1/organisations/"+home+"/clients", nil), 403, "forbidden")
		wantProblem(t, manager.Do(t, http.MethodPost, "/v1/organisations/"+home+"/clients", `{"name":"x"}`), 403, "forbidden")
		// What any client may do, it still may.
		decodeClient(t, manager.Do(t, http.MethodGet, "/v1/clients/me", nil), http.StatusOK)
	})
}

// TestTenantIsolation: another partner gets 404 on every route of a
// partner's clients and organisations, with or without If-Match, and a
// cursor works only for the list it came from.
func TestTenantIsolation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	a, b := newPartner(t, e), newPartner(t, e)
	orgA := a.Org(t, nil)
	target := a.create(t, orgA, map[string]any{"name": "A's"})
	orgB := b.Org(t, nil)
	bOwn := b.create(t, orgB, map[string]any{"name": "B's"})

	reads, writes := routesOf(orgA, target.ID)
	for _, r := range slices.Concat(reads, writes) {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			pb := wantProblem(t, r.send(t, b), 404, "not_found")
			if strings.Contains(pb.Detail, a.PartnerID) || strings.Contains(pb.Detail, "partner") {
				t.Errorf("404 detail %q reveals too much", pb.Detail)
			}
			wantProblem(t, r.send(t, b, "If-Match", `"1"`), 404, "not_found")
		})
	}
	// A's partner account is not a client of anyone.
	wantProblem(t, b.Do(t, http.MethodGet, "/v1/clients/"+a.PartnerID, nil), 404, "not_found")
	wantProblem(t, a.Do(t, http.MethodGet, "/v1/clients/"+a.PartnerID, nil), 404, "not_found")
	wantProblem(t, a.Do(t, http.MethodDelete, "/v1/clients/"+a.PartnerID, nil), 404, "not_found")
	wantProblem(t, a.Do(t, http.MethodPost, "/v1/clients/"+a.PartnerID+"/secret", nil), 404, "not_found")
	if got := a.get(t, target.ID); got.Name != "A's" {
		t.Errorf("A's client = %+v", got)
	}
	if items := listAll(t, b, orgB, 100); len(items) != 1 || items[0].ID != bOwn.ID {
		t.Errorf("B's list = %+v", items)
	}

	// Cursors: bound to the partner and the organisation.
	for range 3 {
		a.create(t, orgA, map[string]any{"name": "More"})
	}
	resp := a.Do(t, http.MethodGet, "/v1/organisations/"+orgA+"/clients?limit=1", nil)
	var page struct {
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(resp.Body, &page); err != nil || page.NextCursor == nil {
		t.Fatalf("first page %s", resp.Body)
	}
	cur := url.QueryEscape(*page.NextCursor)
	orgA2 := a.Org(t, nil)
	wantProblem(t, a.Do(t, http.MethodGet, "/v1/organisations/"+orgA2+"/clients?cursor="+cur, nil), 400, "invalid_request", "cursor")
	wantProblem(t, b.Do(t, http.MethodGet, "/v1/organisations/"+orgB+"/clients?cursor="+cur, nil), 400, "invalid_request", "cursor")
	wantProblem(t, a.Do(t, http.MethodGet, "/v1/organisations/"+orgA+"/clients?cursor="+cur[:len(cur)-2]+"AA", nil), 400, "invalid_request", "cursor")
	if resp := a.Do(t, http.MethodGet, "/v1/organisations/"+orgA+"/clients?cursor="+cur, nil); resp.StatusCode != 200 {
		t.Errorf("cursor on its own list: %d %s", resp.StatusCode, resp.Body)
	}
}

// TestManagerCannotTakeOverManager: a clients:manage client may not write
// another client holding clients:manage (rotating its secret would hand over
// that client's credentials and scopes); the partner may.
func TestManagerCannotTakeOverManager(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	manager, _ := p.login(t, orgID, map[string]any{"name": "Manager", "additional_scopes": []string{scope.ClientsManage}})
	other := p.create(t, orgID, map[string]any{"name": "Other manager", "additional_scopes": []string{scope.ClientsManage, "accounts"}})
	plain := p.create(t, orgID, map[string]any{"name": "Plain"})
	_, writes := routesOf(orgID, other.ID)
	for _, r := range writes[1:] { // PUT, PATCH, secret, DELETE of the other manager
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			wantProblem(t, r.send(t, manager), 403, "forbidden")
		})
	}
	if resp := manager.Do(t, http.MethodPost, "/v1/clients/"+plain.ID+"/secret", nil); resp.StatusCode != 200 {
		t.Errorf("manager rotating a plain client's secret: status %d, want 200", resp.StatusCode)
	}
	if resp := p.Do(t, http.MethodPost, "/v1/clients/"+other.ID+"/secret", nil); resp.StatusCode != 200 {
		t.Errorf("partner rotating a manager's secret: status %d, want 200", resp.StatusCode)
	}
}
