package chosen_test

import (
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/credential/chosen"
	"github.com/partnerapi/partner-api/shared/problem"
)

func TestCheck(t *testing.T) {
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
			chosen.Check(v, "client_secret", tc.s)
			if got := v.Err() == nil; got != tc.ok {
				t.Errorf("got ok %v, want %v (%v)", got, tc.ok, v.Err())
			}
			if v.Err() != nil && strings.Contains(v.Error(), tc.s) {
				t.Error("the violation quotes the secret")
			}
		})
	}
}

// TestCheckRefusesGuessable: the strength estimate refuses what a
// guesser tries first, whatever the length rule says.
func TestCheckRefusesGuessable(t *testing.T) {
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
			chosen.Check(v, "client_secret", tc.s, "acme-billing-1", "Acme billing")
			if v.Err() == nil {
				t.Fatalf("got ok, want %q refused", tc.s)
			}
			if v.Errors[0].Field != "client_secret" || strings.Contains(v.Error(), tc.s) {
				t.Errorf("got %v, want one violation naming client_secret without the secret", v.Errors)
			}
		})
	}
}
