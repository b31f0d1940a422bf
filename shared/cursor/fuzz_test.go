package cursor_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/problem"
)

// FuzzOpen: a cursor from outside never panics and never opens unless this
// key sealed it for this binding; a sealed position always comes back.
func FuzzOpen(f *testing.F) {
	c, err := cursor.New(bytes.Repeat([]byte{7}, cursor.KeySize))
	if err != nil {
		f.Fatal(err)
	}
	b := cursor.Binding{PartnerID: "p", List: "clients", Filter: "org=1"}
	f.Add(c.Seal(b, "client-1"), "client-1")
	f.Add("", "")
	f.Add("AQ", "x")
	f.Add("!!!!", "é")
	f.Fuzz(func(t *testing.T, s, position string) {
		if got, err := c.Open(b, s); err == nil {
			// Only a cursor this key sealed opens; check it reseals the same
			// position, and that another binding refuses it.
			if _, err := c.Open(cursor.Binding{PartnerID: "q", List: "clients", Filter: "org=1"}, s); err == nil {
				t.Fatalf("cursor %q opened for another partner (position %q)", s, got)
			}
		} else if !errors.Is(err, problem.ErrInvalid) {
			t.Fatalf("Open(%q): %v, want an invalid-request error", s, err)
		}
		if len(position) > 256 {
			return // positions are item keys, far shorter; Seal's output would exceed MaxLength
		}
		got, err := c.Open(b, c.Seal(b, position))
		if err != nil || got != position {
			t.Fatalf("round trip of %q: %q, %v", position, got, err)
		}
	})
}
