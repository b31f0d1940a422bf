// Package tokenapi is the token endpoint group: POST /v1/token (client
// credentials grant), introspection (RFC 7662), revocation (RFC 7009), the
// JWKS and the authorization server metadata (RFC 8414).
package tokenapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/discovery"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// Token lifetimes and the default algorithm of client tokens. A client's
// own access_token_lifetime and token_signing_algorithm override the defaults.
const (
	PartnerTokenLifetime       = 24 * time.Hour
	DefaultClientTokenLifetime = time.Hour
	DefaultClientAlgorithm     = signer.ES384
)

// MaxBodyBytes bounds a token, introspection or revocation request.
const MaxBodyBytes = 16 << 10

// Revoker records revoked token ids (satisfied by *store.Table).
type Revoker interface {
	RevokeToken(ctx context.Context, jti string, expires time.Time) error
}

// Meter counts issued tokens (satisfied by *usage.Meter). Token starts
// counting one token concurrently with the caller's work; done waits for the
// count and takes it back when the token was not issued. Neither fails nor
// blocks longer than the meter's short timeout: a failed count is the
// meter's to log.
type Meter interface {
	Token(ctx context.Context, partnerID, organisationID, clientID string) (done func(issued bool))
}

// Keys publishes the JWKS (satisfied by *signer.Signer).
type Keys interface {
	JWKS() signer.JWKSet
	Algorithms() []signer.Algorithm
}

// Deps are what the group needs.
type Deps struct {
	Principals Principals
	Revoker    Revoker
	Keys       Keys
	// Meter counts the tokens issued; nil counts nothing.
	Meter    Meter
	Issuer   *token.Issuer
	Verifier *token.Verifier
	// IssuerURL is the iss of tokens and the base of the metadata's URLs.
	IssuerURL string
	// PartnerAlgorithm signs partner tokens.
	PartnerAlgorithm signer.Algorithm
	// JWKSMaxAge is the JWKS's Cache-Control max-age: the cache lifetime
	// key rotation assumes (DefaultJWKSMaxAge when zero).
	JWKSMaxAge time.Duration
	Now        func() time.Time
	// Grants serves the sign-in grants (authorization_code,
	// refresh_token) and Refresh the refresh tokens at introspection and
	// revocation (grants.go); nil serves client credentials only.
	Grants  Grants
	Refresh RefreshTokens
	// VerifySecret checks a presented secret against a stored hash;
	// nil means credential.Verify (tests count the checks through it).
	VerifySecret func(secret, hash string) (bool, error)
}

// DefaultJWKSMaxAge is the JWKS's max-age when Deps sets none.
const DefaultJWKSMaxAge = 5 * time.Minute

type handler struct {
	Deps
}

// Operations are the group's operations by registry name (without
// middleware; the OAuth endpoints authenticate their callers themselves).
func Operations(d Deps) (endpoint.Operations, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.VerifySecret == nil {
		d.VerifySecret = credential.Verify
	}
	if d.JWKSMaxAge <= 0 {
		d.JWKSMaxAge = DefaultJWKSMaxAge
	}
	h := &handler{Deps: d}
	md, err := json.Marshal(discovery.Document(d.IssuerURL, d.Keys.Algorithms()))
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	metadataDoc := endpoint.Static(md, "application/json", DefaultJWKSMaxAge)
	return endpoint.Operations{
		"createToken": endpoint.Writes(h.token), "introspectToken": endpoint.Writes(h.introspect), "revokeToken": endpoint.Writes(h.revoke),
		"getJWKS":           h.jwks,
		"getServerMetadata": metadataDoc,
		// RFC 8414 §3.1: the path-inserted location when the issuer has a path.
		"getServerMetadataPathInserted": endpoint.PathInserted(discovery.IssuerPath(d.IssuerURL), metadataDoc),
	}, nil
}

// jwks serves the keys published now: the set changes as keys rotate.
func (h *handler) jwks(w http.ResponseWriter, r *http.Request) error {
	body, err := json.Marshal(h.Keys.JWKS())
	if err != nil {
		return fmt.Errorf("encode JWKS: %w", err)
	}
	return endpoint.Static(body, "application/jwk-set+json", h.JWKSMaxAge)(w, r)
}

// WriteError writes any error in the RFC 6749 format. Invalid requests the
// middleware refuses (problem kinds) and a method a path does not serve
// become invalid_request with the same caller-facing text (405 with Allow
// for the method); a path the group does not serve is a 404 problem; any
// other error that is not an *oautherr.Error becomes server_error.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	_, isOAuth := errors.AsType[*oautherr.Error](err)
	pe, isDetailed := errors.AsType[*problem.Detailed](err)
	switch {
	case isOAuth:
	case isDetailed && pe.Kind == problem.ErrMethodNotAllowed:
		e := oautherr.InvalidRequest(pe.Detail).WithStatus(http.StatusMethodNotAllowed)
		for _, allow := range pe.Header.Values("Allow") {
			e = e.WithHeader("Allow", allow)
		}
		err = e
	case errors.Is(err, problem.ErrNotFound):
		problem.Write(w, r, err)
		return
	case errors.Is(err, problem.ErrInvalid):
		description := "the request is invalid"
		if v, ok := errors.AsType[*problem.ValidationError](err); ok {
			description = v.Summary()
		} else if isDetailed {
			description = pe.Detail
		}
		err = oautherr.InvalidRequest(description)
	}
	oautherr.Write(w, r, err)
}

// tokenResponse is the RFC 6749 §5.1 success body.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	switch gt := form.Get("grant_type"); gt {
	case "":
		WriteError(w, r, oautherr.InvalidRequest("grant_type is required"))
		return
	case "client_credentials":
	case "authorization_code", "refresh_token":
		if h.Grants != nil {
			h.signInGrant(w, r, gt, form)
			return
		}
		WriteError(w, r, oautherr.UnsupportedGrantType(fmt.Sprintf("grant_type %q is not supported", gt)))
		return
	default:
		WriteError(w, r, oautherr.UnsupportedGrantType(fmt.Sprintf("grant_type %q is not supported; use client_credentials", truncate.String(gt, 40))))
		return
	}
	requested, err := scope.Parse(form.Get("scope"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	p, err := h.authenticate(r, form)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if !p.HasGrant(store.GrantClientCredentials) {
		WriteError(w, r, oautherr.UnauthorizedClient("the client may not use the client_credentials grant"))
		return
	}
	allowed := p.Scopes
	if p.Kind == store.KindPartner && !slices.Contains(allowed, scope.TokensMint) {
		allowed = append(slices.Clip(allowed), scope.TokensMint) // partners created before it existed
	}
	granted, err := scope.Narrow(requested, allowed)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	sub, err := h.subject(p, scope.Union(granted, p.RequiredScopes))
	if err != nil {
		WriteError(w, r, oautherr.ServerError(err))
		return
	}
	// The count is written while the token is signed, so metering adds no
	// latency, and is settled before the handler returns (Lambda freezes
	// the environment after that).
	counted := func(bool) {}
	if h.Meter != nil {
		counted = h.Meter.Token(r.Context(), p.PartnerID, p.OrganisationID, p.ID)
	}
	raw, claims, err := h.Issuer.Issue(r.Context(), sub, scope.Format(sub.Scopes))
	counted(err == nil)
	if err != nil {
		WriteError(w, r, oautherr.ServerError(err))
		return
	}
	logging.FromContext(r.Context(), nil).InfoContext(r.Context(), "token issued",
		slog.String("client_id", p.ID), slog.String("jti", claims.ID), slog.String("alg", string(sub.Algorithm)))
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: raw, TokenType: "Bearer", ExpiresIn: int64(sub.Lifetime / time.Second), Scope: claims.Scope,
	})
}

// subject describes the token p gets: partners' tokens live 24 h and use
// the configured partner algorithm; clients' use their own settings.
func (h *handler) subject(p store.Principal, scopes []string) (token.Subject, error) {
	sub := token.Subject{
		ClientID: p.ID, PartnerID: p.PartnerID, OrganisationID: p.OrganisationID,
		Scopes: scopes, Algorithm: h.PartnerAlgorithm, Lifetime: PartnerTokenLifetime,
	}
	if p.Kind != store.KindClient {
		return sub, nil
	}
	sub.Algorithm, sub.Lifetime = DefaultClientAlgorithm, DefaultClientTokenLifetime
	if p.Algorithm != "" {
		alg, err := signer.ParseAlgorithm(p.Algorithm)
		if err != nil {
			return token.Subject{}, fmt.Errorf("client %q: stored algorithm: %w", p.ID, err)
		}
		sub.Algorithm = alg
	}
	if p.TokenLifetime > 0 {
		sub.Lifetime = time.Duration(p.TokenLifetime) * time.Second
	}
	return sub, nil
}

// readForm checks the content type of an OAuth endpoint request
// and parses its form body: every parameter at most once (RFC 6749 §3.2), no
// credentials in the URL.
func readForm(r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oautherr.InvalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	if q := r.URL.Query(); q.Has("client_secret") || q.Has("client_id") || q.Has("token") {
		return nil, oautherr.InvalidRequest("parameters must be sent in the request body, not the URL")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, oautherr.InvalidRequest(fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
		}
		return nil, oautherr.InvalidRequest("request body could not be read")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oautherr.InvalidRequest("request body is not valid form encoding")
	}
	for k, vs := range form {
		if len(vs) > 1 {
			return nil, oautherr.InvalidRequest(fmt.Sprintf("parameter %q is repeated", truncate.String(k, 40)))
		}
	}
	return form, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
