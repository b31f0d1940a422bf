package signer_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	golangjwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/signer"
)

var allAlgorithms = []signer.Algorithm{signer.ES384, signer.ES512, signer.PS256}

// testAliases returns alias names unique to this call for algs, so test runs
// against a shared KMS endpoint never collide.
func testAliases(algs ...signer.Algorithm) map[signer.Algorithm]string {
	run := uuid.NewString()
	aliases := make(map[signer.Algorithm]string, len(algs))
	for _, alg := range algs {
		aliases[alg] = fmt.Sprintf("alias/signer-test-%s-%s", strings.ToLower(string(alg)), run)
	}
	return aliases
}

// ensureKeys creates fresh keys for algs and returns their configs.
func ensureKeys(t testing.TB, client *kms.Client, algs ...signer.Algorithm) []signer.KeyConfig {
	t.Helper()
	configs, err := signer.EnsureKeys(t.Context(), client, testAliases(algs...))
	if err != nil {
		t.Fatalf("EnsureKeys: %v", err)
	}
	return configs
}

func keyARN(t *testing.T, client *kms.Client, keyID string) string {
	t.Helper()
	out, err := client.DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		t.Fatalf("DescribeKey(%q): %v", keyID, err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func TestEnsureKeysIdempotent(t *testing.T) {
	client := testenv.KMS(t)
	aliases := testAliases(allAlgorithms...)

	first, err := signer.EnsureKeys(t.Context(), client, aliases)
	if err != nil {
		t.Fatalf("first EnsureKeys: %v", err)
	}
	arns := map[signer.Algorithm]string{}
	for _, kc := range first {
		arns[kc.Algorithm] = keyARN(t, client, kc.KeyID)
	}

	second, err := signer.EnsureKeys(t.Context(), client, aliases)
	if err != nil {
		t.Fatalf("second EnsureKeys: %v", err)
	}
	if !slices.Equal(first, second) {
		t.Errorf("second EnsureKeys: got %v, want %v", second, first)
	}
	for _, kc := range second {
		if got, want := kc.KeyID, aliases[kc.Algorithm]; got != want {
			t.Errorf("%s key id: got %q, want alias %q", kc.Algorithm, got, want)
		}
		if got, want := keyARN(t, client, kc.KeyID), arns[kc.Algorithm]; got != want {
			t.Errorf("%s key ARN after second EnsureKeys: got %s, want %s", kc.Algorithm, got, want)
		}
	}
	gotAlgs := make([]signer.Algorithm, 0, len(second))
	for _, kc := range second {
		gotAlgs = append(gotAlgs, kc.Algorithm)
	}
	if !slices.Equal(gotAlgs, allAlgorithms) {
		t.Errorf("algorithms: got %v, want %v", gotAlgs, allAlgorithms)
	}
}

func TestEnsureKeysErrors(t *testing.T) {
	client := testenv.KMS(t)
	p521 := ensureKeys(t, client, signer.ES512)[0].KeyID

	tests := []struct {
		name    string
		aliases map[signer.Algorithm]string
		wantIs  error
	}{
		{name: "alias names a key of another spec", aliases: map[signer.Algorithm]string{signer.ES384: p521}},
		{name: "unknown algorithm", aliases: map[signer.Algorithm]string{"RS256": "alias/signer-test-rs256-" + uuid.NewString()}, wantIs: signer.ErrUnknownAlgorithm},
		{name: "not an alias name", aliases: map[signer.Algorithm]string{signer.ES384: "signer-test-" + uuid.NewString()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := signer.EnsureKeys(t.Context(), client, tc.aliases)
			if err == nil {
				t.Fatalf("EnsureKeys: got %v, want an error", got)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("EnsureKeys error: got %v, want one wrapping %v", err, tc.wantIs)
			}
		})
	}
}

type testClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	IssuedAt  int64    `json:"iat"`
	ExpiresAt int64    `json:"exp"`
	ID        string   `json:"jti"`
	Scope     string   `json:"scope"`
}

func TestSignJWT(t *testing.T) {
	client := testenv.KMS(t)
	s, err := signer.New(t.Context(), client, ensureKeys(t, client, allAlgorithms...), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	jwksJSON, err := json.Marshal(s.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(jwksJSON)
	if err != nil {
		t.Fatalf("jwk.Parse(%s): %v", jwksJSON, err)
	}

	now := time.Now().Truncate(time.Second)
	for _, alg := range allAlgorithms {
		t.Run(string(alg), func(t *testing.T) {
			want := testClaims{
				Issuer:    "https://partner-api.example",
				Subject:   "client-" + uuid.NewString(),
				Audience:  []string{"https://partner-api.example/v1"},
				IssuedAt:  now.Unix(),
				ExpiresAt: now.Add(time.Hour).Unix(),
				ID:        uuid.NewString(),
				Scope:     "organisations:read clients:write",
			}
			token, err := s.SignJWT(t.Context(), alg, "at+jwt", want)
			if err != nil {
				t.Fatalf("SignJWT: %v", err)
			}

			// The header is exactly {"alg","kid","typ"}, and kid names a
			// key for alg.
			parts := strings.Split(token, ".")
			if len(parts) != 3 {
				t.Fatalf("token has %d parts, want 3", len(parts))
			}
			rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
			if err != nil {
				t.Fatalf("decode header: %v", err)
			}
			var header map[string]string
			if err := json.Unmarshal(rawHeader, &header); err != nil {
				t.Fatalf("header %s: %v", rawHeader, err)
			}
			key, ok := s.Key(header["kid"])
			if !ok {
				t.Fatalf("Key(%q): not found", header["kid"])
			}
			wantHeader := map[string]string{"alg": string(alg), "kid": key.KID, "typ": "at+jwt"}
			if !maps.Equal(header, wantHeader) {
				t.Errorf("header: got %v, want %v", header, wantHeader)
			}
			if key.Algorithm != alg {
				t.Errorf("Key(kid).Algorithm: got %s, want %s", key.Algorithm, alg)
			}

			t.Run("jwx", func(t *testing.T) {
				payload, err := jws.Verify([]byte(token), jws.WithKeySet(set, jws.WithRequireKid(true)))
				if err != nil && alg == signer.PS256 && !pssSaltIsHashLength(t, set, key.KID, parts) {
					// jwx v3 verifies PS256 with a salt as long as the hash,
					// as RFC 7518 §3.5 and AWS KMS have it; moto salts with
					// the maximum length, so jwx cannot verify moto's PS256.
					// The JWKS as jwx parsed it was still checked above.
					t.Skipf("jwx v3 rejects moto's maximum-salt PS256 signature (known moto gap): %v", err)
				}
				if err != nil {
					t.Fatalf("jws.Verify: %v", err)
				}
				var got testClaims
				if err := json.Unmarshal(payload, &got); err != nil {
					t.Fatal(err)
				}
				if !equalClaims(got, want) {
					t.Errorf("claims: got %+v, want %+v", got, want)
				}
				tok, err := jwxjwt.Parse([]byte(token), jwxjwt.WithKeySet(set), jwxjwt.WithIssuer(want.Issuer), jwxjwt.WithAudience(want.Audience[0]))
				if err != nil {
					t.Fatalf("jwt.Parse: %v", err)
				}
				if sub, _ := tok.Subject(); sub != want.Subject {
					t.Errorf("sub: got %q, want %q", sub, want.Subject)
				}
			})

			t.Run("golang-jwt", func(t *testing.T) {
				var got golangjwt.MapClaims
				tok, err := golangjwt.ParseWithClaims(token, &got, func(tok *golangjwt.Token) (any, error) {
					kid, _ := tok.Header["kid"].(string)
					k, ok := s.Key(kid)
					if !ok {
						return nil, fmt.Errorf("unknown kid %q", kid)
					}
					// Pin alg to the key: the header must not choose it.
					if tok.Method.Alg() != string(k.Algorithm) {
						return nil, fmt.Errorf("alg %s for a %s key", tok.Method.Alg(), k.Algorithm)
					}
					return k.Public, nil
				},
					golangjwt.WithValidMethods([]string{string(alg)}),
					golangjwt.WithIssuer(want.Issuer),
					golangjwt.WithAudience(want.Audience[0]),
					golangjwt.WithExpirationRequired(),
				)
				if err != nil {
					t.Fatalf("golang-jwt Parse: %v", err)
				}
				if got, want := tok.Header["typ"], "at+jwt"; got != want {
					t.Errorf("typ: got %v, want %v", got, want)
				}
				if got["sub"] != want.Subject || got["scope"] != want.Scope || got["jti"] != want.ID {
					t.Errorf("claims: got %v, want %+v", got, want)
				}
			})

			t.Run("tampered", func(t *testing.T) {
				forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]
				if _, err := jws.Verify([]byte(forged), jws.WithKeySet(set)); err == nil {
					t.Errorf("jws.Verify of a forged payload: got no error, want one")
				}
				sig, err := base64.RawURLEncoding.DecodeString(parts[2])
				if err != nil {
					t.Fatal(err)
				}
				method := golangjwt.GetSigningMethod(string(alg))
				if err := method.Verify(parts[0]+"."+parts[1], sig, key.Public); err != nil {
					t.Fatalf("golang-jwt Verify of the genuine token: %v", err)
				}
				if err := method.Verify(parts[0]+".e30", sig, key.Public); err == nil {
					t.Errorf("golang-jwt Verify of a forged payload: got no error, want one")
				}
			})
		})
	}
}

func equalClaims(a, b testClaims) bool {
	return a.Issuer == b.Issuer && a.Subject == b.Subject && slices.Equal(a.Audience, b.Audience) &&
		a.IssuedAt == b.IssuedAt && a.ExpiresAt == b.ExpiresAt && a.ID == b.ID && a.Scope == b.Scope
}

func TestSignJWTErrors(t *testing.T) {
	client := testenv.KMS(t)
	s, err := signer.New(t.Context(), client, ensureKeys(t, client, signer.ES384), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	tests := []struct {
		name   string
		alg    signer.Algorithm
		claims any
		wantIs error
	}{
		{name: "algorithm without a key", alg: signer.PS256, claims: map[string]any{}, wantIs: signer.ErrUnknownAlgorithm},
		{name: "unknown algorithm", alg: "HS256", claims: map[string]any{}, wantIs: signer.ErrUnknownAlgorithm},
		{name: "claims not JSON", alg: signer.ES384, claims: map[string]any{"bad": make(chan int)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SignJWT(t.Context(), tc.alg, "JWT", tc.claims)
			if err == nil {
				t.Fatalf("SignJWT: got %q, want an error", got)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("SignJWT error: got %v, want one wrapping %v", err, tc.wantIs)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	client := testenv.KMS(t)
	keys := map[signer.Algorithm]string{}
	for _, kc := range ensureKeys(t, client, allAlgorithms...) {
		keys[kc.Algorithm] = kc.KeyID
	}
	encrypt, err := client.CreateKey(t.Context(), &kms.CreateKeyInput{
		KeySpec:  types.KeySpecRsa2048,
		KeyUsage: types.KeyUsageTypeEncryptDecrypt,
	})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	encryptKey := aws.ToString(encrypt.KeyMetadata.Arn)
	unknown := "alias/signer-test-missing-" + uuid.NewString()

	tests := []struct {
		name    string
		signing []signer.KeyConfig
		retired []string
		wantIs  error
	}{
		{name: "ES384 config on the P-521 key", signing: []signer.KeyConfig{{Algorithm: signer.ES384, KeyID: keys[signer.ES512]}}},
		{name: "ES512 config on the P-384 key", signing: []signer.KeyConfig{{Algorithm: signer.ES512, KeyID: keys[signer.ES384]}}},
		{name: "PS256 config on an EC key", signing: []signer.KeyConfig{{Algorithm: signer.PS256, KeyID: keys[signer.ES384]}}},
		{name: "ES384 config on the RSA key", signing: []signer.KeyConfig{{Algorithm: signer.ES384, KeyID: keys[signer.PS256]}}},
		{name: "encryption key", signing: []signer.KeyConfig{{Algorithm: signer.PS256, KeyID: encryptKey}}},
		{name: "unknown alias", signing: []signer.KeyConfig{{Algorithm: signer.ES384, KeyID: unknown}}},
		{name: "unknown retired alias", signing: []signer.KeyConfig{{Algorithm: signer.ES384, KeyID: keys[signer.ES384]}}, retired: []string{unknown}},
		{name: "retired encryption key", retired: []string{encryptKey}},
		{name: "duplicate algorithm", signing: []signer.KeyConfig{
			{Algorithm: signer.ES384, KeyID: keys[signer.ES384]},
			{Algorithm: signer.ES384, KeyID: keys[signer.ES384]},
		}},
		{name: "unknown algorithm", signing: []signer.KeyConfig{{Algorithm: "RS256", KeyID: keys[signer.PS256]}}, wantIs: signer.ErrUnknownAlgorithm},
		{name: "empty key id", signing: []signer.KeyConfig{{Algorithm: signer.ES384}}},
		{name: "no keys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := signer.New(t.Context(), client, tc.signing, tc.retired)
			if err == nil {
				t.Fatalf("New: got %v, want an error", s.Algorithms())
			}
			t.Logf("New: %v", err)
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("New error: got %v, want one wrapping %v", err, tc.wantIs)
			}
		})
	}
}

// TestRetiredKeys rotates the ES384 key: tokens of the old key still verify
// against the new signer's JWKS, which the new signer never signs with.
func TestRetiredKeys(t *testing.T) {
	client := testenv.KMS(t)
	old := ensureKeys(t, client, signer.ES384, signer.PS256)
	current := ensureKeys(t, client, signer.ES384)

	before, err := signer.New(t.Context(), client, old, nil)
	if err != nil {
		t.Fatalf("New before rotation: %v", err)
	}
	oldToken, err := before.SignJWT(t.Context(), signer.ES384, "JWT", map[string]string{"sub": "before"})
	if err != nil {
		t.Fatalf("SignJWT before rotation: %v", err)
	}

	// Retire the old keys by ARN, not alias: that is how they are named
	// once the alias moves to the new key.
	var retired []string
	for _, kc := range old {
		retired = append(retired, keyARN(t, client, kc.KeyID))
	}
	after, err := signer.New(t.Context(), client, current, retired)
	if err != nil {
		t.Fatalf("New after rotation: %v", err)
	}

	if got, want := after.Algorithms(), []signer.Algorithm{signer.ES384}; !slices.Equal(got, want) {
		t.Errorf("Algorithms: got %v, want %v", got, want)
	}
	if _, err := after.SignJWT(t.Context(), signer.PS256, "JWT", map[string]string{}); !errors.Is(err, signer.ErrUnknownAlgorithm) {
		t.Errorf("SignJWT with the retired PS256 key: got %v, want ErrUnknownAlgorithm", err)
	}

	jwks := after.JWKS()
	kids := map[string]signer.Algorithm{}
	for _, k := range jwks.Keys {
		kids[k.KID] = k.Alg
	}
	if got, want := len(jwks.Keys), 3; got != want {
		t.Errorf("JWKS keys: got %d, want %d (one signing, two retired)", got, want)
	}
	for _, k := range before.JWKS().Keys {
		if got, ok := kids[k.KID]; !ok || got != k.Alg {
			t.Errorf("retired key %s: got alg %q in JWKS, want %q", k.KID, got, k.Alg)
		}
		if key, ok := after.Key(k.KID); !ok || key.Algorithm != k.Alg {
			t.Errorf("Key(%s): got %+v, %v, want algorithm %s", k.KID, key, ok, k.Alg)
		}
	}

	newToken, err := after.SignJWT(t.Context(), signer.ES384, "JWT", map[string]string{"sub": "after"})
	if err != nil {
		t.Fatalf("SignJWT after rotation: %v", err)
	}
	if headerKID(t, newToken) == headerKID(t, oldToken) {
		t.Errorf("kid after rotation: got the retired key's %s, want the new key's", headerKID(t, newToken))
	}
	set := jwkSet(t, after)
	for _, token := range []string{oldToken, newToken} {
		if _, err := jws.Verify([]byte(token), jws.WithKeySet(set, jws.WithRequireKid(true))); err != nil {
			t.Errorf("jws.Verify(kid %s) with the rotated JWKS: %v", headerKID(t, token), err)
		}
	}
}

func TestJWKS(t *testing.T) {
	client := testenv.KMS(t)
	retired := ensureKeys(t, client, signer.ES512)
	s, err := signer.New(t.Context(), client, ensureKeys(t, client, allAlgorithms...), []string{retired[0].KeyID})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	raw, err := json.Marshal(s.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string][]map[string]string
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("JWKS %s: %v", raw, err)
	}
	if len(doc) != 1 || len(doc["keys"]) != 4 {
		t.Fatalf("JWKS: got %s, want {\"keys\":[4 keys]}", raw)
	}

	wantMembers := map[string][]string{
		"RSA": {"alg", "e", "kid", "kty", "n", "use"},
		"EC":  {"alg", "crv", "kid", "kty", "use", "x", "y"},
	}
	coordSize := map[string]int{"P-384": 48, "P-521": 66}
	algOfCurve := map[string]string{"P-384": "ES384", "P-521": "ES512"}
	var kids []string
	set := jwkSet(t, s)
	for _, m := range doc["keys"] {
		kids = append(kids, m["kid"])
		if got, want := slices.Sorted(maps.Keys(m)), wantMembers[m["kty"]]; !slices.Equal(got, want) {
			t.Errorf("key %s members: got %v, want %v", m["kid"], got, want)
		}
		if m["use"] != "sig" {
			t.Errorf("key %s use: got %q, want %q", m["kid"], m["use"], "sig")
		}
		switch m["kty"] {
		case "RSA":
			if m["alg"] != "PS256" {
				t.Errorf("RSA key %s alg: got %q, want PS256", m["kid"], m["alg"])
			}
			if got, want := decodedLen(t, m["n"]), 256; got != want {
				t.Errorf("RSA key %s n: got %d bytes, want %d (RSA_2048)", m["kid"], got, want)
			}
			if m["e"] != "AQAB" {
				t.Errorf("RSA key %s e: got %q, want AQAB", m["kid"], m["e"])
			}
		case "EC":
			if got, want := m["alg"], algOfCurve[m["crv"]]; got != want {
				t.Errorf("EC key %s alg: got %q, want %q for %s", m["kid"], got, want, m["crv"])
			}
			for _, c := range []string{"x", "y"} {
				if got, want := decodedLen(t, m[c]), coordSize[m["crv"]]; got != want {
					t.Errorf("EC key %s %s: got %d bytes, want %d", m["kid"], c, got, want)
				}
			}
		default:
			t.Errorf("key %s kty: got %q, want RSA or EC", m["kid"], m["kty"])
		}

		// kid is the RFC 7638 thumbprint, as jwx computes it.
		k, ok := set.LookupKeyID(m["kid"])
		if !ok {
			t.Fatalf("jwx set lacks kid %s", m["kid"])
		}
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m["kid"], base64.RawURLEncoding.EncodeToString(tp); got != want {
			t.Errorf("kid: got %s, want thumbprint %s", got, want)
		}
	}
	if !slices.IsSorted(kids) {
		t.Errorf("kids: got %v, want them sorted", kids)
	}

	// Stable: a second call encodes the same bytes.
	again, err := json.Marshal(s.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(raw) {
		t.Errorf("second JWKS: got %s, want %s", again, raw)
	}
	if got := s.Algorithms(); !slices.Equal(got, allAlgorithms) {
		t.Errorf("Algorithms: got %v, want %v", got, allAlgorithms)
	}
}

// BenchmarkSignJWT measures SignJWT against the test KMS endpoint. With moto
// that is mostly moto's own signing and HTTP round trip, not the cost on AWS
// KMS; the signer's own work (two JSON encodings, base64, DER to JOSE) is
// microseconds.
func BenchmarkSignJWT(b *testing.B) {
	client := testenv.KMS(b)
	s, err := signer.New(b.Context(), client, ensureKeys(b, client, allAlgorithms...), nil)
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	claims := testClaims{Issuer: "https://partner-api.example", Subject: "client", Audience: []string{"api"}, ExpiresAt: time.Now().Add(time.Hour).Unix()}
	for _, alg := range s.Algorithms() {
		b.Run(string(alg), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SignJWT(context.Background(), alg, "at+jwt", claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// pssSaltIsHashLength reports whether the PS256 signature of a token (split
// into its three parts) has a 32-byte salt, as RFC 7518 §3.5 and AWS KMS
// have it. It fails the test unless the signature verifies with some salt
// length against the key kid of the set as jwx parsed it.
func pssSaltIsHashLength(t *testing.T, set jwk.Set, kid string, parts []string) bool {
	t.Helper()
	k, ok := set.LookupKeyID(kid)
	if !ok {
		t.Fatalf("jwx set lacks kid %s", kid)
	}
	var pub rsa.PublicKey
	if err := jwk.Export(k, &pub); err != nil {
		t.Fatalf("export %s: %v", kid, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	verify := func(saltLength int) bool {
		return rsa.VerifyPSS(&pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: saltLength, Hash: crypto.SHA256}) == nil
	}
	switch maxSalt := pub.Size() - sha256.Size - 2; {
	case verify(sha256.Size):
		return true
	case verify(maxSalt):
		t.Logf("PS256 signature has a %d-byte salt (the maximum), not %d", maxSalt, sha256.Size)
		return false
	case verify(rsa.PSSSaltLengthAuto):
		t.Logf("PS256 signature has a salt of neither %d nor %d bytes", sha256.Size, maxSalt)
		return false
	}
	t.Fatalf("PS256 signature does not verify with the JWKS key %s at any salt length", kid)
	return false
}

func jwkSet(t *testing.T, s *signer.Signer) jwk.Set {
	t.Helper()
	raw, err := json.Marshal(s.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		t.Fatalf("jwk.Parse(%s): %v", raw, err)
	}
	return set
}

func headerKID(t *testing.T, token string) string {
	t.Helper()
	msg, err := jws.ParseString(token)
	if err != nil {
		t.Fatalf("jws.Parse: %v", err)
	}
	kid, _ := msg.Signatures()[0].ProtectedHeaders().KeyID()
	return kid
}

func decodedLen(t *testing.T, s string) int {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return len(b)
}
