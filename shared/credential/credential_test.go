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
		{"512 characters", strings.Repeat("Abcdefgh", 64), true},
		{"punctuation", "!#$%&()*+,-./:;=?@[]^_{|}~0123456789", true},
		{"31 characters", "Abcdefghijklmnopqrstuvwxyz01234", false},
		{"513 characters", strings.Repeat("Abcdefgh", 64) + "x", false},
		{"a space", "Abcdefghijklmnop qrstuvwxyz0123456", false},
		{"a tab", "Abcdefghijklmnop\tqrstuvwxyz0123456", false},
		{"non-ASCII", "Abcdefghijklmnopqrstuvwxyz0123456é", false},
		{"seven distinct characters", strings.Repeat("abcdefg", 6), false},
		{"eight distinct characters", strings.Repeat("abcdefgh", 5), true},
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

func TestCheckOverlap(t *testing.T) {
	for seconds, ok := range map[int64]bool{-1: false, 0: true, 604800: true, 604801: false} {
		v := &problem.ValidationError{}
		if got := credential.CheckOverlap(v, "f", seconds); got != ok || (v.Err() == nil) != ok {
			t.Errorf("CheckOverlap(%d) = %v (%v), want %v", seconds, got, v.Err(), ok)
		}
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
