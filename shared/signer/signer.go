// Package signer signs JWTs and publishes the public keys as a JSON Web Key
// Set, in one of two modes:
//
//   - KMS (New): private keys never leave KMS. The Signer holds public keys,
//     fetched once, and calls KMS Sign for every token.
//   - In process (NewRing): the keys of a key ring (package keyring), whose
//     private halves are stored only encrypted under a KMS key, are
//     decrypted once per process and sign in memory; the ring is re-read
//     periodically and, rate-limited, when a token names an unknown kid.
//
// Either way verification uses the cached public keys (Key, JWKS) and never
// calls KMS.
package signer

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMS is the subset of *kms.Client the signer uses, so callers pass a
// *kms.Client and tests may pass any KMS endpoint's client. Errors are the
// SDK's operation errors.
type KMS interface {
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ KMS = (*kms.Client)(nil)

// KeyConfig names the KMS key that signs for one algorithm. KeyID is a key
// id, a key ARN or an alias name such as "alias/partner-api-es384".
type KeyConfig struct {
	Algorithm Algorithm
	KeyID     string
}

// Key is a public verification key.
type Key struct {
	// KID is the RFC 7638 SHA-256 thumbprint of the key, base64url without
	// padding, used as the JWS "kid".
	KID string
	// Algorithm is the only algorithm tokens signed by this key may carry.
	Algorithm Algorithm
	// KeyARN is the ARN of the KMS key, as GetPublicKey reports it (AWS
	// KMS reports the ARN even when asked by alias; moto 5.2 reports the
	// bare key id). SignJWT signs with it, so an alias moving to another
	// key never changes which key signs for a Signer.
	KeyARN string
	// Public is an *rsa.PublicKey (PS256) or an *ecdsa.PublicKey (ES384,
	// ES512).
	Public crypto.PublicKey
}

// Signer signs JWTs and publishes the public keys of its signing, pending
// and retired keys. It is safe for concurrent use.
type Signer struct {
	client KMS
	// keys is the current key set; ring mode swaps it on refresh.
	keys atomic.Pointer[keySet]
	// ring is the key ring of in-process mode; nil in KMS mode.
	ring *ringState
}

// keySet is an immutable set of keys as loaded at one time.
type keySet struct {
	entries []entry
	byKID   map[string]*entry
}

// entry is one key of a keySet.
type entry struct {
	key Key
	jwk JWK
	// kms: signs through KMS Sign (KMS mode); otherwise private signs.
	kms     bool
	private crypto.Signer
	// signs: the key may sign in [from, until) (zero until: no end).
	signs       bool
	from, until time.Time
	// publishedUntil ends its publication (zero: no end).
	publishedUntil time.Time
}

func (e *entry) signingAt(now time.Time) bool {
	return e.signs && !now.Before(e.from) && (e.until.IsZero() || now.Before(e.until))
}

func (e *entry) publishedAt(now time.Time) bool {
	return e.publishedUntil.IsZero() || now.Before(e.publishedUntil)
}

// signingKey is the key that signs for alg at now: of the keys signing
// then, the one that started last.
func (ks *keySet) signingKey(alg Algorithm, now time.Time) *entry {
	var best *entry
	for i := range ks.entries {
		e := &ks.entries[i]
		if e.key.Algorithm == alg && e.signingAt(now) && (best == nil || e.from.After(best.from)) {
			best = e
		}
	}
	return best
}

// New loads the public key of every signing key and every retired key once,
// checks that each key fits its algorithm, and returns a Signer.
//
// signing holds at most one key per algorithm. retired lists keys (key id,
// ARN or alias name) that no longer sign but whose tokens may still be live,
// so they stay in the JWKS during a key rotation; their algorithm follows
// from their key spec.
func New(ctx context.Context, client KMS, signing []KeyConfig, retired []string) (*Signer, error) {
	s, err := newSigner(ctx, client, signing, retired)
	if err != nil {
		return nil, fmt.Errorf("new signer: %w", err)
	}
	return s, nil
}

// newSigner does the work of New; its errors are wrapped there.
func newSigner(ctx context.Context, client KMS, signing []KeyConfig, retired []string) (*Signer, error) {
	type request struct {
		keyID string
		alg   Algorithm // "" for a retired key: derived from its key spec
	}
	if len(signing) == 0 && len(retired) == 0 {
		return nil, errors.New("no signing or retired keys")
	}
	var reqs []request
	seen := map[Algorithm]bool{}
	for _, kc := range signing {
		if _, ok := specFor(kc.Algorithm); !ok {
			return nil, fmt.Errorf("signing key %q: algorithm %q: %w", kc.KeyID, kc.Algorithm, ErrUnknownAlgorithm)
		}
		if kc.KeyID == "" {
			return nil, fmt.Errorf("signing key for %s: empty key id", kc.Algorithm)
		}
		if seen[kc.Algorithm] {
			return nil, fmt.Errorf("signing keys: more than one key for %s", kc.Algorithm)
		}
		seen[kc.Algorithm] = true
		reqs = append(reqs, request{keyID: kc.KeyID, alg: kc.Algorithm})
	}
	for _, id := range retired {
		if id == "" {
			return nil, errors.New("retired keys: empty key id")
		}
		reqs = append(reqs, request{keyID: id})
	}

	// One GetPublicKey per key, all at once: New runs on every Lambda cold
	// start.
	keys := make([]Key, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			keys[i], errs[i] = loadKey(ctx, client, r.keyID, r.alg)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	entries := make([]entry, 0, len(keys))
	index := map[string]int{}
	for i, k := range keys {
		signs := reqs[i].alg != ""
		// The same key may be named twice (say by ARN and by alias, or
		// both signing and retired): publish it once.
		if j, dup := index[k.KID]; dup {
			entries[j].signs = entries[j].signs || signs
			continue
		}
		jwk, err := newJWK(k)
		if err != nil {
			return nil, err
		}
		index[k.KID] = len(entries)
		entries = append(entries, entry{key: k, jwk: jwk, kms: true, signs: signs})
	}
	s := &Signer{client: client}
	s.keys.Store(newKeySet(entries))
	return s, nil
}

// newKeySet indexes entries, sorted by kid.
func newKeySet(entries []entry) *keySet {
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key.KID, b.key.KID) })
	ks := &keySet{entries: entries, byKID: make(map[string]*entry, len(entries))}
	for i := range ks.entries {
		ks.byKID[ks.entries[i].key.KID] = &ks.entries[i]
	}
	return ks
}

// loadKey fetches the public key of keyID and checks that it is a signing key
// for want, or for the algorithm its key spec implies when want is "".
func loadKey(ctx context.Context, client KMS, keyID string, want Algorithm) (Key, error) {
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return Key{}, fmt.Errorf("get public key %q: %w", keyID, err)
	}
	k, err := checkPublicKey(out, want)
	if err != nil {
		return Key{}, fmt.Errorf("key %q: %w", keyID, err)
	}
	return k, nil
}

// checkPublicKey turns a GetPublicKey answer into a Key for want (or for the
// algorithm of its key spec when want is ""), checking key spec, usage,
// signing algorithms and the key material itself.
func checkPublicKey(out *kms.GetPublicKeyOutput, want Algorithm) (Key, error) {
	keySpec := out.KeySpec
	if keySpec == "" {
		// moto 5.2 answers with the deprecated CustomerMasterKeySpec only;
		// KMS documents both as always equal.
		//lint:ignore SA1019 moto fills only the deprecated field
		keySpec = types.KeySpec(out.CustomerMasterKeySpec)
	}
	alg, ok := algorithmForKeySpec(keySpec)
	if !ok {
		return Key{}, fmt.Errorf("key spec %q signs with none of %s, %s, %s", keySpec, PS256, ES384, ES512)
	}
	if want != "" && alg != want {
		return Key{}, fmt.Errorf("key spec %s does not fit %s", keySpec, want)
	}
	spec, _ := specFor(alg)
	if out.KeyUsage != types.KeyUsageTypeSignVerify {
		return Key{}, fmt.Errorf("key usage %s, want %s", out.KeyUsage, types.KeyUsageTypeSignVerify)
	}
	if !slices.Contains(out.SigningAlgorithms, spec.signing) {
		return Key{}, fmt.Errorf("signing algorithms %v lack %s", out.SigningAlgorithms, spec.signing)
	}
	arn := aws.ToString(out.KeyId)
	if arn == "" {
		return Key{}, errors.New("GetPublicKey returned no key id")
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return Key{}, fmt.Errorf("parse public key: %w", err)
	}
	k, err := PublicKey(alg, pub)
	if err != nil {
		return Key{}, err
	}
	k.KeyARN = arn
	return k, nil
}

// curveFor returns the curve of an ECDSA algorithm, nil for others.
func curveFor(alg Algorithm) elliptic.Curve {
	switch alg {
	case ES384:
		return elliptic.P384()
	case ES512:
		return elliptic.P521()
	}
	return nil
}

// SignJWT returns a compact JWS whose protected header is {"alg","kid","typ"}
// (typ as given, such as "at+jwt"; left out when empty) and whose payload is
// the JSON encoding of claims, signed by the key that signs for alg now: in
// KMS mode by KMS Sign, in ring mode in process. It returns an error
// wrapping ErrUnknownAlgorithm when the Signer has no key for alg.
func (s *Signer) SignJWT(ctx context.Context, alg Algorithm, typ string, claims any) (string, error) {
	now := s.now()
	s.maybeRefresh(ctx, now)
	key := s.keys.Load().signingKey(alg, now)
	if key == nil {
		return "", fmt.Errorf("sign JWT with %q: %w", alg, ErrUnknownAlgorithm)
	}
	spec, _ := specFor(alg)

	header, err := json.Marshal(struct {
		Alg Algorithm `json:"alg"`
		KID string    `json:"kid"`
		Typ string    `json:"typ,omitempty"`
	}{alg, key.key.KID, typ})
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: encode header: %w", alg, err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: encode claims: %w", alg, err)
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(header))+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(2*66))
	input = enc.AppendEncode(input, header)
	input = append(input, '.')
	input = enc.AppendEncode(input, payload)

	var sig []byte
	if key.kms {
		sig, err = s.signKMS(ctx, key.key, spec, input)
	} else {
		sig, err = signLocal(key.private, alg, input)
	}
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s key %s: %w", alg, key.key.KID, err)
	}
	token := append(input, '.')
	token = enc.AppendEncode(token, sig)
	return string(token), nil
}

// signKMS signs input with KMS and returns the JWS signature.
func (s *Signer) signKMS(ctx context.Context, key Key, spec algorithmSpec, input []byte) ([]byte, error) {
	// RAW, not DIGEST: moto mishandles DIGEST, and a JWT's signing input is
	// far below KMS's 4096-byte limit for RAW messages.
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(key.KeyARN),
		Message:          input,
		MessageType:      types.MessageTypeRaw,
		SigningAlgorithm: spec.signing,
	})
	if err != nil {
		return nil, fmt.Errorf("KMS %s: %w", key.KeyARN, err)
	}
	if spec.coordSize == 0 {
		return out.Signature, nil
	}
	return derToJOSE(out.Signature, spec.coordSize)
}

// Key returns the published public key with that kid, signing, pending or
// retired. It never calls KMS. In ring mode an unknown kid makes the Signer
// re-read the ring, at most once per RingOptions.MinRefreshInterval, so
// that a key added since the last read is found without letting unknown
// kids drive reads.
func (s *Signer) Key(kid string) (Key, bool) {
	now := s.now()
	s.maybeRefresh(context.Background(), now)
	if e, ok := s.keys.Load().byKID[kid]; ok && e.publishedAt(now) {
		return e.key, true
	}
	if s.ring == nil || !s.ring.missRefresh(now) {
		return Key{}, false
	}
	s.refreshNow(context.Background())
	if e, ok := s.keys.Load().byKID[kid]; ok && e.publishedAt(now) {
		return e.key, true
	}
	return Key{}, false
}

// Algorithms lists, sorted, the algorithms the Signer signs with now.
// Retired and pending keys add none.
func (s *Signer) Algorithms() []Algorithm {
	now := s.now()
	var algs []Algorithm
	for _, e := range s.keys.Load().entries {
		if e.signingAt(now) && !slices.Contains(algs, e.key.Algorithm) {
			algs = append(algs, e.key.Algorithm)
		}
	}
	slices.Sort(algs)
	return algs
}

// JWKS returns the JSON Web Key Set (RFC 7517) of every published key,
// signing, pending and retired, sorted by kid. Encoded with encoding/json
// it is the body of the JWKS endpoint.
func (s *Signer) JWKS() JWKSet {
	now := s.now()
	s.maybeRefresh(context.Background(), now)
	set := JWKSet{Keys: []JWK{}}
	for _, e := range s.keys.Load().entries {
		if e.publishedAt(now) {
			set.Keys = append(set.Keys, e.jwk)
		}
	}
	return set
}

// now is the ring's clock, or time.Now in KMS mode.
func (s *Signer) now() time.Time {
	if s.ring != nil {
		return s.ring.now()
	}
	return time.Now()
}
