package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/testenv"
)

// newOrgTable creates a fresh table on the test DynamoDB (TestMain, in
// main_test.go, starts it).
func newOrgTable(t *testing.T) *Table {
	t.Helper()
	db := testenv.DynamoDB(t)
	name := "store-test-" + uuid.NewString()[:8]
	if err := CreateTable(context.Background(), db, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return New(db, name, nil)
}

// newOrg stores an organisation under parent (nil for a root).
func newOrg(t *testing.T, tb *Table, partnerID string, parent *Organisation) Organisation {
	t.Helper()
	o := Organisation{ID: uuid.NewString(), PartnerID: partnerID, Name: "org", Enabled: true,
		AllowedProducts: []string{"p1"}, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	var pv int64
	if parent != nil {
		o.ParentID, o.Path, pv = parent.ID, append(slices.Clone(parent.Path), parent.ID), parent.Version
	}
	o, err := tb.CreateOrganisation(context.Background(), o, pv)
	if err != nil {
		t.Fatalf("create organisation: %v", err)
	}
	return o
}

func get(t *testing.T, tb *Table, partnerID, id string) Organisation {
	t.Helper()
	o, err := tb.GetOrganisation(context.Background(), partnerID, id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return o
}

func TestOrganisationTree(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	root := newOrg(t, tb, "p", nil)
	child := newOrg(t, tb, "p", &root)
	grandchild := newOrg(t, tb, "p", &child)

	if got := get(t, tb, "p", grandchild.ID); !slices.Equal(got.Path, []string{root.ID, child.ID}) || got.Version != 1 {
		t.Errorf("grandchild path %v version %d, want [root child] 1", got.Path, got.Version)
	}
	if got := get(t, tb, "p", root.ID); got.ChildCount != 1 || got.ChildSeq != 1 || got.Version != 1 {
		t.Errorf("root counters child_count %d child_seq %d version %d, want 1 1 1", got.ChildCount, got.ChildSeq, got.Version)
	}
	kids, err := tb.OrganisationChildren(ctx, "p", root.ID)
	if err != nil || len(kids) != 1 || kids[0].ID != child.ID {
		t.Errorf("children of root = %v, %v; want [child]", kids, err)
	}
	if _, err := tb.GetOrganisation(ctx, "other", root.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another partner's get = %v, want ErrNotFound", err)
	}

	// A child of a parent whose version moved, or which is gone, is refused.
	stale := root
	stale.Version = 7
	o := Organisation{ID: uuid.NewString(), PartnerID: "p", ParentID: root.ID, Name: "x"}
	if _, err := tb.CreateOrganisation(ctx, o, stale.Version); !errors.Is(err, ErrConflict) {
		t.Errorf("create under a stale parent = %v, want ErrConflict", err)
	}
	o.ParentID = uuid.NewString()
	if _, err := tb.CreateOrganisation(ctx, o, 1); !errors.Is(err, ErrConflict) {
		t.Errorf("create under a missing parent = %v, want ErrConflict", err)
	}
	if got := get(t, tb, "p", root.ID); got.ChildCount != 1 {
		t.Errorf("root child_count %d after refused creates, want 1", got.ChildCount)
	}
}

func TestUpdateOrganisationGuards(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	a := newOrg(t, tb, "p", nil)
	b := newOrg(t, tb, "p", nil)
	leaf := newOrg(t, tb, "p", &a)

	// Version check.
	stale := leaf
	stale.Version = 5
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: stale, PreviousParentID: a.ID}); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale update = %v, want ErrVersionMismatch", err)
	}
	gone := leaf
	gone.ID = uuid.NewString()
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: gone, PreviousParentID: a.ID}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing organisation = %v, want ErrNotFound", err)
	}

	// Children checked at a ChildSeq that moved since: refused.
	a = get(t, tb, "p", a.ID)
	seq := a.ChildSeq
	newOrg(t, tb, "p", &a)
	a.Name = "narrowed"
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: a, ChildSeq: &seq}); !errors.Is(err, ErrConflict) {
		t.Errorf("update with moved child_seq = %v, want ErrConflict", err)
	}

	// Move leaf from a to b: links, counts and the GSI key follow.
	a, b = get(t, tb, "p", a.ID), get(t, tb, "p", b.ID)
	moved := leaf
	moved.ParentID, moved.Path, moved.Name = b.ID, []string{b.ID}, "moved"
	got, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: moved, PreviousParentID: a.ID, ParentVersion: b.Version})
	if err != nil {
		t.Fatalf("move: %v", err)
	}
	if got.Version != 2 || got.ChildCount != 0 {
		t.Errorf("moved version %d, want 2", got.Version)
	}
	if na, nb := get(t, tb, "p", a.ID), get(t, tb, "p", b.ID); na.ChildCount != a.ChildCount-1 || nb.ChildCount != 1 || na.Version != a.Version || nb.Version != b.Version {
		t.Errorf("after move: a child_count %d (was %d), b %d; versions %d/%d, want unchanged", na.ChildCount, a.ChildCount, nb.ChildCount, na.Version, nb.Version)
	}
	if kids, _ := tb.OrganisationChildren(ctx, "p", b.ID); len(kids) != 1 || kids[0].Name != "moved" {
		t.Errorf("children of b = %v, want [moved]", kids)
	}
	if page, _, _ := tb.ListOrganisations(ctx, "p", b.ID, "", 10); len(page) != 1 || page[0].ID != leaf.ID {
		t.Errorf("list children of b = %v, want [leaf]", page)
	}

	// A change checked against a parent version that moved is refused.
	got.Name = "again"
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: got, PreviousParentID: b.ID, ParentVersion: b.Version + 1}); !errors.Is(err, ErrConflict) {
		t.Errorf("update against a stale parent = %v, want ErrConflict", err)
	}

	// Moving to the root removes parent_id.
	got.ParentID, got.Path = "", nil
	root, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: got, PreviousParentID: b.ID})
	if err != nil {
		t.Fatalf("move to root: %v", err)
	}
	if stored := get(t, tb, "p", root.ID); stored.ParentID != "" || len(stored.Path) != 0 || stored.Name != "again" {
		t.Errorf("stored root %+v, want no parent", stored)
	}
	if nb := get(t, tb, "p", b.ID); nb.ChildCount != 0 {
		t.Errorf("b child_count %d after move out, want 0", nb.ChildCount)
	}
}

func TestDeleteOrganisation(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	parent := newOrg(t, tb, "p", nil)
	child := newOrg(t, tb, "p", &parent)
	parent = get(t, tb, "p", parent.ID)

	err := tb.DeleteOrganisation(ctx, parent)
	if !errors.Is(err, ErrConflict) || Conflict(err).Children != 1 || Conflict(err).Clients != 0 {
		t.Errorf("delete with a child = %v, want a conflict naming the child", err)
	}

	// A client of child, counted as the clients' transactions will.
	if err := tb.transact(ctx, []types.TransactWriteItem{item(t)(tb.orgClientCountChange("p", child.ID, 1, 0))}); err != nil {
		t.Fatalf("count a client: %v", err)
	}
	err = tb.DeleteOrganisation(ctx, child)
	if !errors.Is(err, ErrConflict) || Conflict(err).Children != 0 || Conflict(err).Clients != 1 {
		t.Errorf("delete with a client = %v, want a conflict naming the client", err)
	}
	if err := tb.transact(ctx, []types.TransactWriteItem{item(t)(tb.orgClientCountChange("p", child.ID, -1, 0))}); err != nil {
		t.Fatalf("uncount a client: %v", err)
	}
	var ce *conditionError
	if err := tb.transact(ctx, []types.TransactWriteItem{item(t)(tb.orgClientCountChange("p", uuid.NewString(), 1, 0))}); !errors.As(err, &ce) {
		t.Errorf("client of a missing organisation = %v, want a failed condition", err)
	}

	if _, err := tb.PutUIConfig(ctx, UIConfig{}, UIConfig{PartnerID: "p", OrganisationID: child.ID, PrimaryColour: "#000000"}); err != nil {
		t.Fatalf("put ui config: %v", err)
	}
	stale := child
	stale.Version = 3
	if err := tb.DeleteOrganisation(ctx, stale); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("stale delete = %v, want ErrVersionMismatch", err)
	}
	if err := tb.DeleteOrganisation(ctx, child); err != nil {
		t.Fatalf("delete child: %v", err)
	}
	if _, err := tb.GetUIConfig(ctx, "p", child.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("ui config after delete = %v, want ErrNotFound", err)
	}
	if kids, _ := tb.OrganisationChildren(ctx, "p", parent.ID); len(kids) != 0 {
		t.Errorf("children after delete = %v, want none", kids)
	}
	if err := tb.DeleteOrganisation(ctx, get(t, tb, "p", parent.ID)); err != nil {
		t.Errorf("delete parent after its child: %v", err)
	}
	if err := tb.DeleteOrganisation(ctx, parent); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice = %v, want ErrNotFound", err)
	}
}

func TestListOrganisationsPages(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	parent := newOrg(t, tb, "p", nil)
	want := map[string]bool{parent.ID: true}
	children := map[string]bool{}
	for range 12 {
		c := newOrg(t, tb, "p", &parent)
		want[c.ID], children[c.ID] = true, true
	}
	newOrg(t, tb, "other", nil)
	for _, tc := range []struct {
		parentID string
		want     map[string]bool
	}{{"", want}, {parent.ID, children}} {
		seen := map[string]bool{}
		after := ""
		for pages := 0; ; pages++ {
			page, more, err := tb.ListOrganisations(ctx, "p", tc.parentID, after, 5)
			if err != nil || len(page) > 5 || pages > 10 {
				t.Fatalf("page %d: %d items, %v", pages, len(page), err)
			}
			for _, o := range page {
				if seen[o.ID] || !tc.want[o.ID] {
					t.Errorf("list(%q): %s twice or unexpected", tc.parentID, o.ID)
				}
				seen[o.ID] = true
			}
			if !more {
				break
			}
			after = page[len(page)-1].ID
		}
		if len(seen) != len(tc.want) {
			t.Errorf("list(%q) saw %d organisations, want %d", tc.parentID, len(seen), len(tc.want))
		}
	}
	// Exactly one page: no further page is promised.
	if page, more, err := tb.ListOrganisations(ctx, "p", parent.ID, "", 12); len(page) != 12 || more || err != nil {
		t.Errorf("list 12 of 12 = %d items, more %v, %v; want 12, false", len(page), more, err)
	}
}

// newChain stores partner p and a chain of organisations root > mid > leaf.
func newChain(t *testing.T) (tb *Table, root, mid, leaf Organisation) {
	t.Helper()
	tb = newOrgTable(t)
	if err := tb.CreatePrincipal(context.Background(), Principal{ID: "p", Kind: KindPartner, PartnerID: "p", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	root = newOrg(t, tb, "p", nil)
	mid = newOrg(t, tb, "p", &root)
	leaf = newOrg(t, tb, "p", &mid)
	return tb, root, mid, leaf
}

// TestClientChainActiveAncestors checks, through the token path's read
// (pattern 19), that disabling an organisation stops its whole subtree.
func TestClientChainActiveAncestors(t *testing.T) {
	ctx := context.Background()
	tb, root, mid, leaf := newChain(t)

	check := func(partnerID, id string, want bool) {
		t.Helper()
		got, err := tb.ClientChainActive(ctx, partnerID, id)
		if err != nil || got != want {
			t.Errorf("ClientChainActive(%s, %s) = %v, %v; want %v", partnerID, id, got, err, want)
		}
	}
	check("p", leaf.ID, true)
	check("p", root.ID, true)

	mid = get(t, tb, "p", mid.ID)
	mid.Enabled = false
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: mid, PreviousParentID: root.ID}); err != nil {
		t.Fatalf("disable mid: %v", err)
	}
	check("p", leaf.ID, false)
	check("p", mid.ID, false)
	check("p", root.ID, true)
	// Another partner's organisation is never active (the partner is part
	// of the key).
	check("other", leaf.ID, false)
}

// TestClientChainActivePathHint: the ancestors remembered for an
// organisation are only a guess of what to read with it. After the
// organisation moves under a disabled root, the stale hint (whose
// ancestors are all enabled) must not make its chain active.
func TestClientChainActivePathHint(t *testing.T) {
	ctx := context.Background()
	tb, _, mid, leaf := newChain(t)
	other := newOrg(t, tb, "p", nil)
	for range 2 { // the first call learns the path, the second uses it
		if ok, err := tb.ClientChainActive(ctx, "p", leaf.ID); !ok || err != nil {
			t.Fatalf("before the move: %v, %v", ok, err)
		}
	}
	other = get(t, tb, "p", other.ID)
	other.Enabled = false
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: other}); err != nil {
		t.Fatalf("disable other: %v", err)
	}
	leaf = get(t, tb, "p", leaf.ID)
	leaf.ParentID, leaf.Path = other.ID, []string{other.ID}
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: leaf, PreviousParentID: mid.ID}); err != nil {
		t.Fatalf("move leaf: %v", err)
	}
	for range 2 {
		if ok, err := tb.ClientChainActive(ctx, "p", leaf.ID); ok || err != nil {
			t.Errorf("after the move under a disabled root: %v, %v; want false", ok, err)
		}
		state, err := tb.TokenState(ctx, TokenRef{TokenID: "t", ClientID: "c", PartnerID: "p", OrganisationID: leaf.ID})
		if err != nil || state.Active {
			t.Errorf("TokenState after the move: %+v, %v; want inactive", state, err)
		}
	}
	// Moved again, under another enabled root: the hint is stale again,
	// and the chain is active.
	third := newOrg(t, tb, "p", nil)
	leaf = get(t, tb, "p", leaf.ID)
	leaf.ParentID, leaf.Path = third.ID, []string{third.ID}
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: leaf, PreviousParentID: other.ID}); err != nil {
		t.Fatalf("move leaf back: %v", err)
	}
	for range 2 {
		if ok, err := tb.ClientChainActive(ctx, "p", leaf.ID); !ok || err != nil {
			t.Errorf("after the move under an enabled root: %v, %v; want true", ok, err)
		}
	}
}

// TestClientChainActiveHintLearnedMeanwhile: a request whose batch was
// built without a hint (first sight) while another request of the process
// learned the path must still read the ancestors, not take their absence
// from its batch for disabled ones. Concurrent first tokens of a nested
// organisation's clients were refused as "organisation disabled" so.
func TestClientChainActiveHintLearnedMeanwhile(t *testing.T) {
	ctx := context.Background()
	tb, _, _, leaf := newChain(t)
	keys := []map[string]types.AttributeValue{principalKey("p"), orgKey("p", leaf.ID)}
	hint := tb.paths.hint("p", leaf.ID)
	found, err := tb.enabledItems(ctx, append(keys, orgKeys("p", hint)...))
	if err != nil {
		t.Fatal(err)
	}
	tb.paths.remember("p", leaf.ID, leaf.Path) // another request, meanwhile
	if ok, err := tb.chainActive(ctx, "p", found, keys, hint); !ok || err != nil {
		t.Errorf("chainActive with a hint learned meanwhile = %v, %v; want true", ok, err)
	}
}

func TestPutUIConfig(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	org := newOrg(t, tb, "p", nil)
	c := UIConfig{PartnerID: "p", OrganisationID: org.ID, PrimaryColour: "#112233"}

	c.LogoURL = "https://example.com/logo.png"
	if _, err := tb.PutUIConfig(ctx, UIConfig{}, c); !errors.Is(err, ErrConflict) {
		t.Errorf("logo without enable_custom_logo = %v, want ErrConflict", err)
	}
	c.LogoURL = ""
	saved, err := tb.PutUIConfig(ctx, UIConfig{}, c)
	if err != nil || saved.Version != 1 {
		t.Fatalf("first put = %+v, %v", saved, err)
	}
	if _, err := tb.PutUIConfig(ctx, UIConfig{}, c); !errors.Is(err, ErrVersionMismatch) {
		t.Errorf("second put at version 0 = %v, want ErrVersionMismatch", err)
	}
	saved.DisplayName = "Shown"
	if again, err := tb.PutUIConfig(ctx, UIConfig{}, saved); err != nil || again.Version != 2 {
		t.Errorf("put at version 1 = %+v, %v", again, err)
	}
	if got, err := tb.GetUIConfig(ctx, "p", org.ID); err != nil || got.DisplayName != "Shown" || got.Version != 2 {
		t.Errorf("get = %+v, %v", got, err)
	}
	c.OrganisationID = uuid.NewString()
	if _, err := tb.PutUIConfig(ctx, UIConfig{}, c); !errors.Is(err, ErrNotFound) {
		t.Errorf("put for a missing organisation = %v, want ErrNotFound", err)
	}

	// Turning custom logos off is conditional on there being no logo.
	org.EnableCustomLogo = true
	org, err = tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: org})
	if err != nil {
		t.Fatalf("enable custom logo: %v", err)
	}
	cur, _ := tb.GetUIConfig(ctx, "p", org.ID)
	cur.LogoURL = "https://example.com/logo.svg"
	if _, err := tb.PutUIConfig(ctx, UIConfig{}, cur); err != nil {
		t.Fatalf("put logo: %v", err)
	}
	org.EnableCustomLogo = false
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: org, NoLogo: true}); !errors.Is(err, ErrConflict) {
		t.Errorf("turn off custom logos with a logo = %v, want ErrConflict", err)
	}
}

func TestTransactRetriesConflicts(t *testing.T) {
	// Many concurrent transactions on one item: each either succeeds or
	// fails its condition; none is left with a transaction conflict.
	ctx := context.Background()
	tb := newOrgTable(t)
	parent := newOrg(t, tb, "p", nil)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			o := Organisation{ID: uuid.NewString(), PartnerID: "p", ParentID: parent.ID, Path: []string{parent.ID}, Name: fmt.Sprint(i)}
			_, err := tb.CreateOrganisation(ctx, o, parent.Version)
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent child create: %v", err)
		}
	}
	if got := get(t, tb, "p", parent.ID); got.ChildCount != 8 {
		t.Errorf("child_count %d, want 8", got.ChildCount)
	}
}

// TestCancellationReasonCarriesOldItem checks that DynamoDB (Local, in the
// tests) returns the item as it was in the cancellation reason of a failed
// condition asking for ALL_OLD, which the store's explanations rely on
// instead of a second read: the current version reaches the caller.
func TestCancellationReasonCarriesOldItem(t *testing.T) {
	ctx := context.Background()
	tb := newOrgTable(t)
	o := newOrg(t, tb, "p", nil)
	o = get(t, tb, "p", o.ID)

	x := &txn{}
	var got map[string]types.AttributeValue
	x.addExplained(tb.txCheck(orgKey("p", o.ID), "#version = :v", map[string]string{"#version": "version"},
		map[string]types.AttributeValue{":v": numberValue(o.Version + 7)}), func(old map[string]types.AttributeValue) error {
		got = old
		return ErrConflict
	})
	if err := tb.run(ctx, x); !errors.Is(err, ErrConflict) {
		t.Fatalf("run = %v, want the explanation's error", err)
	}
	if v, ok := got["version"].(*types.AttributeValueMemberN); !ok || v.Value != strconv.FormatInt(o.Version, 10) {
		t.Errorf("old item's version = %v, want %d (old item %v)", got["version"], o.Version, got)
	}

	stale := o
	stale.Version = o.Version - 1
	_, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: stale})
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Current != o.Version || ve.ID != o.ID || ve.Entity != EntityOrganisation {
		t.Errorf("stale update = %v, want a VersionError at version %d", err, o.Version)
	}
}

// item returns a transaction item from its builder, failing t on an error.
func item(t *testing.T) func(types.TransactWriteItem, error) types.TransactWriteItem {
	return func(it types.TransactWriteItem, err error) types.TransactWriteItem {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
}

// TestCredentialReadsTheChain: once the process has read a client's
// credential, the next read brings its partner account, organisation and
// ancestors in the same batch and checks them (no second read), and still
// sees an ancestor or the partner disabled at once. A wrong remembered
// owner is only a wasted guess: the chain is then left to
// ClientChainActive.
func TestCredentialReadsTheChain(t *testing.T) {
	ctx := context.Background()
	tb, root, mid, leaf := newChain(t)
	if _, err := tb.CreateClient(ctx, newClient(leaf, "chain-client"), leaf.Version); err != nil {
		t.Fatal(err)
	}
	window := time.Now().Truncate(15 * time.Minute)
	read := func() Credential {
		t.Helper()
		c, err := tb.GetCredential(ctx, "chain-client", "192.0.2.1", window)
		if err != nil || !c.Found {
			t.Fatalf("GetCredential: %+v, %v", c, err)
		}
		return c
	}
	if c := read(); c.ChainChecked {
		t.Errorf("first sight: %+v, want the chain left to ClientChainActive", c)
	}
	if c := read(); !c.ChainChecked || !c.ChainActive {
		t.Errorf("second read: checked %v active %v, want both", c.ChainChecked, c.ChainActive)
	}
	mid = get(t, tb, "p", mid.ID)
	mid.Enabled = false
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: mid, PreviousParentID: root.ID}); err != nil {
		t.Fatal(err)
	}
	if c := read(); !c.ChainChecked || c.ChainActive {
		t.Errorf("ancestor disabled: checked %v active %v, want checked and inactive", c.ChainChecked, c.ChainActive)
	}
	mid = get(t, tb, "p", mid.ID)
	mid.Enabled = true
	if _, err := tb.UpdateOrganisation(ctx, OrganisationUpdate{Org: mid, PreviousParentID: root.ID}); err != nil {
		t.Fatal(err)
	}
	p, err := tb.GetPrincipal(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	disabled := p
	disabled.Enabled = false
	if _, err := tb.ReplacePrincipal(ctx, p, disabled); err != nil {
		t.Fatal(err)
	}
	if c := read(); !c.ChainChecked || c.ChainActive {
		t.Errorf("partner disabled: checked %v active %v, want checked and inactive", c.ChainChecked, c.ChainActive)
	}
	tb.paths.rememberOwner("chain-client", owner{partnerID: "p", orgID: root.ID})
	if c := read(); c.ChainChecked {
		t.Errorf("wrong remembered owner: %+v, want the chain left to ClientChainActive", c)
	}
	if o, _ := tb.paths.owner("chain-client"); o.orgID != leaf.ID {
		t.Errorf("remembered owner after a wrong guess: %+v, want organisation %s", o, leaf.ID)
	}
}
