// Package truncate shortens caller-supplied text before it is echoed in an
// error message, so a long or hostile value cannot bloat a response or a log
// line.
package truncate

import "unicode/utf8"

// Ellipsis marks a shortened string.
const Ellipsis = "…"

// String returns s when it is at most max bytes long, else its longest
// prefix of at most max bytes that ends at a character boundary, followed
// by Ellipsis. A multi-byte UTF-8 character is never split.
func String(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	// Back up over continuation bytes, at most to the start of the
	// character max falls inside (invalid UTF-8 is cut where it is).
	for i := 0; cut > 0 && i < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + Ellipsis
}
