package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// MinRefresh is the shortest time between two fetches of one JWKS: a token
// naming an unknown kid refetches the keys (the provider rotated), but at
// most this often, so forged kids cannot make the service hammer the
// provider.
const MinRefresh = time.Minute

// ErrUnknownKey: no key of the provider's JWKS verifies the token.
var ErrUnknownKey = errors.New("federation: no key of the provider's JWKS verifies the token")

// KeySets caches the JWKS of each provider (by jwks_uri) for the life of the
// process, as oidc.KeySet for go-oidc's verifier.
type KeySets struct {
	fetch *Fetcher
	now   func() time.Time
	mu    sync.Mutex
	sets  map[string]*keySet
}

// NewKeySets returns an empty cache fetching with f.
func NewKeySets(f *Fetcher, now func() time.Time) *KeySets {
	return &KeySets{fetch: f, now: now, sets: map[string]*keySet{}}
}

// For returns the key set of jwksURI.
func (k *KeySets) For(jwksURI string) oidc.KeySet {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.sets[jwksURI]
	if !ok {
		s = &keySet{parent: k, uri: jwksURI}
		k.sets[jwksURI] = s
	}
	return s
}

type keySet struct {
	parent  *KeySets
	uri     string
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time
}

var joseAlgs = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(SigningAlgs))
	for i, a := range SigningAlgs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}()

// VerifySignature implements oidc.KeySet: the signature must verify with a
// public key of the provider's JWKS whose kid (when the token names one)
// and alg (when the key names one) match; alg none and HMAC never parse.
// A kid the cached keys lack refetches the JWKS, at most every MinRefresh.
func (s *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, joseAlgs)
	if err != nil {
		return nil, fmt.Errorf("federation: malformed or unacceptable JWS: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("federation: the token must carry exactly one signature")
	}
	h := jws.Signatures[0].Header
	keys, err := s.current(ctx, "", false)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, h, keys); ok {
		return payload, nil
	}
	keys, err = s.current(ctx, h.KeyID, true)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, h, keys); ok {
		return payload, nil
	}
	return nil, fmt.Errorf("kid %q: %w", truncate.String(h.KeyID, 200), ErrUnknownKey)
}

func verifyWith(jws *jose.JSONWebSignature, h jose.Header, keys []jose.JSONWebKey) ([]byte, bool) {
	for _, k := range keys {
		if h.KeyID != "" && k.KeyID != h.KeyID || k.Algorithm != "" && k.Algorithm != h.Algorithm || k.Use != "" && k.Use != "sig" {
			continue
		}
		if payload, err := jws.Verify(k.Public()); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// current returns the cached keys, fetching them when there are none, or
// when refresh is asked for (an unknown kid) and the last fetch is older
// than MinRefresh.
func (s *keySet) current(ctx context.Context, kid string, refresh bool) ([]jose.JSONWebKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.parent.now()
	stale := s.fetched.IsZero() || refresh && now.Sub(s.fetched) >= MinRefresh
	if !stale {
		return s.keys, nil
	}
	if refresh && kid != "" {
		for _, k := range s.keys {
			if k.KeyID == kid { // known kid, bad signature: no refetch helps
				return s.keys, nil
			}
		}
	}
	body, err := s.parent.fetch.Get(ctx, s.uri)
	if err != nil {
		return nil, fmt.Errorf("federation: fetch JWKS: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("federation: JWKS %s: %w", s.uri, err)
	}
	var keys []jose.JSONWebKey
	for _, k := range set.Keys {
		if k.Valid() && k.IsPublic() {
			keys = append(keys, k)
		}
	}
	s.keys, s.fetched = keys, now
	return keys, nil
}
