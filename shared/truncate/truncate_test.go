package truncate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"ascii", "abcdef", 5, "abcde…"},
		{"empty", "", 0, ""},
		{"two-byte character at the cut", "abcdé", 5, "abcd…"},                         // é is 2 bytes: 4..5
		{"three-byte character at the cut", "ab€cd", 4, "ab…"},                         // € is 3 bytes: 2..4
		{"four-byte character at the cut", "a😀b", 3, "a…"},                             // 😀 is 4 bytes: 1..4
		{"cut right after a character", "ab€cd", 5, "ab€…"},                            // boundary at 5
		{"all multi-byte", strings.Repeat("日", 30), 40, strings.Repeat("日", 13) + "…"}, // 39 bytes
		{"invalid UTF-8 cut where it is", "abc\x80\x80\x80\x80\x80", 6, "abc…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := String(tc.in, tc.max)
			if got != tc.want {
				t.Errorf("String(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if utf8.ValidString(tc.in) && !utf8.ValidString(got) {
				t.Errorf("String(%q, %d) = %q splits a character", tc.in, tc.max, got)
			}
			if len(strings.TrimSuffix(got, Ellipsis)) > tc.max {
				t.Errorf("String(%q, %d) = %q keeps more than %d bytes", tc.in, tc.max, got, tc.max)
			}
		})
	}
}
