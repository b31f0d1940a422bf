// Client secrets are generated here and stored only as hashes, compared in
// constant time. The stored hash starts with its scheme, so both schemes
// coexist and a rotation moves a client from one to the other:
//
//   - "hs256": HMAC-SHA-256 keyed with a random per-secret salt. A generated
//     secret carries 256 bits from crypto/rand, and a caller-chosen one of
//     at least MinSecretLength characters is held to a comparable standard,
//     so a fast hash is as strong as a slow password hash here while costing
//     microseconds instead of milliseconds per token request.
//   - "hs256g": the same, for a secret this package generated (NewSecret,
//     HashGenerated). The mark tells the token endpoint that no guessing,
//     however parallel, can find the secret (Guessable), so a right secret
//     needs no count of its own against the brute-force lock. Hashes
//     written before the mark existed stay "hs256" and count as guessable.
//   - "argon2id": a caller-chosen secret shorter than MinSecretLength (seed
//     002's 8..72-character passwords) is a password, so it gets a
//     memory-hard hash (RFC 9106 argon2id, parameters in argon2.go).
package credential

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
)

// MinSecretLength is the shortest caller-chosen secret stored with the fast
// keyed hash; shorter ones (from MinChosenLength) are stored with argon2id.
const MinSecretLength = 32

const (
	secretBytes     = 32 // 256 bits
	saltBytes       = 16
	scheme          = "hs256"
	schemeGenerated = "hs256g"
)

var enc = base64.RawURLEncoding

// ErrMalformedHash is returned for a stored hash this package did not write.
var ErrMalformedHash = errors.New("credential: malformed secret hash")

// NewSecret returns a new random secret: 32 bytes from crypto/rand, base64url
// encoded (43 characters).
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	return enc.EncodeToString(b)
}

// Hash returns the storable form of s: "hs256$<salt>$<mac>".
func Hash(s string) string { return keyedHash(scheme, s) }

// HashGenerated returns the storable form of s, a secret NewSecret made:
// "hs256g$<salt>$<mac>". Never for a secret a caller chose: its hash would
// say it cannot be guessed.
func HashGenerated(s string) string { return keyedHash(schemeGenerated, s) }

func keyedHash(name, s string) string {
	salt := make([]byte, saltBytes)
	_, _ = rand.Read(salt)
	return name + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(mac(salt, s))
}

// Guessable reports whether the secret behind the stored hash may be
// guessed: every secret but one this package generated (HashGenerated),
// whose 256 random bits no number of guesses finds.
func Guessable(stored string) bool { return !strings.HasPrefix(stored, schemeGenerated+"$") }

// HashChosen returns the storable form of a caller-chosen secret: the fast
// keyed hash (Hash) for one of MinSecretLength characters or more, argon2id
// for a shorter one.
func HashChosen(s string) string {
	if len(s) >= MinSecretLength {
		return Hash(s)
	}
	return hashArgon2id(s)
}

// Verify reports whether s matches the stored hash of either scheme, in time
// independent of where they differ. An argon2id hash costs about
// Argon2Time (tens of milliseconds) of CPU; Slow tells the caller first.
func Verify(s, stored string) (bool, error) {
	if strings.HasPrefix(stored, argon2Scheme+"$") {
		return verifyArgon2id(s, stored)
	}
	parts := strings.Split(stored, "$")
	if len(parts) != 3 || parts[0] != scheme && parts[0] != schemeGenerated {
		return false, ErrMalformedHash
	}
	salt, err1 := enc.DecodeString(parts[1])
	want, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(want) != sha256.Size {
		return false, ErrMalformedHash
	}
	return subtle.ConstantTimeCompare(mac(salt, s), want) == 1, nil
}

// Slow reports whether verifying against the stored hash runs argon2id.
func Slow(stored string) bool { return strings.HasPrefix(stored, argon2Scheme+"$") }

// DummyVerify does the work of a fast Verify against a throwaway hash, so
// that an unknown client id takes as long to reject as a wrong secret of a
// client with a fast hash. It never runs argon2id: an unknown id must not
// buy an attacker tens of milliseconds of CPU.
func DummyVerify(s string) {
	var salt [saltBytes]byte
	subtle.ConstantTimeCompare(mac(salt[:], s), make([]byte, sha256.Size))
}

func mac(salt []byte, s string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(s))
	return m.Sum(nil)
}
