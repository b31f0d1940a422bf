package middleware

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/partnerapi/partner-api/shared/problem"
)

// FuzzInteractionID: any x-fapi-interaction-id header is echoed only when
// it is an RFC 4122 UUID in the 8-4-4-4-12 form; otherwise the request is
// refused with 400 and a fresh id. Never a panic or a 5xx.
func FuzzInteractionID(f *testing.F) {
	for _, s := range []string{"9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "", "abc", "{9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b}",
		"urn:uuid:9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "9b2f8a1e3c4d4e5f8a9b0c1d2e3f4a5b", strings.Repeat("9", 36)} {
		f.Add(s)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	// The logger's output is not under test here (see TestInteractionID).
	h := Wrap(ok, Options{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 10, WriteError: problem.Write})
	f.Fuzz(func(t *testing.T, given string) {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header[http.CanonicalHeaderKey(InteractionIDHeader)] = []string{given}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(InteractionIDHeader)
		valid := len(given) == 36 && uuid.Validate(given) == nil
		switch {
		case given == "" && rec.Code == http.StatusNoContent:
		case valid && (rec.Code != http.StatusNoContent || got != given):
			t.Fatalf("valid %q: status %d, echoed %q", given, rec.Code, got)
		case !valid && given != "" && (rec.Code != http.StatusBadRequest || got == given):
			t.Fatalf("invalid %q: status %d, echoed %q", given, rec.Code, got)
		}
		if !IsUUID(got) {
			t.Fatalf("answered with the id %q", got)
		}
	})
}
