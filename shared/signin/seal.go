package signin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// sealer encrypts and authenticates small values (the session cookie and
// the pending authorization request of the sign-in form) with AES-256-GCM,
// with an expiry inside and associated data that binds each to its use.
type sealer struct {
	aead    cipher.AEAD
	csrfKey []byte
}

// newSealer derives the cookie and CSRF keys from master (CURSOR_KEY) with
// HKDF-SHA256, so that they are distinct from the cursors' key.
func newSealer(master []byte) (*sealer, error) {
	key, err := hkdf.Key(sha256.New, master, nil, "partner-api signin seal v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive seal key: %w", err)
	}
	csrf, err := hkdf.Key(sha256.New, master, nil, "partner-api signin csrf v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive csrf key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, csrfKey: csrf}, nil
}

var errUnsealed = errors.New("signin: sealed value is invalid or expired")

// maxSealed bounds a sealed value before any work is done.
const maxSealed = 16 << 10

// seal returns base64url(nonce | GCM(expiry | plain)) bound to purpose.
func (s *sealer) seal(purpose string, plain []byte, expires time.Time) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	msg := binary.BigEndian.AppendUint64(nil, uint64(expires.Unix()))
	msg = append(msg, plain...)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, msg, []byte(purpose)))
}

// open reverses seal for purpose; tampered, foreign or expired gives errUnsealed.
func (s *sealer) open(purpose, sealed string, now time.Time) ([]byte, error) {
	if len(sealed) > maxSealed {
		return nil, errUnsealed
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize()+8 {
		return nil, errUnsealed
	}
	n := s.aead.NonceSize()
	msg, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil || len(msg) < 8 {
		return nil, errUnsealed
	}
	if !now.Before(time.Unix(int64(binary.BigEndian.Uint64(msg[:8])), 0)) {
		return nil, errUnsealed
	}
	return msg[8:], nil
}

// csrf is the CSRF token of session id: an HMAC of it, so it is bound to
// the browser's session cookie and needs no storage.
func (s *sealer) csrf(sessionID string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *sealer) csrfValid(sessionID, token string) bool {
	return token != "" && hmac.Equal([]byte(s.csrf(sessionID)), []byte(token))
}

// randomID is a 128-bit random id, base64url.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
