package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		detail string
		fields int
	}{
		{"not found", fmt.Errorf("get org: %w", ErrNotFound), 404, "not_found", "", 0},
		{"conflict with detail", fmt.Errorf("op: %w", New(ErrConflict, "client id %q is taken", "x")), 409, "conflict", `client id "x" is taken`, 0},
		{"validation", fmt.Errorf("op: %w", Invalid("name", "is required")), 400, "invalid_request", "The request has invalid fields; see errors.", 1},
		{"precondition", ErrPrecondition, 412, "precondition_failed", "", 0},
		{"unavailable", fmt.Errorf("%w: throttled", ErrUnavailable), 503, "service_unavailable", "", 0},
		{"unknown error hides its cause", errors.New("dynamodb: AccessDeniedException: arn:aws:iam::123"), 500, "internal_error", "An unexpected error occurred. Quote the x-fapi-interaction-id when contacting support.", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := From(tc.err)
			if p.Status != tc.status || p.Code != tc.code || p.Detail != tc.detail || len(p.Errors) != tc.fields {
				t.Errorf("From() = %+v, want status %d code %s detail %q and %d field errors", p, tc.status, tc.code, tc.detail, tc.fields)
			}
			if p.Type != TypeBase+tc.code || p.Title != http.StatusText(tc.status) {
				t.Errorf("type/title = %s/%s", p.Type, p.Title)
			}
		})
	}
}

func TestWriteHidesInternalErrors(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, httptest.NewRequest(http.MethodGet, "/", nil), errors.New("secret-looking internal cause"))
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if strings.Contains(rec.Body.String(), "internal cause") {
		t.Errorf("body %s reveals the cause", rec.Body)
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code != "internal_error" {
		t.Errorf("body %s: %v", rec.Body, err)
	}
}

func TestWriteAddsHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	err := &Detailed{Kind: ErrMethodNotAllowed, Detail: "use GET", Header: http.Header{"Allow": {"GET"}}}
	Write(rec, httptest.NewRequest(http.MethodPost, "/", nil), err)
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET" {
		t.Errorf("got %d Allow=%q, want 405 Allow=GET", rec.Code, rec.Header().Get("Allow"))
	}
}
