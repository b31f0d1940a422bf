// Package keyring is the JWT signing key ring of the wrapped signing mode:
// keys generated in process whose private halves are stored in the table
// only encrypted under a KMS symmetric key (envelope encryption, with an
// encryption context naming the purpose and the kid), their rotation, and
// the signer.Source that loads them into every function.
//
// # Rotation
//
// Keys of one algorithm follow each other in time. A key signs from its
// activates_at until the next key's activates_at, and stays published
// until every token it signed has expired. Timeline derives every key's
// windows and status from those two instants and the Policy, so a function
// needs no rotation run to switch keys at the right time; Rotate records
// the statuses (pending, active, retiring, retired) and retirement times in
// the table and adds the next key:
//
//   - A new key is published from the moment it is stored and signs only
//     after Policy.Lead: one JWKS cache lifetime (the max-age the JWKS
//     endpoint sends) plus the signers' refresh interval plus clock skew.
//     So every function has loaded it (they re-read the ring at least
//     every refresh interval) and every relying party that honours max-age
//     has fetched a JWKS holding it before any token names it.
//   - A superseded key stays published for Policy.Tail after its successor
//     activates: the longest token lifetime, the verifiers' leeway and clock
//     skew. Then it is retired (DynamoDB's TTL removes the item 30 days
//     later).
//
// Running functions learn of new keys by re-reading the ring (one
// consistent Query) when their copy is older than the refresh interval,
// and, at most once per signer.DefaultMinRefreshInterval, when a token
// names a kid they do not know. The lead time makes the second a safety
// net, not the mechanism; the rate limit keeps unknown kids from driving
// reads.
package keyring

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
)

// Policy are the time spans rotation assumes.
type Policy struct {
	// JWKSCacheLifetime is the Cache-Control max-age of the JWKS.
	JWKSCacheLifetime time.Duration
	// RefreshInterval is how often every function re-reads the ring.
	RefreshInterval time.Duration
	// MaxTokenLifetime is the longest lifetime of any token signed.
	MaxTokenLifetime time.Duration
	// ClockSkew covers clocks that differ between functions and verifiers
	// (and the verifiers' leeway).
	ClockSkew time.Duration
}

// DefaultPolicy: a one-hour JWKS cache, a five-minute refresh, 24-hour
// tokens (partner tokens; clients' at most 86,400 s), two minutes of skew.
var DefaultPolicy = Policy{
	JWKSCacheLifetime: time.Hour,
	RefreshInterval:   signer.DefaultRefreshInterval,
	MaxTokenLifetime:  24 * time.Hour,
	ClockSkew:         2 * time.Minute,
}

// Lead is how long a new key is published before it signs.
func (p Policy) Lead() time.Duration { return p.JWKSCacheLifetime + p.RefreshInterval + p.ClockSkew }

// Tail is how long a superseded key stays published after it stops signing.
func (p Policy) Tail() time.Duration { return p.MaxTokenLifetime + p.ClockSkew }

// Purpose is the "purpose" of the encryption context of every wrapped key;
// the stack's IAM conditions name it.
const Purpose = "partner-api-jwt-signing-key"

// EncryptionContext is the KMS encryption context of kid's wrapped key: a
// ciphertext decrypts only with the kid it was made for.
func EncryptionContext(kid string) map[string]string {
	return map[string]string{"purpose": Purpose, "kid": kid}
}

// KMS is the subset of *kms.Client the ring uses: Encrypt when rotating,
// Decrypt when loading keys that sign. Errors are the SDK's.
type KMS interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ KMS = (*kms.Client)(nil)

// Store is the ring's storage (satisfied by *store.Table): SigningKeys
// reads the whole ring; PutSigningKey gives a *store.ConflictError for a
// kid already stored, UpdateSigningKey a *store.VersionError when the
// version moved; any may give store.ErrUnavailable.
type Store interface {
	SigningKeys(ctx context.Context) ([]store.SigningKey, error)
	PutSigningKey(ctx context.Context, k store.SigningKey) error
	UpdateSigningKey(ctx context.Context, k store.SigningKey) (store.SigningKey, error)
}

var _ Store = (*store.Table)(nil)

// Ring is the key ring of one stage.
type Ring struct {
	store Store
	kms   KMS
	// wrappingKey is the KMS key (id, ARN or alias) that wraps private keys.
	wrappingKey string
	policy      Policy
	now         func() time.Time
}

// Algorithms are the algorithms the ring holds keys for.
var Algorithms = []signer.Algorithm{signer.PS256, signer.ES384, signer.ES512}

// New returns the ring stored in st whose private keys are wrapped by the
// KMS key wrappingKey. k may be nil for a ring that only verifies.
func New(st Store, k KMS, wrappingKey string, p Policy, now func() time.Time) *Ring {
	if now == nil {
		now = time.Now
	}
	return &Ring{store: st, kms: k, wrappingKey: wrappingKey, policy: p, now: now}
}

// Policy is the ring's policy.
func (r *Ring) Policy() Policy { return r.policy }

// Window is when one key signs and is published, and its status at a time.
type Window struct {
	SignsFrom, SignsUntil, PublishedUntil time.Time
	Status                                string
}

// Timeline returns the window of every key of keys at now, by kid: a key
// signs from its activates_at until the next key of its algorithm
// activates, and is published until Tail after that.
func Timeline(keys []store.SigningKey, p Policy, now time.Time) map[string]Window {
	byAlg := map[string][]store.SigningKey{}
	for _, k := range keys {
		byAlg[k.Algorithm] = append(byAlg[k.Algorithm], k)
	}
	out := make(map[string]Window, len(keys))
	for _, ks := range byAlg {
		slices.SortFunc(ks, func(a, b store.SigningKey) int {
			if c := a.ActivatesAt.Compare(b.ActivatesAt); c != 0 {
				return c
			}
			return a.CreatedAt.Compare(b.CreatedAt)
		})
		for i, k := range ks {
			w := Window{SignsFrom: k.ActivatesAt}
			if i+1 < len(ks) {
				w.SignsUntil = ks[i+1].ActivatesAt
				w.PublishedUntil = w.SignsUntil.Add(p.Tail())
			}
			switch {
			case now.Before(w.SignsFrom):
				w.Status = store.KeyPending
			case w.SignsUntil.IsZero() || now.Before(w.SignsUntil):
				w.Status = store.KeyActive
			case now.Before(w.PublishedUntil):
				w.Status = store.KeyRetiring
			default:
				w.Status = store.KeyRetired
			}
			out[k.KID] = w
		}
	}
	return out
}

// Report says what Rotate did.
type Report struct {
	// Created are the kids of the keys added.
	Created []string `json:"created,omitempty"`
	// Keys is the ring after the rotation.
	Keys []KeyInfo `json:"keys"`
}

// KeyInfo describes one key of the ring (never its private half).
type KeyInfo struct {
	KID         string    `json:"kid"`
	Algorithm   string    `json:"alg"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	ActivatesAt time.Time `json:"activates_at"`
	RetiresAt   time.Time `json:"retires_at,omitzero"`
}

// Rotate records every key's status and retirement time as of now, and adds
// a key per algorithm: one that signs after Policy.Lead, unless a pending
// key is already waiting, or, for an algorithm without any key, one that
// signs at once (no token can name an older key).
func (r *Ring) Rotate(ctx context.Context) (Report, error) {
	return r.advance(ctx, true)
}

// Ensure gives every algorithm without a key one that signs at once, and
// records statuses like Rotate; it adds nothing to an algorithm that has
// keys. It is idempotent: the local server and tests provision with it.
func (r *Ring) Ensure(ctx context.Context) (Report, error) {
	return r.advance(ctx, false)
}

func (r *Ring) advance(ctx context.Context, rotate bool) (Report, error) {
	now := r.now().UTC().Truncate(time.Second)
	keys, err := r.store.SigningKeys(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("rotate signing keys: %w", err)
	}
	var rep Report
	for _, alg := range Algorithms {
		has, pending := false, false
		for _, k := range keys {
			if k.Algorithm != string(alg) {
				continue
			}
			has = true
			pending = pending || k.ActivatesAt.After(now)
		}
		switch {
		case !has:
		case rotate && !pending:
		default:
			continue
		}
		activates := now
		if has {
			activates = now.Add(r.policy.Lead())
		}
		k, err := r.create(ctx, alg, now, activates)
		if err != nil {
			return Report{}, fmt.Errorf("rotate signing keys: %w", err)
		}
		keys = append(keys, k)
		rep.Created = append(rep.Created, k.KID)
	}
	windows := Timeline(keys, r.policy, now)
	for i, k := range keys {
		w := windows[k.KID]
		if k.Status != w.Status || !k.RetiresAt.Equal(w.PublishedUntil) {
			k.Status, k.RetiresAt = w.Status, w.PublishedUntil
			if keys[i], err = r.store.UpdateSigningKey(ctx, k); err != nil {
				return Report{}, fmt.Errorf("rotate signing keys: %w", err)
			}
		}
		rep.Keys = append(rep.Keys, KeyInfo{
			KID: k.KID, Algorithm: k.Algorithm, Status: k.Status,
			CreatedAt: k.CreatedAt, ActivatesAt: k.ActivatesAt, RetiresAt: k.RetiresAt,
		})
	}
	slices.SortFunc(rep.Keys, func(a, b KeyInfo) int {
		if a.Algorithm != b.Algorithm {
			return strings.Compare(a.Algorithm, b.Algorithm)
		}
		return a.ActivatesAt.Compare(b.ActivatesAt)
	})
	return rep, nil
}

// create generates a key for alg in process, wraps its PKCS#8 DER with KMS
// Encrypt under the kid's encryption context and stores it.
func (r *Ring) create(ctx context.Context, alg signer.Algorithm, now, activates time.Time) (store.SigningKey, error) {
	if r.kms == nil || r.wrappingKey == "" {
		return store.SigningKey{}, errors.New("no KMS wrapping key configured")
	}
	priv, err := signer.GenerateKey(alg)
	if err != nil {
		return store.SigningKey{}, err
	}
	pub, err := signer.PublicKey(alg, priv.Public())
	if err != nil {
		return store.SigningKey{}, err
	}
	jwk, err := signer.JWKOf(pub)
	if err != nil {
		return store.SigningKey{}, err
	}
	jwkJSON, err := json.Marshal(jwk)
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encode %s key: %w", alg, err)
	}
	out, err := r.kms.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String(r.wrappingKey), Plaintext: der, EncryptionContext: EncryptionContext(pub.KID),
	})
	clear(der)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("wrap %s key %s: %w", alg, pub.KID, err)
	}
	status := store.KeyActive
	if activates.After(now) {
		status = store.KeyPending
	}
	k := store.SigningKey{
		KID: pub.KID, Algorithm: string(alg), Status: status, CreatedAt: now, ActivatesAt: activates,
		PublicJWK: string(jwkJSON), WrappedKey: out.CiphertextBlob,
	}
	if err := r.store.PutSigningKey(ctx, k); err != nil {
		return store.SigningKey{}, err
	}
	k.Version = 1
	return k, nil
}

// Source returns the signer.Source of this ring. With sign, each key that
// signs now or later is decrypted when it first signs (one KMS Decrypt per
// key, once per process: the plaintext keys are kept across refreshes), so
// a cold start decrypts only the key of the algorithm its first token
// needs; without sign no KMS call is made and the Signer only verifies.
func (r *Ring) Source(sign bool) signer.Source {
	return &source{ring: r, sign: sign, wrapped: map[string]*wrappedKey{}}
}

type source struct {
	ring *Ring
	sign bool
	mu   sync.Mutex
	// wrapped are the signers handed out, by kid, reused across loads
	// (so each holds its key's decrypted half for the process life).
	wrapped map[string]*wrappedKey
	// unwrapMu serialises decryptions (a handful per process).
	unwrapMu sync.Mutex
}

// wrappedKey is a crypto.Signer whose private key is decrypted when it
// first signs.
type wrappedKey struct {
	src  *source
	item store.SigningKey
	pub  signer.Key
	// priv is the decrypted private key, nil until the first signature.
	priv atomic.Pointer[crypto.Signer]
}

// unwrapTimeout bounds the KMS Decrypt of a key's first signature.
const unwrapTimeout = 5 * time.Second

func (w *wrappedKey) Public() crypto.PublicKey { return w.pub.Public }

func (w *wrappedKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	priv := w.priv.Load()
	if priv == nil {
		var err error
		if priv, err = w.unwrap(); err != nil {
			return nil, err
		}
	}
	return (*priv).Sign(rand, digest, opts)
}

// Load reads the ring and returns its published keys at now.
func (s *source) Load(ctx context.Context) ([]signer.RingKey, error) {
	r := s.ring
	now := r.now()
	keys, err := r.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	windows := Timeline(keys, r.policy, now)
	var out []signer.RingKey
	for _, k := range keys {
		w := windows[k.KID]
		if w.Status == store.KeyRetired {
			continue
		}
		var jwk signer.JWK
		if err := json.Unmarshal([]byte(k.PublicJWK), &jwk); err != nil {
			return nil, fmt.Errorf("key %s: public JWK: %w", k.KID, err)
		}
		pub, err := signer.ParseJWK(jwk)
		if err != nil {
			return nil, err
		}
		if string(pub.Algorithm) != k.Algorithm {
			return nil, fmt.Errorf("key %s: JWK for %s, item for %s", k.KID, pub.Algorithm, k.Algorithm)
		}
		rk := signer.RingKey{Key: pub, SignsFrom: w.SignsFrom, SignsUntil: w.SignsUntil, PublishedUntil: w.PublishedUntil}
		if s.sign && w.Status != store.KeyRetiring {
			rk.Private = s.signerFor(k, pub)
		}
		out = append(out, rk)
	}
	return out, nil
}

// signerFor is the wrappedKey of k, the same one on every load.
func (s *source) signerFor(k store.SigningKey, pub signer.Key) *wrappedKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.wrapped[k.KID]
	if !ok {
		w = &wrappedKey{src: s, item: k, pub: pub}
		s.wrapped[k.KID] = w
	}
	return w
}

// unwrap decrypts w's private key and keeps it. Calls wait for each
// other, so a burst of first tokens makes one Decrypt.
func (w *wrappedKey) unwrap() (*crypto.Signer, error) {
	s, k := w.src, w.item
	s.unwrapMu.Lock()
	defer s.unwrapMu.Unlock()
	if priv := w.priv.Load(); priv != nil {
		return priv, nil
	}
	r := s.ring
	if r.kms == nil {
		return nil, fmt.Errorf("key %s: no KMS client to decrypt it", k.KID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), unwrapTimeout)
	defer cancel()
	in := &kms.DecryptInput{CiphertextBlob: k.WrappedKey, EncryptionContext: EncryptionContext(k.KID)}
	if r.wrappingKey != "" {
		in.KeyId = aws.String(r.wrappingKey)
	}
	out, err := r.kms.Decrypt(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("unwrap key %s: %w", k.KID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(out.Plaintext)
	clear(out.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("unwrap key %s: %w", k.KID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unwrap key %s: %T is not a signing key", k.KID, parsed)
	}
	got, err := signer.PublicKey(w.pub.Algorithm, priv.Public())
	if err != nil || got.KID != k.KID {
		return nil, fmt.Errorf("unwrap key %s: the private key does not match the published key", k.KID)
	}
	w.priv.Store(&priv)
	return &priv, nil
}
