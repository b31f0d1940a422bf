// Package signer signs JWTs with AWS KMS asymmetric keys and publishes their
// public keys as a JSON Web Key Set.
//
// Private keys never leave KMS: a Signer only holds public keys, fetched once
// by New, and calls KMS Sign for every token. Verification uses the cached
// public keys (Key, JWKS) and never calls KMS.
package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

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

// Signer signs JWTs with KMS keys and publishes the public keys of its
// signing and retired keys. It is safe for concurrent use.
type Signer struct {
	client  KMS
	signing map[Algorithm]Key
	byKID   map[string]Key
	jwks    JWKSet
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

	s := &Signer{
		client:  client,
		signing: make(map[Algorithm]Key, len(signing)),
		byKID:   make(map[string]Key, len(keys)),
	}
	for i, k := range keys {
		if reqs[i].alg != "" {
			s.signing[k.Algorithm] = k
		}
		// The same key may be named twice (say by ARN and by alias, or
		// both signing and retired): publish it once.
		if _, dup := s.byKID[k.KID]; dup {
			continue
		}
		jwk, err := newJWK(k)
		if err != nil {
			return nil, err
		}
		s.byKID[k.KID] = k
		s.jwks.Keys = append(s.jwks.Keys, jwk)
	}
	slices.SortFunc(s.jwks.Keys, func(a, b JWK) int { return strings.Compare(a.KID, b.KID) })
	return s, nil
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
	return Key{KID: kid, Algorithm: alg, KeyARN: arn, Public: pub}, nil
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
// the JSON encoding of claims, signed by the KMS key for alg. It returns an
// error wrapping ErrUnknownAlgorithm when the Signer has no key for alg.
func (s *Signer) SignJWT(ctx context.Context, alg Algorithm, typ string, claims any) (string, error) {
	key, ok := s.signing[alg]
	if !ok {
		return "", fmt.Errorf("sign JWT with %q: %w", alg, ErrUnknownAlgorithm)
	}
	spec, _ := specFor(alg)

	header, err := json.Marshal(struct {
		Alg Algorithm `json:"alg"`
		KID string    `json:"kid"`
		Typ string    `json:"typ,omitempty"`
	}{alg, key.KID, typ})
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: encode header: %w", alg, err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: encode claims: %w", alg, err)
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(header))+1+enc.EncodedLen(len(payload)))
	input = enc.AppendEncode(input, header)
	input = append(input, '.')
	input = enc.AppendEncode(input, payload)

	// RAW, not DIGEST: moto mishandles DIGEST, and a JWT's signing input is
	// far below KMS's 4096-byte limit for RAW messages.
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(key.KeyARN),
		Message:          input,
		MessageType:      types.MessageTypeRaw,
		SigningAlgorithm: spec.signing,
	})
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s key %s: %w", alg, key.KeyARN, err)
	}
	sig := out.Signature
	if spec.coordSize != 0 {
		if sig, err = derToJOSE(sig, spec.coordSize); err != nil {
			return "", fmt.Errorf("sign JWT with %s key %s: %w", alg, key.KeyARN, err)
		}
	}
	token := append(input, '.')
	token = enc.AppendEncode(token, sig)
	return string(token), nil
}

// Key returns the published public key with that kid, signing or retired. It
// never calls KMS.
func (s *Signer) Key(kid string) (Key, bool) {
	k, ok := s.byKID[kid]
	return k, ok
}

// Algorithms lists, sorted, the algorithms the Signer signs with. Retired
// keys add none.
func (s *Signer) Algorithms() []Algorithm {
	algs := make([]Algorithm, 0, len(s.signing))
	for alg := range s.signing {
		algs = append(algs, alg)
	}
	slices.Sort(algs)
	return algs
}

// JWKS returns the JSON Web Key Set (RFC 7517) of every published key,
// signing and retired, sorted by kid. Encoded with encoding/json it is the
// body of the JWKS endpoint.
func (s *Signer) JWKS() JWKSet {
	return JWKSet{Keys: slices.Clone(s.jwks.Keys)}
}
