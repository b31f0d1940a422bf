package tokenapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// baselineServer is the floor the token endpoint's CPU budget is measured
// against (issue 12): a minimal in-process ES384 token server. net/http, a
// map lookup of the client, a constant-time compare of the SHA-256 of the
// secret, claims like ours, an ES384 JWT signed in process. No storage, no
// metering, no logging.
type baselineServer struct {
	clients map[string][32]byte
	key     *ecdsa.PrivateKey
	kid     string
}

func newBaselineServer(b testing.TB, id, secret string) *baselineServer {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return &baselineServer{clients: map[string][32]byte{id: sha256.Sum256([]byte(secret))}, key: key, kid: "baseline"}
}

func (s *baselineServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	want, known := s.clients[id]
	got := sha256.Sum256([]byte(secret))
	if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]string{"alg": "ES384", "kid": s.kid, "typ": "at+jwt"})
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://partner-api.test", "sub": id, "aud": "https://partner-api.test", "client_id": id,
		"iat": now, "nbf": now, "exp": now + 86400, "jti": uuid.NewString(), "scope": "organisations:read",
	})
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha512.Sum384([]byte(input))
	rr, ss, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	sig := make([]byte, 96)
	rr.FillBytes(sig[:48])
	ss.FillBytes(sig[48:])
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": input + "." + enc.EncodeToString(sig), "token_type": "Bearer", "expires_in": 86400,
	})
}

// BenchmarkBaselineTokenServer is the floor of BenchmarkTokenEndpoint: the
// same requests, through the same httptest recorder, to baselineServer.
func BenchmarkBaselineTokenServer(b *testing.B) {
	s := newBaselineServer(b, "baseline-client", "baseline-secret-0123456789abcdef")
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
