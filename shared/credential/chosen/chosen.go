// Package chosen decides whether a caller-chosen client secret may be used:
// its characters, length and variety, and a strength estimate (zxcvbn). It
// is a package of its own because the estimate's dictionaries are built
// when the package is initialised (about 0.1 s under emulation): only what
// accepts chosen secrets (the clients endpoints) links it, never the token
// endpoint's cold start.
package chosen

import (
	"strings"
	"unicode"

	"github.com/trustelem/zxcvbn"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/problem"
)

const (
	// MinDistinct is the fewest distinct characters a chosen secret of
	// credential.MinSecretLength or more has.
	MinDistinct = 8
	// MinGuesses is the fewest guesses the strength estimate must put on a
	// chosen secret: 10^8, zxcvbn's "safely unguessable" boundary; eight
	// random characters reach it, "Summer2024!" (3×10^7) does not.
	MinGuesses = 1e8
	// estimatedPrefix bounds what the estimate reads: its cost grows
	// faster than the length (72 characters ≈ 20 ms, 512 ≈ 2 s).
	estimatedPrefix = credential.MaxChosenLength
)

// Rule describes Check for error messages and documentation.
const Rule = "must be 8 to 512 printable ASCII characters without spaces (32 or more: at least 8 different characters) and not guessable (a common password, a keyboard pattern, a word with digits, a repeated or sequential pattern, the client's id or name); leave it out to have a 256-bit secret generated"

// Check adds a violation of field to v unless s may be a caller-chosen
// secret:
//
//   - credential.MinChosenLength (8) to credential.MaxSecretLength (512)
//     characters, each printable ASCII other than space (0x21 to 0x7E);
//   - from credential.MinSecretLength (32) characters, at least
//     MinDistinct different ones: such a secret is stored with the fast
//     keyed hash, so its length must carry the strength (32 random base64
//     characters are 192 bits);
//   - at least MinGuesses estimated guesses (zxcvbn, on the first 72
//     characters), counting related (the client's id, name) as known to an
//     attacker: a common password, a dictionary word with digits, a
//     keyboard walk or a repeated character does not pass.
//
// A secret shorter than 32 characters is then stored with argon2id
// (credential.HashChosen). The message never contains s.
func Check(v *problem.ValidationError, field, s string, related ...string) {
	distinct := map[byte]bool{}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7E {
			v.Add(field, "%s", Rule)
			return
		}
		distinct[s[i]] = true
	}
	if len(s) < credential.MinChosenLength || len(s) > credential.MaxSecretLength ||
		len(s) >= credential.MinSecretLength && len(distinct) < MinDistinct {
		v.Add(field, "%s", Rule)
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
