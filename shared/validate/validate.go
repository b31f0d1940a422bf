// Package validate holds the attribute rules the management endpoint groups
// share and the way they report violations: every violation of a request
// body at once, each with its JSON path, in a problem.ValidationError.
//
// A body is checked in two steps: Decode adds what is wrong with its members
// (unknown, read-only, repeated or mistyped ones), the group's rules add what
// is wrong with their values, and Settled drops the rules' noise about
// members that did not decode.
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
)

// Limits of free-text attributes and lists.
const (
	// MaxTextLength bounds names and list items, in characters.
	MaxTextLength = 255
	// MaxListItems bounds a list attribute.
	MaxListItems = 100
)

// Decode unmarshals body into dst, a pointer to a struct, adding its
// violations (unknown, read-only, repeated or mistyped members) to v so that
// the rules can add theirs. A mistyped member is left at its zero value (as
// if absent), so that no rule reads half of it. Only a body that is not a
// JSON object at all gives an error.
func Decode(v *problem.ValidationError, body []byte, dst any, opts jsonbody.Options) error {
	err := jsonbody.Unmarshal(body, dst, opts)
	var bad *problem.ValidationError
	if !errors.As(err, &bad) {
		return err
	}
	v.Merge(bad)
	failed := map[string]bool{}
	for _, f := range bad.Errors {
		failed[member(f.Field)] = true
	}
	s := reflect.ValueOf(dst).Elem()
	for i := range s.NumField() {
		name, _, _ := strings.Cut(s.Type().Field(i).Tag.Get("json"), ",")
		if failed[name] && s.Field(i).CanSet() {
			s.Field(i).SetZero()
		}
	}
	return nil
}

// Patch applies the RFC 7396 merge patch to current, the input that would
// recreate the resource as it is (lists explicit, never null, so that a
// patch leaves them unless it names them), and decodes the result into dst,
// a pointer to a struct of current's type. The patch's own members are
// checked, so that unknown ones set to null (which the merge drops) are
// refused too; their violations go to v. The rest of the merged document is
// the current resource, which has none. current is encoded without HTML
// escaping, so that a json.RawMessage in it (a caller's own JSON) keeps its
// exact text: '<', '>', '&', U+2028 and U+2029 stay as stored.
func Patch(v *problem.ValidationError, current any, patch []byte, dst any, opts jsonbody.Options) error {
	if err := Decode(v, patch, reflect.New(reflect.TypeOf(dst).Elem()).Interface(), opts); err != nil {
		return err
	}
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(current); err != nil {
		return fmt.Errorf("patch: %w", err)
	}
	// MergePatch trims the newline Encode ends with.
	merged, err := jsonbody.MergePatch(doc.Bytes(), patch)
	if err != nil {
		return fmt.Errorf("patch: %w", err)
	}
	return Decode(&problem.ValidationError{}, merged, dst, opts)
}

// Settled returns v's error, if any, after dropping the rules' violations
// (those after the first decoded) of members that failed to decode: a
// mistyped member is left at its zero value, and "is required" or "must not
// be empty" about it would be noise.
func Settled(v *problem.ValidationError, decoded int) error {
	failed := map[string]bool{}
	for _, f := range v.Errors[:decoded] {
		failed[member(f.Field)] = true
	}
	kept := v.Errors[:decoded]
	for _, f := range v.Errors[decoded:] {
		if !failed[member(f.Field)] {
			kept = append(kept, f)
		}
	}
	v.Errors = kept
	return v.Err()
}

// member is the top-level member a field path starts with.
func member(path string) string {
	m, _, _ := strings.Cut(path, "[")
	return m
}

// Text checks a free-text attribute: not blank (ifBlank says why), at most
// MaxTextLength characters, no '<' or '>', no control characters.
func Text(v *problem.ValidationError, field, s, ifBlank string) {
	switch {
	case strings.TrimSpace(s) == "":
		v.Add(field, "%s", ifBlank)
	case utf8.RuneCountInString(s) > MaxTextLength:
		v.Add(field, "must be at most %d characters", MaxTextLength)
	case strings.ContainsAny(s, "<>"):
		v.Add(field, "must not contain '<' or '>'")
	case strings.ContainsFunc(s, unicode.IsControl):
		v.Add(field, "must not contain control characters")
	}
}

// List checks a list of strings: at most max items, each a non-blank text
// (Text) obeying item when it is not nil, none repeated. It returns which
// items are invalid (all of them when the list is too long), so that later
// rules skip them.
func List(v *problem.ValidationError, field string, items []string, max int, item func(string) string) map[int]bool {
	bad := make(map[int]bool, len(items))
	if len(items) > max {
		v.Add(field, "must have at most %d items", max)
		for i := range items {
			bad[i] = true
		}
		return bad
	}
	for i, s := range items {
		path := fmt.Sprintf("%s[%d]", field, i)
		before := v.Count()
		Text(v, path, s, "must not be empty")
		if v.Count() == before && item != nil {
			if msg := item(s); msg != "" {
				v.Add(path, "%s", msg)
			}
		}
		if j := slices.Index(items, s); v.Count() == before && j < i {
			v.Add(path, "repeats %s[%d]", field, j)
		}
		bad[i] = v.Count() > before
	}
	return bad
}

// CanonicalUUID returns id in the lower-case form generated ids
// (organisations, authorisation servers) are stored in, and whether it is
// a UUID at all.
func CanonicalUUID(id string) (string, bool) {
	if !middleware.IsUUID(id) {
		return id, false
	}
	return strings.ToLower(id), true
}
