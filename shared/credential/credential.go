// Package credential holds the credentials principals (partner accounts and
// organisation clients) authenticate with: the client id rule, generated
// secrets and their keyed hashes (secret.go), the strength of a
// caller-chosen secret and rotation with an overlap, which the admin
// function, the clients endpoints and the token endpoint all apply.
package credential

import (
	"strings"
	"time"
	"unicode"

	"github.com/trustelem/zxcvbn"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

// MaxOverlap bounds how long a rotated-out secret keeps working (7 days).
const MaxOverlap = 7 * 24 * time.Hour

// CheckOverlap adds a violation of field to v unless seconds, a requested
// overlap, is from 0 to MaxOverlap. It reports whether seconds is valid.
func CheckOverlap(v *problem.ValidationError, field string, seconds int64) bool {
	if seconds < 0 || seconds > int64(MaxOverlap/time.Second) {
		v.Add(field, "must be between 0 and %d seconds", int64(MaxOverlap/time.Second))
		return false
	}
	return true
}

// Rotate gives p a newly generated secret and returns it, to be shown once.
// With a positive overlap the current secret keeps working until now +
// overlap (replacing any earlier previous secret); with 0 it stops at once.
// Tokens already issued are not revoked.
func Rotate(p *store.Principal, now time.Time, overlap time.Duration) string {
	sec := NewSecret()
	Replace(p, now, overlap, Hash(sec))
	return sec
}

// Replace makes hash (of either scheme) p's current secret hash, keeping the
// current one as the previous secret for overlap as Rotate does. A caller's
// chosen secret arrives here as HashChosen(secret).
func Replace(p *store.Principal, now time.Time, overlap time.Duration, hash string) {
	p.PreviousSecretHash, p.PreviousSecretExpiresAt = "", time.Time{}
	if overlap > 0 {
		p.PreviousSecretHash = p.SecretHash
		p.PreviousSecretExpiresAt = now.UTC().Add(overlap)
	}
	p.SecretHash = hash
}

// Limits of a caller-chosen secret.
const (
	// MinChosenLength is the shortest caller-chosen secret (seed 002).
	MinChosenLength = 8
	// MaxChosenLength is the longest secret the contract promises (seed
	// 002's 72). Longer ones, up to MaxSecretLength, are still accepted:
	// the rule before seed 002 allowed 32 to 512 characters.
	MaxChosenLength = 72
	// MaxSecretLength is the longest secret the token endpoint reads.
	MaxSecretLength = 512
	// MinDistinct is the fewest distinct characters a chosen secret of
	// MinSecretLength or more has.
	MinDistinct = 8
	// MinGuesses is the fewest guesses the strength estimate must put on a
	// chosen secret: 10^8, zxcvbn's "safely unguessable" boundary; eight
	// random characters reach it, "Summer2024!" (3×10^7) does not.
	MinGuesses = 1e8
	// estimatedPrefix bounds what the estimate reads: its cost grows
	// faster than the length (72 characters ≈ 20 ms, 512 ≈ 2 s).
	estimatedPrefix = MaxChosenLength
)

// SecretRule describes CheckChosen for error messages and documentation.
const SecretRule = "must be 8 to 512 printable ASCII characters without spaces (32 or more: at least 8 different characters) and not guessable (a common password, a keyboard pattern, a word with digits, a repeated or sequential pattern, the client's id or name); leave it out to have a 256-bit secret generated"

// CheckChosen adds a violation of field to v unless s may be a
// caller-chosen secret:
//
//   - MinChosenLength (8) to MaxSecretLength (512) characters, each
//     printable ASCII other than space (0x21 to 0x7E);
//   - from MinSecretLength (32) characters, at least MinDistinct different
//     ones: such a secret is stored with the fast keyed hash, so its length
//     must carry the strength (32 random base64 characters are 192 bits);
//   - at least MinGuesses estimated guesses (zxcvbn, on the first 72
//     characters), counting related (the client's id, name) as known to an
//     attacker: a common password, a dictionary word with digits, a
//     keyboard walk or a repeated character does not pass.
//
// A secret shorter than 32 characters is then stored with argon2id
// (HashChosen). The message never contains s.
func CheckChosen(v *problem.ValidationError, field, s string, related ...string) {
	distinct := map[byte]bool{}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7E {
			v.Add(field, "%s", SecretRule)
			return
		}
		distinct[s[i]] = true
	}
	if len(s) < MinChosenLength || len(s) > MaxSecretLength || len(s) >= MinSecretLength && len(distinct) < MinDistinct {
		v.Add(field, "%s", SecretRule)
		return
	}
	if !Unguessable(s, related...) {
		v.Add(field, "is too easy to guess (a common password, a word with digits, a keyboard or repeated pattern, or too short for its variety); choose a longer, random one or leave it out to have one generated")
	}
}

// Unguessable reports whether the strength estimate puts at least
// MinGuesses guesses on s, with related strings known to the attacker.
func Unguessable(s string, related ...string) bool {
	if len(s) > estimatedPrefix {
		s = s[:estimatedPrefix]
	}
	return zxcvbn.PasswordStrength(s, known(related)).Guesses >= MinGuesses
}

// known is what the estimate counts as known to an attacker: each related
// string, its words, and its words run together ("Acme Billing" gives
// "acme billing", "acme", "billing", "acmebilling").
func known(related []string) []string {
	var out []string
	for _, r := range related {
		words := strings.FieldsFunc(strings.ToLower(r), func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
		out = append(out, strings.ToLower(r), strings.Join(words, ""))
		for _, w := range words {
			if len(w) >= 3 {
				out = append(out, w)
			}
		}
	}
	return out
}
