// Package grants issues the tokens of a sign-in: the authorization_code and
// refresh_token grants of POST /v1/token (RFC 6749 §4.1.3, §6; RFC 7636),
// ID tokens (OpenID Connect Core §2, §3.1.3.6), and the tokens a partner
// mints for a subject (POST /v1/clients/{id}/tokens).
//
// Codes and refresh tokens are 256-bit random strings stored only as their
// SHA-256 hashes. A code works once: its item is deleted with a conditional
// DeleteItem, and what its exchange issued is recorded, so that a second use
// revokes the access token and refresh-token family of the first. Refresh
// tokens are rotated at every use; using a replaced one revokes its family
// and the family's last access token (RFC 9700 §4.14).
package grants

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
)

// Lifetimes of sign-in artefacts.
const (
	// CodeLifetime: a code must be exchanged within a minute.
	CodeLifetime = 60 * time.Second
	// IDTokenLifetime of every ID token.
	IDTokenLifetime = time.Hour
	// DefaultAccessLifetime of a client's access tokens when it names none.
	DefaultAccessLifetime = time.Hour
	// DefaultAlgorithm signs a client's tokens when it names none.
	DefaultAlgorithm = signer.ES384
	// UsedCodeRetention keeps the record of an exchanged code long enough to
	// revoke what it issued when it is replayed (at least the longest
	// access-token lifetime).
	UsedCodeRetention = 24 * time.Hour
	// SubjectRetention keeps an end user's claims for userinfo.
	SubjectRetention = 400 * 24 * time.Hour
)

// The OpenID Connect scopes (Core §5.4, §11).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeAddress       = "address"
	ScopePhone         = "phone"
	ScopeOfflineAccess = "offline_access"
)

// OIDCScopes are the scopes every sign-in client may be granted, besides
// its own; offline_access only with the refresh_token grant.
var OIDCScopes = []string{ScopeAddress, ScopeEmail, ScopeOfflineAccess, ScopeOpenID, ScopePhone, ScopeProfile}

// Store is the storage of grants (satisfied by *store.Table). Errors wrap
// store.ErrGone for a missing, expired or used item and store.ErrReused for
// a refresh token used twice.
type Store interface {
	PutCode(ctx context.Context, hash string, g store.Grant, expires time.Time) error
	ConsumeCode(ctx context.Context, hash string) (store.Grant, error)
	ClaimCode(ctx context.Context, hash string, is store.Issued, expires time.Time) error
	UsedCode(ctx context.Context, hash string) (store.Issued, error)
	CreateFamily(ctx context.Context, f store.Family, rt store.RefreshToken) error
	GetRefresh(ctx context.Context, hash string) (store.RefreshToken, store.Family, error)
	RotateRefresh(ctx context.Context, f store.Family, old string, next store.RefreshToken, last store.Issued) error
	RevokeFamily(ctx context.Context, id string) (store.Family, error)
	RevokeToken(ctx context.Context, jti string, expires time.Time) error
	PutSubjectClaims(ctx context.Context, s store.SubjectClaims, expires time.Time) error
}

var _ Store = (*store.Table)(nil)

// Signer signs ID tokens (satisfied by *signer.Signer).
type Signer interface {
	SignJWT(ctx context.Context, alg signer.Algorithm, typ string, claims any) (string, error)
}

// Meter counts sign-ins and exchanges (satisfied by *usage.Meter).
type Meter interface {
	SignIn(ctx context.Context, partnerID, organisationID, clientID string)
}

// Service issues sign-in tokens.
type Service struct {
	store     Store
	issuer    *token.Issuer
	signer    Signer
	meter     Meter
	issuerURL string
	now       func() time.Time
}

// New returns the Service; meter may be nil.
func New(s Store, issuer *token.Issuer, sg Signer, meter Meter, issuerURL string, now func() time.Time) *Service {
	return &Service{store: s, issuer: issuer, signer: sg, meter: meter, issuerURL: issuerURL, now: now}
}

// Response is the token response of a code or refresh exchange or a mint
// (RFC 6749 §5.1, OpenID Connect Core §3.1.3.3).
type Response struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// Hash is the stored form of a code or refresh token.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// IssueCode stores g under a new code and returns the code.
func (s *Service) IssueCode(ctx context.Context, g store.Grant) (string, error) {
	code := credential.NewSecret()
	if err := s.store.PutCode(ctx, Hash(code), g, s.now().Add(CodeLifetime)); err != nil {
		return "", fmt.Errorf("issue code: %w", err)
	}
	if s.meter != nil {
		s.meter.SignIn(ctx, g.PartnerID, g.OrganisationID, g.ClientID)
	}
	return code, nil
}

// Exchange answers POST /v1/token for the authorization_code and
// refresh_token grants, for the authenticated client p.
func (s *Service) Exchange(ctx context.Context, p store.Principal, grantType string, form url.Values) (any, error) {
	if p.Kind != store.KindClient || !p.HasGrant(grantType) {
		return nil, oautherr.UnauthorizedClient(fmt.Sprintf("the client may not use the %s grant", grantType))
	}
	var (
		resp Response
		err  error
	)
	switch grantType {
	case store.GrantAuthorizationCode:
		resp, err = s.exchangeCode(ctx, p, form)
	case store.GrantRefreshToken:
		resp, err = s.refresh(ctx, p, form)
	default:
		return nil, oautherr.UnsupportedGrantType("unsupported grant_type")
	}
	if err != nil {
		return nil, err
	}
	if s.meter != nil {
		s.meter.SignIn(ctx, p.PartnerID, p.OrganisationID, p.ID)
	}
	return resp, nil
}

func (s *Service) exchangeCode(ctx context.Context, p store.Principal, form url.Values) (Response, error) {
	code, redirect, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "":
		return Response{}, oautherr.InvalidRequest("code is required")
	case redirect == "":
		return Response{}, oautherr.InvalidRequest("redirect_uri is required")
	case verifier == "":
		return Response{}, oautherr.InvalidRequest("code_verifier is required (PKCE)")
	case !ValidVerifier(verifier):
		return Response{}, oautherr.InvalidRequest("code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'")
	}
	// Claim the code first, naming what this exchange will issue: a
	// second exchange, even a concurrent one, finds the claim and revokes
	// it. Then consume the code with a conditional delete (one winner).
	h := Hash(code)
	is := s.plan(p, []string{ScopeOfflineAccess})
	err := s.store.ClaimCode(ctx, h, is, s.now().Add(UsedCodeRetention))
	if errors.Is(err, store.ErrUsed) {
		s.replayed(ctx, h)
		return Response{}, oautherr.InvalidGrant("the code was already used; what it issued is now revoked")
	}
	if err != nil {
		return Response{}, oautherr.TemporarilyUnavailable(err)
	}
	g, err := s.store.ConsumeCode(ctx, h)
	if errors.Is(err, store.ErrGone) {
		return Response{}, oautherr.InvalidGrant("the code is invalid or expired")
	}
	if err != nil {
		return Response{}, oautherr.TemporarilyUnavailable(err)
	}
	switch {
	case g.ClientID != p.ID:
		return Response{}, oautherr.InvalidGrant("the code was issued to another client")
	case g.RedirectURI != redirect:
		return Response{}, oautherr.InvalidGrant("redirect_uri differs from the authorization request's")
	case subtle.ConstantTimeCompare([]byte(Challenge(verifier)), []byte(g.CodeChallenge)) != 1:
		return Response{}, oautherr.InvalidGrant("code_verifier does not match the code_challenge")
	}
	if !slices.Contains(g.Scopes, ScopeOfflineAccess) || !p.HasGrant(store.GrantRefreshToken) {
		is.FamilyID = "" // no family will be started
	}
	if err := s.store.PutSubjectClaims(ctx, store.SubjectClaims{
		PartnerID: g.PartnerID, OrganisationID: g.OrganisationID, Subject: g.Subject, Claims: g.Claims, UpdatedAt: s.now().UTC(),
	}, s.now().Add(SubjectRetention)); err != nil {
		return Response{}, oautherr.TemporarilyUnavailable(err)
	}
	return s.issue(ctx, p, g, g.Scopes, is, true)
}

// replayed revokes what the first exchange of the code hash h issued, if
// it was exchanged before.
func (s *Service) replayed(ctx context.Context, h string) {
	is, err := s.store.UsedCode(ctx, h)
	if err != nil {
		return // never exchanged (unknown or expired), or unknown: nothing to revoke
	}
	log := logging.FromContext(ctx, nil)
	log.WarnContext(ctx, "authorization code replayed: revoking what it issued", slog.String("jti", is.TokenID))
	s.revokeIssued(ctx, is)
}

func (s *Service) revokeIssued(ctx context.Context, is store.Issued) {
	log := logging.FromContext(ctx, nil)
	if is.TokenID != "" {
		if err := s.store.RevokeToken(ctx, is.TokenID, is.TokenExpires); err != nil {
			log.ErrorContext(ctx, "revoke access token", slog.Any("err", err))
		}
	}
	if is.FamilyID != "" {
		f, err := s.store.RevokeFamily(ctx, is.FamilyID)
		if err != nil && !errors.Is(err, store.ErrGone) {
			log.ErrorContext(ctx, "revoke refresh family", slog.Any("err", err))
		}
		if err == nil && f.Last.TokenID != "" && f.Last.TokenID != is.TokenID {
			if err := s.store.RevokeToken(ctx, f.Last.TokenID, f.Last.TokenExpires); err != nil {
				log.ErrorContext(ctx, "revoke access token", slog.Any("err", err))
			}
		}
	}
}

// plan names the access token (and refresh family) an exchange will issue
// for p with scopes, before anything is signed.
func (s *Service) plan(p store.Principal, scopes []string) store.Issued {
	is := store.Issued{TokenID: uuid.NewString(), TokenExpires: s.now().Add(accessLifetime(p)).Truncate(time.Second)}
	if slices.Contains(scopes, ScopeOfflineAccess) && p.HasGrant(store.GrantRefreshToken) {
		is.FamilyID = uuid.NewString()
	}
	return is
}

func (s *Service) refresh(ctx context.Context, p store.Principal, form url.Values) (Response, error) {
	raw := form.Get("refresh_token")
	if raw == "" {
		return Response{}, oautherr.InvalidRequest("refresh_token is required")
	}
	requested, err := scope.Parse(form.Get("scope"))
	if err != nil {
		return Response{}, oautherr.InvalidScope(err.Error())
	}
	h := Hash(raw)
	rt, f, err := s.store.GetRefresh(ctx, h)
	if errors.Is(err, store.ErrGone) {
		return Response{}, oautherr.InvalidGrant("the refresh token is invalid or expired")
	}
	if err != nil {
		return Response{}, oautherr.TemporarilyUnavailable(err)
	}
	now := s.now()
	switch {
	case f.ClientID != p.ID:
		return Response{}, oautherr.InvalidGrant("the refresh token was issued to another client")
	case f.Revoked:
		return Response{}, oautherr.InvalidGrant("the refresh token was revoked")
	case rt.Rotated:
		s.reused(ctx, f)
		return Response{}, oautherr.InvalidGrant("the refresh token was already used; its whole chain is now revoked")
	case !now.Before(rt.IdleExpiry) || !now.Before(f.AbsoluteExpiry):
		return Response{}, oautherr.InvalidGrant("the refresh token is expired")
	case p.CreatedAt.Truncate(time.Second).After(f.CreatedAt):
		return Response{}, oautherr.InvalidGrant("the refresh token was issued to an earlier client of this id")
	}
	scopes := f.Scopes
	if len(requested) > 0 {
		for _, sc := range requested {
			if !slices.Contains(f.Scopes, sc) {
				return Response{}, oautherr.InvalidScope(fmt.Sprintf("scope %q was not granted at sign-in", sc))
			}
		}
		scopes = requested
	}
	is := s.plan(p, f.Scopes)
	is.FamilyID = f.ID
	next := store.RefreshToken{FamilyID: f.ID, CreatedAt: now.UTC()}
	secret := credential.NewSecret()
	next.Hash = Hash(secret)
	next.IdleExpiry = minTime(now.Add(time.Duration(f.IdleLifetimeSecs)*time.Second), f.AbsoluteExpiry).UTC()
	err = s.store.RotateRefresh(ctx, f, h, next, is)
	if errors.Is(err, store.ErrReused) {
		s.reused(ctx, f)
		return Response{}, oautherr.InvalidGrant("the refresh token was already used; its whole chain is now revoked")
	}
	if err != nil {
		return Response{}, oautherr.TemporarilyUnavailable(err)
	}
	g := f.Grant
	g.Nonce = "" // an ID token of a refresh carries no nonce (Core §12.2)
	resp, err := s.issue(ctx, p, g, scopes, store.Issued{TokenID: is.TokenID, TokenExpires: is.TokenExpires}, false)
	if err != nil {
		return Response{}, err
	}
	resp.RefreshToken = secret
	return resp, nil
}

// reused revokes family f and its last access token.
func (s *Service) reused(ctx context.Context, f store.Family) {
	logging.FromContext(ctx, nil).WarnContext(ctx, "refresh token reused: revoking its family", slog.String("family_id", f.ID))
	s.revokeIssued(ctx, store.Issued{FamilyID: f.ID, TokenID: f.Last.TokenID, TokenExpires: f.Last.TokenExpires})
}

// issue signs the access token named by is for g with scopes, the ID
// token when openid is among them, and, when is names a family and
// newFamily, starts the refresh-token family.
func (s *Service) issue(ctx context.Context, p store.Principal, g store.Grant, scopes []string, is store.Issued, newFamily bool) (Response, error) {
	alg, err := algorithm(p)
	if err != nil {
		return Response{}, oautherr.ServerError(err)
	}
	extra, err := accessExtra(g)
	if err != nil {
		return Response{}, oautherr.ServerError(err)
	}
	sub := token.Subject{
		ClientID: p.ID, PartnerID: p.PartnerID, OrganisationID: p.OrganisationID, Scopes: scopes,
		Algorithm: alg, Lifetime: accessLifetime(p), EndUser: g.Subject, TokenID: is.TokenID, Extra: extra,
	}
	raw, claims, err := s.issuer.Issue(ctx, sub, scope.Format(scopes))
	if err != nil {
		return Response{}, oautherr.ServerError(err)
	}
	resp := Response{AccessToken: raw, TokenType: "Bearer", ExpiresIn: int64(sub.Lifetime / time.Second), Scope: claims.Scope}
	if slices.Contains(scopes, ScopeOpenID) {
		if resp.IDToken, err = s.idToken(ctx, p, g, alg, raw, extra); err != nil {
			return Response{}, oautherr.ServerError(err)
		}
	}
	if newFamily && is.FamilyID != "" {
		absolute, idle := p.RefreshLifetimes()
		now := s.now().UTC()
		secret := credential.NewSecret()
		f := store.Family{
			ID: is.FamilyID, Grant: g, CreatedAt: now, AbsoluteExpiry: now.Add(absolute),
			IdleLifetimeSecs: int64(idle / time.Second), Last: is,
		}
		f.Grant.Scopes = scopes
		rt := store.RefreshToken{Hash: Hash(secret), FamilyID: f.ID, IdleExpiry: now.Add(idle), CreatedAt: now}
		if err := s.store.CreateFamily(ctx, f, rt); err != nil {
			return Response{}, oautherr.TemporarilyUnavailable(err)
		}
		resp.RefreshToken = secret
	}
	logging.FromContext(ctx, nil).InfoContext(ctx, "sign-in tokens issued",
		slog.String("client_id", p.ID), slog.String("jti", claims.ID), slog.Bool("id_token", resp.IDToken != ""),
		slog.Bool("refresh_token", resp.RefreshToken != ""))
	return resp, nil
}

// idToken signs the ID token of g for client p (Core §2, §3.1.3.6).
// Profile, email, address and phone claims are left to userinfo: an
// access token is always issued with it (Core §5.4).
func (s *Service) idToken(ctx context.Context, p store.Principal, g store.Grant, alg signer.Algorithm, accessToken string, extra map[string]any) (string, error) {
	now := s.now().UTC().Truncate(time.Second)
	claims := map[string]any{}
	for k, v := range extra {
		claims[k] = v
	}
	claims["iss"] = s.issuerURL
	claims["sub"] = g.Subject
	claims["aud"] = []string{p.ID}
	claims["azp"] = p.ID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(IDTokenLifetime).Unix()
	claims["auth_time"] = g.AuthTime.Unix()
	claims["at_hash"] = HalfHash(alg, accessToken)
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	raw, err := s.signer.SignJWT(ctx, alg, "JWT", claims)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return raw, nil
}

// accessExtra are the claims a grant adds to its tokens: a minted grant's
// custom claims and authenticated_methods.
func accessExtra(g store.Grant) (map[string]any, error) {
	extra := map[string]any{}
	if g.CustomClaims != "" {
		if err := json.Unmarshal([]byte(g.CustomClaims), &extra); err != nil {
			return nil, fmt.Errorf("decode custom claims: %w", err)
		}
	}
	if len(g.Methods) > 0 {
		extra["authenticated_methods"] = g.Methods
	}
	return extra, nil
}

// HalfHash is at_hash (Core §3.1.3.6): the base64url left half of the hash
// of value with the hash function of alg (SHA-256 for PS256, SHA-384 for
// ES384, SHA-512 for ES512).
func HalfHash(alg signer.Algorithm, value string) string {
	var h hash.Hash
	switch alg {
	case signer.ES384:
		h = sha512.New384()
	case signer.ES512:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write([]byte(value))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// Challenge is the S256 code_challenge of verifier (RFC 7636 §4.2).
func Challenge(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// ValidVerifier reports whether v is a code_verifier of RFC 7636 §4.1:
// 43 to 128 unreserved characters.
func ValidVerifier(v string) bool {
	return len(v) >= 43 && len(v) <= 128 && unreserved(v)
}

// ValidChallenge reports whether c can be an S256 code_challenge: the
// base64url (no padding) of 32 bytes, 43 characters.
func ValidChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

func unreserved(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func algorithm(p store.Principal) (signer.Algorithm, error) {
	if p.Algorithm == "" {
		return DefaultAlgorithm, nil
	}
	alg, err := signer.ParseAlgorithm(p.Algorithm)
	if err != nil {
		return "", fmt.Errorf("client %q: stored algorithm: %w", p.ID, err)
	}
	return alg, nil
}

func accessLifetime(p store.Principal) time.Duration {
	if p.TokenLifetime > 0 {
		return time.Duration(p.TokenLifetime) * time.Second
	}
	return DefaultAccessLifetime
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
