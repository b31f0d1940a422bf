// Package token issues and verifies the service's access tokens: JWTs
// (RFC 9068 profile, typ "at+jwt") signed by KMS keys.
//
// There is one verification path: the signature is checked with the cached
// public key named by the header's kid (no KMS call), the header's alg must be
// that key's algorithm ("none" and unknown kids are refused), iss, aud, exp
// and nbf are checked with a small clock skew, and the token id must not be
// revoked.
package token

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
)

// Type is the JWT typ header of access tokens (RFC 9068 §2.1).
const Type = "at+jwt"

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	Scope          string `json:"scope"`
	ClientID       string `json:"client_id"`
	PartnerID      string `json:"partner_id"`
	OrganisationID string `json:"organisation_id,omitempty"`
}

// Subject is who a token is issued to.
type Subject struct {
	ClientID       string
	PartnerID      string
	OrganisationID string
	Scopes         []string
	Algorithm      signer.Algorithm
	Lifetime       time.Duration
	// EndUser is the signed-in end user's subject of a sign-in token: its
	// sub (the client stays client_id, the principal the token's state
	// depends on). Empty for a client's or partner's own token.
	EndUser string
	// TokenID is the jti to use (empty: a random one), so that what an
	// exchange issues can be recorded before it is signed.
	TokenID string
	// Extra are further claims (a minted token's custom claims); they never
	// replace the claims above.
	Extra map[string]any
}

// Signer signs a JWT (satisfied by *signer.Signer).
type Signer interface {
	SignJWT(ctx context.Context, alg signer.Algorithm, typ string, claims any) (string, error)
}

// Issuer mints access tokens.
type Issuer struct {
	signer   Signer
	issuer   string
	audience string
	now      func() time.Time
}

// NewIssuer returns an Issuer naming issuer as iss and audience as aud.
func NewIssuer(s Signer, issuer, audience string, now func() time.Time) *Issuer {
	if now == nil {
		now = time.Now
	}
	return &Issuer{signer: s, issuer: issuer, audience: audience, now: now}
}

// Issue signs a token for sub and returns it with its claims.
func (i *Issuer) Issue(ctx context.Context, sub Subject, scope string) (string, Claims, error) {
	now := i.now().UTC().Truncate(time.Second)
	subject, id := sub.ClientID, sub.TokenID
	if sub.EndUser != "" {
		subject = sub.EndUser
	}
	if id == "" {
		id = uuid.NewString()
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(sub.Lifetime)),
			ID:        id,
		},
		Scope:          scope,
		ClientID:       sub.ClientID,
		PartnerID:      sub.PartnerID,
		OrganisationID: sub.OrganisationID,
	}
	var payload any = c
	if len(sub.Extra) > 0 {
		m, err := withExtra(c, sub.Extra)
		if err != nil {
			return "", Claims{}, fmt.Errorf("issue token for %q: %w", sub.ClientID, err)
		}
		payload = m
	}
	raw, err := i.signer.SignJWT(ctx, sub.Algorithm, Type, payload)
	if err != nil {
		return "", Claims{}, fmt.Errorf("issue token for %q: %w", sub.ClientID, err)
	}
	return raw, c, nil
}

// EndUser reports whether c is a sign-in (or minted) token of an end user
// rather than the client's or partner's own token.
func (c Claims) EndUser() bool { return c.Subject != c.ClientID }

// withExtra returns c's claims as a map with extra added; extra never
// replaces a claim c has.
func withExtra(c Claims, extra map[string]any) (map[string]any, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return m, nil
}

// Keys finds a cached public key by kid (satisfied by *signer.Signer).
type Keys interface {
	Key(kid string) (signer.Key, bool)
}

// States tells whether a token id was revoked and whether the token's
// principal is still enabled (satisfied by *store.Table). An error means the
// answer is unknown; the token is then not accepted.
type States interface {
	TokenState(ctx context.Context, ref store.TokenRef) (store.TokenState, error)
}

// ErrInvalid matches, with errors.Is, every token that is malformed, badly
// signed, expired, not yet valid, for another issuer or audience, or
// revoked. Each such error is an *oautherr.Error with the code invalid_token
// whose Description says which check failed and is safe to show the
// caller; the JWT library's own error, if any, is its hidden cause.
var ErrInvalid = oautherr.InvalidToken("")

// Verifier checks access tokens.
type Verifier struct {
	keys     Keys
	states   States
	issuer   string
	audience string
	now      func() time.Time
}

// NewVerifier returns a Verifier accepting tokens of issuer for audience.
func NewVerifier(keys Keys, states States, issuer, audience string, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{keys: keys, states: states, issuer: issuer, audience: audience, now: now}
}

var algorithms = []string{string(signer.PS256), string(signer.ES384), string(signer.ES512)}

// Verify checks raw and returns its claims. A token that fails a check gives
// an invalid_token *oautherr.Error (errors.Is ErrInvalid); a state lookup
// that fails gives another error (the caller answers 503, not 401).
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	c, err := v.Parse(raw)
	if err != nil {
		return Claims{}, err
	}
	state, err := v.states.TokenState(ctx, store.TokenRef{
		TokenID: c.ID, ClientID: c.ClientID, PartnerID: c.PartnerID, OrganisationID: c.OrganisationID,
		IssuedAt: c.IssuedAt.Time,
	})
	if err != nil {
		return Claims{}, fmt.Errorf("verify token: %w", err)
	}
	if state.Revoked {
		return Claims{}, oautherr.InvalidToken("token is revoked")
	}
	if !state.Active {
		return Claims{}, oautherr.InvalidToken("the client, its organisation or its partner account is disabled or deleted")
	}
	return c, nil
}

// Parse does every check of Verify but the state lookup.
func (v *Verifier) Parse(raw string) (Claims, error) {
	var c Claims
	parser := jwt.NewParser(
		jwt.WithValidMethods(algorithms),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	var key signer.Key // the key keyFor chose, for the check below
	t, err := parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		k, err := v.keyFor(t)
		key = k
		return k.Public, err
	})
	if err != nil {
		return Claims{}, oautherr.InvalidToken(reason(err)).WithCause(err)
	}
	// A verified ECDSA signature must also be the low-s one the service
	// makes: its high-s twin verifies too, and would make another token
	// string of the same claims.
	if !canonical(key, t.Signature) {
		return Claims{}, oautherr.InvalidToken("token cannot be verified: non-canonical signature (high s)")
	}
	if c.ID == "" || c.Subject == "" || c.NotBefore == nil || c.PartnerID == "" || c.ClientID == "" {
		return Claims{}, oautherr.InvalidToken("required claim missing")
	}
	return c, nil
}

// keyFor pins the algorithm to the key named by kid. Its refusals are
// keyRefusals, whose text reason shows the caller.
func (v *Verifier) keyFor(t *jwt.Token) (signer.Key, error) {
	if typ, _ := t.Header["typ"].(string); typ != Type {
		return signer.Key{}, keyRefusal("not an access token")
	}
	kid, _ := t.Header["kid"].(string)
	key, ok := v.keys.Key(kid)
	if !ok {
		return signer.Key{}, keyRefusal("unknown key")
	}
	if t.Method.Alg() != string(key.Algorithm) {
		return signer.Key{}, keyRefusal("algorithm does not match the key")
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11: a critical extension not understood must be
		// refused; the service understands none.
		return signer.Key{}, keyRefusal("unsupported critical header parameter")
	}
	return key, nil
}

// canonical reports whether sig is in the form the service signs: for an
// ECDSA key, a low s.
func canonical(key signer.Key, sig []byte) bool {
	pub, ok := key.Public.(*ecdsa.PublicKey)
	return !ok || signer.CanonicalECDSA(pub, sig)
}

// keyRefusal is why keyFor gives no key; it names nothing the caller cannot
// see in its own token's header.
type keyRefusal string

func (k keyRefusal) Error() string { return string(k) }

// reason turns a jwt error into a short description that reveals nothing but
// what the caller can already see in its own token.
func reason(err error) string {
	var refused keyRefusal
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token is expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token is from another issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token is for another audience"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature is invalid"
	case errors.As(err, &refused):
		return "token cannot be verified: " + string(refused)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token cannot be verified"
	default:
		return "token is invalid"
	}
}
