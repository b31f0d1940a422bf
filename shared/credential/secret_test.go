package credential

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestGenerateHasEnoughEntropyAndIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := NewSecret()
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("NewSecret() = %q: not base64url: %v", s, err)
		}
		if got, want := len(b)*8, 256; got < want {
			t.Fatalf("NewSecret() has %d bits, want at least %d", got, want)
		}
		if seen[s] {
			t.Fatalf("NewSecret() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestHashVerify(t *testing.T) {
	s := NewSecret()
	h := Hash(s)
	if strings.Contains(h, s) {
		t.Fatalf("Hash(%q) = %q contains the secret", s, h)
	}
	if h2 := Hash(s); h2 == h {
		t.Errorf("two hashes of one secret are equal (%q): salt missing", h)
	}
	tests := []struct {
		name   string
		secret string
		want   bool
	}{
		{"right secret", s, true},
		{"wrong secret", NewSecret(), false},
		{"empty", "", false},
		{"prefix", s[:len(s)-1], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(tc.secret, h)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tc.want {
				t.Errorf("Verify() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, stored := range []string{"", "plain", "hs256$x", "md5$a$b", "hs256$!!$!!", "hs256$AAAA$AAAA"} {
		if ok, err := Verify("x", stored); ok || err == nil {
			t.Errorf("Verify(x, %q) = %v, %v; want false, ErrMalformedHash", stored, ok, err)
		}
	}
}
