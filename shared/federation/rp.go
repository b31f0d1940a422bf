package federation

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/store"
)

// Error is a failed upstream sign-in as the partner's client is told it:
// Code is an OAuth 2.0 authorization error code (RFC 6749 §4.1.2.1),
// Description a sentence without secrets; the cause is for the log.
type Error struct {
	Code        string
	Description string
	Cause       error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Description + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

func failure(code string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Cause: cause}
}

// The token endpoint authentication methods of a server
// (federation_token_endpoint_auth_method).
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthSecretPost    = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthNone          = "none"
)

// AuthMethods are the methods a server may be set to.
var AuthMethods = []string{AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT, AuthNone}

// AssertionLifetime bounds a private_key_jwt client assertion.
const AssertionLifetime = time.Minute

// Asserter signs a client assertion (RFC 7523 §2.2) with one of the
// service's signing keys, whose public half the service's JWKS publishes.
type Asserter func(ctx context.Context, claims map[string]any) (string, error)

// RelyingParty signs users in at upstream providers: the authorization
// request, the code exchange and the ID token's verification.
type RelyingParty struct {
	Fetch *Fetcher
	Keys  *KeySets
	Now   func() time.Time
	// Assert signs private_key_jwt client assertions (nil: the method is
	// not available).
	Assert Asserter
}

// NewRelyingParty returns a relying party fetching with f, caching JWKS for
// the life of the process.
func NewRelyingParty(f *Fetcher, now func() time.Time) *RelyingParty {
	return &RelyingParty{Fetch: f, Keys: NewKeySets(f, now), Now: now}
}

// Request is one authorization request to an upstream provider.
type Request struct {
	State, Nonce, Verifier string
	// RedirectURI is the service's callback.
	RedirectURI string
	// ForceLogin asks the provider for a new authentication (prompt=login),
	// when the client's request asked the service for one.
	ForceLogin bool
}

// Scopes are the scopes asked of upstream providers: those of them a
// provider lists in scopes_supported (all when it lists none), openid
// always.
var Scopes = []string{"openid", "profile", "email", "address", "phone"}

func scopesFor(d store.Discovery) []string {
	if len(d.ScopesSupported) == 0 {
		return Scopes
	}
	out := []string{"openid"}
	for _, s := range Scopes[1:] {
		if slices.Contains(d.ScopesSupported, s) {
			out = append(out, s)
		}
	}
	return out
}

// AuthURL is the URL of server's authorization endpoint for req: the code
// flow with PKCE S256, state and nonce (the endpoint's own query kept).
func AuthURL(server store.AuthServer, req Request) (string, error) {
	u, err := url.Parse(server.Discovery.AuthorizationEndpoint)
	if err != nil || u.Host == "" {
		return "", failure("server_error", err, "the identity provider's authorization endpoint is not usable")
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", server.FederationClientID)
	q.Set("redirect_uri", req.RedirectURI)
	q.Set("scope", strings.Join(scopesFor(server.Discovery), " "))
	q.Set("state", req.State)
	q.Set("nonce", req.Nonce)
	q.Set("code_challenge", grants.Challenge(req.Verifier))
	q.Set("code_challenge_method", "S256")
	if req.ForceLogin {
		q.Set("prompt", "login")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Identity is who the upstream provider vouches for.
type Identity struct {
	Issuer, Subject string
	// Claims are the OpenID Connect standard claims the ID token carried
	// (Core §5.1), typed as Core says; sub, iss and the rest left out.
	Claims map[string]any
}

// SignIn finishes req at server: it exchanges code at the token endpoint
// (authenticated as authMethod says; the PKCE verifier always), then
// verifies the ID token: signature by a key of the provider's
// JWKS (never alg none or HMAC), iss the discovered issuer, aud containing
// our client id, azp our client id when present (required with several
// audiences), exp, and nonce ours. Failures are *Error.
func (rp *RelyingParty) SignIn(ctx context.Context, server store.AuthServer, secret, code string, req Request) (Identity, error) {
	raw, err := rp.exchange(ctx, server, secret, code, req)
	if err != nil {
		return Identity{}, err
	}
	return rp.Verify(ctx, server, raw, req.Nonce)
}

func (rp *RelyingParty) exchange(ctx context.Context, server store.AuthServer, secret, code string, req Request) (string, error) {
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {req.RedirectURI},
		"code_verifier": {req.Verifier},
	}
	user, password := "", ""
	switch method := authMethod(server, secret); method {
	case AuthPrivateKeyJWT:
		if rp.Assert == nil {
			return "", failure("server_error", nil, "the service cannot sign client assertions")
		}
		now := rp.Now()
		assertion, err := rp.Assert(ctx, map[string]any{
			"iss": server.FederationClientID, "sub": server.FederationClientID, "aud": server.Discovery.TokenEndpoint,
			"jti": randomJTI(), "iat": now.Unix(), "exp": now.Add(AssertionLifetime).Unix(),
		})
		if err != nil {
			return "", failure("server_error", err, "the service could not sign its client assertion")
		}
		form.Set("client_id", server.FederationClientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	case AuthSecretPost:
		form.Set("client_id", server.FederationClientID)
		form.Set("client_secret", secret)
	case AuthSecretBasic:
		user, password = server.FederationClientID, secret
	default:
		form.Set("client_id", server.FederationClientID)
	}
	status, body, err := rp.Fetch.PostForm(ctx, server.Discovery.TokenEndpoint, form, user, password)
	if err != nil {
		code := "server_error"
		if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			code = "temporarily_unavailable"
		}
		return "", failure(code, err, "the identity provider's token endpoint failed: %s", reason(err))
	}
	var resp struct {
		IDToken          string `json:"id_token"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return "", failure("server_error", err, "the identity provider's token endpoint answered status %d without JSON", status)
	}
	if status != 200 || resp.Error != "" {
		return "", failure("access_denied", nil, "the identity provider refused the code exchange (status %d, error %q)", status, printable(resp.Error))
	}
	if resp.IDToken == "" {
		return "", failure("server_error", nil, "the identity provider's token response has no id_token")
	}
	return resp.IDToken, nil
}

// authMethod is how the service authenticates at server's token endpoint:
// the server's federation_token_endpoint_auth_method when set, else with
// a secret client_secret_post when the provider lists it and
// client_secret_basic otherwise, and without one the client id alone.
func authMethod(server store.AuthServer, secret string) string {
	switch {
	case server.FederationAuthMethod != "":
		return server.FederationAuthMethod
	case secret == "":
		return AuthNone
	case slices.Contains(server.Discovery.TokenEndpointAuthMethods, AuthSecretPost):
		return AuthSecretPost
	}
	return AuthSecretBasic
}

func randomJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Verify checks raw, an ID token of server, for nonce (see SignIn).
func (rp *RelyingParty) Verify(ctx context.Context, server store.AuthServer, raw, nonce string) (Identity, error) {
	v := oidc.NewVerifier(server.Discovery.Issuer, rp.Keys.For(server.Discovery.JWKSURI), &oidc.Config{
		ClientID: server.FederationClientID, SupportedSigningAlgs: server.Discovery.SigningAlgs, Now: rp.Now,
	})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return Identity{}, failure("access_denied", err, "the identity provider's ID token was refused: %s", tokenReason(err))
	}
	var c map[string]any
	if err := tok.Claims(&c); err != nil {
		return Identity{}, failure("access_denied", err, "the identity provider's ID token was refused: unreadable claims")
	}
	if tok.Nonce != nonce {
		return Identity{}, failure("access_denied", nil, "the identity provider's ID token was refused: its nonce is not the one sent")
	}
	azp, _ := c["azp"].(string)
	if azp != "" && azp != server.FederationClientID || len(tok.Audience) > 1 && azp == "" {
		return Identity{}, failure("access_denied", nil, "the identity provider's ID token was refused: azp is not the service's client id")
	}
	if tok.Subject == "" || len(tok.Subject) > 255 {
		return Identity{}, failure("access_denied", nil, "the identity provider's ID token was refused: sub is missing or too long")
	}
	return Identity{Issuer: tok.Issuer, Subject: tok.Subject, Claims: StandardClaims(c)}, nil
}

// tokenReason names the check go-oidc refused a token for.
func tokenReason(err error) string {
	var expired *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return "it has expired"
	case strings.Contains(msg, "fetch JWKS"):
		return "the provider's keys could not be fetched"
	case strings.Contains(msg, "failed to verify signature"):
		return "its signature does not verify with a key the provider publishes"
	case strings.Contains(msg, "malformed jwt"):
		return "it is malformed or signed with an algorithm the provider does not list (never none)"
	case strings.Contains(msg, "different provider"):
		return "its issuer is not the provider's"
	case strings.Contains(msg, "audience"):
		return "its audience is not the service's client id"
	}
	return "it is not valid"
}

func reason(err error) string {
	switch {
	case errors.Is(err, ErrRefusedAddress), errors.Is(err, ErrRefusedURL):
		return "its address is refused"
	case errors.Is(err, ErrTooLarge):
		return "the answer is too large"
	case isTimeout(err), errors.Is(err, context.DeadlineExceeded):
		return "it did not answer in time"
	}
	return "it could not be reached"
}

// printable keeps the first 64 printable ASCII characters of s.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			break
		}
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// StandardClaims are the OpenID Connect standard claims (Core §5.1) of c,
// each kept only with the type Core gives it; an address given as a string
// becomes {"formatted": ...}.
func StandardClaims(c map[string]any) map[string]any {
	out := map[string]any{}
	for _, name := range []string{"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "email", "gender", "birthdate", "zoneinfo", "locale", "phone_number"} {
		if s, ok := c[name].(string); ok && s != "" && len(s) <= 1024 {
			out[name] = s
		}
	}
	for _, name := range []string{"email_verified", "phone_number_verified"} {
		if b, ok := c[name].(bool); ok {
			out[name] = b
		}
	}
	if n, ok := c["updated_at"].(float64); ok {
		out["updated_at"] = int64(n)
	}
	switch a := c["address"].(type) {
	case map[string]any:
		addr := map[string]any{}
		for _, k := range []string{"formatted", "street_address", "locality", "region", "postal_code", "country"} {
			if s, ok := a[k].(string); ok && len(s) <= 1024 {
				addr[k] = s
			}
		}
		if len(addr) > 0 {
			out["address"] = addr
		}
	case string:
		if a != "" && len(a) <= 1024 {
			out["address"] = map[string]any{"formatted": a}
		}
	}
	return out
}
