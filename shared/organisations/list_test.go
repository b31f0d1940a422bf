package organisations_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

type page struct {
	Items      []org   `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// listPage gets one page of GET /v1/organisations?query.
func listPage(t *testing.T, c *caller, query string) page {
	t.Helper()
	resp := c.Do(t, http.MethodGet, "/v1/organisations?"+query, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list ?%s: %d %s", query, resp.StatusCode, resp.Body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &raw); err != nil || raw["items"] == nil || raw["next_cursor"] == nil {
		t.Fatalf("list body %s: want items and next_cursor (%v)", resp.Body, err)
	}
	var p page
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		t.Fatalf("decode page: %v", err)
	}
	return p
}

// listAll walks every page of the list (filter is "" or "parent_id=<id>"),
// failing the test on a duplicate.
func listAll(t *testing.T, c *caller, filter string, limit int) []org {
	t.Helper()
	get := func(path string) apptest.Response { return c.Do(t, http.MethodGet, path, nil) }
	return apptest.ListAll(t, get, "/v1/organisations?"+filter, limit, func(o org) string { return o.ID })
}

func TestPagination(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	other := newPartner(t, e)
	other.child(t, nil, "Not mine", nil)

	// 125 organisations: 5 roots with 24 children each.
	want := map[string]bool{}
	var roots []org
	for i := range 5 {
		r := p.child(t, nil, fmt.Sprint("Root ", i), nil)
		roots = append(roots, r)
		want[r.ID] = true
	}
	var mu sync.Mutex
	children := map[string]map[string]bool{}
	var wg sync.WaitGroup
	for _, r := range roots {
		children[r.ID] = map[string]bool{}
		wg.Go(func() {
			for i := range 24 {
				c := p.child(t, &r, fmt.Sprint("Child ", i), nil)
				mu.Lock()
				want[c.ID], children[r.ID][c.ID] = true, true
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	t.Run("walk every page", func(t *testing.T) {
		got := listAll(t, p, "", 7)
		if len(got) != len(want) {
			t.Errorf("walked %d organisations, want %d", len(got), len(want))
		}
		for _, o := range got {
			if !want[o.ID] {
				t.Errorf("unexpected organisation %s", o.ID)
			}
		}
	})
	t.Run("parent_id filter", func(t *testing.T) {
		got := listAll(t, p, "parent_id="+roots[2].ID, 5)
		if len(got) != 24 {
			t.Errorf("%d children, want 24", len(got))
		}
		for _, o := range got {
			if !children[roots[2].ID][o.ID] {
				t.Errorf("organisation %s is not a child of the filter's parent", o.ID)
			}
		}
	})
	t.Run("default and maximum limit", func(t *testing.T) {
		if got := listPage(t, p, ""); len(got.Items) != 50 || got.NextCursor == nil {
			t.Errorf("default page: %d items, next %v; want 50 and a cursor", len(got.Items), got.NextCursor)
		}
		if got := listPage(t, p, "limit=100"); len(got.Items) != 100 || got.NextCursor == nil {
			t.Errorf("limit=100: %d items", len(got.Items))
		}
		// A last page that is exactly full promises no further page.
		if got := listPage(t, p, "limit=24&parent_id="+roots[0].ID); len(got.Items) != 24 || got.NextCursor != nil {
			t.Errorf("full last page: %d items, next %v; want 24 and null", len(got.Items), got.NextCursor)
		}
	})
	t.Run("bad parameters", func(t *testing.T) {
		for _, tc := range []struct {
			query  string
			fields []string
		}{
			{"limit=0", []string{"limit"}},
			{"limit=101", []string{"limit"}},
			{"limit=ten", []string{"limit"}},
			{"limit=-5", []string{"limit"}},
			{"limit=1&limit=2", []string{"limit"}},
			{"parent_id=nope", []string{"parent_id"}},
			{"page=2&sort=name", []string{"page", "sort"}},
			{"limit=0&parent_id=x&extra=1", []string{"limit", "parent_id", "extra"}},
		} {
			wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations?"+tc.query, nil), 400, "invalid_request", tc.fields...)
		}
	})
	t.Run("cursors are tamper-proof and bound to partner and list", func(t *testing.T) {
		first := listPage(t, p, "limit=3")
		cursor := *first.NextCursor
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			t.Fatalf("cursor %q is not base64url: %v", cursor, err)
		}
		flipped := append([]byte(nil), raw...)
		flipped[len(flipped)/2] ^= 1
		filtered := listPage(t, p, "limit=3&parent_id="+roots[1].ID)
		for name, tc := range map[string]struct {
			c     *caller
			query string
		}{
			"modified":                  {p, "cursor=" + base64.RawURLEncoding.EncodeToString(flipped)},
			"forged":                    {p, "cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"after":"x"}`))},
			"garbage":                   {p, "cursor=%25%25%25"},
			"another partner's":         {other, "cursor=" + cursor},
			"from another filter":       {p, "cursor=" + cursor + "&parent_id=" + roots[1].ID},
			"filtered, used unfiltered": {p, "cursor=" + *filtered.NextCursor},
		} {
			t.Run(name, func(t *testing.T) {
				wantProblem(t, tc.c.Do(t, http.MethodGet, "/v1/organisations?"+tc.query, nil), 400, "invalid_request", "cursor")
			})
		}
		// The genuine cursor works, with another limit too.
		next := listPage(t, p, "limit=5&cursor="+url.QueryEscape(cursor))
		if len(next.Items) != 5 || next.Items[0].ID <= first.Items[2].ID {
			t.Errorf("second page starts at %v, want after %s", next.Items[0].ID, first.Items[2].ID)
		}
	})
}
