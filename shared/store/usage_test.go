package store_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/store"
)

// sums adds up counters read from the shards by event.
func sums(counts []store.UsageCount) map[store.UsageEvent]int64 {
	out := map[store.UsageEvent]int64{}
	for _, c := range counts {
		out[c.UsageEvent] += c.Count
	}
	return out
}

// TestUsageCounters: concurrent adds on every shard lose nothing; a read
// covers exactly the days asked for, sums the shards, and sees only the
// partner's own counters.
func TestUsageCounters(t *testing.T) {
	tbl := newTable(t, nil)
	ctx := t.Context()
	tok := store.UsageEvent{PartnerID: "p1", ClientID: "p1", Day: "2026-03-01", Kind: store.UsageToken}
	api := store.UsageEvent{PartnerID: "p1", OrganisationID: "o1", ClientID: "c1", Day: "2026-03-02", Kind: store.UsageAPI}
	late := store.UsageEvent{PartnerID: "p1", ClientID: "p1", Day: "2026-03-03", Kind: store.UsageToken}
	other := store.UsageEvent{PartnerID: "p2", ClientID: "p2", Day: "2026-03-01", Kind: store.UsageToken}
	// "p1#1" would share a partition prefix with "p1" if keys were concatenated carelessly.
	prefix := store.UsageEvent{PartnerID: "p1#1", ClientID: "x", Day: "2026-03-01", Kind: store.UsageToken}

	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			for _, e := range []store.UsageEvent{tok, api, late, other, prefix} {
				if err := tbl.AddUsage(ctx, e, i%store.UsageShards, 1); err != nil {
					t.Errorf("AddUsage: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if err := tbl.AddUsage(ctx, tok, 3, -1); err != nil {
		t.Fatalf("take back: %v", err)
	}

	counts, err := tbl.Usage(ctx, "p1", "2026-03-01", "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	got := sums(counts)
	want := map[store.UsageEvent]int64{tok: 63, api: 64}
	if len(got) != len(want) || got[tok] != want[tok] || got[api] != want[api] {
		t.Errorf("got %v, want %v", got, want)
	}
	shards := 0
	for _, c := range counts {
		if c.UsageEvent == tok {
			shards++
		}
	}
	if shards != store.UsageShards {
		t.Errorf("got the token counter on %d shards, want %d", shards, store.UsageShards)
	}
	if counts, err = tbl.Usage(ctx, "p1", "2026-03-03", "2026-03-03"); err != nil || sums(counts)[late] != 64 || len(sums(counts)) != 1 {
		t.Errorf("one day: got %v (%v), want only the 64 of %s", sums(counts), err, late.Day)
	}
	if counts, err = tbl.Usage(ctx, "p3", "2026-01-01", "2026-12-31"); err != nil || len(counts) != 0 {
		t.Errorf("partner without usage: got %v (%v), want none", counts, err)
	}
	for _, shard := range []int{-1, store.UsageShards} {
		if err := tbl.AddUsage(ctx, tok, shard, 1); err == nil {
			t.Errorf("shard %d: got no error, want one", shard)
		}
	}
}

// smallPages makes every Query return at most two items, so that reading
// goes through many pages.
type smallPages struct {
	store.DynamoDB
	queries atomic.Int64
}

func (s *smallPages) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	s.queries.Add(1)
	in.Limit = aws.Int32(2)
	return s.DynamoDB.Query(ctx, in, opts...)
}

// TestUsageReadsEveryPage: a shard's Query is read to its last page.
func TestUsageReadsEveryPage(t *testing.T) {
	db := testenv.DynamoDB(t)
	name := "store-test-" + uuid.NewString()[:8]
	if err := store.CreateTable(t.Context(), db, name); err != nil {
		t.Fatal(err)
	}
	paged := &smallPages{DynamoDB: db}
	tbl := store.New(paged, name, nil)
	var clients []string
	for i := range 7 {
		c := "client-" + string(rune('a'+i))
		clients = append(clients, c)
		if err := tbl.AddUsage(t.Context(), store.UsageEvent{PartnerID: "p", OrganisationID: "o", ClientID: c, Day: "2026-03-01", Kind: store.UsageAPI}, 0, 2); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := tbl.Usage(t.Context(), "p", "2026-03-01", "2026-03-01")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range counts {
		if c.Count != 2 || c.Kind != store.UsageAPI || c.OrganisationID != "o" {
			t.Errorf("got %+v, want an api counter of organisation o at 2", c)
		}
		got = append(got, c.ClientID)
	}
	slices.Sort(got)
	if !slices.Equal(got, clients) {
		t.Errorf("got clients %s, want %s", strings.Join(got, ","), strings.Join(clients, ","))
	}
	if q := paged.queries.Load(); q < store.UsageShards+3 {
		t.Errorf("got %d queries, want one per shard and more pages of shard 0", q)
	}
}
