package usage_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// These tests run the whole service (apptest) against DynamoDB Local and
// moto's KMS: usage is made through the real token and management
// endpoints and read back through GET /v1/usage.

// caller is a partner or client of the service under test, with this
// package's helpers.
type caller struct{ *apptest.Caller }

// newPartner creates a partner and a token with every partner scope (one
// token counted).
func newPartner(t *testing.T, e *apptest.Env) *caller {
	t.Helper()
	return &caller{apptest.NewPartner(t, e)}
}

// client creates a client of orgID (one api call counted) and returns a
// caller holding its token (one token counted for the client).
func (c *caller) client(t *testing.T, orgID string) *caller {
	t.Helper()
	cl, _ := c.Client(t, orgID, map[string]any{"name": "Client"})
	return &caller{cl}
}

// report is a usage report as the API returns it.
type report struct {
	From    string `json:"from"`
	To      string `json:"to"`
	GroupBy string `json:"group_by"`
	Totals  counts `json:"totals"`
	Items   []item `json:"items"`
}

type counts struct {
	Token int64 `json:"token"`
	API   int64 `json:"api"`
}

type item struct {
	OrganisationID *string `json:"organisation_id"`
	ClientID       *string `json:"client_id"`
	Day            *string `json:"day"`
	counts
}

// usage reads the caller's usage of today by groupBy, failing the test
// unless it gets 200.
func (c *caller) usage(t *testing.T, groupBy string) report {
	t.Helper()
	day := today(c.Env)
	resp := c.Do(t, http.MethodGet, "/v1/usage?"+url.Values{"from": {day}, "to": {day}, "group_by": {groupBy}}.Encode(), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("usage: %d %s", resp.StatusCode, resp.Body)
	}
	var r report
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		t.Fatalf("usage body %s: %v", resp.Body, err)
	}
	return r
}

// today is the service clock's UTC day.
func today(e *apptest.Env) string { return e.Clock.Now().UTC().Format(time.DateOnly) }

func str(s string) *string { return &s }

// get reads the caller's usage with query q, failing the test unless it
// gets 200.
func get(t *testing.T, c *caller, q url.Values) report {
	t.Helper()
	resp := c.Do(t, http.MethodGet, "/v1/usage?"+q.Encode(), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("usage %s: %d %s", q.Encode(), resp.StatusCode, resp.Body)
	}
	var r report
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		t.Fatalf("usage body %s: %v", resp.Body, err)
	}
	return r
}

func itemEqual(a, b item) bool {
	eq := func(x, y *string) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	return eq(a.OrganisationID, b.OrganisationID) && eq(a.ClientID, b.ClientID) && eq(a.Day, b.Day) && a.counts == b.counts
}

func sortedByClient(items []item) []item {
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(*a.ClientID, *b.ClientID) })
	return items
}

func describe(items []item) string {
	var parts []string
	for _, it := range items {
		key := "null"
		for _, k := range []*string{it.OrganisationID, it.ClientID, it.Day} {
			if k != nil {
				key = *k
			}
		}
		parts = append(parts, fmt.Sprintf("{%s token=%d api=%d}", key, it.Token, it.API))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
