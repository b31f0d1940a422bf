// Package middleware holds the HTTP middleware every endpoint group runs
// behind: panic recovery, the x-fapi-interaction-id header, the per-request
// JSON logger and access log, and the request body size limit.
package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/problem"
)

// InteractionIDHeader is the FAPI interaction id header.
const InteractionIDHeader = "x-fapi-interaction-id"

// ErrorWriter writes an error in the group's error format (problem+json for
// management endpoints, RFC 6749 errors for OAuth endpoints).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Options configure Wrap.
type Options struct {
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; reading past it fails.
	MaxBodyBytes int64
	// WriteError writes errors the middleware itself raises.
	WriteError ErrorWriter
}

// Wrap runs h behind every middleware of the package, outermost first:
// interaction id, security headers, logger and access log, panic recovery,
// body limit.
func Wrap(h http.Handler, opts Options) http.Handler {
	return interaction(opts, recoverer(opts, limitBody(opts.MaxBodyBytes, h)))
}

// interaction echoes a valid x-fapi-interaction-id or generates one, puts a
// logger carrying it in the context, and writes one access log line.
func interaction(opts Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		given := r.Header.Get(InteractionIDHeader)
		id, valid := given, IsUUID(given)
		if !valid {
			id = uuid.NewString()
		}
		w.Header().Set(InteractionIDHeader, id)
		SecurityHeaders(w.Header())
		logger := opts.Logger.With(slog.String("interaction_id", id))
		r = r.WithContext(logging.WithLogger(context.WithValue(r.Context(), interactionKey{}, id), logger))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		if given != "" && !valid {
			opts.WriteError(rec, r, problem.Invalid("x-fapi-interaction-id", "must be an RFC 4122 UUID"))
		} else {
			next.ServeHTTP(rec, r)
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("duration_us", time.Since(start).Microseconds()))
	})
}

// securityHeaders are the headers of every response (OWASP's REST security
// baseline): no MIME sniffing, no framing, no caching, no referrer, HTTPS
// only, and a policy that lets a response load nothing. A handler that
// serves something else (the hosted sign-in page, a cacheable JWKS)
// overrides the ones it must.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":    "nosniff",
	"X-Frame-Options":           "DENY",
	"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
	"Cache-Control":             "no-store",
	"Referrer-Policy":           "no-referrer",
	"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}

// SecurityHeaders sets the security header baseline on h.
func SecurityHeaders(h http.Header) {
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
}

// SecurityHeaderValues returns the baseline, for responses the service does
// not write itself (the API gateway's own errors).
func SecurityHeaderValues() map[string]string { return maps.Clone(securityHeaders) }

type interactionKey struct{}

// InteractionID returns the request's x-fapi-interaction-id (given or
// generated); "" outside Wrap.
func InteractionID(ctx context.Context) string {
	id, _ := ctx.Value(interactionKey{}).(string)
	return id
}

// IsUUID reports whether s is a UUID in the RFC 4122 textual form
// (8-4-4-4-12 hexadecimal digits).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

func recoverer(opts Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logging.FromContext(r.Context(), opts.Logger).Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				opts.WriteError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			// Refuse before reading; the handler's decoder would fail anyway.
			r.Body = http.MaxBytesReader(w, r.Body, 0)
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
