// Package extradata holds the rules of a caller's own JSON attached to a
// resource (a client's extra_data, seed 002's extraData): what is accepted,
// how it is stored, and how a merge patch changes it.
//
// The value is any JSON object within the limits below. It is stored as the
// caller sent it, without insignificant whitespace: members in their order,
// numbers and string escapes exactly as written (nothing is decoded into Go
// values and encoded again), so a caller's 64-bit ids or decimal strings
// come back unchanged. Responses may escape '<', '>' and '&' as \u003c…,
// the same JSON value. Only the field name ever reaches the audit.
package extradata

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// Limits of a value. Depth counts nested objects and arrays, the value
// itself being 1: {"a":{"b":[1]}} has depth 3.
const (
	// MaxBytes bounds the stored (compact) encoding: 4 KiB.
	MaxBytes = 4096
	// MaxDepth bounds nesting.
	MaxDepth = 5
	// MaxMembers bounds the members of each object and the items of each
	// array.
	MaxMembers = 64
)

// Rule describes the limits for error messages and documentation.
var Rule = fmt.Sprintf("must be a JSON object of at most %d bytes (compact), nested at most %d deep, with at most %d members per object and %d items per array, each member name once",
	MaxBytes, MaxDepth, MaxMembers, MaxMembers)

// Check adds the violations of raw, the value of member field as sent
// (absent or JSON null: none), to v, each naming field or the path inside
// it (field.a.b[2]), and returns the form to store: the compact encoding,
// "" for none ({} included) or when raw is invalid.
func Check(v *problem.ValidationError, field string, raw json.RawMessage) string {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return ""
	}
	if trimmed[0] != '{' {
		v.Add(field, "%s", Rule)
		return ""
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, trimmed); err != nil {
		v.Add(field, "must be valid JSON")
		return ""
	}
	before := v.Count()
	if buf.Len() > MaxBytes {
		v.Add(field, "must be at most %d bytes encoded without whitespace (got %d)", MaxBytes, buf.Len())
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	if err := walk(v, dec, field, 1); err != nil {
		v.Add(field, "must be valid JSON")
	}
	if v.Count() > before || buf.String() == "{}" {
		return "" // {} is none: shown alike, stored alike
	}
	return buf.String()
}

// walk reads one value from dec (its first token not yet read) at depth,
// adding a violation for each object or array past the limits.
func walk(v *problem.ValidationError, dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar
	}
	if depth > MaxDepth {
		v.Add(path, "is nested too deep: at most %d levels of objects and arrays", MaxDepth)
		return skip(dec)
	}
	n := 0
	seen := map[string]bool{}
	for dec.More() {
		n++
		child := fmt.Sprintf("%s[%d]", path, n-1)
		if delim == '{' {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			name, _ := tok.(string)
			child = path + "." + truncate.String(name, 64)
			if seen[name] {
				v.Add(child, "is given more than once")
			}
			seen[name] = true
		}
		if err := walk(v, dec, child, depth+1); err != nil {
			return err
		}
	}
	if n > MaxMembers {
		what := "members"
		if delim == '[' {
			what = "items"
		}
		v.Add(path, "must have at most %d %s (got %d)", MaxMembers, what, n)
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// skip reads the rest of the object or array just opened.
func skip(dec *json.Decoder) error {
	for level := 1; level > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			level++
		case json.Delim('}'), json.Delim(']'):
			level--
		}
	}
	return nil
}

// Merge applies the RFC 7396 merge patch patch to current (a stored value,
// "" for none) with jsonbody.MergePatch and returns the result as JSON, to
// be checked with Check: a patch that is not an object replaces the value
// whole (null: no value); members keep their order and untouched values
// their exact text.
func Merge(current string, patch json.RawMessage) (json.RawMessage, error) {
	if current == "" {
		current = "{}"
	}
	out, err := jsonbody.MergePatch([]byte(current), patch)
	if err != nil {
		return nil, fmt.Errorf("extradata: %w", err)
	}
	return out, nil
}
