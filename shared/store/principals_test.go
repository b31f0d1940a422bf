package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/store"
)

// newTable creates a fresh table on the test DynamoDB endpoint.
func newTable(t *testing.T, now func() time.Time) *store.Table {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := "store-test-" + uuid.NewString()[:8]
	if err := store.CreateTable(t.Context(), db, name); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateTable(t.Context(), db, name); err != nil {
		t.Fatalf("CreateTable is not idempotent: %v", err)
	}
	return store.New(db, name, now)
}

func TestPrincipalLifecycle(t *testing.T) {
	tbl := newTable(t, nil)
	ctx := t.Context()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	p := store.Principal{
		ID: "partner-one", Kind: store.KindPartner, PartnerID: "partner-one", Name: "One", Enabled: true,
		SecretHash: "hs256$a$b", Scopes: []string{"b", "a"}, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := tbl.GetPrincipal(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetPrincipal before create: err = %v, want ErrNotFound", err)
	}
	if err := tbl.CreatePrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := tbl.CreatePrincipal(ctx, p); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: err = %v, want ErrConflict", err)
	}
	got, err := tbl.GetPrincipal(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || got.Name != "One" || !got.CreatedAt.Equal(now) || !got.PreviousSecretExpiresAt.IsZero() || len(got.Scopes) != 2 {
		t.Errorf("got %+v", got)
	}
	got.Enabled = false
	updated, err := tbl.ReplacePrincipal(ctx, store.Principal{}, got)
	if err != nil || updated.Version != 2 {
		t.Fatalf("replace: %+v, %v", updated, err)
	}
	// A writer holding the old version loses.
	if _, err := tbl.ReplacePrincipal(ctx, store.Principal{}, got); !errors.Is(err, store.ErrVersionMismatch) {
		t.Errorf("stale replace: err = %v, want ErrVersionMismatch", err)
	}
	missing := got
	missing.ID = "nobody-at-all"
	if _, err := tbl.ReplacePrincipal(ctx, store.Principal{}, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("replace of a missing principal: err = %v, want ErrNotFound", err)
	}
}

func TestTokenState(t *testing.T) {
	tbl := newTable(t, nil)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	partner := store.Principal{ID: "state-partner", Kind: store.KindPartner, PartnerID: "state-partner", Enabled: true,
		SecretHash: "hs256$a$b", CreatedAt: now, UpdatedAt: now}
	if err := tbl.CreatePrincipal(ctx, partner); err != nil {
		t.Fatal(err)
	}
	// A tree root > child, and a client of the child.
	root := store.Organisation{ID: uuid.NewString(), PartnerID: partner.ID, Name: "root", Enabled: true, CreatedAt: now, UpdatedAt: now}
	root, err := tbl.CreateOrganisation(ctx, root, 0)
	if err != nil {
		t.Fatal(err)
	}
	child := store.Organisation{ID: uuid.NewString(), PartnerID: partner.ID, ParentID: root.ID, Path: []string{root.ID},
		Name: "child", Enabled: true, CreatedAt: now, UpdatedAt: now}
	if child, err = tbl.CreateOrganisation(ctx, child, root.Version); err != nil {
		t.Fatal(err)
	}
	client := store.Principal{ID: "state-client", Kind: store.KindClient, PartnerID: partner.ID, OrganisationID: child.ID,
		Enabled: true, SecretHash: "hs256$a$b", CreatedAt: now, UpdatedAt: now}
	if err := tbl.CreatePrincipal(ctx, client); err != nil {
		t.Fatal(err)
	}
	partnerRef := store.TokenRef{TokenID: "jti-1", ClientID: partner.ID, PartnerID: partner.ID, IssuedAt: now}
	clientRef := store.TokenRef{TokenID: "jti-2", ClientID: client.ID, PartnerID: partner.ID, OrganisationID: child.ID, IssuedAt: now}
	check := func(name string, ref store.TokenRef, want store.TokenState) {
		t.Helper()
		got, err := tbl.TokenState(ctx, ref)
		if err != nil || got != want {
			t.Errorf("%s: TokenState = %+v, %v; want %+v", name, got, err, want)
		}
		if ref == clientRef { // the token's state and issuing a new one agree
			active, err := tbl.ClientChainActive(ctx, ref.PartnerID, ref.OrganisationID)
			if err != nil || active != want.Active {
				t.Errorf("%s: ClientChainActive = %v, %v", name, active, err)
			}
		}
	}
	setEnabled := func(org store.Organisation, enabled bool) store.Organisation {
		t.Helper()
		org.Enabled = enabled
		updated, err := tbl.UpdateOrganisation(ctx, store.OrganisationUpdate{Org: org, PreviousParentID: org.ParentID})
		if err != nil {
			t.Fatal(err)
		}
		return updated
	}
	check("partner token", partnerRef, store.TokenState{Active: true})
	check("client token", clientRef, store.TokenState{Active: true})
	check("unknown principal", store.TokenRef{TokenID: "jti-1", ClientID: "nobody-at-all", PartnerID: "nobody-at-all", IssuedAt: now}, store.TokenState{})
	// The id now names a principal the token was not issued to.
	check("issued before the principal existed", store.TokenRef{TokenID: "jti-0", ClientID: partner.ID, PartnerID: partner.ID, IssuedAt: now.Add(-time.Second)}, store.TokenState{})
	check("another partner's client with the id", store.TokenRef{TokenID: "jti-0", ClientID: client.ID, PartnerID: "other-partner", OrganisationID: child.ID, IssuedAt: now}, store.TokenState{})
	check("another organisation's client with the id", store.TokenRef{TokenID: "jti-0", ClientID: client.ID, PartnerID: partner.ID, OrganisationID: root.ID, IssuedAt: now}, store.TokenState{})
	// A validly signed partner token that also names an organisation: not
	// the partner's (it has none), and no 500 from a batch naming the
	// partner's key twice.
	check("partner token with an organisation", store.TokenRef{TokenID: "jti-3", ClientID: partner.ID, PartnerID: partner.ID, OrganisationID: child.ID, IssuedAt: now}, store.TokenState{})
	for range 2 { // revoking twice is fine
		if err := tbl.RevokeToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	check("revoked", partnerRef, store.TokenState{Revoked: true, Active: true})

	root = setEnabled(root, false)
	check("ancestor disabled", clientRef, store.TokenState{})
	root = setEnabled(root, true)
	child = setEnabled(child, false)
	check("organisation disabled", clientRef, store.TokenState{})
	setEnabled(child, true)
	check("re-enabled", clientRef, store.TokenState{Active: true})

	partner.Version, partner.Enabled = 1, false
	if _, err := tbl.ReplacePrincipal(ctx, store.Principal{}, partner); err != nil {
		t.Fatal(err)
	}
	check("partner disabled: its token", store.TokenRef{TokenID: "jti-3", ClientID: partner.ID, PartnerID: partner.ID, IssuedAt: now}, store.TokenState{})
	check("partner disabled: its client's token", clientRef, store.TokenState{})
}

func TestCredentialFailures(t *testing.T) {
	tbl := newTable(t, nil)
	ctx := t.Context()
	window := time.Now().Truncate(15 * time.Minute)
	c, err := tbl.GetCredential(ctx, "nobody-here", "192.0.2.1", window)
	if err != nil || c.Found || c.Failures != 0 {
		t.Fatalf("unknown id: %+v, %v", c, err)
	}
	const src = "192.0.2.1"
	reserve := func() store.Reservation {
		t.Helper()
		r, err := tbl.ReserveAttempt(ctx, "nobody-here", src, window, window.Add(time.Hour), 3)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	finish := func(failed bool) {
		t.Helper()
		if err := tbl.FinishAttempt(ctx, "nobody-here", src, window, failed); err != nil {
			t.Fatal(err)
		}
	}
	// Three in flight fill the limit; a fourth waits for one of them.
	for i := range 3 {
		if r := reserve(); !r.Admitted {
			t.Fatalf("attempt %d in flight: not admitted", i+1)
		}
	}
	if r := reserve(); r.Admitted || r.Failures != 0 {
		t.Fatalf("a fourth in flight: %+v, want not admitted, 0 failures", r)
	}
	finish(false) // a right secret leaves no trace
	if r := reserve(); !r.Admitted {
		t.Fatal("after one finished: not admitted")
	}
	finish(true)
	finish(true)
	finish(true)
	if c, _ := tbl.GetCredential(ctx, "nobody-here", src, window); c.Failures != 3 {
		t.Errorf("failures = %d, want 3", c.Failures)
	}
	if r := reserve(); r.Admitted || r.Failures != 3 {
		t.Errorf("at the limit: %+v, want not admitted with 3 failures", r)
	}
	if c, _ := tbl.GetCredential(ctx, "nobody-here", "192.0.2.2", window); c.Failures != 0 {
		t.Errorf("failures from another source = %d, want 0", c.Failures)
	}
	if c, _ := tbl.GetCredential(ctx, "nobody-here", "192.0.2.1", window.Add(15*time.Minute)); c.Failures != 0 {
		t.Errorf("failures in the next window = %d, want 0", c.Failures)
	}
}

// TestCountAttempt: attempts counted after a fast check, right or wrong,
// are counted only while the failures are below the limit; past it
// neither a failure nor a success is counted, and the failures stay at the
// limit.
func TestCountAttempt(t *testing.T) {
	tbl := newTable(t, nil)
	ctx := t.Context()
	window := time.Now().Truncate(15 * time.Minute)
	const id, src, limit = "count-attempt", "192.0.2.9", 3
	count := func(failed bool) bool {
		t.Helper()
		ok, err := tbl.CountAttempt(ctx, id, src, window, window.Add(time.Hour), limit, failed)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := range 5 {
		if !count(false) {
			t.Fatalf("success %d below the limit: not counted", i+1)
		}
	}
	for i := range limit {
		if !count(true) {
			t.Fatalf("failure %d of %d: not counted", i+1, limit)
		}
	}
	if count(true) {
		t.Error("a failure past the limit was counted")
	}
	if count(false) {
		t.Error("a success past the limit was counted")
	}
	if c, err := tbl.GetCredential(ctx, id, src, window); err != nil || c.Failures != limit {
		t.Errorf("failures = %d (%v), want %d", c.Failures, err, limit)
	}
	if ok, err := tbl.CountAttempt(ctx, id, "192.0.2.10", window, window.Add(time.Hour), limit, true); err != nil || !ok {
		t.Errorf("a failure from another source: %v, %v; want counted", ok, err)
	}
}
