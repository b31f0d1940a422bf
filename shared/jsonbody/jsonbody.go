// Package jsonbody reads and writes the JSON bodies of the management
// endpoints.
//
// Requests are decoded strictly: the Content-Type must be one the endpoint
// accepts (415 otherwise), the body must fit the size limit the middleware
// set (413), must be valid JSON (400 with the position of the error) and one
// JSON object; then each member is decoded on its own, so that every unknown,
// read-only, repeated or mistyped member is named at once in the
// problem.ValidationError, by its JSON path. Member names match exactly
// (encoding/json alone would match them case-insensitively and stop at the
// first error).
//
// PATCH bodies are RFC 7396 JSON merge patches: MergePatch applies one to the
// resource's current representation, and the result is decoded like a PUT.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// Media types of request bodies.
const (
	MediaType           = "application/json"
	MergePatchMediaType = "application/merge-patch+json"
)

// MaxErrors bounds the violations Unmarshal reports for one body.
const MaxErrors = problem.MaxErrors

// maxNameInPath bounds how much of an unknown member's name is echoed.
const maxNameInPath = 64

// Options tune Unmarshal.
type Options struct {
	// ReadOnly names members of the resource's representation that a request
	// may not set (e.g. "id", "created_at"); they are refused with a message
	// saying so rather than as unknown.
	ReadOnly []string
}

// Read returns r's body after checking that its Content-Type is one of
// mediaTypes (problem.ErrUnsupportedMedia otherwise; a charset, if given,
// must be UTF-8), that it was not cut by the body limit
// (problem.ErrTooLarge) and that it is one JSON object (problem.ErrInvalid).
func Read(r *http.Request, mediaTypes ...string) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if cs, ok := params["charset"]; err != nil || !slices.Contains(mediaTypes, mt) || ok && !strings.EqualFold(cs, "utf-8") {
		return nil, problem.New(problem.ErrUnsupportedMedia, "Content-Type must be %s", strings.Join(mediaTypes, " or "))
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			// The middleware refuses an announced oversize body with a
			// limit of 0, so the number is only worth showing otherwise.
			if tooLarge.Limit > 0 {
				return nil, problem.New(problem.ErrTooLarge, "the request body is larger than %d bytes", tooLarge.Limit)
			}
			return nil, problem.New(problem.ErrTooLarge, "the request body is too large")
		}
		return nil, problem.New(problem.ErrInvalid, "the request body could not be read")
	}
	if err := checkObject(data); err != nil {
		return nil, err
	}
	return data, nil
}

// checkObject returns a caller-facing error unless data is exactly one JSON
// object.
func checkObject(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return problem.New(problem.ErrInvalid, "the request body is empty; send a JSON object")
	}
	var v any
	if err := json.Unmarshal(trimmed, &v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return problem.New(problem.ErrInvalid, "the request body is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
		}
		return problem.New(problem.ErrInvalid, "the request body is not valid JSON")
	}
	if trimmed[0] != '{' {
		return problem.New(problem.ErrInvalid, "the request body must be a JSON object")
	}
	return nil
}

// Unmarshal decodes the JSON object data into dst, a pointer to a struct
// whose exported fields carry json tags (fields tagged "-" or untagged are
// not decoded). Every unknown, read-only, repeated or mistyped member becomes
// one field error of the returned *problem.ValidationError, up to MaxErrors.
// JSON null leaves a field at its zero value, as if the member were absent.
func Unmarshal(data []byte, dst any, opts Options) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("jsonbody: Unmarshal needs a pointer to a struct, got %T", dst)
	}
	members, err := objectMembers(data)
	if err != nil {
		return err
	}
	fields := fieldIndex(rv.Elem().Type())
	v := &problem.ValidationError{}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if len(v.Errors) >= MaxErrors {
			break
		}
		idx, known := fields[m.name]
		switch {
		case !m.text:
			v.Add(pathName(m.name), "must be valid UTF-8 text (no invalid bytes or unpaired surrogate escapes)")
		case seen[m.name]:
			v.Add(pathName(m.name), "is given more than once")
		case slices.Contains(opts.ReadOnly, m.name):
			v.Add(m.name, "is read-only; leave it out of the request")
		case !known:
			v.Add(pathName(m.name), "is not a known field")
		default:
			decodeMember(v, m, rv.Elem().Field(idx))
		}
		seen[m.name] = true
	}
	return v.Err()
}

type member struct {
	name string
	raw  json.RawMessage
	// text is false when the member's name or value is not valid UTF-8
	// or escapes an unpaired surrogate, which encoding/json would turn
	// silently into U+FFFD.
	text bool
}

// objectMembers returns the members of the JSON object data in order,
// repeated names included.
func objectMembers(data []byte) ([]member, error) {
	if err := checkObject(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the '{' checkObject saw
		return nil, fmt.Errorf("jsonbody: read object: %w", err)
	}
	var out []member
	nameStart := dec.InputOffset()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("jsonbody: read member name: %w", err)
		}
		name, _ := tok.(string)
		nameEnd := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("jsonbody: read member %q: %w", name, err)
		}
		out = append(out, member{name: name, raw: raw, text: validText(data[nameStart:nameEnd]) && validText(raw)})
		nameStart = dec.InputOffset()
	}
	return out, nil
}

// validText reports whether the JSON text b is valid UTF-8 and each \u
// escape of a surrogate is one half of a pair (RFC 8259 §8.2).
func validText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	high := false // the previous escape was a high surrogate
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			if high {
				return false
			}
			continue
		}
		if i+1 < len(b) && b[i+1] != 'u' {
			if high {
				return false
			}
			i++
			continue
		}
		if i+6 > len(b) {
			return false
		}
		r, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
		if err != nil {
			return false
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if high {
				return false
			}
			high = true
		case r >= 0xDC00 && r <= 0xDFFF:
			if !high {
				return false
			}
			high = false
		default:
			if high {
				return false
			}
		}
		i += 5
	}
	return !high
}

// fieldIndex maps the json names of t's decodable fields to their index.
func fieldIndex(t reflect.Type) map[string]int {
	out := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		out[name] = i
	}
	return out
}

// decodeMember decodes m into field, adding a field error naming the member
// (or, for an array, each mistyped element) when the type does not fit.
func decodeMember(v *problem.ValidationError, m member, field reflect.Value) {
	err := json.Unmarshal(m.raw, field.Addr().Interface())
	if err == nil {
		return
	}
	t := field.Type()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var elems []json.RawMessage
	if t.Kind() == reflect.Slice && json.Unmarshal(m.raw, &elems) == nil {
		for i, e := range elems {
			if json.Unmarshal(e, reflect.New(t.Elem()).Interface()) != nil {
				v.Add(fmt.Sprintf("%s[%d]", m.name, i), "must be %s", describe(t.Elem()))
			}
		}
		return
	}
	v.Add(m.name, "must be %s", describe(field.Type()))
}

// describe names the JSON type that decodes into t, for error messages.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describe(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + plural(t.Elem())
	default:
		return "a JSON object"
	}
}

// plural names the JSON values that decode into t, as array elements.
func plural(t reflect.Type) string {
	d := describe(t)
	switch {
	case d == "true or false":
		return "booleans"
	case strings.HasPrefix(d, "an array"):
		return "arrays"
	default: // "a string" → "strings", "an integer" → "integers", ...
		_, noun, _ := strings.Cut(d, " ")
		return noun + "s"
	}
}

// pathName returns a member name as it appears in a field path, cut short
// when a caller sent a very long one.
func pathName(name string) string {
	return truncate.String(name, maxNameInPath)
}

// MergePatch applies the RFC 7396 JSON merge patch patch to the JSON document
// target and returns the result: members of a patch object replace those of
// the target, recursively for objects, and null removes them (merging into
// nothing drops the patch's nulls); a patch that is not an object replaces
// the target as a whole. Unlike a decode and re-encode, members keep their
// order (new ones come after, in the patch's order) and values the patch
// does not touch keep their exact text.
func MergePatch(target, patch []byte) ([]byte, error) {
	if !json.Valid(target) {
		return nil, errors.New("merge patch: target: not one JSON value")
	}
	if !json.Valid(patch) {
		return nil, errors.New("merge patch: patch: not one JSON value")
	}
	out, err := mergeRaw(bytes.TrimSpace(target), bytes.TrimSpace(patch))
	if err != nil {
		return nil, fmt.Errorf("merge patch: %w", err)
	}
	return out, nil
}

// mergeRaw merges the valid, trimmed JSON values target and patch.
func mergeRaw(target, patch []byte) ([]byte, error) {
	pm, isObject, err := orderedMembers(patch)
	if err != nil || !isObject {
		return patch, err
	}
	tm, _, err := orderedMembers(target) // not an object: merged into nothing
	if err != nil {
		return nil, err
	}
	for _, p := range pm {
		i := slices.IndexFunc(tm, func(m member) bool { return m.name == p.name })
		switch {
		case string(p.raw) == "null" && i >= 0:
			tm = slices.Delete(tm, i, i+1)
		case string(p.raw) == "null":
		case i >= 0:
			if tm[i].raw, err = mergeRaw(tm[i].raw, p.raw); err != nil {
				return nil, err
			}
		default:
			value, err := mergeRaw([]byte("{}"), p.raw)
			if err != nil {
				return nil, err
			}
			tm = append(tm, member{name: p.name, raw: value})
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range tm {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(m.name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(m.raw)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// orderedMembers returns the members of the valid JSON value raw in order
// when it is an object (isObject false otherwise).
func orderedMembers(raw []byte) (ms []member, isObject bool, err error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, false, err
		}
		ms = append(ms, member{name: name, raw: bytes.TrimSpace(value)})
	}
	return ms, true, nil
}

// Write sends v as a JSON response with status. Responses of the management
// endpoints are never cached.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
