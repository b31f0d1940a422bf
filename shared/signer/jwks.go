package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
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

// publicFromMembers is the inverse of publicMembers.
func publicFromMembers(j JWK) (crypto.PublicKey, error) {
	enc := base64.RawURLEncoding
	switch j.Kty {
	case "RSA":
		n, err := enc.DecodeString(j.N)
		if err != nil {
			return nil, fmt.Errorf("n: %w", err)
		}
		e, err := enc.DecodeString(j.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("e: not a small base64url integer")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported curve %q", j.Crv)
		}
		x, err := enc.DecodeString(j.X)
		if err != nil {
			return nil, fmt.Errorf("x: %w", err)
		}
		y, err := enc.DecodeString(j.Y)
		if err != nil {
			return nil, fmt.Errorf("y: %w", err)
		}
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(curve, point)
	}
	return nil, fmt.Errorf("unsupported key type %q", j.Kty)
}
