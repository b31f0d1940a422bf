package signer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// derToJOSE converts an ASN.1 DER ECDSA signature, as KMS returns it, to the
// JWS form of RFC 7518 §3.4: r and s as big-endian unsigned integers, each
// left-padded with zeros to size bytes, concatenated. s is made low (s ≤
// n/2, replacing s by n − s, which verifies the same): verifiers refuse
// high-s signatures, the malleable twin of every ECDSA signature.
func derToJOSE(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil {
		return nil, fmt.Errorf("decode ECDSA signature: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("decode ECDSA signature: trailing data")
	}
	maxBits := size * 8
	for _, v := range []*big.Int{sig.R, sig.S} {
		if v.Sign() <= 0 || v.BitLen() > maxBits {
			return nil, fmt.Errorf("decode ECDSA signature: r or s out of range for %d-byte halves", size)
		}
	}
	if n := curveOrder(size); n != nil {
		if sig.R.Cmp(n) >= 0 || sig.S.Cmp(n) >= 0 {
			return nil, errors.New("decode ECDSA signature: r or s not below the curve order")
		}
		if !lowS(sig.S, n) {
			sig.S.Sub(n, sig.S)
		}
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}

// curveOrder is the order n of the curve whose coordinates are size bytes
// (P-384, P-521), nil for another size.
func curveOrder(size int) *big.Int {
	for _, c := range []elliptic.Curve{elliptic.P384(), elliptic.P521()} {
		if (c.Params().BitSize+7)/8 == size {
			return c.Params().N
		}
	}
	return nil
}

// lowS reports whether s ≤ n/2.
func lowS(s, n *big.Int) bool {
	return s.Cmp(new(big.Int).Rsh(n, 1)) <= 0
}

// CanonicalECDSA reports whether sig, a JWS ECDSA signature (r || s) made
// with key, has a low s (s ≤ n/2): the one form the service signs, so that
// a token's signature cannot be altered into another valid one.
func CanonicalECDSA(key *ecdsa.PublicKey, sig []byte) bool {
	if len(sig)%2 != 0 {
		return false
	}
	return lowS(new(big.Int).SetBytes(sig[len(sig)/2:]), key.Params().N)
}
