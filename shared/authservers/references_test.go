package authservers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

// TestReferences: a parent or superseding server must be another server of
// the same organisation, and a server referenced by others is not deleted.
func TestReferences(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	a := p.create(t, orgID, nil)
	b := p.create(t, orgID, map[string]any{"parent_authorisation_server_id": a.ID, "superseded_by_authorisation_server_id": a.ID})
	c := p.create(t, orgID, map[string]any{"superseded_by_authorisation_server_id": strings.ToUpper(a.ID)})
	if *b.ParentAuthorisationServerID != a.ID || *c.SupersededByAuthorisationServerID != a.ID {
		t.Fatalf("references %+v %+v, want %s", b, c, a.ID)
	}

	// a is referenced by b and c: refused, naming both.
	pr := wantProblem(t, p.Do(t, http.MethodDelete, serverPath(orgID, a.ID), nil), http.StatusConflict, "conflict")
	if !strings.Contains(pr.Detail, b.ID) || !strings.Contains(pr.Detail, c.ID) {
		t.Errorf("detail %q, want it to name %s and %s", pr.Detail, b.ID, c.ID)
	}
	// Dropping one of b's references keeps a referenced; PUT without them
	// drops them all.
	decodeServer(t, p.Do(t, http.MethodPatch, serverPath(orgID, b.ID), `{"parent_authorisation_server_id":null}`), http.StatusOK)
	pr = wantProblem(t, p.Do(t, http.MethodDelete, serverPath(orgID, a.ID), nil), http.StatusConflict, "conflict")
	if !strings.Contains(pr.Detail, b.ID) {
		t.Errorf("detail %q, want it to name %s", pr.Detail, b.ID)
	}
	decodeServer(t, p.Do(t, http.MethodPut, serverPath(orgID, b.ID), minimal(nil)), http.StatusOK)
	pr = wantProblem(t, p.Do(t, http.MethodDelete, serverPath(orgID, a.ID), nil), http.StatusConflict, "conflict")
	if strings.Contains(pr.Detail, b.ID) || !strings.Contains(pr.Detail, c.ID) {
		t.Errorf("detail %q, want it to name %s only", pr.Detail, c.ID)
	}
	// Moving c's reference from a to b; then a is free, b is not.
	decodeServer(t, p.Do(t, http.MethodPatch, serverPath(orgID, c.ID), map[string]any{"superseded_by_authorisation_server_id": b.ID}), http.StatusOK)
	wantProblem(t, p.Do(t, http.MethodDelete, serverPath(orgID, b.ID), nil), http.StatusConflict, "conflict")
	if resp := p.Do(t, http.MethodDelete, serverPath(orgID, a.ID), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE a = %d %s, want 204", resp.StatusCode, resp.Body)
	}
	// A deleted server cannot be referenced.
	wantProblem(t, p.Do(t, http.MethodPatch, serverPath(orgID, c.ID), map[string]any{"parent_authorisation_server_id": a.ID}),
		http.StatusBadRequest, "invalid_request", "parent_authorisation_server_id")
	// Deleting the referencing server frees the one it referenced.
	for _, id := range []string{c.ID, b.ID} {
		if resp := p.Do(t, http.MethodDelete, serverPath(orgID, id), nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s = %d %s, want 204", id, resp.StatusCode, resp.Body)
		}
	}

	// A reference racing the delete of the server it names: either the
	// delete wins and the reference is refused, or the reference wins and
	// the delete is refused; never a dangling reference.
	for range 5 {
		target := p.create(t, orgID, nil)
		out := apptest.Race(
			func() apptest.Response {
				return e.Request(t, p.Token, http.MethodDelete, serverPath(orgID, target.ID), nil)
			},
			func() apptest.Response {
				return e.Request(t, p.Token, http.MethodPost, serversPath(orgID), minimal(map[string]any{"parent_authorisation_server_id": target.ID}))
			},
		)
		del, ref := out[0].StatusCode, out[1].StatusCode
		switch {
		case del == http.StatusNoContent && (ref == http.StatusBadRequest || ref == http.StatusConflict):
		case del == http.StatusConflict && ref == http.StatusCreated:
			decodeServer(t, p.Do(t, http.MethodGet, serverPath(orgID, target.ID), nil), http.StatusOK)
		default:
			t.Errorf("racing delete %d %s and reference %d %s", del, out[0].Body, ref, out[1].Body)
		}
	}
}

// TestOrganisationDelete: an organisation with authorisation servers is not
// deleted (409) until they are.
func TestOrganisationDelete(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	a := p.create(t, orgID, nil)
	b := p.create(t, orgID, map[string]any{"parent_authorisation_server_id": a.ID})

	pr := wantProblem(t, p.Do(t, http.MethodDelete, "/v1/organisations/"+orgID, nil), http.StatusConflict, "conflict")
	if !strings.Contains(pr.Detail, "2 authorisation server(s)") {
		t.Errorf("detail %q, want it to count the servers", pr.Detail)
	}
	for _, id := range []string{b.ID, a.ID} {
		if resp := p.Do(t, http.MethodDelete, serverPath(orgID, id), nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s = %d %s", id, resp.StatusCode, resp.Body)
		}
	}
	if resp := p.Do(t, http.MethodDelete, "/v1/organisations/"+orgID, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE organisation = %d %s, want 204", resp.StatusCode, resp.Body)
	}
	wantProblem(t, p.Do(t, http.MethodGet, serversPath(orgID), nil), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(nil)), http.StatusNotFound, "not_found")

	// A server created while its organisation is deleted: either the
	// organisation goes and the create fails, or the server is created and
	// the organisation stays.
	for range 5 {
		org := p.Org(t, nil)
		out := apptest.Race(
			func() apptest.Response {
				return e.Request(t, p.Token, http.MethodDelete, "/v1/organisations/"+org, nil)
			},
			func() apptest.Response { return e.Request(t, p.Token, http.MethodPost, serversPath(org), minimal(nil)) },
		)
		del, create := out[0].StatusCode, out[1].StatusCode
		switch {
		case del == http.StatusNoContent && create == http.StatusNotFound:
		case del == http.StatusConflict && create == http.StatusCreated:
			if got := listAll(t, p, org, 10); len(got) != 1 {
				t.Errorf("organisation %s lists %d servers, want 1", org, len(got))
			}
		default:
			t.Errorf("racing organisation delete %d %s and server create %d %s", del, out[0].Body, create, out[1].Body)
		}
	}
}
