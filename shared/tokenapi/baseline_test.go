package tokenapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

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
// h calls them), cpu-ms/op: the CPU time (user + system) of this process
// per token, from getrusage around the loop. The emulators run in other
// processes, so cpu-ms/op is our process's CPU alone.
func runTokenBenchmark(b *testing.B, h http.Handler, id, sec string) {
	b.Helper()
	b.ReportAllocs()
	before := processCPU(b)
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, sec)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(processCPU(b)-before)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
