package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/fakestore"
	"github.com/partnerapi/partner-api/shared/store"
)

// contractStore is what the contract test drives: the store's writes that
// the domain services' fakes stand in for.
type contractStore interface {
	GetOrganisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error)
	CreateOrganisation(ctx context.Context, o store.Organisation, parentVersion int64) (store.Organisation, error)
	UpdateOrganisation(ctx context.Context, u store.OrganisationUpdate) (store.Organisation, error)
	DeleteOrganisation(ctx context.Context, o store.Organisation) error
	PutUIConfig(ctx context.Context, before, c store.UIConfig) (store.UIConfig, error)
	CreateClient(ctx context.Context, c store.Client, orgVersion int64) (store.Client, error)
	UpdateClient(ctx context.Context, before, c store.Client, orgVersion int64) (store.Client, error)
	CreateAuthServer(ctx context.Context, a store.AuthServer) (store.AuthServer, error)
	DeleteAuthServer(ctx context.Context, a store.AuthServer) error
}

// TestFakeKeepsTheContract runs the same refused writes on the table (on
// DynamoDB Local) and on internal/fakestore, and checks that both refuse
// them with the same typed error: the service tests that run on the fake
// see what the store would return.
func TestFakeKeepsTheContract(t *testing.T) {
	stores := map[string]contractStore{"table": newTable(t, nil), "fake": fakestore.New()}
	results := map[string][]string{}
	for name, s := range stores {
		results[name] = refusals(t, s)
	}
	table, fake := results["table"], results["fake"]
	if len(table) != len(fake) {
		t.Fatalf("table gave %d results, fake %d", len(table), len(fake))
	}
	for i := range table {
		if table[i] != fake[i] {
			t.Errorf("step %d: table %s, fake %s", i, table[i], fake[i])
		}
	}
}

// refusals makes a sequence of writes on s, most of them refused, and
// describes each outcome by its typed error (ids left out, since each run
// uses its own).
func refusals(t *testing.T, s contractStore) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var out []string
	record := func(err error) {
		var ve *store.VersionError
		var ce *store.ConflictError
		switch {
		case err == nil:
			out = append(out, "ok")
		case errors.As(err, &ve):
			out = append(out, fmt.Sprintf("version %v current %d", ve.Entity, ve.Current))
		case errors.As(err, &ce):
			out = append(out, fmt.Sprintf("conflict %v %v children %d clients %d servers %d ids %d",
				ce.Reason, ce.Entity, ce.Children, ce.Clients, ce.Servers, len(ce.IDs)))
		case errors.Is(err, store.ErrNotFound):
			out = append(out, "not found")
		default:
			t.Fatalf("untyped error: %v", err)
		}
	}
	get := func(id string) store.Organisation {
		o, err := s.GetOrganisation(ctx, "p", id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	org := func(parent string) store.Organisation {
		return store.Organisation{ID: uuid.NewString(), PartnerID: "p", ParentID: parent, Name: "O", Enabled: true, CreatedAt: now, UpdatedAt: now}
	}
	root, err := s.CreateOrganisation(ctx, org(""), 0)
	if err != nil {
		t.Fatal(err)
	}
	record(nil)
	_, err = s.CreateOrganisation(ctx, root, 0)
	record(err) // id taken
	child := org(root.ID)
	child.Path = []string{root.ID}
	_, err = s.CreateOrganisation(ctx, child, 7)
	record(err) // parent at another version
	_, err = s.CreateOrganisation(ctx, child, 1)
	record(err)
	record(s.DeleteOrganisation(ctx, get(root.ID))) // a child remains
	stale := get(child.ID)
	stale.Version = 5
	_, err = s.UpdateOrganisation(ctx, store.OrganisationUpdate{Org: stale, PreviousParentID: root.ID})
	record(err) // version
	seq := int64(9)
	_, err = s.UpdateOrganisation(ctx, store.OrganisationUpdate{Org: get(child.ID), PreviousParentID: root.ID, ChildSeq: &seq})
	record(err) // children changed
	_, err = s.UpdateOrganisation(ctx, store.OrganisationUpdate{Org: get(child.ID), PreviousParentID: root.ID, ParentVersion: 4})
	record(err) // parent changed

	_, err = s.PutUIConfig(ctx, store.UIConfig{}, store.UIConfig{PartnerID: "p", OrganisationID: child.ID, LogoURL: "https://x.example/l.png"})
	record(err) // custom logos off
	_, err = s.PutUIConfig(ctx, store.UIConfig{}, store.UIConfig{PartnerID: "p", OrganisationID: uuid.NewString()})
	record(err) // organisation gone

	c := store.Client{Principal: store.Principal{ID: "c-" + uuid.NewString()[:8], Kind: store.KindClient, PartnerID: "p",
		OrganisationID: child.ID, Name: "C", Enabled: true, CreatedAt: now, UpdatedAt: now}}
	_, err = s.CreateClient(ctx, c, 3)
	record(err) // organisation changed
	created, err := s.CreateClient(ctx, c, get(child.ID).Version)
	record(err)
	_, err = s.CreateClient(ctx, c, 0)
	record(err) // id taken
	created.Version = 4
	_, err = s.UpdateClient(ctx, store.Client{}, created, 0)
	record(err)                                      // version
	record(s.DeleteOrganisation(ctx, get(child.ID))) // a client remains

	a := store.AuthServer{ID: uuid.NewString(), PartnerID: "p", OrganisationID: root.ID, CustomerFriendlyName: "A", CreatedAt: now, UpdatedAt: now}
	a, err = s.CreateAuthServer(ctx, a)
	record(err)
	b := store.AuthServer{ID: uuid.NewString(), PartnerID: "p", OrganisationID: root.ID, ParentID: uuid.NewString(), CreatedAt: now, UpdatedAt: now}
	_, err = s.CreateAuthServer(ctx, b)
	record(err) // reference gone
	b.ParentID = a.ID
	_, err = s.CreateAuthServer(ctx, b)
	record(err)
	record(s.DeleteAuthServer(ctx, a)) // referenced
	_, err = s.CreateAuthServer(ctx, store.AuthServer{ID: uuid.NewString(), PartnerID: "p", OrganisationID: uuid.NewString()})
	record(err) // organisation gone
	return out
}
