package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// RingKey is one key of a key ring as a Source reports it at load time.
type RingKey struct {
	// Key is the public key (KID, Algorithm, Public; KeyARN is empty).
	Key Key
	// Private signs in process (it may fetch its key on first use); nil
	// when this process does not sign (a function that only verifies, or a
	// key that will never sign again).
	Private crypto.Signer
	// SignsFrom and SignsUntil bound when the key signs (zero SignsUntil:
	// no newer key yet). Of the keys signing at a time, the one with the
	// latest SignsFrom signs.
	SignsFrom, SignsUntil time.Time
	// PublishedUntil ends the key's publication (zero: no end yet).
	PublishedUntil time.Time
}

// Source loads the key ring. Load is called at start and on every refresh;
// an error keeps the keys of the last successful load.
type Source interface {
	Load(ctx context.Context) ([]RingKey, error)
}

// RingOptions tune a ring-mode Signer.
type RingOptions struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// RefreshInterval is how old the loaded ring may get before the next
	// use re-reads it (DefaultRefreshInterval when zero). Rotation publishes
	// a key at least this long before it signs, so every process knows it
	// in time.
	RefreshInterval time.Duration
	// MinRefreshInterval bounds re-reads caused by tokens naming an unknown
	// kid: at most one per interval (DefaultMinRefreshInterval when zero),
	// so random kids cannot drive reads of the table.
	MinRefreshInterval time.Duration
	// Logger gets failed refreshes (discarded when nil).
	Logger *slog.Logger
}

// Refresh intervals of a ring-mode Signer.
const (
	DefaultRefreshInterval    = 5 * time.Minute
	DefaultMinRefreshInterval = 30 * time.Second
	// refreshTimeout bounds a refresh made on behalf of a caller.
	refreshTimeout = 3 * time.Second
)

// ringState is the refresh bookkeeping of ring mode.
type ringState struct {
	src    Source
	opts   RingOptions
	now    func() time.Time
	mu     sync.Mutex // held by the one refresh in progress
	stamps sync.Mutex // guards loaded and lastMiss
	// loaded is when the current keys were loaded, or last tried.
	loaded   time.Time
	lastMiss time.Time
}

// NewRing returns a Signer over the keys src loads: they sign in process
// and are published as src says; the ring is re-read when older than
// opts.RefreshInterval and, rate-limited, when a kid is not found. The
// first load must succeed.
func NewRing(ctx context.Context, src Source, opts RingOptions) (*Signer, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RefreshInterval <= 0 {
		opts.RefreshInterval = DefaultRefreshInterval
	}
	if opts.MinRefreshInterval <= 0 {
		opts.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Signer{ring: &ringState{src: src, opts: opts, now: opts.Now}}
	if err := s.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("new ring signer: %w", err)
	}
	return s, nil
}

// Refresh re-reads the ring now. In KMS mode it does nothing.
func (s *Signer) Refresh(ctx context.Context) error {
	r := s.ring
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return s.load(ctx)
}

// load reads the ring and swaps the key set in; r.mu is held.
func (s *Signer) load(ctx context.Context) error {
	r := s.ring
	r.stamps.Lock()
	r.loaded = r.now()
	r.stamps.Unlock()
	keys, err := r.src.Load(ctx)
	if err != nil {
		return fmt.Errorf("load key ring: %w", err)
	}
	if len(keys) == 0 {
		return errors.New("load key ring: no keys")
	}
	entries := make([]entry, 0, len(keys))
	for _, k := range keys {
		if _, ok := specFor(k.Key.Algorithm); !ok {
			return fmt.Errorf("load key ring: key %s: %w", k.Key.KID, ErrUnknownAlgorithm)
		}
		jwk, err := newJWK(k.Key)
		if err != nil {
			return fmt.Errorf("load key ring: %w", err)
		}
		entries = append(entries, entry{
			key: k.Key, jwk: jwk, private: k.Private, signs: k.Private != nil,
			from: k.SignsFrom, until: k.SignsUntil, publishedUntil: k.PublishedUntil,
		})
	}
	s.keys.Store(newKeySet(entries))
	return nil
}

// maybeRefresh re-reads the ring when it is older than RefreshInterval. One
// caller does it while the others go on with the keys they have.
func (s *Signer) maybeRefresh(ctx context.Context, now time.Time) {
	r := s.ring
	if r == nil {
		return
	}
	r.stamps.Lock()
	due := now.Sub(r.loaded) >= r.opts.RefreshInterval
	r.stamps.Unlock()
	if !due || !r.mu.TryLock() {
		return
	}
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	if err := s.load(ctx); err != nil {
		r.opts.Logger.WarnContext(ctx, "signing key ring refresh failed", slog.String("err", err.Error()))
	}
}

// missRefresh reports whether an unknown kid may cause a re-read now, and
// if so takes the slot.
func (r *ringState) missRefresh(now time.Time) bool {
	r.stamps.Lock()
	defer r.stamps.Unlock()
	if !r.lastMiss.IsZero() && now.Sub(r.lastMiss) < r.opts.MinRefreshInterval {
		return false
	}
	r.lastMiss = now
	return true
}

// refreshNow re-reads the ring, waiting for a refresh already in progress.
func (s *Signer) refreshNow(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	if err := s.Refresh(ctx); err != nil {
		s.ring.opts.Logger.WarnContext(ctx, "signing key ring refresh failed", slog.String("err", err.Error()))
	}
}

// signLocal signs input in process and returns the JWS signature: ECDSA as
// r || s at the curve's width, RSASSA-PSS with a salt as long as the hash.
func signLocal(priv crypto.Signer, alg Algorithm, input []byte) ([]byte, error) {
	switch alg {
	case ES384:
		d := sha512.Sum384(input)
		return signECDSA(priv, d[:], 48)
	case ES512:
		d := sha512.Sum512(input)
		return signECDSA(priv, d[:], 66)
	case PS256:
		d := sha256.Sum256(input)
		return priv.Sign(rand.Reader, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	}
	return nil, ErrUnknownAlgorithm
}

// signECDSA signs with priv, an ECDSA key (its crypto.Signer answers
// ASN.1 DER) and returns r || s.
func signECDSA(priv crypto.Signer, digest []byte, size int) ([]byte, error) {
	der, err := priv.Sign(rand.Reader, digest, nil)
	if err != nil {
		return nil, err
	}
	return derToJOSE(der, size)
}

// GenerateKey makes a new private key for alg in process: P-384 for ES384,
// P-521 for ES512, RSA 2048 for PS256.
func GenerateKey(alg Algorithm) (crypto.Signer, error) {
	switch alg {
	case ES384, ES512:
		return ecdsa.GenerateKey(curveFor(alg), rand.Reader)
	case PS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("generate key: %w", ErrUnknownAlgorithm)
}

// PublicKey returns the Key of pub for alg (kid: its RFC 7638 thumbprint;
// no KeyARN), checking that the key fits alg: an RSA key for PS256, a key
// on the algorithm's curve for ES384 and ES512.
func PublicKey(alg Algorithm, pub crypto.PublicKey) (Key, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if alg != PS256 {
			return Key{}, fmt.Errorf("RSA public key for %s", alg)
		}
	case *ecdsa.PublicKey:
		if p.Curve != curveFor(alg) {
			return Key{}, fmt.Errorf("ECDSA public key on %s for %s", p.Curve.Params().Name, alg)
		}
	default:
		return Key{}, fmt.Errorf("public key of type %T for %s", pub, alg)
	}
	kid, err := thumbprint(pub)
	if err != nil {
		return Key{}, err
	}
	return Key{KID: kid, Algorithm: alg, Public: pub}, nil
}

// JWKOf returns the public JWK of k, as the JWKS publishes it.
func JWKOf(k Key) (JWK, error) { return newJWK(k) }

// ParseJWK returns the public key of a JWK published by JWKOf, checking
// that its kid is its thumbprint.
func ParseJWK(j JWK) (Key, error) {
	pub, err := publicFromMembers(j)
	if err != nil {
		return Key{}, fmt.Errorf("parse JWK %s: %w", j.KID, err)
	}
	k, err := PublicKey(j.Alg, pub)
	if err != nil {
		return Key{}, fmt.Errorf("parse JWK %s: %w", j.KID, err)
	}
	if k.KID != j.KID {
		return Key{}, fmt.Errorf("parse JWK %s: kid is not the key's thumbprint", j.KID)
	}
	return k, nil
}
