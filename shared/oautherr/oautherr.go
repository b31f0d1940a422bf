// Package oautherr holds the OAuth 2.0 errors: those of RFC 6749 §5.2 that the
// OAuth endpoints (token, introspection, revocation) answer, and RFC 6750's
// invalid_token of a bearer token that fails verification; and it writes the
// former.
//
// An Error carries its code and a caller-facing description and, apart from
// them, a hidden cause that goes to the log only (as fosite does), so nothing
// internal ever reaches the response and no caller parses Error() to find
// the code.
package oautherr

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/partnerapi/partner-api/shared/logging"
)

// Error is an OAuth 2.0 error: its code, a description safe to show the
// caller, and a hidden cause for the log.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
	cause       error
	header      http.Header
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.Description + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Description
}

// Unwrap returns the hidden cause.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, token.ErrInvalid) matches every invalid_token error
// whatever its description.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Status is the HTTP status of the error.
func (e *Error) Status() int { return e.status }

// WithCause returns a copy of e carrying cause for the log.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// CodeInvalidToken is RFC 6750's error code of a refused bearer token.
const CodeInvalidToken = "invalid_token"

func newError(code string, status int, description string) *Error {
	return &Error{Code: code, Description: Description(description), status: status}
}

// Description returns s as an RFC 6749 §5.2 error_description may carry
// it: printable ASCII without '"' or '\' (%x20-21 / %x23-5B / %x5D-7E).
// Quotes become apostrophes, backslashes slashes, an ellipsis three dots,
// and any other character '?', so that a description quoting the caller's
// input stays readable and valid.
func Description(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, strings.ReplaceAll(s, "…", "..."))
}

// InvalidRequest is a malformed request (400).
func InvalidRequest(description string) *Error {
	return newError("invalid_request", http.StatusBadRequest, description)
}

// InvalidGrant is an invalid, expired, used or revoked authorization code
// or refresh token, or a redirect URI or PKCE verifier that does not match
// it (400).
func InvalidGrant(description string) *Error {
	return newError("invalid_grant", http.StatusBadRequest, description)
}

// UnauthorizedClient is a client not allowed this grant (400).
func UnauthorizedClient(description string) *Error {
	return newError("unauthorized_client", http.StatusBadRequest, description)
}

// InvalidClient is a failed client authentication (401 with WWW-Authenticate).
func InvalidClient(description string) *Error {
	return newError("invalid_client", http.StatusUnauthorized, description)
}

// UnsupportedGrantType is a grant type this server does not issue (400).
func UnsupportedGrantType(description string) *Error {
	return newError("unsupported_grant_type", http.StatusBadRequest, description)
}

// InvalidScope is a scope that is unknown or exceeds what the client may have (400).
func InvalidScope(description string) *Error {
	return newError("invalid_scope", http.StatusBadRequest, description)
}

// InvalidToken is a bearer token that is malformed, badly signed, expired,
// revoked or otherwise refused (RFC 6750 §3.1, 401).
func InvalidToken(description string) *Error {
	return newError(CodeInvalidToken, http.StatusUnauthorized, description)
}

// ServerError is an unexpected failure (500); its description reveals nothing.
func ServerError(cause error) *Error {
	return newError("server_error", http.StatusInternalServerError,
		"The server could not complete the request; retry later.").WithCause(cause)
}

// TemporarilyUnavailable is an overload or dependency outage (503).
func TemporarilyUnavailable(cause error) *Error {
	return newError("temporarily_unavailable", http.StatusServiceUnavailable,
		"The service is temporarily unavailable; retry later.").WithCause(cause)
}

// Write sends err as an RFC 6749 error body. An err that is not an *Error
// becomes server_error. invalid_client answers 401 with a WWW-Authenticate
// challenge naming the Basic scheme (RFC 6749 §5.2).
func Write(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = ServerError(err)
	}
	level := slog.LevelInfo
	if e.status >= 500 {
		level = slog.LevelError
	}
	logging.FromContext(r.Context(), nil).LogAttrs(r.Context(), level, "oauth request failed",
		slog.Int("status", e.status), slog.String("code", e.Code), slog.String("err", e.Error()))
	h := w.Header()
	for k, vs := range e.header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="partner-api", charset="UTF-8"`)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(e)
}

// WithHeader returns a copy of e answered with the header k: v added
// (e.g. Retry-After).
func (e *Error) WithHeader(k, v string) *Error {
	c := *e
	c.header = c.header.Clone()
	if c.header == nil {
		c.header = http.Header{}
	}
	c.header.Add(k, v)
	return &c
}

// WithStatus returns a copy of e answered with another HTTP status (e.g. 405
// for a wrong method).
func (e *Error) WithStatus(status int) *Error {
	c := *e
	c.status = status
	return &c
}
