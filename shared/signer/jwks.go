package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// JWKSet is a JSON Web Key Set (RFC 7517 §5): it encodes as {"keys":[...]}.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWK is the public JSON Web Key (RFC 7517, RFC 7518 §6) of one signing key.
// RSA keys carry N and E; EC keys carry Crv, X and Y, each coordinate
// left-padded to the full width of the curve.
type JWK struct {
	KID string    `json:"kid"`
	Kty string    `json:"kty"`
	Alg Algorithm `json:"alg"`
	Use string    `json:"use"`
	N   string    `json:"n,omitempty"`
	E   string    `json:"e,omitempty"`
	Crv string    `json:"crv,omitempty"`
	X   string    `json:"x,omitempty"`
	Y   string    `json:"y,omitempty"`
}

// newJWK returns the JWK of k.
func newJWK(k Key) (JWK, error) {
	m, err := publicMembers(k.Public)
	if err != nil {
		return JWK{}, fmt.Errorf("JWK of %s: %w", k.KeyARN, err)
	}
	m.KID, m.Alg, m.Use = k.KID, k.Algorithm, "sig"
	return m, nil
}

// thumbprint returns the RFC 7638 JWK thumbprint of pub: the SHA-256 hash of
// the required members in lexicographic order without whitespace, base64url
// without padding.
func thumbprint(pub crypto.PublicKey) (string, error) {
	m, err := publicMembers(pub)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	var canonical []byte
	// Struct fields are in lexicographic order; base64url and curve names
	// contain nothing encoding/json would escape.
	switch m.Kty {
	case "RSA":
		canonical, err = json.Marshal(struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{m.E, m.Kty, m.N})
	default:
		canonical, err = json.Marshal(struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{m.Crv, m.Kty, m.X, m.Y})
	}
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	sum := sha256.Sum256(canonical)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// publicMembers returns a JWK holding only the key type and public key
// members of pub.
func publicMembers(pub crypto.PublicKey) (JWK, error) {
	enc := base64.RawURLEncoding
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return JWK{
			Kty: "RSA",
			N:   enc.EncodeToString(p.N.Bytes()),
			E:   enc.EncodeToString(big.NewInt(int64(p.E)).Bytes()),
		}, nil
	case *ecdsa.PublicKey:
		// Bytes is the uncompressed point 0x04 || X || Y, each coordinate
		// at the full width of the curve as RFC 7518 §6.2.1.2 wants.
		point, err := p.Bytes()
		if err != nil {
			return JWK{}, err
		}
		size := (len(point) - 1) / 2
		return JWK{
			Kty: "EC",
			Crv: p.Curve.Params().Name,
			X:   enc.EncodeToString(point[1 : 1+size]),
			Y:   enc.EncodeToString(point[1+size:]),
		}, nil
	}
	return JWK{}, fmt.Errorf("unsupported public key type %T", pub)
}
