// Package credential holds the credentials principals (partner accounts and
// organisation clients) authenticate with: the client id rule, generated
// secrets and their keyed hashes (secret.go), the strength of a
// caller-chosen secret and rotation with an overlap, which the admin
// function, the clients endpoints and the token endpoint all apply.
package credential

import (
	"time"

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
	p.PreviousSecretHash, p.PreviousSecretExpiresAt = "", time.Time{}
	if overlap > 0 {
		p.PreviousSecretHash = p.SecretHash
		p.PreviousSecretExpiresAt = now.UTC().Add(overlap)
	}
	p.SecretHash = Hash(sec)
	return sec
}

// Limits of a caller-chosen secret.
const (
	// MaxSecretLength is the longest secret the token endpoint reads.
	MaxSecretLength = 512
	// MinDistinct is the fewest distinct characters a chosen secret has.
	MinDistinct = 8
)

// SecretRule describes CheckChosen for error messages and documentation.
const SecretRule = "must be 32 to 512 printable ASCII characters without spaces, with at least 8 different characters; leave it out to have a 256-bit secret generated"

// CheckChosen adds a violation of field to v unless s is strong enough to
// be stored with a fast keyed hash like a generated secret: at least
// MinSecretLength (32) and at most MaxSecretLength characters, each
// printable ASCII other than space (0x21 to 0x7E), at least MinDistinct of
// them different. The length carries the strength (32 characters of a
// random base64 alphabet are 192 bits); the distinct-character floor refuses
// the obvious placeholders ("aaaa…", "abab…"). The message never contains s.
func CheckChosen(v *problem.ValidationError, field, s string) {
	distinct := map[byte]bool{}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7E {
			v.Add(field, "%s", SecretRule)
			return
		}
		distinct[s[i]] = true
	}
	if len(s) < MinSecretLength || len(s) > MaxSecretLength || len(distinct) < MinDistinct {
		v.Add(field, "%s", SecretRule)
	}
}
