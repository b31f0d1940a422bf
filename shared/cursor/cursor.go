// Package cursor seals list positions into opaque, tamper-proof cursors and
// reads the paging parameters of list requests (?limit=, ?cursor=).
//
// A cursor is the AES-256-GCM encryption of a position (for the store, the
// id of the last item of a page) with associated data that binds it to the
// partner and to the list it was issued for: the list's kind and its filter.
// A cursor that was modified, forged, or issued to another partner or for
// another list fails to open, so it can neither be tampered with nor used to
// peek at data outside the list it came from. Encryption also keeps the key
// layout private, so it may change without breaking the contract.
//
// Every instance of every function must share the key (config.CursorKey),
// otherwise cursors issued by one instance do not open on another.
package cursor

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/partnerapi/partner-api/shared/problem"
)

// KeySize is the length of the key New takes (AES-256).
const KeySize = 32

// MaxLength bounds the encoded cursor accepted by Open; longer ones are
// refused before any work is done.
const MaxLength = 1024

// format is the first byte of every cursor; it is authenticated too, so a
// later format can be told apart.
const format byte = 1

// Binding is what a cursor is valid for. A cursor opens only with the
// Binding it was sealed with.
type Binding struct {
	// PartnerID owns the list.
	PartnerID string
	// List names the kind of list, e.g. "organisations".
	List string
	// Filter is the list's filter in a canonical form, e.g. "parent_id=<id>"
	// (empty when unfiltered).
	Filter string
}

// associatedData encodes b unambiguously: each part prefixed by its length.
func (b Binding) associatedData() []byte {
	ad := []byte{format}
	for _, part := range []string{b.PartnerID, b.List, b.Filter} {
		ad = binary.AppendUvarint(ad, uint64(len(part)))
		ad = append(ad, part...)
	}
	return ad
}

// Codec seals and opens cursors with one key. It is safe for concurrent use.
type Codec struct {
	aead cipher.AEAD
}

// New returns a Codec for key, which must be KeySize bytes.
func New(key []byte) (*Codec, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("cursor key: got %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("cursor key: %w", err)
	}
	return &Codec{aead: aead}, nil
}

var encoding = base64.RawURLEncoding

// Seal returns the cursor of position in the list b: URL-safe base64 of the
// format byte, a random nonce and the ciphertext.
func (c *Codec) Seal(b Binding, position string) string {
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+).
	out := append([]byte{format}, nonce...)
	out = c.aead.Seal(out, nonce, []byte(position), b.associatedData())
	return encoding.EncodeToString(out)
}

// Open returns the position sealed in s for the list b. Any cursor that was
// not sealed by this key for exactly b gives an error wrapping
// problem.ErrInvalid that names the field "cursor".
func (c *Codec) Open(b Binding, s string) (string, error) {
	if len(s) > MaxLength {
		return "", invalid()
	}
	raw, err := encoding.DecodeString(s)
	n := c.aead.NonceSize()
	if err != nil || len(raw) < 1+n+c.aead.Overhead() || raw[0] != format {
		return "", invalid()
	}
	position, err := c.aead.Open(nil, raw[1:1+n], raw[1+n:], b.associatedData())
	if err != nil {
		return "", invalid()
	}
	return string(position), nil
}

func invalid() error {
	return problem.Invalid("cursor", "is not a valid cursor for this list: use the next_cursor of the previous page unchanged, with the same filter")
}

// Paging limits of every list.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// ParseLimit reads the ?limit= parameter (raw is its value, "" when absent):
// DefaultLimit when absent, else an integer from 1 to MaxLimit. Other values
// give an error wrapping problem.ErrInvalid naming the field "limit".
func ParseLimit(raw string) (int, error) {
	if raw == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, problem.Invalid("limit", "must be an integer from 1 to %d", MaxLimit)
	}
	return n, nil
}
