package credential_test

import (
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

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
	if credential.Guessable(p.SecretHash) || !credential.Guessable(p.PreviousSecretHash) {
		t.Errorf("after a rotation: new secret guessable %v, previous (chosen) guessable %v; want false, true",
			credential.Guessable(p.SecretHash), credential.Guessable(p.PreviousSecretHash))
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

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"abcde", true},
		{"acme-partner", true},
		{"TEST1234", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{strings.Repeat("a", 64), true},
		{"abcd", false},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"acme_partner", false},
		{"acme partner", false},
		{"acme.partner", false},
		{"abcdé", false},
		{"abcde\n", false},
	} {
		if got := credential.ValidID(tc.id); got != tc.ok {
			t.Errorf("ValidID(%q): got %t, want %t", tc.id, got, tc.ok)
		}
	}
}
