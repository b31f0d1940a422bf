// Client secrets are generated here and stored only as keyed hashes,
// compared in constant time.
//
// A generated secret carries 256 bits from crypto/rand, so a fast keyed hash
// (HMAC-SHA-256 with a random per-secret salt as key) is as strong as a slow
// password hash here while costing microseconds instead of milliseconds per
// token request. Caller-chosen secrets must be at least MinSecretLength characters
// (see issue on clients) for the same argument to hold.
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

// MinSecretLength is the shortest caller-chosen secret accepted.
const MinSecretLength = 32

const (
	secretBytes = 32 // 256 bits
	saltBytes   = 16
	scheme      = "hs256"
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
func Hash(s string) string {
	salt := make([]byte, saltBytes)
	_, _ = rand.Read(salt)
	return scheme + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(mac(salt, s))
}

// Verify reports whether s matches the stored hash, in time independent of
// where they differ.
func Verify(s, stored string) (bool, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 3 || parts[0] != scheme {
		return false, ErrMalformedHash
	}
	salt, err1 := enc.DecodeString(parts[1])
	want, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(want) != sha256.Size {
		return false, ErrMalformedHash
	}
	return subtle.ConstantTimeCompare(mac(salt, s), want) == 1, nil
}

// DummyVerify does the work of Verify against a throwaway hash, so that an
// unknown client id takes as long to reject as a wrong secret.
func DummyVerify(s string) {
	var salt [saltBytes]byte
	subtle.ConstantTimeCompare(mac(salt[:], s), make([]byte, sha256.Size))
}

func mac(salt []byte, s string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(s))
	return m.Sum(nil)
}
