package cursor_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/problem"
)

func codec(t *testing.T, fill byte) *cursor.Codec {
	t.Helper()
	c, err := cursor.New(bytes.Repeat([]byte{fill}, cursor.KeySize))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestSealOpenRoundTrip(t *testing.T) {
	c := codec(t, 1)
	b := cursor.Binding{PartnerID: "partner-1", List: "organisations", Filter: "parent_id=x"}
	for _, pos := range []string{"", "0b4f7c9e-2f43-4a4b-9c1e-8d1f0a2b3c4d", strings.Repeat("é", 100)} {
		s := c.Seal(b, pos)
		if strings.ContainsAny(s, "+/=") {
			t.Errorf("cursor %q is not URL-safe", s)
		}
		if strings.Contains(s, pos) && pos != "" {
			t.Errorf("cursor %q shows its position", s)
		}
		got, err := c.Open(b, s)
		if err != nil || got != pos {
			t.Errorf("Open(Seal(%q)) = %q, %v; want %q, nil", pos, got, err, pos)
		}
	}
	if first, second := c.Seal(b, "x"), c.Seal(b, "x"); first == second {
		t.Error("two seals of one position are equal; want a fresh nonce each time")
	}
}

func TestOpenRefuses(t *testing.T) {
	c := codec(t, 1)
	b := cursor.Binding{PartnerID: "partner-1", List: "organisations"}
	good := c.Seal(b, "position")
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		m := bytes.Clone(raw)
		m[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(m)
	}
	cases := []struct {
		name    string
		binding cursor.Binding
		cursor  string
		codec   *cursor.Codec
	}{
		{"other partner", cursor.Binding{PartnerID: "partner-2", List: "organisations"}, good, c},
		{"other list", cursor.Binding{PartnerID: "partner-1", List: "clients"}, good, c},
		{"other filter", cursor.Binding{PartnerID: "partner-1", List: "organisations", Filter: "parent_id=y"}, good, c},
		{"parts shifted", cursor.Binding{PartnerID: "partner-1organisations"}, good, c},
		{"other key", b, good, codec(t, 2)},
		{"format byte modified", b, flip(0), c},
		{"nonce modified", b, flip(3), c},
		{"ciphertext modified", b, flip(len(raw) - 20), c},
		{"tag modified", b, flip(len(raw) - 1), c},
		{"truncated", b, good[:len(good)-2], c},
		{"empty", b, "", c},
		{"not base64", b, "not*a*cursor", c},
		{"padded base64", b, good + "==", c},
		{"forged", b, base64.RawURLEncoding.EncodeToString(append([]byte{1}, bytes.Repeat([]byte{7}, 40)...)), c},
		{"too long", b, strings.Repeat("A", cursor.MaxLength+1), c},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.codec.Open(tc.binding, tc.cursor)
			var v *problem.ValidationError
			if !errors.As(err, &v) || len(v.Errors) != 1 || v.Errors[0].Field != "cursor" {
				t.Fatalf("Open = %v; want a validation error naming cursor", err)
			}
		})
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := cursor.New(make([]byte, n)); err == nil {
			t.Errorf("New(%d-byte key) = nil error; want one", n)
		}
	}
}

func TestParseLimit(t *testing.T) {
	cases := []struct {
		raw     string
		want    int
		wantErr bool
	}{
		{"", cursor.DefaultLimit, false},
		{"1", 1, false},
		{"100", 100, false},
		{"0", 0, true},
		{"101", 0, true},
		{"-1", 0, true},
		{"7.5", 0, true},
		{"ten", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tc := range cases {
		got, err := cursor.ParseLimit(tc.raw)
		if tc.wantErr {
			var v *problem.ValidationError
			if !errors.As(err, &v) || v.Errors[0].Field != "limit" {
				t.Errorf("ParseLimit(%q) error = %v; want a validation error naming limit", tc.raw, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLimit(%q) = %d, %v; want %d, nil", tc.raw, got, err, tc.want)
		}
	}
}
