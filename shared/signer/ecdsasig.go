package signer

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
)

// derToJOSE converts an ASN.1 DER ECDSA signature, as KMS returns it, to the
// JWS form of RFC 7518 §3.4: r and s as big-endian unsigned integers, each
// left-padded with zeros to size bytes, concatenated.
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
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}
