package credential

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters of the argon2id hash of short caller-chosen secrets (RFC 9106),
// chosen by measurement on the build machine (AMD EPYC, one core, Go 1.26):
// 12 MiB and 3 passes cost about 20 ms per hash, the same order as
// OWASP's other recommended settings (19 MiB × 2 passes ≈ 40 ms, 46 MiB × 1
// pass ≈ 100 ms there) at the least memory, which matters because each
// concurrent check in a function holds it. One lane: a Lambda function
// serves one request at a time, so more lanes would only add threads.
//
// The parameters are recorded in each hash, so raising them later leaves
// existing hashes verifiable; a rotation rehashes.
const (
	Argon2Memory  = 12 * 1024 // KiB
	Argon2Time    = 3
	Argon2Threads = 1
	argon2KeyLen  = 32
	argon2Scheme  = "argon2id"
)

// hashArgon2id returns "argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>"
// (the PHC string format's fields, base64url without padding).
func hashArgon2id(s string) string {
	salt := make([]byte, saltBytes)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(s), salt, Argon2Time, Argon2Memory, Argon2Threads, argon2KeyLen)
	return fmt.Sprintf("%s$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2Scheme, argon2.Version,
		Argon2Memory, Argon2Time, Argon2Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// Bounds on the parameters a stored hash may ask for, so that a corrupt or
// planted item cannot make one check cost seconds or gigabytes.
const (
	maxArgon2Memory = 64 * 1024
	maxArgon2Time   = 10
	maxArgon2Lanes  = 4
)

// verifyArgon2id checks s against an argon2id hash. A candidate that
// chosen.Check would not have let HashChosen hash so (not 8 to 31 printable
// ASCII characters without spaces) cannot be the secret and is refused
// without hashing: the token endpoint also tries the form-decoded variant of
// a Basic secret ('+' becomes a space), which would double the cost.
func verifyArgon2id(s, stored string) (bool, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 5 || parts[0] != argon2Scheme || parts[1] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, ErrMalformedHash
	}
	var m, t uint32
	var p uint8
	if n, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 ||
		m < 8*uint32(p) || m > maxArgon2Memory || t < 1 || t > maxArgon2Time || p < 1 || p > maxArgon2Lanes {
		return false, ErrMalformedHash
	}
	salt, err1 := enc.DecodeString(parts[3])
	want, err2 := enc.DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) != argon2KeyLen {
		return false, ErrMalformedHash
	}
	if !mayBeShort(s) {
		return false, nil
	}
	got := argon2.IDKey([]byte(s), salt, t, m, p, argon2KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// mayBeShort reports whether s could be a secret HashChosen stored with
// argon2id.
func mayBeShort(s string) bool {
	if len(s) < MinChosenLength || len(s) >= MinSecretLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E {
			return false
		}
	}
	return true
}
