package servicetest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/fakestore"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/clients"
	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/store"
)

// partnerCaller is the partner itself.
var partnerCaller = auth.Caller{ClientID: partner, PartnerID: partner}

// newClients returns a clients service on a fake store holding one
// organisation of the partner, which restricts scopes to s1 and s2.
func newClients(t *testing.T) (*clients.Service, *fakestore.Store, store.Organisation) {
	t.Helper()
	fs := fakestore.New()
	org := store.Organisation{ID: ids(9)(), PartnerID: partner, Name: "Org", AllowedScopes: []string{"s1", "s2"},
		Enabled: true, Version: 1, CreatedAt: epoch, UpdatedAt: epoch}
	fs.PutOrganisation(org)
	return clients.NewService(fs, codec(t), func() time.Time { return epoch }, ids(2)), fs, org
}

func createClient(t *testing.T, s *clients.Service, orgID, body string) store.Client {
	t.Helper()
	issued, err := s.Create(context.Background(), partnerCaller, orgID, []byte(body))
	if err != nil {
		t.Fatalf("create client %s: %v", body, err)
	}
	return issued.Client
}

func TestClientInsideItsOrganisation(t *testing.T) {
	t.Parallel()
	s, fs, org := newClients(t)
	_, err := s.Create(context.Background(), partnerCaller, org.ID, []byte(`{"name":"Wide","additional_scopes":["s1","s3"]}`))
	wantFields(t, err, "additional_scopes[1]")
	c := createClient(t, s, org.ID, `{"name":"Inside","additional_scopes":["s1"]}`)
	got, err := fs.GetOrganisation(context.Background(), partner, org.ID)
	if err != nil || got.ClientCount != 1 || got.ChildSeq != org.ChildSeq+1 {
		t.Errorf("organisation after a client create: count %d, seq %d, %v; want 1, %d", got.ClientCount, got.ChildSeq, err, org.ChildSeq+1)
	}
	if c.Version != 1 || c.OrganisationID != org.ID {
		t.Errorf("client %+v, want version 1 in %s", c, org.ID)
	}
}

// TestClientRetriesWhenItsOrganisationChanges checks the retry the store's
// ConflictOrganisationChanged asks for, and the 409 when it keeps failing.
func TestClientRetriesWhenItsOrganisationChanges(t *testing.T) {
	t.Parallel()
	changed := func(orgID string) error {
		return &store.ConflictError{Reason: store.ConflictOrganisationChanged, Entity: store.EntityOrganisation, ID: orgID}
	}
	for _, tc := range []struct {
		failures, calls int
		status          int
	}{{1, 2, 0}, {2, 3, 0}, {3, 3, http.StatusConflict}} {
		t.Run(fmt.Sprintf("%d failures", tc.failures), func(t *testing.T) {
			t.Parallel()
			s, fs, org := newClients(t)
			for range tc.failures {
				fs.FailNext("CreateClient", changed(org.ID))
			}
			_, err := s.Create(context.Background(), partnerCaller, org.ID, []byte(`{"name":"Raced"}`))
			if n := fs.Calls("CreateClient"); n != tc.calls {
				t.Errorf("CreateClient called %d times, want %d", n, tc.calls)
			}
			if tc.status == 0 {
				if err != nil {
					t.Errorf("create = %v, want success after retrying", err)
				}
				return
			}
			wantProblem(t, err, tc.status, "the client's organisation was changed by another request while this one ran; retry")
		})
	}
}

func TestClientStoreErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("id taken", func(t *testing.T) {
		t.Parallel()
		s, _, org := newClients(t)
		createClient(t, s, org.ID, `{"name":"First","client_id":"acme-web-1"}`)
		_, err := s.Create(ctx, partnerCaller, org.ID, []byte(`{"name":"Second","client_id":"acme-web-1"}`))
		wantProblem(t, err, http.StatusConflict, `client_id "acme-web-1" is taken`)
	})
	t.Run("version with If-Match", func(t *testing.T) {
		t.Parallel()
		s, fs, org := newClients(t)
		c := createClient(t, s, org.ID, `{"name":"C"}`)
		fs.FailNext("UpdateClient", &store.VersionError{Entity: store.EntityClient, ID: c.ID, Current: 9})
		_, err := s.Patch(ctx, partnerCaller, c.ID, ifMatch(t, 1), []byte(`{"name":"Renamed"}`))
		wantProblem(t, err, http.StatusPreconditionFailed, "client "+c.ID+" was changed by another request (now at version 9)")
	})
	t.Run("rotation retries a lost race without If-Match", func(t *testing.T) {
		t.Parallel()
		s, fs, org := newClients(t)
		c := createClient(t, s, org.ID, `{"name":"C"}`)
		fs.FailNext("UpdateClient", &store.VersionError{Entity: store.EntityClient, ID: c.ID, Current: 2})
		issued, err := s.RotateSecret(ctx, partnerCaller, c.ID, etag.Condition{}, nil)
		if err != nil || issued.Secret == "" || fs.Calls("UpdateClient") != 2 {
			t.Errorf("rotate = %v (secret %t, %d writes); want success on the second write", err, issued.Secret != "", fs.Calls("UpdateClient"))
		}
	})
	t.Run("a chosen short secret survives the retry, stored with argon2id", func(t *testing.T) {
		t.Parallel()
		s, fs, org := newClients(t)
		c := createClient(t, s, org.ID, `{"name":"C"}`)
		fs.FailNext("UpdateClient", &store.VersionError{Entity: store.EntityClient, ID: c.ID, Current: 2})
		const chosen = "u7/JvJ+:X?Wc]6}."
		issued, err := s.RotateSecret(ctx, partnerCaller, c.ID, etag.Condition{}, []byte(`{"client_secret":"`+chosen+`"}`))
		if err != nil || issued.Secret != chosen || fs.Calls("UpdateClient") != 2 {
			t.Fatalf("rotate = %v (secret %q, %d writes); want the chosen secret on the second write", err, issued.Secret, fs.Calls("UpdateClient"))
		}
		if ok, _ := credential.Verify(chosen, issued.Client.SecretHash); !ok || !credential.Slow(issued.Client.SecretHash) {
			t.Error("the stored hash is not an argon2id hash of the chosen secret")
		}
	})
	t.Run("extra_data is checked with the rules and kept as sent", func(t *testing.T) {
		t.Parallel()
		s, _, org := newClients(t)
		c := createClient(t, s, org.ID, `{"name":"C","extra_data":{"b": 1, "a": [1, 2.50]}}`)
		if c.ExtraData != `{"b":1,"a":[1,2.50]}` {
			t.Errorf("stored %q, want the compact form in the order sent", c.ExtraData)
		}
		_, err := s.Create(ctx, partnerCaller, org.ID, []byte(`{"name":"","extra_data":{"a":{"b":{"c":{"d":{"e":{}}}}}}}`))
		if p := wantProblem(t, err, http.StatusBadRequest, ""); len(p.Errors) != 2 || p.Errors[1].Field != "extra_data.a.b.c.d.e" {
			t.Errorf("errors %+v, want name and extra_data.a.b.c.d.e", p.Errors)
		}
	})
	t.Run("gone meanwhile", func(t *testing.T) {
		t.Parallel()
		s, fs, org := newClients(t)
		c := createClient(t, s, org.ID, `{"name":"C"}`)
		fs.FailNext("DeleteClient", store.ErrNotFound)
		wantProblem(t, s.Delete(ctx, partnerCaller, c.ID, etag.Condition{}), http.StatusNotFound, "")
	})
	t.Run("organisation gone on create", func(t *testing.T) {
		t.Parallel()
		s, fs, org := newClients(t)
		fs.FailNext("CreateClient", store.ErrNotFound)
		_, err := s.Create(ctx, partnerCaller, org.ID, []byte(`{"name":"C"}`))
		wantProblem(t, err, http.StatusNotFound, "")
	})
	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		s, fs, org := newClients(t)
		c := createClient(t, s, org.ID, `{"name":"C"}`)
		fs.FailNext("GetClient", fmt.Errorf("%w: ProvisionedThroughputExceededException", store.ErrUnavailable))
		_, err := s.Get(ctx, partnerCaller, c.ID)
		if p := wantProblem(t, err, http.StatusServiceUnavailable, ""); p.Detail != "" {
			t.Errorf("detail %q, want none", p.Detail)
		}
	})
}
