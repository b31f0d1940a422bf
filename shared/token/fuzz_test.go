package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/token"
)

type keys map[string]signer.Key

func (k keys) Key(kid string) (signer.Key, bool) { v, ok := k[kid]; return v, ok }

// FuzzParse: whatever a caller sends as a bearer token, Parse never panics,
// and whatever it accepts carries exactly the claims the key's holder
// signed: no change to a token (header, payload, signature or encoding)
// yields other claims that verify.
func FuzzParse(f *testing.F) {
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	ks := keys{"k1": {KID: "k1", Algorithm: signer.ES384, Public: &priv.PublicKey}}
	now := time.Unix(1_800_000_000, 0)
	want := token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: "https://iss.example", Subject: "c1", Audience: jwt.ClaimStrings{"https://iss.example"},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), ID: "jti-1"},
		Scope: "a b", ClientID: "c1", PartnerID: "p1",
	}
	var good string
	for { // the service signs low-s signatures only
		tok := jwt.NewWithClaims(jwt.SigningMethodES384, want)
		tok.Header["kid"], tok.Header["typ"] = "k1", token.Type
		if good, err = tok.SignedString(priv); err != nil {
			f.Fatal(err)
		}
		sig, _ := base64.RawURLEncoding.DecodeString(good[strings.LastIndex(good, ".")+1:])
		if signer.CanonicalECDSA(&priv.PublicKey, sig) {
			break
		}
	}
	v := token.NewVerifier(ks, nil, "https://iss.example", "https://iss.example", func() time.Time { return now })
	if _, err := v.Parse(good); err != nil {
		f.Fatalf("the seed token does not parse: %v", err)
	}
	f.Add(good)
	f.Add(good + "=")
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := v.Parse(raw)
		if err != nil {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q verified with other claims: %+v", raw, got)
		}
	})
}
