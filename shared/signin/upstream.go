package signin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/federation"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/store"
)

// RedirectingProvider is an IdentityProvider whose choices sign the user in
// elsewhere: choosing one sends the browser to Start's URL, and the answer
// comes back to the callback (GET /v1/authorize/callback), which calls
// Finish with the flow Start began.
type RedirectingProvider interface {
	IdentityProvider
	// Start returns the URL that signs the user in for choice id of client
	// c, with req's state, nonce and PKCE verifier; an error wrapping
	// ErrNotOffered when c may not use it.
	Start(ctx context.Context, c store.Client, id string, req federation.Request) (string, error)
	// Finish turns the callback's query into the identity of flow f, or a
	// *federation.Error saying what to tell the client.
	Finish(ctx context.Context, c store.Client, f store.Flow, query url.Values, req federation.Request) (Identity, error)
}

// UpstreamProvider is the provider name of the organisation's authorisation
// servers; a choice is "federation:<server id>".
const UpstreamProvider = "federation"

// UpstreamStore is what Upstream reads (satisfied by *store.Table):
// store.ErrNotFound for a missing organisation or server, ErrUnavailable
// when DynamoDB throttles.
type UpstreamStore interface {
	GetOrganisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error)
	OrganisationAuthServers(ctx context.Context, partnerID, orgID string) ([]store.AuthServer, error)
}

// SecretOpener decrypts federation client secrets (satisfied by
// *federation.Secrets).
type SecretOpener interface {
	Open(ctx context.Context, partnerID, serverID string, ciphertext []byte) (string, error)
}

// Upstream offers the client's organisation's authorisation servers as
// upstream OpenID providers (federation.Offered says which) and signs the
// user in there as a relying party.
//
// The identity of an upstream user is (issuer, upstream sub): its sub for
// the partner's clients is Subject's pairwise hash of it with the partner
// and organisation, so the upstream sub is never shown to the partner. A
// browser session signed in upstream keeps the upstream claims, so a later
// authorization request of a client offered a server of the same issuer
// is answered from the session (prompt=none included) until it expires.
type Upstream struct {
	Store   UpstreamStore
	RP      *federation.RelyingParty
	Secrets SecretOpener
	Now     func() time.Time
}

var (
	_ RedirectingProvider = (*Upstream)(nil)
	_ Resumer             = (*Upstream)(nil)
)

// Resumer is a provider whose identities a browser session carries whole,
// claims included (it cannot produce them again without the user): Resume
// returns identity id, signed in earlier with claims, if client c may use
// it (else an error wrapping ErrNotOffered).
type Resumer interface {
	Resume(ctx context.Context, c store.Client, id string, claims map[string]any) (Identity, error)
}

// Name implements IdentityProvider.
func (u *Upstream) Name() string { return UpstreamProvider }

// Options implements IdentityProvider: one button per offered server, with
// its customer-friendly name, description and logo.
func (u *Upstream) Options(ctx context.Context, c store.Client) []Option {
	servers, err := u.offered(ctx, c)
	if err != nil {
		logging.FromContext(ctx, nil).WarnContext(ctx, "authorisation servers not offered", slog.Any("err", err))
		return nil
	}
	out := make([]Option, 0, len(servers))
	for _, s := range servers {
		out = append(out, Option{
			Value: UpstreamProvider + ":" + s.ID, Label: s.CustomerFriendlyName, Hint: s.CustomerFriendlyDescription,
			Logo: s.CustomerFriendlyLogoURI, Target: origin(s.Discovery.AuthorizationEndpoint),
		})
	}
	return out
}

// Identify implements IdentityProvider: an upstream identity is only ever
// established by the redirect (Start and Finish), or resumed from a session
// (Resume).
func (u *Upstream) Identify(context.Context, store.Client, string) (Identity, error) {
	return Identity{}, fmt.Errorf("upstream identities are signed in by redirect: %w", ErrNotOffered)
}

// Resume implements Resumer: the browser's session signed in identity id
// (with claims) upstream; client c may use it when its page offers a
// server of the same issuer.
func (u *Upstream) Resume(ctx context.Context, c store.Client, id string, claims map[string]any) (Identity, error) {
	issuer, _, ok := splitUpstreamID(id)
	if !ok {
		return Identity{}, fmt.Errorf("upstream identity %q: %w", id, ErrNotOffered)
	}
	servers, err := u.offered(ctx, c)
	if err != nil {
		return Identity{}, err
	}
	for _, s := range servers {
		if s.Discovery.Issuer == issuer {
			return Identity{Provider: UpstreamProvider, ID: id, Claims: claims}, nil
		}
	}
	return Identity{}, fmt.Errorf("no server of issuer %q offered to %s: %w", issuer, c.ID, ErrNotOffered)
}

// Start implements RedirectingProvider.
func (u *Upstream) Start(ctx context.Context, c store.Client, id string, req federation.Request) (string, error) {
	s, err := u.server(ctx, c, id)
	if err != nil {
		return "", err
	}
	return federation.AuthURL(s, req)
}

// Finish implements RedirectingProvider: the RFC 9207 iss parameter, when
// sent, must be the server's issuer (mix-up defence); then the code is
// exchanged and the ID token verified (federation.RelyingParty.SignIn).
func (u *Upstream) Finish(ctx context.Context, c store.Client, f store.Flow, query url.Values, req federation.Request) (Identity, error) {
	s, err := u.server(ctx, c, f.ServerID)
	if errors.Is(err, ErrNotOffered) {
		return Identity{}, &federation.Error{Code: "access_denied", Description: "the identity provider is no longer offered to this application", Cause: err}
	}
	if err != nil {
		return Identity{}, err
	}
	if iss := query.Get("iss"); iss != "" && iss != s.Discovery.Issuer {
		return Identity{}, &federation.Error{Code: "access_denied", Description: "the identity provider's answer names another issuer (iss)"}
	}
	code := query.Get("code")
	if code == "" || len(code) > 2048 {
		return Identity{}, &federation.Error{Code: "access_denied", Description: "the identity provider's answer has no code"}
	}
	secret := ""
	if len(s.FederationSecret) > 0 {
		if u.Secrets == nil {
			return Identity{}, &federation.Error{Code: "server_error", Description: "the identity provider's credentials are not usable"}
		}
		if secret, err = u.Secrets.Open(ctx, s.PartnerID, s.ID, s.FederationSecret); err != nil {
			return Identity{}, &federation.Error{Code: "server_error", Description: "the identity provider's credentials are not usable", Cause: err}
		}
	}
	up, err := u.RP.SignIn(ctx, s, secret, code, req)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Provider: UpstreamProvider, ID: UpstreamID(up.Issuer, up.Subject), Claims: up.Claims}, nil
}

// UpstreamID is the identity id of upstream subject sub of issuer: both,
// length-prefixed, so that no two pairs give one id.
func UpstreamID(issuer, sub string) string {
	return fmt.Sprintf("%d:%s%s", len(issuer), issuer, sub)
}

// splitUpstreamID is UpstreamID's inverse.
func splitUpstreamID(id string) (issuer, sub string, ok bool) {
	n, rest, found := strings.Cut(id, ":")
	size, err := strconv.Atoi(n)
	if !found || err != nil || size <= 0 || size > len(rest) {
		return "", "", false
	}
	return rest[:size], rest[size:], true
}

// server returns server id if client c is offered it (else an error
// wrapping ErrNotOffered).
func (u *Upstream) server(ctx context.Context, c store.Client, id string) (store.AuthServer, error) {
	servers, err := u.offered(ctx, c)
	if err != nil {
		return store.AuthServer{}, err
	}
	for _, s := range servers {
		if s.ID == id {
			return s, nil
		}
	}
	return store.AuthServer{}, fmt.Errorf("authorisation server %q: %w", id, ErrNotOffered)
}

func (u *Upstream) offered(ctx context.Context, c store.Client) ([]store.AuthServer, error) {
	org, err := u.Store.GetOrganisation(ctx, c.PartnerID, c.OrganisationID)
	if err != nil {
		return nil, err
	}
	all, err := u.Store.OrganisationAuthServers(ctx, c.PartnerID, c.OrganisationID)
	if err != nil {
		return nil, err
	}
	return federation.Offered(org, c, all, u.Now()), nil
}
