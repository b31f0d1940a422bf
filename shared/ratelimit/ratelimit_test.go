package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/ratelimit"
)

// counter is a fake whose answer is the test's subject: the rule around it.
type counter struct {
	allowed bool
	err     error
	calls   int
}

func (c *counter) CountWrite(context.Context, string, time.Time, time.Time, int) (bool, error) {
	c.calls++
	return c.allowed, c.err
}

func TestWrites(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2026, 11, 29, 12, 0, 45, 0, time.UTC) }
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tc := range []struct {
		name      string
		method    string
		c         counter
		limit     int
		status    int
		calls     int
		retryWant string
	}{
		{"write allowed", http.MethodPost, counter{allowed: true}, 10, 204, 1, ""},
		{"write over the limit", http.MethodDelete, counter{}, 10, 429, 1, "16"},
		{"read never counted", http.MethodGet, counter{}, 10, 204, 0, ""},
		{"counter down: the write goes ahead", http.MethodPatch, counter{err: errors.New("throttled")}, 10, 204, 1, ""},
		{"limit off", http.MethodPut, counter{}, 0, 204, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			h := ratelimit.Writes(&c, tc.limit, now, ok)
			r := httptest.NewRequest(tc.method, "/v1/organisations", nil)
			r = r.WithContext(auth.WithCaller(r.Context(), auth.Caller{ClientID: "p", PartnerID: "p"}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.status || c.calls != tc.calls || rec.Header().Get("Retry-After") != tc.retryWant {
				t.Errorf("got %d, %d counts, Retry-After %q; want %d, %d, %q", rec.Code, c.calls, rec.Header().Get("Retry-After"), tc.status, tc.calls, tc.retryWant)
			}
		})
	}
}
