package servicetest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/fakestore"
	"github.com/partnerapi/partner-api/shared/authservers"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/store"
)

var _ authservers.Store = (*fakestore.Store)(nil)

// newServers returns an authorisation servers service on a fake store
// holding one organisation of the partner.
func newServers(t *testing.T) (*authservers.Service, *fakestore.Store, store.Organisation) {
	t.Helper()
	fs := fakestore.New()
	org := store.Organisation{ID: ids(8)(), PartnerID: partner, Name: "Org", Enabled: true, Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	fs.PutOrganisation(org)
	return authservers.NewService(fs, codec(t), func() time.Time { return epoch }, ids(3)), fs, org
}

// serverBody is the smallest valid server, with extra members (JSON, may
// be empty) appended.
func serverBody(extra string) []byte {
	b := `{"auto_registration_supported":false,"customer_friendly_name":"Acme Bank","customer_friendly_description":"Sign in"`
	if extra != "" {
		b += "," + extra
	}
	return []byte(b + "}")
}

func createServer(t *testing.T, s *authservers.Service, orgID, extra string) store.AuthServer {
	t.Helper()
	a, err := s.Create(context.Background(), partner, orgID, serverBody(extra))
	if err != nil {
		t.Fatalf("create server %s: %v", extra, err)
	}
	return a
}

func TestServerReferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _, org := newServers(t)
	a := createServer(t, s, org.ID, "")
	_, err := s.Create(ctx, partner, org.ID, serverBody(`"parent_authorisation_server_id":"`+ids(7)()+`"`))
	wantFields(t, err, "parent_authorisation_server_id")
	_, err = s.Patch(ctx, partner, org.ID, a.ID, etag.Condition{}, []byte(`{"superseded_by_authorisation_server_id":"`+a.ID+`"}`))
	wantFields(t, err, "superseded_by_authorisation_server_id")

	b := createServer(t, s, org.ID, `"parent_authorisation_server_id":"`+a.ID+`"`)
	err = s.Delete(ctx, partner, org.ID, a.ID, etag.Condition{})
	wantProblem(t, err, http.StatusConflict, "authorisation server "+a.ID+" is the parent or superseding server of "+b.ID+"; change or delete them first")
	if err := s.Delete(ctx, partner, org.ID, b.ID, etag.Condition{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, partner, org.ID, a.ID, etag.Condition{}); err != nil {
		t.Errorf("delete a once nothing references it: %v", err)
	}
}

func TestServerStoreErrors(t *testing.T) {
	t.Parallel()
	conflictOf := func(r store.ConflictReason, id string, ids ...string) error {
		return &store.ConflictError{Reason: r, Entity: store.EntityAuthServer, ID: id, IDs: ids}
	}
	type env struct {
		s      *authservers.Service
		org    store.Organisation
		server store.AuthServer
	}
	create := func(t *testing.T, e env) error {
		_, err := e.s.Create(context.Background(), partner, e.org.ID, serverBody(""))
		return err
	}
	patch := func(cond func(*testing.T) etag.Condition) func(*testing.T, env) error {
		return func(t *testing.T, e env) error {
			_, err := e.s.Patch(context.Background(), partner, e.org.ID, e.server.ID, cond(t), []byte(`{"customer_friendly_name":"Renamed"}`))
			return err
		}
	}
	del := func(t *testing.T, e env) error {
		return e.s.Delete(context.Background(), partner, e.org.ID, e.server.ID, etag.Condition{})
	}
	cases := []struct {
		name, method string
		inject       func(env) error
		call         func(*testing.T, env) error
		status       int
		detail       string // {org} and {server} stand for the ids
	}{
		{"id taken", "CreateAuthServer", func(e env) error { return conflictOf(store.ConflictIDTaken, "dup-id") }, create,
			409, "authorisation server dup-id exists"},
		{"organisation changed", "CreateAuthServer", func(e env) error {
			return &store.ConflictError{Reason: store.ConflictOrganisationChanged, Entity: store.EntityOrganisation, ID: e.org.ID}
		}, create, 409, "organisation {org} changed while the request ran; retry"},
		{"organisation gone", "CreateAuthServer", func(env) error { return store.ErrNotFound }, create, 404, ""},
		{"reference gone", "UpdateAuthServer", func(env) error { return conflictOf(store.ConflictReferenceGone, "gone-id") }, patch(func(*testing.T) etag.Condition { return etag.Condition{} }),
			409, "the referenced authorisation server gone-id was deleted while the request ran"},
		{"changed", "UpdateAuthServer", func(e env) error { return conflictOf(store.ConflictChanged, e.server.ID) }, patch(func(*testing.T) etag.Condition { return etag.Condition{} }),
			409, "authorisation server {server} changed while the request ran; retry"},
		{"version with If-Match", "UpdateAuthServer", func(e env) error {
			return &store.VersionError{Entity: store.EntityAuthServer, ID: e.server.ID, Current: 5}
		}, patch(func(t *testing.T) etag.Condition { return ifMatch(t, 1) }), 412, "authorisation server {server} was changed by another request (now at version 5)"},
		{"referenced, named", "DeleteAuthServer", func(e env) error { return conflictOf(store.ConflictReferenced, e.server.ID, "ref-1", "ref-2") }, del,
			409, "authorisation server {server} is the parent or superseding server of ref-1, ref-2; change or delete them first"},
		{"referenced, unnamed", "DeleteAuthServer", func(e env) error { return conflictOf(store.ConflictReferenced, e.server.ID) }, del,
			409, "authorisation server {server} is referenced by another server of the organisation; retry"},
		{"throttled", "DeleteAuthServer", func(env) error { return fmt.Errorf("%w: RequestLimitExceeded", store.ErrUnavailable) }, del, 503, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, fs, org := newServers(t)
			e := env{s: s, org: org, server: createServer(t, s, org.ID, "")}
			fs.FailNext(tc.method, tc.inject(e))
			err := tc.call(t, e)
			p := wantProblem(t, err, tc.status, strings.NewReplacer("{org}", e.org.ID, "{server}", e.server.ID).Replace(tc.detail))
			if strings.Contains(p.Detail, "store:") || strings.Contains(p.Detail, "RequestLimit") {
				t.Errorf("detail %q leaks the cause", p.Detail)
			}
		})
	}
}
