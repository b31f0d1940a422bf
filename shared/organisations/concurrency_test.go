package organisations_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/problem"
)

// These tests race real requests (goroutines against DynamoDB Local) and
// check that the rules hold whichever request wins.

const raceRounds = 8

func TestConcurrentPutsWithOneIfMatch(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	for round := range raceRounds {
		o := p.child(t, nil, "Contested", nil)
		path := "/v1/organisations/" + o.ID
		put := func(name string) func() apptest.Response {
			return func() apptest.Response {
				return p.Do(t, http.MethodPut, path, map[string]any{"name": name}, "If-Match", `"1"`)
			}
		}
		got := apptest.Race(put("first"), put("second"))
		ok, failed := 0, 0
		for _, r := range got {
			switch r.StatusCode {
			case http.StatusOK:
				ok++
			case http.StatusPreconditionFailed:
				failed++
				wantProblem(t, r, 412, "precondition_failed")
			default:
				t.Errorf("round %d: unexpected %d %s", round, r.StatusCode, r.Body)
			}
		}
		if ok != 1 || failed != 1 {
			t.Errorf("round %d: %d × 200 and %d × 412, want one of each", round, ok, failed)
		}
		if cur := p.get(t, o.ID); cur.Name != "first" && cur.Name != "second" {
			t.Errorf("round %d: name %q", round, cur.Name)
		}
	}
}

func TestConcurrentChildCreateAndParentDelete(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	created, deleted := 0, 0
	for round := range raceRounds {
		parent := p.child(t, nil, "Parent", nil)
		got := apptest.Race(
			func() apptest.Response {
				return p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Child", "parent_id": parent.ID})
			},
			func() apptest.Response { return p.Do(t, http.MethodDelete, "/v1/organisations/"+parent.ID, nil) },
		)
		create, del := got[0], got[1]
		switch {
		case create.StatusCode == http.StatusCreated && del.StatusCode == http.StatusConflict:
			created++
			child := decodeOrg(t, create, http.StatusCreated)
			if _, err := e.App.Store.GetOrganisation(context.Background(), p.PartnerID, parent.ID); err != nil {
				t.Errorf("round %d: child %s created but its parent is gone: %v", round, child.ID, err)
			}
		case del.StatusCode == http.StatusNoContent && (create.StatusCode == http.StatusBadRequest || create.StatusCode == http.StatusConflict):
			deleted++
		default:
			t.Errorf("round %d: create %d %s, delete %d %s; want one to win cleanly", round, create.StatusCode, create.Body, del.StatusCode, del.Body)
		}
	}
	// No organisation of the partner has a missing parent.
	for _, o := range listAll(t, p, "", 100) {
		if o.ParentID == nil {
			continue
		}
		if _, err := e.App.Store.GetOrganisation(context.Background(), p.PartnerID, *o.ParentID); errors.Is(err, problem.ErrNotFound) {
			t.Errorf("organisation %s has a deleted parent %s", o.ID, *o.ParentID)
		}
	}
	t.Logf("%d rounds won by the create, %d by the delete", created, deleted)
}

func TestConcurrentNarrowingAndChildCreate(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	for round := range raceRounds {
		parent := p.child(t, nil, "Parent", map[string]any{"allowed_products": []string{"a", "b"}})
		got := apptest.Race(
			func() apptest.Response {
				return p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Child", "parent_id": parent.ID, "allowed_products": []string{"b"}})
			},
			func() apptest.Response {
				return p.Do(t, http.MethodPatch, "/v1/organisations/"+parent.ID, `{"allowed_products":["a"]}`)
			},
		)
		if got[0].StatusCode == http.StatusCreated && got[1].StatusCode == http.StatusOK {
			t.Errorf("round %d: both the child (with b) and the narrowing (to a) succeeded", round)
		}
		for _, r := range got {
			if r.StatusCode >= 500 {
				t.Errorf("round %d: %d %s", round, r.StatusCode, r.Body)
			}
		}
		// Whatever happened, every child fits its parent.
		cur := p.get(t, parent.ID)
		for _, c := range listAll(t, p, "parent_id="+parent.ID, 100) {
			for _, item := range c.AllowedProducts {
				if !slices.Contains(cur.AllowedProducts, item) {
					t.Errorf("round %d: child %s has %q outside its parent's %v", round, c.ID, item, cur.AllowedProducts)
				}
			}
		}
	}
}

func TestConcurrentChildCreates(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	parent := p.child(t, nil, "Busy parent", nil)
	const n = 10
	fns := make([]func() apptest.Response, n)
	for i := range fns {
		fns[i] = func() apptest.Response {
			return p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": fmt.Sprint("Child ", i), "parent_id": parent.ID})
		}
	}
	for i, r := range apptest.Race(fns...) {
		if r.StatusCode != http.StatusCreated {
			t.Errorf("create %d: %d %s", i, r.StatusCode, r.Body)
		}
	}
	stored, err := e.App.Store.GetOrganisation(context.Background(), p.PartnerID, parent.ID)
	if err != nil || stored.ChildCount != n {
		t.Errorf("child_count %d (%v), want %d", stored.ChildCount, err, n)
	}
}
