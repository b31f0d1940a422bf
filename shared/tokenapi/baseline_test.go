package tokenapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/cpubench"
	"github.com/partnerapi/partner-api/internal/tokenbaseline"
)

// BenchmarkBaselineTokenServer is the floor of BenchmarkTokenEndpoint: the
// same requests, through the same httptest recorder, to baselineServer.
func BenchmarkBaselineTokenServer(b *testing.B) {
	s, err := tokenbaseline.New("baseline-client", "baseline-secret-0123456789abcdef")
	if err != nil {
		b.Fatal(err)
	}
	runTokenBenchmark(b, s, "baseline-client", "baseline-secret-0123456789abcdef")
}

// runTokenBenchmark posts client-credentials token requests to h and
// reports, beside ns/op (wall time, which includes the emulators' time when
// h calls them), cpu-ms/op: the CPU time of this process per token
// (cpubench.Loop). The emulators run in other processes, so cpu-ms/op is
// our process's CPU alone.
func runTokenBenchmark(b *testing.B, h http.Handler, id, sec string) {
	b.Helper()
	cpubench.Loop(b, func() {
		req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, sec)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
