package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// TestThumbprintRFC7638 checks the kid of the example key of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	const (
		n    = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		e    = "AQAB"
		want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	)
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	got, err := thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("thumbprint: got %q, want %q", got, want)
	}
}

// TestECMembers checks EC keys against jwx: coordinates at full curve width,
// and the same RFC 7638 thumbprint. P-521 keys have a coordinate shorter
// than 66 bytes about half the time, so the padding is exercised.
func TestECMembers(t *testing.T) {
	tests := []struct {
		curve elliptic.Curve
		crv   string
		size  int
	}{
		{curve: elliptic.P384(), crv: "P-384", size: 48},
		{curve: elliptic.P521(), crv: "P-521", size: 66},
	}
	for _, tc := range tests {
		t.Run(tc.crv, func(t *testing.T) {
			for range 8 {
				priv, err := ecdsa.GenerateKey(tc.curve, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				m, err := publicMembers(&priv.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				if m.Kty != "EC" || m.Crv != tc.crv {
					t.Errorf("kty, crv: got %q, %q, want %q, %q", m.Kty, m.Crv, "EC", tc.crv)
				}
				for name, v := range map[string]string{"x": m.X, "y": m.Y} {
					b, err := base64.RawURLEncoding.DecodeString(v)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if len(b) != tc.size {
						t.Errorf("%s: got %d bytes, want %d", name, len(b), tc.size)
					}
				}

				got, err := thumbprint(&priv.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				ref, err := jwk.Import(&priv.PublicKey)
				if err != nil {
					t.Fatal(err)
				}
				tp, err := ref.Thumbprint(crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				if want := base64.RawURLEncoding.EncodeToString(tp); got != want {
					t.Errorf("thumbprint: got %q, want %q (jwx)", got, want)
				}
			}
		})
	}
}
