// Package auth is the Bearer token middleware of the management endpoints
// and the caller it puts in the request context.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
)

// Caller is the authenticated principal of a request.
type Caller struct {
	ClientID string
	// PartnerID owns every resource the caller may see.
	PartnerID string
	// OrganisationID is set for an organisation's client, empty for a partner.
	OrganisationID string
	Scopes         []string
	TokenID        string
	ExpiresAt      time.Time
}

// IsPartner reports whether the caller is the partner itself rather than a
// client of one of its organisations.
func (c Caller) IsPartner() bool { return c.OrganisationID == "" }

// HasScope reports whether the caller's token carries s.
func (c Caller) HasScope(s string) bool { return slices.Contains(c.Scopes, s) }

type ctxKey struct{}

// FromContext returns the request's caller; ok is false outside Require.
func FromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(ctxKey{}).(Caller)
	return c, ok
}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// Verifier checks a bearer token (satisfied by *token.Verifier). A token it
// refuses gives an invalid_token *oautherr.Error, whose description the 401
// shows; any other error means it could not tell (a 5xx).
type Verifier interface {
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

// Require admits requests with a valid bearer token and puts the caller in
// the context; others get 401 problem+json with an RFC 6750 challenge.
func Require(v Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := Bearer(r.Header.Get("Authorization"))
		if !ok {
			problem.Write(w, r, challenge("", "Authorization: Bearer <access_token> is required"))
			return
		}
		claims, err := v.Verify(r.Context(), raw)
		if invalid, ok := errors.AsType[*oautherr.Error](err); ok && invalid.Code == oautherr.CodeInvalidToken {
			problem.Write(w, r, challenge(invalid.Code, invalid.Description))
			return
		}
		if err != nil {
			problem.Write(w, r, stateError(err))
			return
		}
		if claims.EndUser() {
			// A sign-in token acts for an end user, never as its client:
			// it must not manage the client (e.g. rotate its secret).
			problem.Write(w, r, &problem.Detailed{
				Kind: problem.ErrForbidden, Detail: "an end user's access token is not accepted by the management endpoints",
				Header: http.Header{"Www-Authenticate": {`Bearer realm="partner-api", error="insufficient_scope"`}},
			})
			return
		}
		scopes, _ := scope.Parse(claims.Scope)
		c := Caller{
			ClientID: claims.ClientID, PartnerID: claims.PartnerID, OrganisationID: claims.OrganisationID,
			Scopes: scopes, TokenID: claims.ID, ExpiresAt: claims.ExpiresAt.Time,
		}
		next.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
	})
}

// RequireScope returns problem.ErrForbidden (with an RFC 6750
// insufficient_scope challenge) unless the caller has s.
func RequireScope(ctx context.Context, s string) error {
	c, ok := FromContext(ctx)
	if !ok {
		return challenge("", "authentication required")
	}
	if !c.HasScope(s) {
		return &problem.Detailed{
			Kind:   problem.ErrForbidden,
			Detail: "the access token lacks the scope " + s,
			Header: http.Header{"Www-Authenticate": {`Bearer realm="partner-api", error="insufficient_scope", scope="` + s + `"`}},
		}
	}
	return nil
}

// Bearer extracts the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 7235 §2.1).
func Bearer(h string) (string, bool) {
	scheme, raw, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	raw = strings.TrimSpace(raw)
	return raw, raw != ""
}

func challenge(code, detail string) error {
	c := `Bearer realm="partner-api"`
	if code != "" {
		c += `, error="` + code + `"`
	}
	return &problem.Detailed{Kind: problem.ErrUnauthenticated, Detail: detail, Header: http.Header{"Www-Authenticate": {c}}}
}

// stateError gives a failed check of a token's state its kind: 503 when
// DynamoDB throttles (the caller may retry), else the 500 of an unknown
// error, whose cause is logged only.
func stateError(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%w: %w", problem.ErrUnavailable, err)
	}
	return err
}
