// Package credential holds the credentials principals (partner accounts and
// organisation clients) authenticate with: the client id rule, generated
// secrets and their keyed hashes (secret.go), the limits of a caller-chosen
// secret and rotation with an overlap, which the admin function, the
// clients endpoints and the token endpoint all apply. Whether a chosen
// secret is strong enough is shared/credential/chosen's: its strength
// estimate builds large dictionaries when it is initialised, which only the
// clients function needs.
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
	Replace(p, now, overlap, HashGenerated(sec))
	return sec
}

// Replace makes hash (of any scheme) p's current secret hash, keeping the
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

// Limits of a caller-chosen secret (the whole rule: shared/credential/chosen).
const (
	// MinChosenLength is the shortest caller-chosen secret (seed 002).
	MinChosenLength = 8
	// MaxChosenLength is the longest secret the contract promises (seed
	// 002's 72). Longer ones, up to MaxSecretLength, are still accepted:
	// the rule before seed 002 allowed 32 to 512 characters.
	MaxChosenLength = 72
	// MaxSecretLength is the longest secret the token endpoint reads.
	MaxSecretLength = 512
)
