package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/testenv"
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
	if _, err := tbl.GetPrincipal(ctx, p.ID); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("GetPrincipal before create: err = %v, want ErrNotFound", err)
	}
	if err := tbl.CreatePrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := tbl.CreatePrincipal(ctx, p); !errors.Is(err, problem.ErrConflict) {
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
	updated, err := tbl.ReplacePrincipal(ctx, got)
	if err != nil || updated.Version != 2 {
		t.Fatalf("replace: %+v, %v", updated, err)
	}
	// A writer holding the old version loses.
	if _, err := tbl.ReplacePrincipal(ctx, got); !errors.Is(err, problem.ErrPrecondition) {
		t.Errorf("stale replace: err = %v, want ErrPrecondition", err)
	}
	missing := got
	missing.ID = "nobody-at-all"
	if _, err := tbl.ReplacePrincipal(ctx, missing); !errors.Is(err, problem.ErrNotFound) {
		t.Errorf("replace of a missing principal: err = %v, want ErrNotFound", err)
	}
}

func TestTokenState(t *testing.T) {
	tbl := newTable(t, nil)
	ctx := t.Context()
	now := time.Now()
	p := store.Principal{ID: "state-partner", Kind: store.KindPartner, PartnerID: "state-partner", Enabled: true,
		SecretHash: "hs256$a$b", CreatedAt: now, UpdatedAt: now}
	if err := tbl.CreatePrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	check := func(name, jti, clientID string, want store.TokenState) {
		t.Helper()
		got, err := tbl.TokenState(ctx, jti, clientID)
		if err != nil || got != want {
			t.Errorf("%s: TokenState = %+v, %v; want %+v", name, got, err, want)
		}
	}
	check("fresh token", "jti-1", p.ID, store.TokenState{Active: true})
	check("unknown principal", "jti-1", "nobody-at-all", store.TokenState{})
	for range 2 { // revoking twice is fine
		if err := tbl.RevokeToken(ctx, "jti-1", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	check("revoked", "jti-1", p.ID, store.TokenState{Revoked: true, Active: true})
	check("other token", "jti-2", p.ID, store.TokenState{Active: true})
	p.Version = 1
	p.Enabled = false
	if _, err := tbl.ReplacePrincipal(ctx, p); err != nil {
		t.Fatal(err)
	}
	check("disabled principal", "jti-2", p.ID, store.TokenState{})
}
