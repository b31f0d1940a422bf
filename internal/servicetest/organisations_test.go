package servicetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/organisations"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestTreeChildNoWiderThanParent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newOrgs(t)
	root := create(t, s, `{"name":"Root","allowed_products":["a","b"],"allowed_scopes":["s1","s2"],"has_production_access":true}`)
	mid := create(t, s, `{"name":"Mid","parent_id":"`+root.ID+`","allowed_products":["a"]}`)

	_, err := s.Create(ctx, partner, []byte(`{"name":"Wide","parent_id":"`+root.ID+`","allowed_products":["c"],"allowed_scopes":["s3"]}`))
	wantFields(t, err, "allowed_scopes[0]", "allowed_products[0]")
	_, err = s.Create(ctx, partner, []byte(`{"name":"Prod","parent_id":"`+mid.ID+`","has_production_access":true}`))
	wantFields(t, err, "has_production_access")

	leaf := create(t, s, `{"name":"Leaf","parent_id":"`+mid.ID+`"}`)
	if !slices.Equal(leaf.AllowedProducts, []string{"a"}) || !slices.Equal(leaf.Path, []string{root.ID, mid.ID}) {
		t.Errorf("leaf products %v path %v, want its parent's [a] and [root mid]", leaf.AllowedProducts, leaf.Path)
	}
	// Narrowing the parent past the child is refused, naming both.
	_, err = s.Patch(ctx, partner, mid.ID, etag.Condition{}, []byte(`{"allowed_products":["b"]}`))
	wantProblem(t, err, http.StatusConflict, "child organisations wider than their parent|"+leaf.ID+" (allowed_products)")
	// Narrowing that keeps the child inside is fine.
	if _, err := s.Patch(ctx, partner, root.ID, etag.Condition{}, []byte(`{"allowed_products":["a"]}`)); err != nil {
		t.Errorf("narrow root to what its children use: %v", err)
	}
}

func TestTreeCycleRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newOrgs(t)
	root := create(t, s, `{"name":"Root"}`)
	mid := create(t, s, `{"name":"Mid","parent_id":"`+root.ID+`"}`)
	leaf := create(t, s, `{"name":"Leaf","parent_id":"`+mid.ID+`"}`)
	for _, tc := range []struct{ name, id, parent string }{
		{"under its own child", mid.ID, leaf.ID},
		{"under its grandchild", root.ID, leaf.ID},
		{"under itself", leaf.ID, leaf.ID},
	} {
		_, err := s.Patch(ctx, partner, tc.id, etag.Condition{}, []byte(`{"parent_id":"`+tc.parent+`"}`))
		wantFields(t, err, "parent_id")
		if p := wantProblem(t, err, http.StatusBadRequest, ""); len(p.Errors) == 1 && !strings.Contains(p.Errors[0].Message, "own ancestor") {
			t.Errorf("%s: message %q, want it to say why", tc.name, p.Errors[0].Message)
		}
	}
	// An organisation with children does not move at all.
	other := create(t, s, `{"name":"Other"}`)
	_, err := s.Patch(ctx, partner, mid.ID, etag.Condition{}, []byte(`{"parent_id":"`+other.ID+`"}`))
	wantProblem(t, err, http.StatusConflict, "has 1 child organisation(s); moving an organisation with children is not supported")
}

func TestTreeDepthLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newOrgs(t)
	parent := create(t, s, `{"name":"Level 1"}`)
	for level := 2; level <= organisations.MaxDepth; level++ {
		parent = create(t, s, fmt.Sprintf(`{"name":"Level %d","parent_id":"%s"}`, level, parent.ID))
	}
	_, err := s.Create(ctx, partner, []byte(`{"name":"Too deep","parent_id":"`+parent.ID+`"}`))
	wantFields(t, err, "parent_id")
	if p := wantProblem(t, err, http.StatusBadRequest, ""); len(p.Errors) == 1 && !strings.Contains(p.Errors[0].Message, "deepest level") {
		t.Errorf("message %q, want the depth limit", p.Errors[0].Message)
	}
}

// TestDeleteWhileChildrenRemain goes through the fake's own counters: the
// store refuses, and the service says how many remain.
func TestDeleteWhileChildrenRemain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newOrgs(t)
	root := create(t, s, `{"name":"Root"}`)
	child := create(t, s, `{"name":"Child","parent_id":"`+root.ID+`"}`)
	err := s.Delete(ctx, partner, root.ID, etag.Condition{})
	wantProblem(t, err, http.StatusConflict, "organisation "+root.ID+" still has 1 child organisation(s) and 0 client(s); delete them first")
	if err := s.Delete(ctx, partner, child.ID, etag.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, partner, root.ID, etag.Condition{}); err != nil {
		t.Errorf("delete root after its child: %v", err)
	}
}

// TestOrganisationStoreErrors injects each error the store can return into
// the call that returns it and checks the API's answer: status and detail,
// as the contract words them.
func TestOrganisationStoreErrors(t *testing.T) {
	t.Parallel()
	conflictOf := func(r store.ConflictReason, id string) error {
		return &store.ConflictError{Reason: r, Entity: store.EntityOrganisation, ID: id}
	}
	const leak = "dial tcp 10.0.0.7:443: connection reset"
	type env struct {
		s          *organisations.Service
		root, leaf store.Organisation
	}
	patch := func(cond func(*testing.T) etag.Condition) func(*testing.T, env) error {
		return func(t *testing.T, e env) error {
			_, err := e.s.Patch(context.Background(), partner, e.leaf.ID, cond(t), []byte(`{"name":"Renamed"}`))
			return err
		}
	}
	noCondition := func(*testing.T) etag.Condition { return etag.Condition{} }
	atVersion1 := func(t *testing.T) etag.Condition { return ifMatch(t, 1) }
	del := func(t *testing.T, e env) error {
		return e.s.Delete(context.Background(), partner, e.leaf.ID, etag.Condition{})
	}
	createChild := func(t *testing.T, e env) error {
		_, err := e.s.Create(context.Background(), partner, []byte(`{"name":"New","parent_id":"`+e.root.ID+`"}`))
		return err
	}
	putUI := func(cond func(*testing.T) etag.Condition) func(*testing.T, env) error {
		return func(t *testing.T, e env) error {
			_, err := e.s.PutUIConfig(context.Background(), partner, e.leaf.ID, cond(t), []byte(`{"display_name":"Leaf","primary_colour":"#0B5FFF"}`))
			return err
		}
	}
	get := func(t *testing.T, e env) error {
		_, err := e.s.Get(context.Background(), partner, e.leaf.ID)
		return err
	}
	list := func(t *testing.T, e env) error {
		_, err := e.s.List(context.Background(), partner, organisations.ListQuery{Paging: endpoint.Paging{Limit: 10}})
		return err
	}
	cases := []struct {
		name   string
		method string
		// inject builds the error from the ids of the set-up.
		inject func(env) error
		call   func(*testing.T, env) error
		status int
		detail string // "|" separates parts; {root} and {leaf} stand for the ids
	}{
		{"id taken", "CreateOrganisation", func(env) error { return conflictOf(store.ConflictIDTaken, "taken-id") }, createChild,
			409, "organisation id taken-id is taken"},
		{"parent changed on create", "CreateOrganisation", func(e env) error { return conflictOf(store.ConflictParentChanged, e.root.ID) }, createChild,
			409, "the parent organisation {root} was changed or deleted while the request ran; retry"},
		{"children changed", "UpdateOrganisation", func(e env) error { return conflictOf(store.ConflictChildrenChanged, e.leaf.ID) }, patch(noCondition),
			409, "the child organisations of {leaf} changed while the request ran; retry"},
		{"logo set", "UpdateOrganisation", func(e env) error { return conflictOf(store.ConflictLogoSet, e.leaf.ID) }, patch(noCondition),
			409, "a logo_url was set in the organisation's ui-config while the request ran; remove it before turning enable_custom_logo off"},
		{"version with If-Match", "UpdateOrganisation", func(e env) error {
			return &store.VersionError{Entity: store.EntityOrganisation, ID: e.leaf.ID, Current: 7}
		}, patch(atVersion1), 412, "organisation {leaf} was changed by another request (now at version 7)"},
		{"version without If-Match", "UpdateOrganisation", func(e env) error {
			return &store.VersionError{Entity: store.EntityOrganisation, ID: e.leaf.ID, Current: 7}
		}, patch(noCondition), 409, "the resource was changed by another request while this one ran; retry"},
		{"gone meanwhile", "UpdateOrganisation", func(env) error { return store.ErrNotFound }, patch(noCondition), 404, ""},
		{"children remain", "DeleteOrganisation", func(e env) error {
			return &store.ConflictError{Reason: store.ConflictChildrenRemain, Entity: store.EntityOrganisation, ID: e.leaf.ID, Children: 2, Clients: 3}
		}, del, 409, "organisation {leaf} still has 2 child organisation(s) and 3 client(s); delete them first"},
		{"servers remain", "DeleteOrganisation", func(e env) error {
			return &store.ConflictError{Reason: store.ConflictServersRemain, Entity: store.EntityOrganisation, ID: e.leaf.ID, Servers: 4}
		}, del, 409, "organisation {leaf} still has 4 authorisation server(s); delete them first"},
		{"changed on delete", "DeleteOrganisation", func(e env) error { return conflictOf(store.ConflictChanged, e.leaf.ID) }, del,
			409, "organisation {leaf} changed while the request ran; retry"},
		{"parent changed on delete", "DeleteOrganisation", func(e env) error { return conflictOf(store.ConflictParentChanged, e.root.ID) }, del,
			409, "the parent organisation {root} was changed or deleted while the request ran; retry"},
		{"custom logos turned off", "PutUIConfig", func(e env) error { return conflictOf(store.ConflictCustomLogoOff, e.leaf.ID) }, putUI(noCondition),
			409, "enable_custom_logo of organisation {leaf} was turned off while the request ran"},
		{"ui-config version with If-Match", "PutUIConfig", func(e env) error {
			return &store.VersionError{Entity: store.EntityUIConfig, ID: e.leaf.ID, Current: 3}
		}, putUI(func(t *testing.T) etag.Condition { return ifMatch(t, 0) }), 412, "the ui-config of organisation {leaf} was changed by another request"},
		{"throttled read", "GetOrganisation", func(env) error { return fmt.Errorf("%w: %s", store.ErrUnavailable, leak) }, get, 503, ""},
		{"throttled list", "ListOrganisations", func(env) error { return fmt.Errorf("%w: %s", store.ErrUnavailable, leak) }, list, 503, ""},
		{"throttled write", "UpdateOrganisation", func(env) error { return fmt.Errorf("%w: %s", store.ErrUnavailable, leak) }, patch(noCondition), 503, ""},
		{"unknown failure", "DeleteOrganisation", func(env) error { return errors.New(leak) }, del, 500, "An unexpected error occurred"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, fs := newOrgs(t)
			e := env{s: s}
			e.root = create(t, s, `{"name":"Root"}`)
			e.leaf = create(t, s, `{"name":"Leaf","parent_id":"`+e.root.ID+`"}`)
			fs.FailNext(tc.method, tc.inject(e))
			before := fs.Calls(tc.method)
			err := tc.call(t, e)
			detail := strings.NewReplacer("{root}", e.root.ID, "{leaf}", e.leaf.ID).Replace(tc.detail)
			p := wantProblem(t, err, tc.status, detail)
			if strings.Contains(p.Detail, "10.0.0.7") || strings.Contains(p.Detail, "store:") {
				t.Errorf("detail %q leaks the cause", p.Detail)
			}
			if n := fs.Calls(tc.method) - before; n != 1 {
				t.Errorf("%s called %d times, want 1 (no retry)", tc.method, n)
			}
		})
	}
}

// TestStoreDelayHonoursContext checks that a slow store (injected delay)
// is bounded by the request's context, and the caller gets no detail of it.
func TestStoreDelayHonoursContext(t *testing.T) {
	t.Parallel()
	s, fs := newOrgs(t)
	root := create(t, s, `{"name":"Root"}`)
	fs.Delay("GetOrganisation", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := s.Get(ctx, partner, root.ID)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	wantProblem(t, err, 500, "An unexpected error occurred")
}
