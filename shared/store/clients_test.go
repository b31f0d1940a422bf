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

// newClient returns a client of org, not yet stored.
func newClient(org Organisation, id string) Client {
	now := time.Now().UTC().Truncate(time.Second)
	c := Client{
		Principal: Principal{
			ID: id, Kind: KindClient, PartnerID: org.PartnerID, OrganisationID: org.ID, Name: "client " + id, Enabled: true,
			SecretHash: "hs256$salt$mac", Scopes: []string{"a", "clients:manage"}, RequiredScopes: []string{"a"},
			Algorithm: "PS256", TokenLifetime: 900, CreatedAt: now, UpdatedAt: now,
		},
		AdditionalScopes: []string{"clients:manage"}, ReturnURLs: []string{"https://example.com/cb"},
		IsProduction: true, SelectedProduct: "p1", AllowedProviderGroups: []string{"g"},
	}
	return c
}

func TestClientLifecycle(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	org := newOrg(t, tb, "p", nil)

	c, err := tb.CreateClient(ctx, newClient(org, "client-1"), org.Version)
	if err != nil || c.Version != 1 {
		t.Fatalf("create = %+v, %v", c, err)
	}
	got, err := tb.GetClient(ctx, "client-1")
	if err != nil {
		t.Fatal(err)
	}
	got.CreatedAt, got.UpdatedAt = got.CreatedAt.UTC(), got.UpdatedAt.UTC()
	slices.Sort(got.Scopes)
	if fmt.Sprint(got) != fmt.Sprint(c) {
		t.Errorf("get = %+v, want %+v", got, c)
	}
	// The token endpoint's read sees the client's credential and settings.
	pr, err := tb.GetPrincipal(ctx, "client-1")
	if err != nil || pr.Kind != KindClient || pr.OrganisationID != org.ID || pr.Algorithm != "PS256" || pr.TokenLifetime != 900 || len(pr.Scopes) != 2 {
		t.Errorf("principal = %+v, %v", pr, err)
	}
	if o := get(t, tb, "p", org.ID); o.ClientCount != 1 || o.ChildSeq != 1 || o.Version != org.Version {
		t.Errorf("organisation after create: client_count %d child_seq %d version %d", o.ClientCount, o.ChildSeq, o.Version)
	}

	// One id, one principal: taken by a client or by a partner.
	if _, err := tb.CreateClient(ctx, newClient(org, "client-1"), org.Version); !errors.Is(err, ErrConflict) {
		t.Errorf("create a taken id = %v, want ErrConflict", err)
	}
	if err := tb.CreatePrincipal(ctx, Principal{ID: "partner-1", Kind: KindPartner, PartnerID: "partner-1", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.CreateClient(ctx, newClient(org, "partner-1"), org.Version); !errors.Is(err, ErrConflict) {
		t.Errorf("create a partner's id = %v, want ErrConflict", err)
	}
	if _, err := tb.GetClient(ctx, "partner-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get a partner as a client = %v, want ErrNotFound", err)
	}
	// The organisation must be at the version the client was checked
	// against, and exist.
	if _, err := tb.CreateClient(ctx, newClient(org, "client-2"), org.Version+1); !IsConflict(err, ConflictOrganisationChanged) {
		t.Errorf("create against a stale organisation = %v, want ConflictOrganisationChanged", err)
	}
	gone := org
	gone.ID = uuid.NewString()
	if _, err := tb.CreateClient(ctx, newClient(gone, "client-2"), 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("create under a missing organisation = %v, want ErrNotFound", err)
	}
	if _, err := tb.GetClient(ctx, "client-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused create left client-2 behind: %v", err)
	}

	// Updates: version-conditional; with orgVersion, also on the
	// organisation's version, bumping its child_seq.
	c.Name = "renamed"
	c, err = tb.UpdateClient(ctx, Client{}, c, 0)
	if err != nil || c.Version != 2 {
		t.Fatalf("update = %+v, %v", c, err)
	}
	if o := get(t, tb, "p", org.ID); o.ChildSeq != 1 {
		t.Errorf("child_seq %d after an update without orgVersion, want 1", o.ChildSeq)
	}
	if c, err = tb.UpdateClient(ctx, Client{}, c, org.Version); err != nil {
		t.Fatal(err)
	}
	if o := get(t, tb, "p", org.ID); o.ChildSeq != 2 || o.ClientCount != 1 {
		t.Errorf("after an update with orgVersion: child_seq %d client_count %d, want 2 1", o.ChildSeq, o.ClientCount)
	}
	stale := c
	stale.Version = 1
	if _, err := tb.UpdateClient(ctx, Client{}, stale, 0); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale update = %v, want ErrVersionMismatch", err)
	}
	if _, err := tb.UpdateClient(ctx, Client{}, c, org.Version+5); !IsConflict(err, ConflictOrganisationChanged) {
		t.Errorf("update against a stale organisation = %v, want ConflictOrganisationChanged", err)
	}
	other := c
	other.PartnerID = "q"
	if _, err := tb.UpdateClient(ctx, Client{}, other, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("update as another partner = %v, want ErrNotFound", err)
	}
	partner := newClient(org, "partner-1")
	partner.Version = 1
	if _, err := tb.UpdateClient(ctx, Client{}, partner, 0); err == nil {
		t.Error("UpdateClient overwrote a partner's principal")
	}

	// Consistent read of the organisation's clients.
	list, err := tb.OrganisationClients(ctx, "p", org.ID)
	if err != nil || len(list) != 1 || list[0].ID != "client-1" || list[0].Name != "renamed" {
		t.Errorf("organisation clients = %+v, %v", list, err)
	}

	// The organisation cannot go while it has a client.
	org = get(t, tb, "p", org.ID)
	if err := tb.DeleteOrganisation(ctx, org); !errors.Is(err, ErrConflict) {
		t.Errorf("delete an organisation with a client = %v, want ErrConflict", err)
	}
	stale = c
	stale.Version = 1
	if err := tb.DeleteClient(ctx, stale); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale delete = %v, want ErrVersionMismatch", err)
	}
	if err := tb.DeleteClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := tb.DeleteClient(ctx, c); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if _, err := tb.GetPrincipal(ctx, "client-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("principal after delete = %v, want ErrNotFound", err)
	}
	if list, _ := tb.OrganisationClients(ctx, "p", org.ID); len(list) != 0 {
		t.Errorf("links left after delete: %+v", list)
	}
	org = get(t, tb, "p", org.ID)
	if org.ClientCount != 0 {
		t.Errorf("client_count %d after delete, want 0", org.ClientCount)
	}
	if err := tb.DeleteOrganisation(ctx, org); err != nil {
		t.Errorf("delete the emptied organisation: %v", err)
	}
}

func TestListClients(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	org := newOrg(t, tb, "p", nil)
	otherOrg := newOrg(t, tb, "p", nil)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("client-%02d", i)
		want = append(want, id)
		if _, err := tb.CreateClient(ctx, newClient(org, id), org.Version); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tb.CreateClient(ctx, newClient(otherOrg, "elsewhere"), otherOrg.Version); err != nil {
		t.Fatal(err)
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		page, more, err := tb.ListClients(ctx, "p", org.ID, after, 3)
		if err != nil || len(page) > 3 || pages > 5 {
			t.Fatalf("page %d = %d items, %v", pages, len(page), err)
		}
		for _, c := range page {
			got = append(got, c.ID)
		}
		if !more {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	if page, more, err := tb.ListClients(ctx, "q", org.ID, "", 10); err != nil || len(page) != 0 || more {
		t.Errorf("another partner's list = %v %v %v, want none", page, more, err)
	}
}
