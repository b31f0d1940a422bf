package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// TestDERToJOSEVerifies signs with crypto/ecdsa until it has seen r and s
// short enough to need left padding, converts every signature, and checks
// each interesting one with jwx, a JOSE library that knows nothing of DER.
func TestDERToJOSEVerifies(t *testing.T) {
	tests := []struct {
		alg   Algorithm
		curve elliptic.Curve
		hash  crypto.Hash
		jwa   jwa.SignatureAlgorithm
	}{
		{alg: ES384, curve: elliptic.P384(), hash: crypto.SHA384, jwa: jwa.ES384()},
		{alg: ES512, curve: elliptic.P521(), hash: crypto.SHA512, jwa: jwa.ES512()},
	}
	for _, tc := range tests {
		t.Run(string(tc.alg), func(t *testing.T) {
			spec, _ := specFor(tc.alg)
			priv, err := ecdsa.GenerateKey(tc.curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			enc := base64.RawURLEncoding
			input := enc.EncodeToString([]byte(`{"alg":"`+string(tc.alg)+`"}`)) + "." + enc.EncodeToString([]byte(`{"sub":"x"}`))
			h := tc.hash.New()
			h.Write([]byte(input))
			digest := h.Sum(nil)

			// A half is short when its DER integer has fewer than size
			// significant bytes; P-384 needs ~256 tries to see one, P-521
			// (whose top byte holds one bit) ~2.
			shortBits := (spec.coordSize - 1) * 8
			var sawShortR, sawShortS, sawFull bool
			for i := 0; i < 20000 && !(sawShortR && sawShortS && sawFull); i++ {
				der, err := ecdsa.SignASN1(rand.Reader, priv, digest)
				if err != nil {
					t.Fatal(err)
				}
				var rs struct{ R, S *big.Int }
				if _, err := asn1.Unmarshal(der, &rs); err != nil {
					t.Fatal(err)
				}
				shortR, shortS := rs.R.BitLen() <= shortBits, rs.S.BitLen() <= shortBits
				interesting := (shortR && !sawShortR) || (shortS && !sawShortS) || (!shortR && !shortS && !sawFull)
				if !interesting {
					continue
				}
				sawShortR = sawShortR || shortR
				sawShortS = sawShortS || shortS
				sawFull = sawFull || (!shortR && !shortS)

				sig, err := derToJOSE(der, spec.coordSize)
				if err != nil {
					t.Fatalf("derToJOSE: %v", err)
				}
				if got, want := len(sig), 2*spec.coordSize; got != want {
					t.Fatalf("signature length: got %d, want %d", got, want)
				}
				if got, want := new(big.Int).SetBytes(sig[:spec.coordSize]), rs.R; got.Cmp(want) != 0 {
					t.Errorf("r: got %x, want %x", got, want)
				}
				want := rs.S // or its low twin n - s
				if n := priv.Params().N; rs.S.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
					want = new(big.Int).Sub(n, rs.S)
				}
				if got := new(big.Int).SetBytes(sig[spec.coordSize:]); got.Cmp(want) != 0 {
					t.Errorf("s: got %x, want %x", got, want)
				}
				if !CanonicalECDSA(&priv.PublicKey, sig) {
					t.Errorf("signature with s %x is not canonical", want)
				}
				token := input + "." + enc.EncodeToString(sig)
				if _, err := jws.Verify([]byte(token), jws.WithKey(tc.jwa, &priv.PublicKey)); err != nil {
					t.Errorf("jws.Verify (short r %v, short s %v): %v", shortR, shortS, err)
				}
			}
			if !sawShortR || !sawShortS || !sawFull {
				t.Fatalf("saw short r %v, short s %v, full-width %v: want all", sawShortR, sawShortS, sawFull)
			}
		})
	}
}

func TestDERToJOSE(t *testing.T) {
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	padded := func(size int, r, s byte) []byte {
		out := make([]byte, 2*size)
		out[size-1], out[2*size-1] = r, s
		return out
	}
	n521, n384 := elliptic.P521().Params().N, elliptic.P384().Params().N
	below := func(n *big.Int) *big.Int { return new(big.Int).Sub(n, big.NewInt(1)) }
	half := func(n *big.Int) *big.Int { return new(big.Int).Rsh(n, 1) }
	tests := []struct {
		name    string
		der     []byte
		size    int
		want    []byte
		wantErr bool
	}{
		{name: "tiny P-384", der: der(big.NewInt(1), big.NewInt(2)), size: 48, want: padded(48, 1, 2)},
		{name: "tiny P-521", der: der(big.NewInt(0x7f), big.NewInt(0x80)), size: 66, want: padded(66, 0x7f, 0x80)},
		{name: "521-bit halves", der: der(below(n521), half(n521)), size: 66,
			want: append(below(n521).FillBytes(make([]byte, 66)), half(n521).FillBytes(make([]byte, 66))...)},
		{name: "high s made low", der: der(big.NewInt(1), below(n384)), size: 48, want: padded(48, 1, 1)},
		{name: "s not below n", der: der(big.NewInt(1), n384), size: 48, wantErr: true},
		{name: "r not below n", der: der(n521, big.NewInt(1)), size: 66, wantErr: true},
		{name: "too wide for P-384", der: der(new(big.Int).Lsh(big.NewInt(1), 384), big.NewInt(1)), size: 48, wantErr: true},
		{name: "zero r", der: der(big.NewInt(0), big.NewInt(1)), size: 48, wantErr: true},
		{name: "negative s", der: der(big.NewInt(1), big.NewInt(-1)), size: 48, wantErr: true},
		{name: "trailing data", der: append(der(big.NewInt(1), big.NewInt(2)), 0), size: 48, wantErr: true},
		{name: "not DER", der: []byte{1, 2, 3}, size: 48, wantErr: true},
		{name: "empty", der: nil, size: 48, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := derToJOSE(tc.der, tc.size)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("derToJOSE: got %x, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("derToJOSE: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("derToJOSE: got %x, want %x", got, tc.want)
			}
		})
	}
}
