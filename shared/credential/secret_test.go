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

func TestHashChosenArgon2id(t *testing.T) {
	const s = "u7/JvJ+:X?Wc]6}."
	h := HashChosen(s)
	if !strings.HasPrefix(h, "argon2id$v=19$m=12288,t=3,p=1$") || strings.Contains(h, s) || !Slow(h) {
		t.Fatalf("HashChosen(16 characters) = %q, want an argon2id hash with its parameters", h)
	}
	if h2 := HashChosen(s); h2 == h {
		t.Error("two hashes of one secret are equal: salt missing")
	}
	for _, tc := range []struct {
		name, secret string
		want         bool
	}{
		{"right secret", s, true},
		{"wrong secret", "u7/JvJ+:X?Wc]6}!", false},
		{"prefix", s[:15], false},
		{"too long to be it", strings.Repeat("x", MinSecretLength), false},
		{"form-decoded, with a space", "u7/JvJ :X?Wc]6}.", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(tc.secret, h)
			if err != nil || got != tc.want {
				t.Errorf("Verify() = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if long := NewSecret(); Slow(HashChosen(long)) {
		t.Error("HashChosen of a 43-character secret is argon2id, want the fast hash")
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, stored := range []string{"", "plain", "hs256$x", "md5$a$b", "hs256$!!$!!", "hs256$AAAA$AAAA",
		"argon2id$v=19$m=12288,t=3,p=1$AAAAAAAAAAAAAAAAAAAAAA", "argon2id$v=18$m=12288,t=3,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + strings.Repeat("A", 43),
		"argon2id$v=19$m=1048576,t=3,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + strings.Repeat("A", 43),
		"argon2id$v=19$m=12288,t=99,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + strings.Repeat("A", 43),
		"argon2id$v=19$m=12288,t=3,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA"} {
		if ok, err := Verify("x", stored); ok || err == nil {
			t.Errorf("Verify(x, %q) = %v, %v; want false, ErrMalformedHash", stored, ok, err)
		}
	}
}

// BenchmarkVerify is the CPU cost of one secret check per scheme: the
// token endpoint's cost for a client with a generated or long secret (fast)
// and with a short chosen one (argon2id).
func BenchmarkVerify(b *testing.B) {
	for name, h := range map[string]string{"fast": Hash("u7/JvJ+:X?Wc]6}.-and-more-to-32+"), "argon2id": HashChosen("u7/JvJ+:X?Wc]6}.")} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_, _ = Verify("u7/JvJ+:X?Wc]6}!", h)
			}
		})
	}
}

// TestGuessable: only a secret this package generated is marked as beyond
// guessing; a chosen secret of either scheme, and any hash written before
// the mark existed ("hs256"), may be guessed. Both keyed schemes verify.
func TestGuessable(t *testing.T) {
	sec := NewSecret()
	for _, tc := range []struct {
		name, hash string
		guessable  bool
	}{
		{"generated", HashGenerated(sec), false},
		{"chosen, long (or written before the mark)", Hash(sec), true},
		{"chosen, short", HashChosen(sec[:16]), true},
	} {
		if got := Guessable(tc.hash); got != tc.guessable {
			t.Errorf("%s: Guessable = %v, want %v", tc.name, got, tc.guessable)
		}
	}
	gen := HashGenerated(sec)
	if !strings.HasPrefix(gen, "hs256g$") {
		t.Errorf("HashGenerated = %q, want the hs256g scheme", gen)
	}
	if ok, err := Verify(sec, gen); !ok || err != nil {
		t.Errorf("Verify(generated) = %v, %v; want true", ok, err)
	}
	if ok, err := Verify(sec+"x", gen); ok || err != nil {
		t.Errorf("Verify(wrong, generated) = %v, %v; want false", ok, err)
	}
	if _, err := Verify(sec, "hs256x"+gen[len("hs256g"):]); err == nil {
		t.Error("Verify accepted an unknown keyed scheme")
	}
}
