package clients_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/fit"
)

// These tests check the rules that tie clients to their organisation, also
// racing real requests (goroutines against DynamoDB Local): whichever wins,
// no client is left outside its organisation or without one.

const raceRounds = 6

func TestOrganisationNarrowingAndDelete(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, map[string]any{
		"allowed_scopes": []string{"s1", "s2"}, "allowed_products": []string{"a", "b"},
		"allowed_provider_groups": []string{"g1", "g2"}, "has_production_access": true,
	})
	orgPath := "/v1/organisations/" + orgID
	cl := p.create(t, orgID, map[string]any{
		"name": "Uses a lot", "additional_scopes": []string{"s2", "clients:manage"}, "selected_product": "b",
		"allowed_provider_groups": []string{"g2"}, "is_production": true,
	})
	quiet := p.create(t, orgID, map[string]any{"name": "Uses little"})

	for _, tc := range []struct{ patch, attribute string }{
		{`{"allowed_scopes":["s1"]}`, "additional_scopes"},
		{`{"allowed_products":["a"]}`, "selected_product"},
		{`{"allowed_provider_groups":["g1"]}`, "allowed_provider_groups"},
		{`{"has_production_access":false}`, "is_production"},
	} {
		pb := wantProblem(t, p.Do(t, http.MethodPatch, orgPath, tc.patch), 409, "conflict")
		if !strings.Contains(pb.Detail, cl.ID+" ("+tc.attribute+")") || strings.Contains(pb.Detail, quiet.ID) {
			t.Errorf("narrowing %s: detail %q, want it to name %s and %s only", tc.patch, pb.Detail, cl.ID, tc.attribute)
		}
	}
	// PUT leaving has_production_access out turns it off: refused too.
	wantProblem(t, p.Do(t, http.MethodPut, orgPath, map[string]any{"name": "Org", "allowed_scopes": []string{"s1", "s2"}}), 409, "conflict")
	// Narrowing that keeps every client inside is fine; clients:manage is
	// not an organisation scope.
	if resp := p.Do(t, http.MethodPatch, orgPath, `{"allowed_scopes":["s2"],"allowed_products":["b"],"allowed_provider_groups":["g2"]}`); resp.StatusCode != 200 {
		t.Errorf("narrowing around the clients: %d %s", resp.StatusCode, resp.Body)
	}
	// Once the client narrows, the organisation can.
	decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+cl.ID, `{"is_production":false,"selected_product":null}`), http.StatusOK)
	if resp := p.Do(t, http.MethodPatch, orgPath, `{"has_production_access":false,"allowed_products":["x"]}`); resp.StatusCode != 200 {
		t.Errorf("narrowing after the client did: %d %s", resp.StatusCode, resp.Body)
	}

	// No delete while clients remain.
	pb := wantProblem(t, p.Do(t, http.MethodDelete, orgPath, nil), 409, "conflict")
	if !strings.Contains(pb.Detail, "2 client(s)") {
		t.Errorf("detail %q, want the count of clients", pb.Detail)
	}
	for _, id := range []string{cl.ID, quiet.ID} {
		if resp := p.Do(t, http.MethodDelete, "/v1/clients/"+id, nil); resp.StatusCode != 204 {
			t.Fatalf("delete client: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if resp := p.Do(t, http.MethodDelete, orgPath, nil); resp.StatusCode != 204 {
		t.Errorf("delete the emptied organisation: %d %s", resp.StatusCode, resp.Body)
	}
	wantProblem(t, p.Do(t, http.MethodPost, orgPath+"/clients", map[string]any{"name": "Too late"}), 404, "not_found")
}

func TestConcurrentCreatesOfOneID(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgs := []string{p.Org(t, nil), p.Org(t, nil)}
	const n = 8
	fns := make([]func() apptest.Response, n)
	for i := range fns {
		// Half in each organisation: the id is unique across all.
		fns[i] = func() apptest.Response {
			return p.Do(t, http.MethodPost, "/v1/organisations/"+orgs[i%2]+"/clients", map[string]any{"name": fmt.Sprint("Contender ", i), "client_id": "contested-id"})
		}
	}
	created := 0
	for i, r := range apptest.Race(fns...) {
		switch r.StatusCode {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			wantProblem(t, r, 409, "conflict")
		default:
			t.Errorf("create %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	if created != 1 {
		t.Errorf("%d creates of one id succeeded, want exactly 1", created)
	}
	total := int64(0)
	for _, id := range orgs {
		o, err := e.App.Store.GetOrganisation(context.Background(), p.PartnerID, id)
		if err != nil {
			t.Fatal(err)
		}
		total += o.ClientCount
		if got := len(listAll(t, p, id, 100)); int64(got) != o.ClientCount {
			t.Errorf("organisation %s: %d listed, client_count %d", id, got, o.ClientCount)
		}
	}
	if total != 1 {
		t.Errorf("client_count sums to %d, want 1", total)
	}

	// Distinct ids at once all succeed, each counted.
	for i := range fns {
		fns[i] = func() apptest.Response {
			return p.Do(t, http.MethodPost, "/v1/organisations/"+orgs[0]+"/clients", map[string]any{"name": "Crowd"})
		}
	}
	for i, r := range apptest.Race(fns...) {
		if r.StatusCode != http.StatusCreated {
			t.Errorf("create %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	o, _ := e.App.Store.GetOrganisation(context.Background(), p.PartnerID, orgs[0])
	stored, err := e.App.Store.OrganisationClients(context.Background(), p.PartnerID, orgs[0])
	if err != nil || int64(len(stored)) != o.ClientCount {
		t.Errorf("organisation has %d clients (%v), client_count %d", len(stored), err, o.ClientCount)
	}
}

// TestConcurrentNarrowingAndClientWrites races an organisation losing a
// product with a client (created, or updated) taking it.
func TestConcurrentNarrowingAndClientWrites(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	for round := range raceRounds {
		orgID := p.Org(t, map[string]any{"allowed_products": []string{"a", "b"}})
		existing := p.create(t, orgID, map[string]any{"name": "Existing", "selected_product": "a"})
		narrow := func() apptest.Response {
			return p.Do(t, http.MethodPatch, "/v1/organisations/"+orgID, `{"allowed_products":["a"]}`)
		}
		var take func() apptest.Response
		if round%2 == 0 {
			take = func() apptest.Response {
				return p.Do(t, http.MethodPost, "/v1/organisations/"+orgID+"/clients", map[string]any{"name": "New", "selected_product": "b"})
			}
		} else {
			take = func() apptest.Response {
				return p.Do(t, http.MethodPatch, "/v1/clients/"+existing.ID, `{"selected_product":"b"}`)
			}
		}
		got := apptest.Race(take, narrow)
		if got[0].StatusCode < 300 && got[1].StatusCode == http.StatusOK {
			t.Errorf("round %d: both the client taking b (%d) and the narrowing to [a] succeeded", round, got[0].StatusCode)
		}
		for _, r := range got {
			if r.StatusCode >= 500 {
				t.Errorf("round %d: %d %s", round, r.StatusCode, r.Body)
			}
		}
		// Whatever happened, every client fits its organisation.
		org, err := e.App.Store.GetOrganisation(context.Background(), p.PartnerID, orgID)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := e.App.Store.OrganisationClients(context.Background(), p.PartnerID, orgID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range stored {
			if out := fit.ClientOutside(c, org); len(out) > 0 {
				t.Errorf("round %d: client %s outside its organisation in %v", round, c.ID, out)
			}
		}
	}
}

func TestConcurrentClientCreateAndOrganisationDelete(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	outcomes := map[string]int{}
	for round := range raceRounds {
		orgID := p.Org(t, nil)
		got := apptest.Race(
			func() apptest.Response {
				return p.Do(t, http.MethodPost, "/v1/organisations/"+orgID+"/clients", map[string]any{"name": "Late"})
			},
			func() apptest.Response { return p.Do(t, http.MethodDelete, "/v1/organisations/"+orgID, nil) },
		)
		create, del := got[0].StatusCode, got[1].StatusCode
		switch {
		case create == http.StatusCreated && del == http.StatusConflict:
			outcomes["create"]++
		case del == http.StatusNoContent && slices.Contains([]int{http.StatusNotFound, http.StatusConflict}, create):
			outcomes["delete"]++
			if n, err := e.App.Store.OrganisationClients(context.Background(), p.PartnerID, orgID); err != nil || len(n) != 0 {
				t.Errorf("round %d: clients %v (%v) left under a deleted organisation", round, n, err)
			}
		default:
			t.Errorf("round %d: create %d %s, delete %d %s; want one to win cleanly", round, create, got[0].Body, del, got[1].Body)
		}
	}
	t.Logf("outcomes: %v", outcomes)
}
