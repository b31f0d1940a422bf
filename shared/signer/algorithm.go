package signer

import (
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Algorithm is a JWS "alg" value (RFC 7518 §3.1) that the signer can sign
// with using a KMS asymmetric key.
type Algorithm string

// The algorithms the signer supports, each backed by one kind of KMS key.
const (
	// PS256 is RSASSA-PSS with SHA-256, signed by an RSA_2048, RSA_3072 or
	// RSA_4096 key with RSASSA_PSS_SHA_256.
	PS256 Algorithm = "PS256"
	// ES384 is ECDSA on P-384 with SHA-384, signed by an ECC_NIST_P384 key.
	ES384 Algorithm = "ES384"
	// ES512 is ECDSA on P-521 with SHA-512, signed by an ECC_NIST_P521 key.
	ES512 Algorithm = "ES512"
)

// ErrUnknownAlgorithm means an algorithm is not one of PS256, ES384 and
// ES512, or that a Signer has no signing key for it.
var ErrUnknownAlgorithm = errors.New("signer: unknown algorithm")

// ParseAlgorithm returns the Algorithm named exactly s ("ES384", not
// "es384"), or an error wrapping ErrUnknownAlgorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	alg := Algorithm(s)
	if _, ok := specFor(alg); !ok {
		return "", fmt.Errorf("parse algorithm %q: %w", s, ErrUnknownAlgorithm)
	}
	return alg, nil
}

// algorithmSpec is what KMS needs and checks for one Algorithm.
type algorithmSpec struct {
	// keySpecs are the KMS key specs that may sign with the algorithm; the
	// first is the one EnsureKeys creates.
	keySpecs []types.KeySpec
	// signing is the KMS signing algorithm.
	signing types.SigningAlgorithmSpec
	// coordSize is the byte length of r and s in a JOSE ECDSA signature;
	// zero for RSA.
	coordSize int
}

// specFor returns what KMS needs and checks for alg. It is the only place
// that maps algorithms to KMS key specs.
func specFor(alg Algorithm) (algorithmSpec, bool) {
	switch alg {
	case PS256:
		return algorithmSpec{
			keySpecs: []types.KeySpec{types.KeySpecRsa2048, types.KeySpecRsa3072, types.KeySpecRsa4096},
			signing:  types.SigningAlgorithmSpecRsassaPssSha256,
		}, true
	case ES384:
		return algorithmSpec{
			keySpecs:  []types.KeySpec{types.KeySpecEccNistP384},
			signing:   types.SigningAlgorithmSpecEcdsaSha384,
			coordSize: 48,
		}, true
	case ES512:
		return algorithmSpec{
			keySpecs:  []types.KeySpec{types.KeySpecEccNistP521},
			signing:   types.SigningAlgorithmSpecEcdsaSha512,
			coordSize: 66,
		}, true
	}
	return algorithmSpec{}, false
}

// algorithmForKeySpec returns the Algorithm a key of that spec signs with.
func algorithmForKeySpec(spec types.KeySpec) (Algorithm, bool) {
	for _, alg := range []Algorithm{PS256, ES384, ES512} {
		if as, _ := specFor(alg); slices.Contains(as.keySpecs, spec) {
			return alg, true
		}
	}
	return "", false
}
