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

func TestRevocation(t *testing.T) {
	tbl := newTable(t, nil)
	ctx := t.Context()
	if revoked, err := tbl.IsRevoked(ctx, "jti-1"); err != nil || revoked {
		t.Fatalf("IsRevoked before revoke = %v, %v", revoked, err)
	}
	for range 2 { // revoking twice is fine
		if err := tbl.RevokeToken(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if revoked, err := tbl.IsRevoked(ctx, "jti-1"); err != nil || !revoked {
		t.Errorf("IsRevoked after revoke = %v, %v", revoked, err)
	}
}
