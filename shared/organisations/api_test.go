package organisations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
)

// These tests run the whole service (apptest) against DynamoDB Local.

func TestCreateGetReplacePatchDelete(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)

	resp := p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Acme"})
	root := decodeOrg(t, resp, http.StatusCreated)
	if _, err := uuid.Parse(root.ID); err != nil || uuid.MustParse(root.ID).Version() != 4 {
		t.Errorf("id %q, want a UUID v4", root.ID)
	}
	if got, want := resp.Header.Get("Location"), "/v1/organisations/"+root.ID; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if got := resp.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag %q, want \"1\"", got)
	}
	rfc3339UTC := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	if root.ParentID != nil || root.Name != "Acme" || !root.Enabled || root.EnableCustomLogo || root.HasProductionAccess ||
		root.AllowedProducts == nil || len(root.AllowedProducts) != 0 || !rfc3339UTC.MatchString(root.CreatedAt) || root.CreatedAt != root.UpdatedAt {
		t.Errorf("created root %+v, want the defaults", root)
	}
	var raw map[string]any
	_ = json.Unmarshal(resp.Body, &raw)
	if v, ok := raw["parent_id"]; !ok || v != nil {
		t.Errorf("parent_id of a root = %v (present %v), want null", v, ok)
	}

	resp = p.Do(t, http.MethodGet, "/v1/organisations/"+root.ID, nil)
	if got := decodeOrg(t, resp, http.StatusOK); !equalOrg(got, root) {
		t.Errorf("GET = %+v, want %+v", got, root)
	}
	if resp.Header.Get("ETag") != `"1"` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET headers %v", resp.Header)
	}
	// Upper-case ids name the same organisation.
	decodeOrg(t, p.Do(t, http.MethodGet, "/v1/organisations/"+strings.ToUpper(root.ID), nil), http.StatusOK)

	parent := p.child(t, nil, "Parent", map[string]any{
		"allowed_scopes": []string{"accounts", "address"}, "allowed_products": []string{"sign_up", "sign_up_plus"},
		"allowed_provider_groups": []string{"sandbox"}, "has_production_access": true, "enable_custom_logo": true,
	})
	// A child inherits the parent's lists, not its production access.
	child := p.child(t, &parent, "Child", nil)
	if *child.ParentID != parent.ID || !slices.Equal(child.AllowedProducts, parent.AllowedProducts) ||
		!slices.Equal(child.AllowedScopes, parent.AllowedScopes) || !slices.Equal(child.AllowedProviderGroups, parent.AllowedProviderGroups) ||
		child.HasProductionAccess || child.EnableCustomLogo {
		t.Errorf("child %+v, want the parent's lists and no production access", child)
	}

	// PUT replaces everything; absent optional attributes take defaults.
	e.Clock.Advance(2 * time.Second)
	resp = p.Do(t, http.MethodPut, "/v1/organisations/"+child.ID, map[string]any{
		"parent_id": parent.ID, "name": "Child v2", "allowed_products": []string{"sign_up"}, "has_production_access": true, "enabled": false,
	})
	put := decodeOrg(t, resp, http.StatusOK)
	if resp.Header.Get("ETag") != `"2"` || put.Name != "Child v2" || !slices.Equal(put.AllowedProducts, []string{"sign_up"}) ||
		!put.HasProductionAccess || put.Enabled || put.CreatedAt != child.CreatedAt || put.UpdatedAt == child.UpdatedAt {
		t.Errorf("PUT = %+v (ETag %s)", put, resp.Header.Get("ETag"))
	}
	// PUT without parent_id makes a root.
	moved := decodeOrg(t, p.Do(t, http.MethodPut, "/v1/organisations/"+child.ID, map[string]any{"name": "Now a root"}), http.StatusOK)
	if moved.ParentID != nil || len(moved.AllowedProducts) != 0 || moved.HasProductionAccess || !moved.Enabled {
		t.Errorf("PUT without parent_id = %+v, want a root with defaults", moved)
	}

	// PATCH changes what it names; null resets to the default.
	decodeOrg(t, p.Do(t, http.MethodPut, "/v1/organisations/"+child.ID, map[string]any{
		"parent_id": parent.ID, "name": "Child", "allowed_products": []string{"sign_up"}, "enabled": false,
	}), http.StatusOK)
	resp = p.Do(t, http.MethodPatch, "/v1/organisations/"+child.ID,
		`{"name":"Patched","allowed_products":null,"allowed_scopes":["accounts"]}`, "Content-Type", "application/merge-patch+json")
	patched := decodeOrg(t, resp, http.StatusOK)
	if patched.Name != "Patched" || !slices.Equal(patched.AllowedProducts, parent.AllowedProducts) ||
		!slices.Equal(patched.AllowedScopes, []string{"accounts"}) || patched.Enabled || *patched.ParentID != parent.ID {
		t.Errorf("PATCH = %+v", patched)
	}
	// application/json is accepted for a merge patch too.
	patched = decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+child.ID, `{"enabled":null}`), http.StatusOK)
	if !patched.Enabled || patched.Name != "Patched" {
		t.Errorf("PATCH enabled:null = %+v, want enabled (the default)", patched)
	}
	wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+child.ID, `{"name":null}`), http.StatusBadRequest, "invalid_request", "name")
	wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+child.ID, `{"name":"x"}`, "Content-Type", "text/plain"),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	// PATCH parent_id null moves the organisation to the root.
	if got := decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+child.ID, `{"parent_id":null}`), http.StatusOK); got.ParentID != nil {
		t.Errorf("PATCH parent_id:null = %+v, want a root", got)
	}

	resp = p.Do(t, http.MethodDelete, "/v1/organisations/"+child.ID, nil)
	if resp.StatusCode != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("DELETE = %d %s, want 204", resp.StatusCode, resp.Body)
	}
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations/"+child.ID, nil), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodDelete, "/v1/organisations/"+child.ID, nil), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations/not-a-uuid", nil), http.StatusNotFound, "not_found")

	resp = p.Do(t, http.MethodPost, "/v1/organisations/"+root.ID, map[string]any{"name": "x"})
	wantProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := resp.Header.Get("Allow"); got != "DELETE, GET, PATCH, PUT" {
		t.Errorf("Allow %q", got)
	}
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/organisations/"+root.ID+"/nope", nil), http.StatusNotFound, "not_found")
}

func equalOrg(a, b org) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestValidation sends each invalid body to POST, PUT and PATCH (where it
// applies) and checks the status, code and every field named.
func TestValidation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	other := newPartner(t, e)
	foreign := other.child(t, nil, "Other partner's", nil)
	parent := p.child(t, nil, "Parent", map[string]any{
		"allowed_scopes": []string{"s1", "s2"}, "allowed_products": []string{"a", "b"}, "allowed_provider_groups": []string{"g"},
	})
	target := p.child(t, &parent, "Target", nil)

	const (
		post = 1 << iota
		put
		patch
		all = post | put | patch
	)
	long := strings.Repeat("x", 256)
	cases := []struct {
		name    string
		methods int
		body    string
		status  int
		code    string
		fields  []string
	}{
		{"name missing", post | put, `{}`, 400, "invalid_request", []string{"name"}},
		{"name empty", all, `{"name":""}`, 400, "invalid_request", []string{"name"}},
		{"name too long", all, `{"name":"` + long + `"}`, 400, "invalid_request", []string{"name"}},
		{"name with angle brackets", all, `{"name":"<b>x</b>"}`, 400, "invalid_request", []string{"name"}},
		{"name not a string", all, `{"name":42}`, 400, "invalid_request", []string{"name"}},
		{"unknown fields named", all, `{"name":"x","nmae":"y","allowedProducts":[]}`, 400, "invalid_request", []string{"nmae", "allowedProducts"}},
		{"unknown field set to null", patch, `{"nmae":null}`, 400, "invalid_request", []string{"nmae"}},
		{"read-only fields", all, `{"name":"x","id":"1","created_at":"2026-01-01T00:00:00Z","updated_at":null}`, 400, "invalid_request", []string{"id", "created_at", "updated_at"}},
		{"parent_id not a UUID", all, `{"name":"x","parent_id":"abc"}`, 400, "invalid_request", []string{"parent_id"}},
		{"parent_id empty", all, `{"name":"x","parent_id":""}`, 400, "invalid_request", []string{"parent_id"}},
		{"parent_id unknown", all, `{"name":"x","parent_id":"` + uuid.NewString() + `"}`, 400, "invalid_request", []string{"parent_id"}},
		{"parent_id of another partner", all, `{"name":"x","parent_id":"` + foreign.ID + `"}`, 400, "invalid_request", []string{"parent_id"}},
		{"list not an array", all, `{"name":"x","allowed_products":"a"}`, 400, "invalid_request", []string{"allowed_products"}},
		{"list element not a string", all, `{"name":"x","allowed_products":["a",1,true]}`, 400, "invalid_request", []string{"allowed_products[1]", "allowed_products[2]"}},
		{"list too long", all, `{"name":"x","allowed_provider_groups":` + jsonList(101) + `}`, 400, "invalid_request", []string{"allowed_provider_groups"}},
		{"list duplicates", all, `{"name":"x","allowed_products":["a","b","a"]}`, 400, "invalid_request", []string{"allowed_products[2]"}},
		{"list empty item", all, `{"name":"x","allowed_scopes":[""]}`, 400, "invalid_request", []string{"allowed_scopes[0]"}},
		{"list item too long", all, `{"name":"x","allowed_provider_groups":["` + long + `"]}`, 400, "invalid_request", []string{"allowed_provider_groups[0]"}},
		{"list item with >", all, `{"name":"x","allowed_products":["a>"]}`, 400, "invalid_request", []string{"allowed_products[0]"}},
		{"scope not a scope token", all, `{"name":"x","allowed_scopes":["a b"]}`, 400, "invalid_request", []string{"allowed_scopes[0]"}},
		{"bools not bools", all, `{"name":"x","enabled":"yes","has_production_access":1,"enable_custom_logo":[]}`, 400, "invalid_request", []string{"enabled", "has_production_access", "enable_custom_logo"}},
		{"repeated member", all, `{"name":"x","name":"y"}`, 400, "invalid_request", []string{"name"}},
		{"products outside the parent", all, `{"name":"x","parent_id":"` + parent.ID + `","allowed_products":["a","c"]}`, 400, "invalid_request", []string{"allowed_products[1]"}},
		{"scopes outside the parent", all, `{"name":"x","parent_id":"` + parent.ID + `","allowed_scopes":["s3"]}`, 400, "invalid_request", []string{"allowed_scopes[0]"}},
		{"provider groups outside the parent", all, `{"name":"x","parent_id":"` + parent.ID + `","allowed_provider_groups":["h"]}`, 400, "invalid_request", []string{"allowed_provider_groups[0]"}},
		{"empty list under a restricting parent", all, `{"name":"x","parent_id":"` + parent.ID + `","allowed_products":[]}`, 400, "invalid_request", []string{"allowed_products"}},
		{"production access without the parent's", all, `{"name":"x","parent_id":"` + parent.ID + `","has_production_access":true}`, 400, "invalid_request", []string{"has_production_access"}},
		{"every violation at once", all, `{"name":"","parent_id":"` + parent.ID + `","allowed_products":["c","c"],"allowed_scopes":["a b"],"has_production_access":true}`,
			400, "invalid_request", []string{"name", "allowed_products[0]", "allowed_products[1]", "allowed_scopes[0]", "has_production_access"}},
		{"unknown members and rule violations together", all, `{"name":"","nmae":"y","id":"1","parent_id":"` + parent.ID + `","allowed_scopes":[7],"allowed_products":["c"]}`,
			400, "invalid_request", []string{"nmae", "id", "allowed_scopes[0]", "name", "allowed_products[0]"}},
		{"not JSON", all, `{"name":`, 400, "invalid_request", []string{}},
		{"not an object", all, `["name"]`, 400, "invalid_request", []string{}},
		{"empty body", all, ``, 400, "invalid_request", []string{}},
		{"too large", all, `{"name":"` + strings.Repeat("x", 130<<10) + `"}`, 413, "payload_too_large", []string{}},
	}
	paths := map[int][2]string{
		post:  {http.MethodPost, "/v1/organisations"},
		put:   {http.MethodPut, "/v1/organisations/" + target.ID},
		patch: {http.MethodPatch, "/v1/organisations/" + target.ID},
	}
	for _, tc := range cases {
		for _, m := range []int{post, put, patch} {
			if tc.methods&m == 0 {
				continue
			}
			t.Run(paths[m][0]+" "+tc.name, func(t *testing.T) {
				resp := p.Do(t, paths[m][0], paths[m][1], tc.body)
				pb := wantProblem(t, resp, tc.status, tc.code, tc.fields...)
				if tc.status == 400 && len(tc.fields) == 0 && pb.Detail == "" {
					t.Errorf("no detail in %s", resp.Body)
				}
			})
		}
	}
	t.Run("wrong content type", func(t *testing.T) {
		wantProblem(t, p.Do(t, http.MethodPost, "/v1/organisations", `{"name":"x"}`, "Content-Type", "text/plain"), 415, "unsupported_media_type")
		wantProblem(t, p.Do(t, http.MethodPut, "/v1/organisations/"+target.ID, `{"name":"x"}`, "Content-Type", "application/merge-patch+json"), 415, "unsupported_media_type")
	})
	// Nothing was written by any refused request.
	if got := p.get(t, target.ID); !equalOrg(got, target) {
		t.Errorf("target changed by refused requests: %+v", got)
	}
	if items := listAll(t, p, "", 100); len(items) != 2 {
		t.Errorf("%d organisations after refused creates, want 2", len(items))
	}
}

func jsonList(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = `"g` + strings.Repeat("x", i) + `"`
	}
	return "[" + strings.Join(items, ",") + "]"
}

func TestHierarchy(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	top := p.child(t, nil, "Top", map[string]any{
		"allowed_products": []string{"a", "b", "c"}, "has_production_access": true, "allowed_scopes": []string{"s1", "s2"},
	})
	mid := p.child(t, &top, "Mid", map[string]any{"allowed_products": []string{"a", "b"}, "has_production_access": true})
	leaf := p.child(t, &mid, "Leaf", map[string]any{"allowed_products": []string{"b"}})
	other := p.child(t, nil, "Other", map[string]any{"allowed_products": []string{"x"}})

	t.Run("three levels", func(t *testing.T) {
		if *leaf.ParentID != mid.ID || *mid.ParentID != top.ID || !slices.Equal(leaf.AllowedScopes, []string{"s1", "s2"}) {
			t.Errorf("leaf %+v", leaf)
		}
	})
	t.Run("no cycles", func(t *testing.T) {
		wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"parent_id":"`+leaf.ID+`"}`), 400, "invalid_request", "parent_id")
		wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+leaf.ID, `{"parent_id":"`+leaf.ID+`"}`), 400, "invalid_request", "parent_id")
		wantProblem(t, p.Do(t, http.MethodPut, "/v1/organisations/"+mid.ID, map[string]any{"name": "Mid", "parent_id": leaf.ID}), 400, "invalid_request", "parent_id")
	})
	t.Run("moving", func(t *testing.T) {
		// An organisation with children does not move.
		pb := wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+mid.ID, `{"parent_id":null}`), 409, "conflict")
		if !strings.Contains(pb.Detail, "children") {
			t.Errorf("detail %q, want it to say why", pb.Detail)
		}
		// A leaf moves when it fits the new parent...
		wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+leaf.ID, `{"parent_id":"`+other.ID+`"}`), 400, "invalid_request", "allowed_products[0]")
		moved := decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+leaf.ID, `{"parent_id":"`+other.ID+`","allowed_products":null}`), http.StatusOK)
		if *moved.ParentID != other.ID || !slices.Equal(moved.AllowedProducts, []string{"x"}) {
			t.Errorf("moved leaf %+v", moved)
		}
		if kids := listAll(t, p, "parent_id="+other.ID, 10); len(kids) != 1 || kids[0].ID != leaf.ID {
			t.Errorf("children of other %v, want [leaf]", kids)
		}
		// ...and its path follows: disabling its new parent stops it.
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+other.ID, `{"enabled":false}`), http.StatusOK)
		if on, _ := e.App.Store.ClientChainActive(context.Background(), p.PartnerID, leaf.ID); on {
			t.Error("leaf enabled under a disabled new parent")
		}
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+other.ID, `{"enabled":true}`), http.StatusOK)
		// Back under mid, whose restrictions it must fit again.
		back := decodeOrg(t, p.Do(t, http.MethodPut, "/v1/organisations/"+leaf.ID, map[string]any{"name": "Leaf", "parent_id": mid.ID, "allowed_products": []string{"b"}}), http.StatusOK)
		leaf = back
		// The old parent's count went down again: it can be deleted.
		if resp := p.Do(t, http.MethodGet, "/v1/organisations/"+other.ID, nil); resp.StatusCode != 200 {
			t.Fatalf("get other: %d", resp.StatusCode)
		}
	})
	t.Run("narrowing a parent is refused while a child would be wider", func(t *testing.T) {
		pb := wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+mid.ID, `{"allowed_products":["a"]}`), 409, "conflict")
		if !strings.Contains(pb.Detail, leaf.ID) || !strings.Contains(pb.Detail, "allowed_products") {
			t.Errorf("detail %q, want it to name the leaf and the attribute", pb.Detail)
		}
		// Production access: leaf has none, so mid may lose it...
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+mid.ID, `{"has_production_access":false}`), http.StatusOK)
		// ...but top may not while mid (with none now) ... mid has none, so top may too.
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"allowed_products":["a","b"]}`), http.StatusOK)
		pb = wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"allowed_products":["a"]}`), 409, "conflict")
		if !strings.Contains(pb.Detail, mid.ID) || strings.Contains(pb.Detail, leaf.ID) {
			t.Errorf("detail %q, want it to name mid (a direct child) only", pb.Detail)
		}
		// Narrowing that keeps every child inside is fine.
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+mid.ID, `{"allowed_products":["b"]}`), http.StatusOK)
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"allowed_products":["b"]}`), http.StatusOK)
		// Restricting an unrestricted list is narrowing too.
		pb = wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"allowed_provider_groups":["g"]}`), 409, "conflict")
		if !strings.Contains(pb.Detail, "allowed_provider_groups") {
			t.Errorf("detail %q", pb.Detail)
		}
		// Production access of a child with it blocks the parent losing it.
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+mid.ID, `{"has_production_access":true}`), http.StatusOK)
		pb = wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"has_production_access":false}`), 409, "conflict")
		if !strings.Contains(pb.Detail, "has_production_access") {
			t.Errorf("detail %q", pb.Detail)
		}
		// PUT omitting has_production_access resets it to false: refused too.
		wantProblem(t, p.Do(t, http.MethodPut, "/v1/organisations/"+top.ID, map[string]any{"name": "Top", "allowed_products": []string{"b"}, "allowed_scopes": []string{"s1", "s2"}}), 409, "conflict")
	})
	t.Run("enabled false stops the whole subtree", func(t *testing.T) {
		chain := func(id string) bool {
			on, err := e.App.Store.ClientChainActive(context.Background(), p.PartnerID, id)
			if err != nil {
				t.Fatalf("chain of %s: %v", id, err)
			}
			return on
		}
		if !chain(leaf.ID) {
			t.Fatal("leaf disabled before anything was disabled")
		}
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"enabled":false}`), http.StatusOK)
		if chain(leaf.ID) || chain(mid.ID) || chain(top.ID) || !chain(other.ID) {
			t.Error("disabling top did not disable exactly its subtree")
		}
		decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+top.ID, `{"enabled":true}`), http.StatusOK)
		if !chain(leaf.ID) {
			t.Error("leaf still disabled after top was enabled again")
		}
	})
	t.Run("delete is refused while children exist", func(t *testing.T) {
		pb := wantProblem(t, p.Do(t, http.MethodDelete, "/v1/organisations/"+top.ID, nil), 409, "conflict")
		if !strings.Contains(pb.Detail, "1 child organisation") {
			t.Errorf("detail %q, want the count of children", pb.Detail)
		}
		for _, id := range []string{leaf.ID, mid.ID, top.ID, other.ID} {
			if resp := p.Do(t, http.MethodDelete, "/v1/organisations/"+id, nil); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("delete %s: %d %s", id, resp.StatusCode, resp.Body)
			}
		}
	})
	t.Run("depth limit", func(t *testing.T) {
		var parent *org
		for i := range 20 {
			o := p.child(t, parent, "Level", nil)
			parent = &o
			_ = i
		}
		resp := p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Too deep", "parent_id": parent.ID})
		wantProblem(t, resp, 400, "invalid_request", "parent_id")
	})
}

func TestUIConfig(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	o := p.child(t, nil, "Themed", nil)
	path := "/v1/organisations/" + o.ID + "/ui-config"

	resp := p.Do(t, http.MethodGet, path, nil)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"0"` {
		t.Fatalf("GET default = %d %s ETag %s", resp.StatusCode, resp.Body, resp.Header.Get("ETag"))
	}
	var got map[string]any
	_ = json.Unmarshal(resp.Body, &got)
	want := map[string]any{"organisation_id": o.ID, "display_name": nil, "logo_url": nil, "primary_colour": "#0B5FFF",
		"secondary_colour": "#5C6670", "background_colour": "#FFFFFF", "text_colour": "#1F2328", "created_at": nil, "updated_at": nil}
	if !mapsEqual(got, want) {
		t.Errorf("default config %v, want %v", got, want)
	}

	for _, tc := range []struct {
		name   string
		body   string
		fields []string
	}{
		{"logo without enable_custom_logo", `{"logo_url":"https://cdn.example.com/logo.png"}`, []string{"logo_url"}},
		{"display name too long", `{"display_name":"` + strings.Repeat("d", 256) + `"}`, []string{"display_name"}},
		{"display name with <", `{"display_name":"<i>"}`, []string{"display_name"}},
		{"colours", `{"primary_colour":"red","secondary_colour":"#12345","background_colour":"#1234567","text_colour":"#GGGGGG"}`,
			[]string{"primary_colour", "secondary_colour", "background_colour", "text_colour"}},
		{"unknown and read-only", `{"organisation_id":"x","colour":"#000000","updated_at":null}`, []string{"organisation_id", "colour", "updated_at"}},
		{"wrong types", `{"display_name":1,"logo_url":false}`, []string{"display_name", "logo_url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, p.Do(t, http.MethodPut, path, tc.body), 400, "invalid_request", tc.fields...)
		})
	}

	resp = p.Do(t, http.MethodPut, path, `{"display_name":"Acme","primary_colour":"#d7263d"}`, "If-Match", `"0"`)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("PUT = %d %s", resp.StatusCode, resp.Body)
	}
	_ = json.Unmarshal(resp.Body, &got)
	if got["display_name"] != "Acme" || got["primary_colour"] != "#d7263d" || got["text_colour"] != "#1F2328" || got["created_at"] == nil {
		t.Errorf("PUT result %v", got)
	}
	wantProblem(t, p.Do(t, http.MethodPut, path, `{}`, "If-Match", `"0"`), 412, "precondition_failed")

	// Logos need enable_custom_logo; then it cannot be turned off under a logo.
	decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+o.ID, `{"enable_custom_logo":true}`), http.StatusOK)
	for _, bad := range []string{"http://cdn.example.com/logo.png", "https://cdn.example.com/logo.gif", "data:image/png;base64,!!", "data:text/html;base64,PGI+"} {
		wantProblem(t, p.Do(t, http.MethodPut, path, map[string]any{"logo_url": bad}), 400, "invalid_request", "logo_url")
	}
	resp = p.Do(t, http.MethodPut, path, map[string]any{"logo_url": "https://cdn.example.com/logo.svg"})
	if resp.StatusCode != 200 {
		t.Fatalf("PUT logo = %d %s", resp.StatusCode, resp.Body)
	}
	_ = json.Unmarshal(resp.Body, &got)
	if got["display_name"] != nil || got["logo_url"] != "https://cdn.example.com/logo.svg" {
		t.Errorf("PUT replaces the whole config: got %v", got)
	}
	pb := wantProblem(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+o.ID, `{"enable_custom_logo":false}`), 409, "conflict")
	if !strings.Contains(pb.Detail, "logo_url") {
		t.Errorf("detail %q", pb.Detail)
	}
	if resp := p.Do(t, http.MethodPut, path, `{}`); resp.StatusCode != 200 {
		t.Fatalf("clear logo: %d", resp.StatusCode)
	}
	decodeOrg(t, p.Do(t, http.MethodPatch, "/v1/organisations/"+o.ID, `{"enable_custom_logo":false}`), http.StatusOK)

	// The config goes with its organisation.
	if resp := p.Do(t, http.MethodDelete, "/v1/organisations/"+o.ID, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	wantProblem(t, p.Do(t, http.MethodGet, path, nil), 404, "not_found")
	wantProblem(t, p.Do(t, http.MethodPut, path, `{}`), 404, "not_found")
	if _, err := e.App.Store.GetUIConfig(context.Background(), p.PartnerID, o.ID); err == nil {
		t.Error("ui config item left behind after its organisation was deleted")
	}
}

func mapsEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestIfMatch(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	o := p.child(t, nil, "Versioned", nil)
	path := "/v1/organisations/" + o.ID

	wantProblem(t, p.Do(t, http.MethodPut, path, `{"name":"a"}`, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodPatch, path, `{"name":"a"}`, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodDelete, path, nil, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodPut, path, `{"name":"a"}`, "If-Match", `W/"1"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodPut, path, `{"name":"a"}`, "If-Match", `1`), 400, "invalid_request", "If-Match")

	resp := p.Do(t, http.MethodPut, path, `{"name":"b"}`, "If-Match", `"1"`)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"2"` {
		t.Fatalf("PUT with the current ETag = %d %s", resp.StatusCode, resp.Body)
	}
	resp = p.Do(t, http.MethodPatch, path, `{"name":"c"}`, "If-Match", `"9", "2"`)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"3"` {
		t.Fatalf("PATCH with a matching ETag in a list = %d %s", resp.StatusCode, resp.Body)
	}
	if resp := p.Do(t, http.MethodPatch, path, `{"name":"d"}`, "If-Match", `*`); resp.StatusCode != 200 {
		t.Fatalf("PATCH with If-Match * = %d %s", resp.StatusCode, resp.Body)
	}
	wantProblem(t, p.Do(t, http.MethodDelete, path, nil, "If-Match", `"3"`), 412, "precondition_failed")
	if resp := p.Do(t, http.MethodDelete, path, nil, "If-Match", `"4"`); resp.StatusCode != 204 {
		t.Fatalf("DELETE with the current ETag = %d %s", resp.StatusCode, resp.Body)
	}
}

func TestAuthorisation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	o := p.child(t, nil, "Guarded", nil)
	one, ui := "/v1/organisations/"+o.ID, "/v1/organisations/"+o.ID+"/ui-config"
	reads := [][2]string{{http.MethodGet, "/v1/organisations"}, {http.MethodGet, one}, {http.MethodGet, ui}}
	writes := [][2]string{{http.MethodPost, "/v1/organisations"}, {http.MethodPut, one}, {http.MethodPatch, one}, {http.MethodDelete, one}, {http.MethodPut, ui}}
	body := func(method string) any {
		if method == http.MethodGet || method == http.MethodDelete {
			return nil
		}
		return `{"name":"x"}`
	}

	anonymous := &apptest.Caller{Env: e}
	readOnly := p.WithScopes(t, scope.OrganisationsRead)
	clientsOnly := p.WithScopes(t, scope.ClientsRead)
	orgClient := p.StoredClient(t, o.ID, scope.OrganisationsRead, scope.OrganisationsWrite)
	for _, r := range append(slices.Clone(reads), writes...) {
		t.Run(r[0]+" "+r[1], func(t *testing.T) {
			resp := anonymous.Do(t, r[0], r[1], body(r[0]))
			wantProblem(t, resp, 401, "unauthorized")
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
			wantProblem(t, (&apptest.Caller{Env: e, Token: "not.a.jwt"}).Do(t, r[0], r[1], body(r[0])), 401, "unauthorized")
			wantProblem(t, clientsOnly.Do(t, r[0], r[1], body(r[0])), 403, "forbidden")
			wantProblem(t, orgClient.Do(t, r[0], r[1], body(r[0])), 403, "forbidden")
		})
	}
	for _, r := range writes {
		t.Run("read-only "+r[0]+" "+r[1], func(t *testing.T) {
			resp := readOnly.Do(t, r[0], r[1], body(r[0]))
			wantProblem(t, resp, 403, "forbidden")
			if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="organisations:write"`) {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	for _, r := range reads {
		if resp := readOnly.Do(t, r[0], r[1], nil); resp.StatusCode != 200 {
			t.Errorf("read-only %s %s = %d %s", r[0], r[1], resp.StatusCode, resp.Body)
		}
	}
}

// TestTenantIsolation: a second partner gets 404 on every route of the
// first's organisation, and its lists never include the first's data.
func TestTenantIsolation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	a, b := newPartner(t, e), newPartner(t, e)
	parent := a.child(t, nil, "A parent", nil)
	child := a.child(t, &parent, "A child", nil)
	if resp := a.Do(t, http.MethodPut, "/v1/organisations/"+parent.ID+"/ui-config", `{"display_name":"A"}`); resp.StatusCode != 200 {
		t.Fatalf("ui-config: %d", resp.StatusCode)
	}
	bOwn := b.child(t, nil, "B's", nil)

	for _, id := range []string{parent.ID, child.ID} {
		one, ui := "/v1/organisations/"+id, "/v1/organisations/"+id+"/ui-config"
		for _, r := range []struct{ method, path, body string }{
			{http.MethodGet, one, ""}, {http.MethodPut, one, `{"name":"taken"}`}, {http.MethodPatch, one, `{"name":"taken"}`},
			{http.MethodDelete, one, ""}, {http.MethodGet, ui, ""}, {http.MethodPut, ui, `{}`},
		} {
			var body any
			if r.body != "" {
				body = r.body
			}
			pb := wantProblem(t, b.Do(t, r.method, r.path, body), 404, "not_found")
			if strings.Contains(pb.Detail, "partner") {
				t.Errorf("404 detail %q reveals too much", pb.Detail)
			}
			// The same with If-Match: still 404, never 412.
			wantProblem(t, b.Do(t, r.method, r.path, body, "If-Match", `"1"`), 404, "not_found")
		}
	}
	// Not usable as a parent, neither at create nor by moving.
	wantProblem(t, b.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "x", "parent_id": parent.ID}), 400, "invalid_request", "parent_id")
	wantProblem(t, b.Do(t, http.MethodPatch, "/v1/organisations/"+bOwn.ID, `{"parent_id":"`+parent.ID+`"}`), 400, "invalid_request", "parent_id")

	// Lists: B sees only its own, with or without a filter.
	if items := listAll(t, b, "", 100); len(items) != 1 || items[0].ID != bOwn.ID {
		t.Errorf("B's list = %v, want only B's organisation", items)
	}
	if items := listAll(t, b, "parent_id="+parent.ID, 100); len(items) != 0 {
		t.Errorf("B's list of A's parent's children = %v, want none", items)
	}
	// A's data is untouched.
	if got := a.get(t, parent.ID); got.Name != "A parent" {
		t.Errorf("A's parent = %+v", got)
	}
}

// TestErrorListCapped: one bad element per member of a body-sized array
// gives a bounded error list whose detail says that more were found (it gave
// 65,506 errors, a 4.7 MB response, before the cap).
func TestErrorListCapped(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	// 100 items are allowed; each of these is not a scope token.
	bad := make([]string, 100)
	for i := range bad {
		bad[i] = fmt.Sprintf("bad scope %d", i)
	}
	resp := p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{
		"name": "<x>", "allowed_scopes": bad, "allowed_products": []string{"", ""},
	})
	var body struct {
		Detail string
		Errors []struct{ Field string }
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("got %d %v, want 400", resp.StatusCode, err)
	}
	if len(body.Errors) != problem.MaxErrors || !strings.Contains(body.Detail, "more were found") || len(resp.Body) > 16<<10 {
		t.Errorf("got %d errors, detail %q, %d bytes; want %d, a note of the rest, a small body", len(body.Errors), body.Detail, len(resp.Body), problem.MaxErrors)
	}
}

// TestWriteRateLimit: past the per-partner limit of management writes a
// minute, writes get 429 with Retry-After (reads do not count and still
// work); another partner is not affected, and the next minute starts anew.
func TestWriteRateLimit(t *testing.T) {
	e := apptest.New(t, apptest.Options{Env: map[string]string{config.EnvWritesPerMinute: "5"}})
	p, other := newPartner(t, e), newPartner(t, e)
	// Concurrent writes: exactly the limit pass, however they race.
	var created atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if resp := p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Org"}); resp.StatusCode == http.StatusCreated {
				created.Add(1)
			}
		})
	}
	wg.Wait()
	if created.Load() != 5 {
		t.Fatalf("%d writes passed, want the limit, 5", created.Load())
	}
	resp := p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Org"})
	pb := wantProblem(t, resp, http.StatusTooManyRequests, "rate_limited")
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 || n > 61 || !strings.Contains(pb.Detail, "5 management writes") {
		t.Errorf("Retry-After %q, detail %q", resp.Header.Get("Retry-After"), pb.Detail)
	}
	if resp := p.Do(t, http.MethodGet, "/v1/organisations", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("a read over the limit: %d", resp.StatusCode)
	}
	if resp := other.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Org"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("another partner: %d %s", resp.StatusCode, resp.Body)
	}
	e.Clock.Advance(time.Minute)
	if resp := p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Org"}); resp.StatusCode != http.StatusCreated {
		t.Errorf("the next minute: %d %s", resp.StatusCode, resp.Body)
	}
}

// TestLocationUnderTheStage: on an API Gateway stage URL (the issuer has a
// path), the Location of a created resource stays within the stage.
func TestLocationUnderTheStage(t *testing.T) {
	e := apptest.New(t, apptest.Options{Env: map[string]string{"ISSUER_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/dev"}})
	p := newPartner(t, e)
	resp := p.Do(t, http.MethodPost, "/v1/organisations", map[string]any{"name": "Org"})
	o := decodeOrg(t, resp, http.StatusCreated)
	if got, want := resp.Header.Get("Location"), "/dev/v1/organisations/"+o.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}
