package credential_test

import (
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestCheckChosen(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		ok   bool
	}{
		{"32 varied characters", "Abcdefghijklmnopqrstuvwxyz012345", true},
		{"512 characters", strings.Repeat("u7/JvJ+:X?Wc]6}.", 4) + "k8Fq!zR3" + strings.Repeat("Abcdefgh", 55), true},
		{"512 characters of one pattern", strings.Repeat("Abcdefgh", 64), false},
		{"punctuation", "!#$%&()*+,-./:;=?@[]^_{|}~0123456789", true},
		{"seed 002's example, 16 characters", "u7/JvJ+:X?Wc]6}.", true},
		{"8 random characters", "fr3l!mj7", true},
		{"7 characters", "fr3l!mj", false},
		{"72 random characters", strings.Repeat("u7/JvJ+:X?Wc]6}.", 4) + "k8Fq!zR3", true},
		{"513 characters", strings.Repeat("u7/JvJ+:X?Wc]6}.", 4) + "k8Fq!zR3" + strings.Repeat("Abcdefgh", 55) + "x", false},
		{"a space", "Abcdefghijklmnop qrstuvwxyz0123456", false},
		{"a tab", "Abcdefghijklmnop\tqrstuvwxyz0123456", false},
		{"non-ASCII", "Abcdefghijklmnopqrstuvwxyz0123456é", false},
		{"seven distinct characters", strings.Repeat("abcdefg", 6), false},
		{"eight distinct characters", "abcdefgh" + strings.Repeat("x9K!q2Lz", 4), true},
		{"a long repeated pattern", strings.Repeat("abcdefgh", 5), false},
		{"a long dictionary phrase", "passwordpasswordpassword12345678", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &problem.ValidationError{}
			credential.CheckChosen(v, "client_secret", tc.s)
			if got := v.Err() == nil; got != tc.ok {
				t.Errorf("got ok %v, want %v (%v)", got, tc.ok, v.Err())
			}
			if v.Err() != nil && strings.Contains(v.Error(), tc.s) {
				t.Error("the violation quotes the secret")
			}
		})
	}
}

// TestCheckChosenRefusesGuessable: the strength estimate refuses what a
// guesser tries first, whatever the length rule says.
func TestCheckChosenRefusesGuessable(t *testing.T) {
	for _, tc := range []struct{ name, s string }{
		{"common password with a digit", "password1"},
		{"keyboard row", "qwertyuiop"},
		{"one repeated character", "aaaaaaaa"},
		{"season, year and symbol", "Summer2024!"},
		{"leet common password", "P@ssw0rd123"},
		{"word and digits", "monkey123456"},
		{"sequence", "abcdefgh12345678"},
		{"name and year", "Dragon2023"},
		{"welcome", "Welcome1!"},
		{"the client's own id", "acme-billing-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &problem.ValidationError{}
			credential.CheckChosen(v, "client_secret", tc.s, "acme-billing-1", "Acme billing")
			if v.Err() == nil {
				t.Fatalf("got ok, want %q refused", tc.s)
			}
			if v.Errors[0].Field != "client_secret" || strings.Contains(v.Error(), tc.s) {
				t.Errorf("got %v, want one violation naming client_secret without the secret", v.Errors)
			}
		})
	}
}

func TestCheckOverlap(t *testing.T) {
	for seconds, ok := range map[int64]bool{-1: false, 0: true, 604800: true, 604801: false} {
		v := &problem.ValidationError{}
		if got := credential.CheckOverlap(v, "f", seconds); got != ok || (v.Err() == nil) != ok {
			t.Errorf("CheckOverlap(%d) = %v (%v), want %v", seconds, got, v.Err(), ok)
		}
	}
}

// TestReplaceMovesBetweenSchemes: a rotation to a chosen secret moves a
// client to the scheme its length calls for, and back; the previous secret
// keeps its own scheme during the overlap.
func TestReplaceMovesBetweenSchemes(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p := store.Principal{SecretHash: credential.Hash("an-old-secret-of-32-characters!!")}
	const short = "u7/JvJ+:X?Wc]6}."
	credential.Replace(&p, now, time.Hour, credential.HashChosen(short))
	if !credential.Slow(p.SecretHash) || credential.Slow(p.PreviousSecretHash) {
		t.Fatalf("after the short secret: current slow %v, previous slow %v; want true, false",
			credential.Slow(p.SecretHash), credential.Slow(p.PreviousSecretHash))
	}
	if ok, _ := credential.Verify(short, p.SecretHash); !ok {
		t.Error("the short secret does not verify")
	}
	if ok, _ := credential.Verify("an-old-secret-of-32-characters!!", p.PreviousSecretHash); !ok {
		t.Error("the previous secret does not verify during the overlap")
	}
	long := credential.Rotate(&p, now, 0)
	if credential.Slow(p.SecretHash) || p.PreviousSecretHash != "" {
		t.Errorf("after a generated secret: slow %v, previous %q; want fast, none", credential.Slow(p.SecretHash), p.PreviousSecretHash)
	}
	if ok, _ := credential.Verify(long, p.SecretHash); !ok {
		t.Error("the generated secret does not verify")
	}
}

func TestRotate(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p := store.Principal{SecretHash: credential.Hash("old-secret")}

	first := credential.Rotate(&p, now, time.Hour)
	if ok, _ := credential.Verify(first, p.SecretHash); !ok || len(first) < 43 {
		t.Fatalf("new secret %d characters, verifies %v", len(first), ok)
	}
	if ok, _ := credential.Verify("old-secret", p.PreviousSecretHash); !ok || !p.PreviousSecretExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("previous = %q until %v, want the old secret until %v", p.PreviousSecretHash, p.PreviousSecretExpiresAt, now.Add(time.Hour))
	}
	second := credential.Rotate(&p, now, 0)
	if ok, _ := credential.Verify(second, p.SecretHash); !ok || second == first {
		t.Error("second rotation: new secret does not verify")
	}
	if p.PreviousSecretHash != "" || !p.PreviousSecretExpiresAt.IsZero() {
		t.Errorf("without overlap the previous secret is kept: %+v", p)
	}
}
