package middleware

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/problem"
)

// TestMain runs the tests under Lambda's log environment, so that serve logs
// what a function logs.
func TestMain(m *testing.M) { testenv.Unit(m) }

// serve runs req through h behind Wrap, logging with the production Lambda
// logger, and returns the response and the log.
func serve(t *testing.T, h http.Handler, req *http.Request) (*httptest.ResponseRecorder, string) {
	t.Helper()
	logger, log := testenv.LambdaLogger(t)
	wrapped := Wrap(h, Options{Logger: logger, MaxBodyBytes: 10, WriteError: problem.Write})
	rec := httptest.NewRecorder()
	wrapped.ServeHTTP(rec, req)
	return rec, log.String()
}

func TestInteractionID(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	tests := []struct {
		name   string
		given  string
		status int
		echo   bool
	}{
		{"absent: generated", "", 204, false},
		{"valid: echoed", "9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", 204, true},
		{"upper case valid", "9B2F8A1E-3C4D-4E5F-8A9B-0C1D2E3F4A5B", 204, true},
		{"not a UUID", "abc", 400, false},
		{"UUID without hyphens", "9b2f8a1e3c4d4e5f8a9b0c1d2e3f4a5b", 400, false},
		{"urn form", "urn:uuid:9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", 400, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.given != "" {
				req.Header.Set(InteractionIDHeader, tc.given)
			}
			rec, log := serve(t, ok, req)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d", rec.Code, tc.status)
			}
			got := rec.Header().Get(InteractionIDHeader)
			if !IsUUID(got) {
				t.Errorf("response id %q is not a UUID", got)
			}
			if tc.echo != (got == tc.given) {
				t.Errorf("response id = %q, given %q, echo %v", got, tc.given, tc.echo)
			}
			if !strings.Contains(log, `"interaction_id":"`+got+`"`) {
				t.Errorf("log %s lacks the interaction id", log)
			}
			if tc.status == 400 && !strings.Contains(rec.Body.String(), `"field":"x-fapi-interaction-id"`) {
				t.Errorf("body %s does not name the header", rec.Body)
			}
		})
	}
}

func TestRecoverGives500WithoutCause(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("database password is hunter2") })
	rec, log := serve(t, boom, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("got %d %s, want a 500 hiding the panic", rec.Code, rec.Body)
	}
	if !strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("panic not logged at error level: %s", log)
	}
}

func TestBodyLimit(t *testing.T) {
	read := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(413)
			return
		}
		w.WriteHeader(200)
	})
	for _, tc := range []struct {
		body   string
		status int
	}{{"0123456789", 200}, {"0123456789a", 413}} {
		rec, _ := serve(t, read, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body)))
		if rec.Code != tc.status {
			t.Errorf("body of %d bytes: status %d, want %d", len(tc.body), rec.Code, tc.status)
		}
	}
}

func TestAccessLog(t *testing.T) {
	_, log := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }),
		httptest.NewRequest(http.MethodPost, "/v1/things?secret=x", nil))
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(log)), &line); err != nil {
		t.Fatalf("log %q: %v", log, err)
	}
	// The keys Lambda's logger writes: "message", not slog's "msg".
	if line["message"] != "request" || line["status"] != float64(201) || line["path"] != "/v1/things" || line["method"] != "POST" {
		t.Errorf("access log = %v", line)
	}
	if strings.Contains(log, "secret=x") {
		t.Error("the query string was logged")
	}
}

func TestInteractionIDInContext(t *testing.T) {
	var got string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = InteractionID(r.Context()) })
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set(InteractionIDHeader, "9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
	rec, _ := serve(t, h, req)
	if got != "9b2f8a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b" || rec.Header().Get(InteractionIDHeader) != got {
		t.Errorf("got %q in the context, header %q, want the given id in both", got, rec.Header().Get(InteractionIDHeader))
	}
	if id := InteractionID(req.Context()); id != "" {
		t.Errorf("got %q outside Wrap, want empty", id)
	}
}

// TestSecurityHeaders: every response carries the baseline, errors the
// middleware writes and panics included; a handler may override one.
func TestSecurityHeaders(t *testing.T) {
	for _, tc := range []struct {
		name     string
		h        http.HandlerFunc
		given    string
		wantCC   string
		wantCode int
	}{
		{"handler", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, "", "no-store", 204},
		{"override", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}, "", "public, max-age=300", 200},
		{"middleware error", nil, "not-a-uuid", "no-store", 400},
		{"panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") }, "", "no-store", 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.given != "" {
				req.Header.Set(InteractionIDHeader, tc.given)
			}
			rec, _ := serve(t, tc.h, req)
			if rec.Code != tc.wantCode {
				t.Fatalf("status = %d, want %d", rec.Code, tc.wantCode)
			}
			for k, v := range map[string]string{
				"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
				"Referrer-Policy":         "no-referrer", "Cache-Control": tc.wantCC,
			} {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !strings.HasPrefix(rec.Header().Get("Strict-Transport-Security"), "max-age=") {
				t.Errorf("no Strict-Transport-Security")
			}
		})
	}
}
