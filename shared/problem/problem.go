// Package problem holds the error kinds of the management API and the one
// place that maps them to HTTP status codes and RFC 9457 problem+json bodies.
//
// Domain and store code return (wrapped) kinds such as ErrNotFound or a
// *ValidationError; handlers pass any error to Write. An error of no known
// kind becomes a generic 500 whose cause goes to the log only.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/partnerapi/partner-api/shared/logging"
)

// The error kinds. Wrap them with fmt.Errorf("...: %w", ErrX) or use the
// constructors below; Write finds them with errors.Is.
var (
	ErrInvalid          = errors.New("invalid request")
	ErrUnauthenticated  = errors.New("unauthenticated")
	ErrForbidden        = errors.New("forbidden")
	ErrNotFound         = errors.New("not found")
	ErrMethodNotAllowed = errors.New("method not allowed")
	ErrConflict         = errors.New("conflict")
	ErrPrecondition     = errors.New("precondition failed")
	ErrTooLarge         = errors.New("payload too large")
	ErrUnsupportedMedia = errors.New("unsupported media type")
	ErrRateLimited      = errors.New("rate limited")
	ErrUnavailable      = errors.New("service unavailable")
)

// FieldError names one invalid field by its JSON path, e.g. "return_urls[0]".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// MaxErrors bounds the violations a ValidationError lists: a body with
// thousands of bad array elements gets a bounded answer and log line.
const MaxErrors = 100

// ValidationError lists the violations found in a request, the first
// MaxErrors of them; Omitted counts the others. It is an ErrInvalid.
type ValidationError struct {
	Errors  []FieldError
	Omitted int
}

func (e *ValidationError) Error() string { return "invalid request: " + e.Summary() }

// Summary lists every violation as "field: message", separated by "; ",
// for a response that has no errors[] (e.g. an RFC 6749 error_description).
func (e *ValidationError) Summary() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	if e.Omitted > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", e.Omitted))
	}
	return strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for a *ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Add records a violation of field (counts it in Omitted past MaxErrors).
func (e *ValidationError) Add(field, format string, args ...any) {
	if len(e.Errors) >= MaxErrors {
		e.Omitted++
		return
	}
	e.Errors = append(e.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Count is the number of violations found, listed or not: compare it
// before and after a check to tell whether the check found one.
func (e *ValidationError) Count() int { return len(e.Errors) + e.Omitted }

// Merge records the violations of o after e's, within MaxErrors.
func (e *ValidationError) Merge(o *ValidationError) {
	for _, f := range o.Errors {
		e.Add(f.Field, "%s", f.Message)
	}
	e.Omitted += o.Omitted
}

// Err returns e when it holds a violation, else nil.
func (e *ValidationError) Err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// Invalid returns a ValidationError with a single field violation.
func Invalid(field, format string, args ...any) error {
	v := &ValidationError{}
	v.Add(field, format, args...)
	return v
}

// Detailed is an error whose Detail is safe to show to the caller, wrapping
// a kind. Use it for 4xx errors whose message helps the caller.
type Detailed struct {
	Kind   error
	Detail string
	// Header holds response headers to add, e.g. WWW-Authenticate or Allow.
	Header http.Header
}

func (e *Detailed) Error() string { return e.Kind.Error() + ": " + e.Detail }
func (e *Detailed) Unwrap() error { return e.Kind }

// New returns an error of kind with a caller-facing detail.
func New(kind error, format string, args ...any) error {
	return &Detailed{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Problem is the RFC 9457 body.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Code   string       `json:"code"`
	Errors []FieldError `json:"errors,omitempty"`
}

type kindInfo struct {
	kind   error
	status int
	code   string
}

// kinds is the one table from error kind to status and code.
var kinds = []kindInfo{
	{ErrInvalid, http.StatusBadRequest, "invalid_request"},
	{ErrUnauthenticated, http.StatusUnauthorized, "unauthorized"},
	{ErrForbidden, http.StatusForbidden, "forbidden"},
	{ErrNotFound, http.StatusNotFound, "not_found"},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed"},
	{ErrConflict, http.StatusConflict, "conflict"},
	{ErrPrecondition, http.StatusPreconditionFailed, "precondition_failed"},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, "payload_too_large"},
	{ErrUnsupportedMedia, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	{ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{ErrUnavailable, http.StatusServiceUnavailable, "service_unavailable"},
}

// TypeBase prefixes the problem type URIs; the OpenAPI file documents each.
const TypeBase = "https://partner-api.dev/problems/"

// From builds the problem for err. Errors of no known kind give a 500 that
// reveals nothing about the cause.
func From(err error) Problem {
	p := Problem{Status: http.StatusInternalServerError, Code: "internal_error",
		Detail: "An unexpected error occurred. Quote the x-fapi-interaction-id when contacting support."}
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			p.Status, p.Code, p.Detail = k.status, k.code, ""
			break
		}
	}
	p.Type = TypeBase + p.Code
	p.Title = http.StatusText(p.Status)
	if p.Status < 500 {
		var d *Detailed
		if errors.As(err, &d) {
			p.Detail = d.Detail
		}
		var v *ValidationError
		if errors.As(err, &v) {
			p.Errors = v.Errors
			if p.Detail == "" {
				p.Detail = "The request has invalid fields; see errors."
			}
			if v.Omitted > 0 {
				p.Detail += fmt.Sprintf(" Only the first %d are listed: %d more were found.", MaxErrors, v.Omitted)
			}
		}
	}
	return p
}

// Write sends err as problem+json and logs it: 5xx at Error level with the
// cause, 4xx at Info level.
func Write(w http.ResponseWriter, r *http.Request, err error) {
	p := From(err)
	var d *Detailed
	if errors.As(err, &d) {
		for k, vs := range d.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	level := slog.LevelInfo
	if p.Status >= 500 {
		level = slog.LevelError
	}
	logging.FromContext(r.Context(), nil).LogAttrs(r.Context(), level, "request failed",
		slog.Int("status", p.Status), slog.String("code", p.Code), slog.String("err", err.Error()))
	WriteProblem(w, p)
}

// WriteProblem sends p as it is.
func WriteProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
