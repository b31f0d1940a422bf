package signin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/partnerapi/partner-api/shared/store"
)

// Identity is an end user as an identity provider vouches for them.
type Identity struct {
	// Provider names the provider ("sandbox"); ID the user within it.
	Provider string
	ID       string
	// Claims are the user's OpenID Connect standard claims (Core §5.1),
	// keyed by claim name; sub is not among them.
	Claims map[string]any
}

// Option is one choice a provider offers on the sign-in page: one button.
type Option struct {
	// Value is what the button submits: "<provider>:<id>".
	Value string
	Label string
	Hint  string
	// Logo is an image URL shown on the button (optional).
	Logo string
	// Target is the origin a redirecting provider sends the browser to
	// when the option is chosen (the page's CSP form-action allows it).
	Target string
}

// ErrNotOffered is the error of a choice the provider does not offer to
// the client (a sandbox persona for a production client).
var ErrNotOffered = errors.New("signin: this sign-in choice is not offered to the client")

// IdentityProvider is a way to sign in offered on the hosted page. The
// sandbox personas are one; the organisation's authorisation servers, as
// upstream OpenID providers, are the next (federation is not built yet: a
// provider for them implements this interface, and its Authenticate starts
// and finishes the upstream redirect).
type IdentityProvider interface {
	// Name is the provider's id, the part before ':' of an Option's Value.
	Name() string
	// Options lists the choices offered to client c (none: the provider
	// is not shown).
	Options(ctx context.Context, c store.Client) []Option
	// Identify returns the identity of choice id for client c, or an
	// error wrapping ErrNotOffered when c may not use it.
	Identify(ctx context.Context, c store.Client, id string) (Identity, error)
}

// Subject is the sub of identity id for the clients of the partner's
// organisation orgID: stable for a user and an organisation (the family of
// clients), different across organisations (pairwise), 43 ASCII
// characters, and revealing no id: the base64url SHA-256 of the
// length-prefixed partner id, organisation id, provider and user id.
func Subject(partnerID, orgID string, id Identity) string {
	h := sha256.New()
	for _, part := range []string{"partner-api sub v1", partnerID, orgID, id.Provider, id.ID} {
		h.Write([]byte{byte(len(part) >> 8), byte(len(part))})
		h.Write([]byte(part))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// splitChoice splits "<provider>:<id>".
func splitChoice(v string) (provider, id string, ok bool) {
	provider, id, ok = strings.Cut(v, ":")
	return provider, id, ok && provider != "" && id != ""
}
