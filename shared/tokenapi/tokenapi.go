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
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/discovery"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
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

// Routes are the paths the group serves, as API Gateway routes them.
var Routes = []string{
	"/v1/token", "/v1/token/introspect", "/v1/token/revoke",
	"/.well-known/jwks.json", "/.well-known/oauth-authorization-server",
	// RFC 8414 §3.1: the path-inserted location when the issuer has a path.
	"/.well-known/oauth-authorization-server/{issuer_path}",
}

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
	Now              func() time.Time
	// Grants serves the sign-in grants (authorization_code,
	// refresh_token) and Refresh the refresh tokens at introspection and
	// revocation (grants.go); nil serves client credentials only.
	Grants  Grants
	Refresh RefreshTokens
}

type handler struct {
	Deps
	jwks     []byte
	metadata []byte
}

// New returns the group's http.Handler (without middleware).
func New(d Deps) (http.Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	h := &handler{Deps: d}
	var err error
	if h.jwks, err = json.Marshal(d.Keys.JWKS()); err != nil {
		return nil, fmt.Errorf("encode JWKS: %w", err)
	}
	if h.metadata, err = json.Marshal(metadata(d.IssuerURL, d.Keys.Algorithms())); err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/token", h.token)
	mux.HandleFunc("/v1/token/introspect", h.introspect)
	mux.HandleFunc("/v1/token/revoke", h.revoke)
	mux.HandleFunc("/.well-known/jwks.json", h.static(h.jwks, "application/jwk-set+json"))
	mux.HandleFunc("/.well-known/oauth-authorization-server", h.static(h.metadata, "application/json"))
	inserted := discovery.IssuerPath(d.IssuerURL)
	mux.HandleFunc("/.well-known/oauth-authorization-server/{issuer_path...}", func(w http.ResponseWriter, r *http.Request) {
		if inserted == "" || r.PathValue("issuer_path") != inserted {
			problem.Write(w, r, problem.New(problem.ErrNotFound, "no such endpoint"))
			return
		}
		h.static(h.metadata, "application/json")(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(problem.ErrNotFound, "no such endpoint"))
	})
	return mux, nil
}

// WriteError writes any error in the RFC 6749 format: errors of the
// middleware (problem kinds) become invalid_request.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oautherr.Error
	if !errors.As(err, &oe) && errors.Is(err, problem.ErrInvalid) {
		err = oautherr.InvalidRequest(strings.TrimPrefix(err.Error(), "invalid request: "))
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
	form, err := readForm(w, r)
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
		WriteError(w, r, oautherr.UnsupportedGrantType(fmt.Sprintf("grant_type %q is not supported; use client_credentials", truncate(gt))))
		return
	}
	requested, err := scope.Parse(form.Get("scope"))
	if err != nil {
		WriteError(w, r, oautherr.InvalidScope(err.Error()))
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
	if p.Kind == store.KindPartner {
		allowed = scope.Union(allowed, []string{scope.TokensMint}) // partners created before it existed
	}
	granted, err := scope.Narrow(requested, allowed)
	if err != nil {
		WriteError(w, r, oautherr.InvalidScope(err.Error()))
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

func (h *handler) static(body []byte, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, r, problem.New(problem.ErrMethodNotAllowed, "use GET"))
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
	}
}

// readForm checks the method and content type of an OAuth endpoint request
// and parses its form body: every parameter at most once (RFC 6749 §3.2), no
// credentials in the URL.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		return nil, oautherr.InvalidRequest("use POST").WithStatus(http.StatusMethodNotAllowed)
	}
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
			return nil, oautherr.InvalidRequest(fmt.Sprintf("parameter %q is repeated", truncate(k)))
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

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
