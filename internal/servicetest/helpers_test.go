package servicetest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/fakestore"
	"github.com/partnerapi/partner-api/shared/clients"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/organisations"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

// The fake satisfies the interfaces the services take, as the store does.
var (
	_ organisations.Store = (*fakestore.Store)(nil)
	_ clients.Store       = (*fakestore.Store)(nil)
)

const partner = "partner-1"

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ids returns a generator of distinct UUID-shaped ids.
func ids(prefix int) func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("%08x-0000-4000-8000-%012x", prefix, n)
	}
}

func codec(t *testing.T) *cursor.Codec {
	t.Helper()
	c, err := cursor.New(make([]byte, cursor.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newOrgs returns an organisations service on a fresh fake store.
func newOrgs(t *testing.T) (*organisations.Service, *fakestore.Store) {
	t.Helper()
	fs := fakestore.New()
	return organisations.NewService(fs, codec(t), func() time.Time { return epoch }, ids(1)), fs
}

// ifMatch is the condition of a request with If-Match: "<version>".
func ifMatch(t *testing.T, version int64) etag.Condition {
	t.Helper()
	r := httptest.NewRequest(http.MethodPatch, "/", nil)
	r.Header.Set("If-Match", etag.FromVersion(version))
	c, err := etag.IfMatch(r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// create creates an organisation from body, failing t on an error.
func create(t *testing.T, s *organisations.Service, body string) store.Organisation {
	t.Helper()
	o, err := s.Create(context.Background(), partner, []byte(body))
	if err != nil {
		t.Fatalf("create %s: %v", body, err)
	}
	return o
}

// wantProblem checks that err answers status with a detail containing
// detail (every part of it, when it has several separated by "|").
func wantProblem(t *testing.T, err error, status int, detail string) problem.Problem {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %d %q", status, detail)
	}
	p := problem.From(err)
	if p.Status != status {
		t.Errorf("status = %d (%v), want %d", p.Status, err, status)
	}
	for _, part := range strings.Split(detail, "|") {
		if !strings.Contains(p.Detail, part) {
			t.Errorf("detail = %q, want it to contain %q", p.Detail, part)
		}
	}
	return p
}

// wantFields checks that err is a 400 naming exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	p := problem.From(err)
	if p.Status != http.StatusBadRequest {
		t.Fatalf("status = %d (%v), want 400", p.Status, err)
	}
	var got []string
	for _, f := range p.Errors {
		got = append(got, f.Field)
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("fields = %v, want %v (%v)", got, fields, p.Errors)
	}
}
