package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
)

// failingVerifier fails every verification with err, as a failed read of
// the token's state does.
type failingVerifier struct{ err error }

func (v failingVerifier) Verify(context.Context, string) (token.Claims, error) {
	return token.Claims{}, v.err
}

// TestRequireStateFailure checks the answer when the token's state cannot
// be read: 503 when DynamoDB throttles, else 500; never the cause.
func TestRequireStateFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"throttled", fmt.Errorf("token state: %w: ProvisionedThroughputExceededException", store.ErrUnavailable), http.StatusServiceUnavailable},
		{"unknown", errors.New("token state: connection reset"), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := auth.Require(failingVerifier{tc.err}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				t.Error("the handler ran")
			}))
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/v1/organisations", nil)
			r.Header.Set("Authorization", "Bearer x.y.z")
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			if body := w.Body.String(); strings.Contains(body, "Provisioned") || strings.Contains(body, "connection reset") {
				t.Errorf("body %s leaks the cause", body)
			}
		})
	}
}
