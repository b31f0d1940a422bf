package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// newAuthServer returns an authorisation server of org, not yet stored.
func newAuthServer(org Organisation, refs ...string) AuthServer {
	now := time.Now().UTC().Truncate(time.Second)
	a := AuthServer{
		ID: uuid.NewString(), PartnerID: org.PartnerID, OrganisationID: org.ID,
		CustomerFriendlyName: "AS", CustomerFriendlyDescription: "desc", Flags: []string{"f"}, Status: "Active",
		FederationEndpoint: "https://fed.example", CreatedAt: now, UpdatedAt: now,
	}
	if len(refs) > 0 {
		a.ParentID = refs[0]
	}
	if len(refs) > 1 {
		a.SupersededByID = refs[1]
	}
	return a
}

func getAS(t *testing.T, tb *Table, a AuthServer) AuthServer {
	t.Helper()
	got, err := tb.GetAuthServer(context.Background(), a.PartnerID, a.OrganisationID, a.ID)
	if err != nil {
		t.Fatalf("get %s: %v", a.ID, err)
	}
	return got
}

func TestAuthServerLifecycle(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	org := newOrg(t, tb, "p", nil)

	a, err := tb.CreateAuthServer(ctx, newAuthServer(org))
	if err != nil || a.Version != 1 {
		t.Fatalf("create = %+v, %v", a, err)
	}
	got := getAS(t, tb, a)
	got.CreatedAt, got.UpdatedAt = got.CreatedAt.UTC(), got.UpdatedAt.UTC()
	if fmt.Sprint(got) != fmt.Sprint(a) {
		t.Errorf("get = %+v, want %+v", got, a)
	}
	if o := get(t, tb, "p", org.ID); o.AuthServerCount != 1 || o.Version != org.Version {
		t.Errorf("organisation after create: auth_server_count %d version %d", o.AuthServerCount, o.Version)
	}
	// Keys hold partner and organisation: nothing leaks across either.
	other := newOrg(t, tb, "p", nil)
	for _, k := range [][2]string{{"q", org.ID}, {"p", other.ID}} {
		if _, err := tb.GetAuthServer(ctx, k[0], k[1], a.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("get through %v = %v, want ErrNotFound", k, err)
		}
	}
	if _, err := tb.CreateAuthServer(ctx, a); !errors.Is(err, ErrConflict) {
		t.Errorf("create an existing id = %v, want ErrConflict", err)
	}
	gone := org
	gone.ID = uuid.NewString()
	if _, err := tb.CreateAuthServer(ctx, newAuthServer(gone)); !errors.Is(err, ErrNotFound) {
		t.Errorf("create under a missing organisation = %v, want ErrNotFound", err)
	}
	if _, err := tb.CreateAuthServer(ctx, newAuthServer(org, uuid.NewString())); !errors.Is(err, ErrConflict) {
		t.Errorf("create referencing a missing server = %v, want ErrConflict", err)
	}
	if o := get(t, tb, "p", org.ID); o.AuthServerCount != 1 {
		t.Errorf("failed creates counted: auth_server_count %d", o.AuthServerCount)
	}

	// References are counted on the servers they name.
	b, err := tb.CreateAuthServer(ctx, newAuthServer(org, a.ID, a.ID))
	if err != nil {
		t.Fatal(err)
	}
	if n := getAS(t, tb, a).RefCount; n != 2 {
		t.Errorf("ref_count of a = %d, want 2", n)
	}
	err = tb.DeleteAuthServer(ctx, getAS(t, tb, a))
	if !errors.Is(err, ErrConflict) || !slices.Equal(Conflict(err).IDs, []string{b.ID}) {
		t.Errorf("delete a referenced server = %v, want ErrConflict naming %s", err, b.ID)
	}
	ids, err := tb.ReferencingAuthServers(ctx, a)
	if err != nil || !slices.Equal(ids, []string{b.ID}) {
		t.Errorf("referencing = %v, %v; want [%s]", ids, err, b.ID)
	}

	// An update moves the counts, keeps the target's own count and bumps
	// the version; a stale version is a precondition failure.
	next := b
	next.SupersededByID, next.Flags, next.FederationEndpoint = "", []string{}, ""
	updated, err := tb.UpdateAuthServer(ctx, b, next)
	if err != nil || updated.Version != 2 {
		t.Fatalf("update = %+v, %v", updated, err)
	}
	if got := getAS(t, tb, b); got.SupersededByID != "" || got.FederationEndpoint != "" || len(got.Flags) != 0 || got.Version != 2 || got.ParentID != a.ID {
		t.Errorf("after update %+v", got)
	}
	if n := getAS(t, tb, a).RefCount; n != 1 {
		t.Errorf("ref_count of a after update = %d, want 1", n)
	}
	if _, err := tb.UpdateAuthServer(ctx, b, next); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale update = %v, want ErrVersionMismatch", err)
	}
	if err := tb.DeleteAuthServer(ctx, b); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale delete = %v, want ErrVersionMismatch", err)
	}

	// The organisation is not deleted while it has servers.
	err = tb.DeleteOrganisation(ctx, get(t, tb, "p", org.ID))
	if !errors.Is(err, ErrConflict) || Conflict(err).Servers != 2 {
		t.Errorf("delete organisation with servers = %v, want ErrConflict counting them", err)
	}
	if err := tb.DeleteAuthServer(ctx, getAS(t, tb, b)); err != nil {
		t.Fatal(err)
	}
	if n := getAS(t, tb, a).RefCount; n != 0 {
		t.Errorf("ref_count of a after b's delete = %d, want 0", n)
	}
	if err := tb.DeleteAuthServer(ctx, getAS(t, tb, a)); err != nil {
		t.Fatal(err)
	}
	if err := tb.DeleteAuthServer(ctx, a); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete a missing server = %v, want ErrNotFound", err)
	}
	if o := get(t, tb, "p", org.ID); o.AuthServerCount != 0 {
		t.Errorf("auth_server_count after deletes = %d", o.AuthServerCount)
	}
	if err := tb.DeleteOrganisation(ctx, get(t, tb, "p", org.ID)); err != nil {
		t.Errorf("delete organisation without servers = %v", err)
	}
}

func TestListAuthServers(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	org := newOrg(t, tb, "p", nil)
	// Neighbours in the partition: another organisation's servers and the
	// organisation items themselves.
	sibling := newOrg(t, tb, "p", nil)
	if _, err := tb.CreateAuthServer(ctx, newAuthServer(sibling)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for range 7 {
		a, err := tb.CreateAuthServer(ctx, newAuthServer(org))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, a.ID)
	}
	slices.Sort(want)
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		page, more, err := tb.ListAuthServers(ctx, "p", org.ID, after, 3)
		if err != nil || len(page) > 3 || pages > 3 {
			t.Fatalf("page %d = %d items, %v", pages, len(page), err)
		}
		for _, a := range page {
			got = append(got, a.ID)
		}
		if !more {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	all, err := tb.OrganisationAuthServers(ctx, "p", org.ID)
	if err != nil || len(all) != 7 {
		t.Errorf("all = %d, %v; want 7", len(all), err)
	}
}
