package grants

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestVerifierAndChallenge(t *testing.T) {
	tests := []struct {
		name     string
		verifier string
		valid    bool
	}{
		{"43 unreserved", strings.Repeat("a", 43), true},
		{"128 with every kind", strings.Repeat("aZ09-._~", 16), true},
		{"42 too short", strings.Repeat("a", 42), false},
		{"129 too long", strings.Repeat("a", 129), false},
		{"plus sign", strings.Repeat("a", 42) + "+", false},
		{"space", strings.Repeat("a", 42) + " ", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidVerifier(tc.verifier); got != tc.valid {
				t.Errorf("got %v, want %v", got, tc.valid)
			}
		})
	}
	// RFC 7636 Appendix B.
	if got := Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("got challenge %q, want RFC 7636's", got)
	}
	if !ValidChallenge(Challenge("x")) || ValidChallenge("abc") || ValidChallenge(strings.Repeat("!", 43)) {
		t.Error("ValidChallenge accepts or refuses the wrong values")
	}
}

func TestHalfHashLengths(t *testing.T) {
	// Half of SHA-256, SHA-384 and SHA-512: 16, 24 and 32 bytes, base64url.
	for alg, want := range map[signer.Algorithm]int{signer.PS256: 22, signer.ES384: 32, signer.ES512: 43} {
		if got := len(HalfHash(alg, "token")); got != want {
			t.Errorf("%s: got %d characters, want %d", alg, got, want)
		}
	}
}

func TestGranted(t *testing.T) {
	c := store.Principal{
		Kind: store.KindClient, Scopes: []string{"accounts", "clients:manage", "openid"}, RequiredScopes: []string{"openid"},
		GrantTypes: []string{store.GrantAuthorizationCode},
	}
	tests := []struct {
		name      string
		requested []string
		grants    []string
		want      []string
	}{
		{"nothing asked: required only", nil, nil, []string{"openid"}},
		{"OIDC scopes and own", []string{"accounts", "email", "profile"}, nil, []string{"accounts", "email", "openid", "profile"}},
		{"clients:manage never", []string{"clients:manage"}, nil, []string{"openid"}},
		{"unknown dropped", []string{"payments"}, nil, []string{"openid"}},
		{"offline_access without the refresh grant", []string{"offline_access"}, nil, []string{"openid"}},
		{"offline_access with it", []string{"offline_access"}, []string{store.GrantAuthorizationCode, store.GrantRefreshToken}, []string{"offline_access", "openid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cl := c
			if tc.grants != nil {
				cl.GrantTypes = tc.grants
			}
			if got := Granted(tc.requested, cl); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckMint(t *testing.T) {
	c := store.Principal{ID: "c1", Kind: store.KindClient, Scopes: []string{"accounts"}}
	sub := func(s string) *string { return &s }
	tests := []struct {
		name   string
		in     MintInput
		fields []string
	}{
		{"valid", MintInput{Subject: sub("u1"), Scope: sub("openid accounts"), CustomClaims: map[string]any{"tier": "gold"}}, nil},
		{"no subject", MintInput{}, []string{"subject"}},
		{"non-ASCII subject", MintInput{Subject: sub("ü")}, []string{"subject"}},
		{"long subject", MintInput{Subject: sub(strings.Repeat("a", 256))}, []string{"subject"}},
		{"reserved claims, each named", MintInput{Subject: sub("u"), CustomClaims: map[string]any{"iss": 1, "nonce": 1, "phone_number": 1, "sid": 1}},
			[]string{"custom_claims.iss", "custom_claims.nonce", "custom_claims.phone_number", "custom_claims.sid"}},
		{"too large", MintInput{Subject: sub("u"), CustomClaims: map[string]any{"x": strings.Repeat("y", MaxCustomClaimsBytes)}}, []string{"custom_claims"}},
		{"scope not allowed", MintInput{Subject: sub("u"), Scope: sub("payments")}, []string{"scope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &problem.ValidationError{}
			g := CheckMint(v, tc.in, c, time.Now())
			var got []string
			for _, e := range v.Errors {
				got = append(got, e.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("got fields %v, want %v", got, tc.fields)
			}
			if tc.fields == nil && (g.Subject != "u1" || !slices.Equal(g.Methods, []string{"api"})) {
				t.Errorf("got grant %+v", g)
			}
		})
	}
}
