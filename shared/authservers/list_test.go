package authservers_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

func TestPagination(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p, other := newPartner(t, e), newPartner(t, e)
	orgID, sibling := p.Org(t, nil), p.Org(t, nil)
	otherOrg := other.Org(t, nil)
	p.create(t, sibling, nil)
	other.create(t, otherOrg, nil)

	var mu sync.Mutex
	var want []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 6 {
				s := p.create(t, orgID, nil)
				mu.Lock()
				want = append(want, s.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(want)

	for _, limit := range []int{1, 7, 24, 100} {
		var got []string
		for _, s := range listAll(t, p, orgID, limit) {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: walked %v, want %v in id order", limit, got, want)
		}
	}
	page := func(c *caller, org, query string) (items []server, next *string) {
		t.Helper()
		resp := c.Do(t, http.MethodGet, serversPath(org)+"?"+query, nil)
		var body struct {
			Items      []server `json:"items"`
			NextCursor *string  `json:"next_cursor"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(resp.Body, &body) != nil {
			t.Fatalf("list ?%s = %d %s", query, resp.StatusCode, resp.Body)
		}
		return body.Items, body.NextCursor
	}
	// The default page size (50) holds every server; a full last page
	// promises no further one.
	if items, next := page(p, orgID, ""); len(items) != 24 || next != nil {
		t.Errorf("default page: %d items, next %v", len(items), next)
	}
	if items, next := page(p, orgID, "limit=24"); len(items) != 24 || next != nil {
		t.Errorf("limit=24: %d items, next %v", len(items), next)
	}

	t.Run("bad parameters", func(t *testing.T) {
		for _, tc := range []struct {
			query  string
			fields []string
		}{
			{"limit=0", []string{"limit"}},
			{"limit=101", []string{"limit"}},
			{"limit=ten", []string{"limit"}},
			{"limit=1&limit=2", []string{"limit"}},
			{"page=2&status=Active", []string{"page", "status"}},
		} {
			wantProblem(t, p.Do(t, http.MethodGet, serversPath(orgID)+"?"+tc.query, nil), 400, "invalid_request", tc.fields...)
		}
	})
	t.Run("cursors are tamper-proof and bound to partner and organisation", func(t *testing.T) {
		first, next := page(p, orgID, "limit=3")
		cursor := *next
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			t.Fatalf("cursor %q is not base64url: %v", cursor, err)
		}
		flipped := append([]byte(nil), raw...)
		flipped[len(flipped)/2] ^= 1
		orgCursor := func() string {
			resp := p.Do(t, http.MethodGet, "/v1/organisations?limit=1", nil)
			var body struct {
				NextCursor string `json:"next_cursor"`
			}
			_ = json.Unmarshal(resp.Body, &body)
			return body.NextCursor
		}()
		for name, tc := range map[string]struct {
			c     *caller
			org   string
			query string
		}{
			"modified":                  {p, orgID, "cursor=" + base64.RawURLEncoding.EncodeToString(flipped)},
			"forged":                    {p, orgID, "cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"after":"x"}`))},
			"garbage":                   {p, orgID, "cursor=%25%25%25"},
			"another organisation's":    {p, sibling, "cursor=" + cursor},
			"another partner's":         {other, otherOrg, "cursor=" + cursor},
			"of the organisations list": {p, orgID, "cursor=" + url.QueryEscape(orgCursor)},
		} {
			t.Run(name, func(t *testing.T) {
				wantProblem(t, tc.c.Do(t, http.MethodGet, serversPath(tc.org)+"?"+tc.query, nil), 400, "invalid_request", "cursor")
			})
		}
		// The genuine cursor works, with another limit too.
		items, _ := page(p, orgID, "limit=5&cursor="+url.QueryEscape(cursor))
		if len(items) != 5 || items[0].ID != want[3] || first[2].ID != want[2] {
			t.Errorf("second page starts at %v, want %s", items[0].ID, want[3])
		}
	})
}
