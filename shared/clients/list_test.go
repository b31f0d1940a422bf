package clients_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

func TestPagination(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	other := p.Org(t, nil)
	p.create(t, other, map[string]any{"name": "In another organisation"})
	var want []string
	for i := range 23 {
		want = append(want, p.create(t, orgID, map[string]any{"name": "c", "client_id": fmt.Sprintf("client-%02d", i)}).ID)
	}
	for _, limit := range []int{1, 7, 23, 100} {
		var got []string
		for _, c := range listAll(t, p, orgID, limit) {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: walked %v, want %v in id order", limit, got, want)
		}
	}
	// The default page size is 50.
	resp := p.Do(t, http.MethodGet, "/v1/organisations/"+orgID+"/clients", nil)
	var page map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &page); err != nil || resp.StatusCode != 200 || string(page["next_cursor"]) != "null" {
		t.Errorf("default list = %d %s, want every client and next_cursor null", resp.StatusCode, resp.Body)
	}
	// An organisation without clients lists none.
	if items := listAll(t, p, p.Org(t, nil), 10); len(items) != 0 {
		t.Errorf("empty organisation lists %v", items)
	}

	// The paging parameters are read as for every list (endpoint.ListParams).
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations/"+orgID+"/clients?limit=0&page=2", nil), 400, "invalid_request", "limit", "page")
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations/"+orgID+"/clients?cursor=garbage", nil), 400, "invalid_request", "cursor")
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations/not-a-uuid/clients", nil), 404, "not_found")
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations/6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11/clients", nil), 404, "not_found")
}
