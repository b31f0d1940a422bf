package jsonbody_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
)

type body struct {
	Name    string   `json:"name"`
	Enabled *bool    `json:"enabled"`
	Tags    []string `json:"tags"`
	Count   int      `json:"count"`
	Skipped string   `json:"-"`
}

var opts = jsonbody.Options{ReadOnly: []string{"id", "created_at"}}

func request(contentType, data string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(data))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func fields(err error) []string {
	var v *problem.ValidationError
	if !errors.As(err, &v) {
		return nil
	}
	var out []string
	for _, f := range v.Errors {
		out = append(out, f.Field)
	}
	return out
}

func TestDecode(t *testing.T) {
	var got body
	err := decode(request("application/json; charset=UTF-8", `{"name":"a","enabled":false,"tags":["x","y"],"count":2}`), &got, opts)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	f := false
	want := body{Name: "a", Enabled: &f, Tags: []string{"x", "y"}, Count: 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDecodeRefuses(t *testing.T) {
	cases := []struct {
		name        string
		contentType string
		body        string
		wantKind    error
		wantFields  []string
	}{
		{"no content type", "", `{}`, problem.ErrUnsupportedMedia, nil},
		{"form", "application/x-www-form-urlencoded", `{}`, problem.ErrUnsupportedMedia, nil},
		{"merge patch on a PUT", "application/merge-patch+json", `{}`, problem.ErrUnsupportedMedia, nil},
		{"latin-1", "application/json; charset=iso-8859-1", `{}`, problem.ErrUnsupportedMedia, nil},
		{"empty", "application/json", ` `, problem.ErrInvalid, nil},
		{"syntax", "application/json", `{"name": }`, problem.ErrInvalid, nil},
		{"truncated", "application/json", `{"name": "a"`, problem.ErrInvalid, nil},
		{"trailing data", "application/json", `{} {}`, problem.ErrInvalid, nil},
		{"array", "application/json", `[]`, problem.ErrInvalid, nil},
		{"string", "application/json", `"x"`, problem.ErrInvalid, nil},
		{"unknown members, all named", "application/json", `{"nme":"a","Name":"b","name":"c","x":1}`, problem.ErrInvalid, []string{"nme", "Name", "x"}},
		{"read-only", "application/json", `{"id":"1","name":"a","created_at":null}`, problem.ErrInvalid, []string{"id", "created_at"}},
		{"repeated", "application/json", `{"name":"a","name":"b"}`, problem.ErrInvalid, []string{"name"}},
		{"json-ignored field is unknown", "application/json", `{"Skipped":"a","-":"b"}`, problem.ErrInvalid, []string{"Skipped", "-"}},
		{"mistyped members", "application/json", `{"name":1,"enabled":"yes","count":1.5,"tags":"x"}`, problem.ErrInvalid, []string{"name", "enabled", "count", "tags"}},
		{"mistyped elements", "application/json", `{"tags":["a",1,"b",null,{}]}`, problem.ErrInvalid, []string{"tags[1]", "tags[4]"}},
		{"long unknown name cut short", "application/json", `{"` + strings.Repeat("n", 100) + `":1}`, problem.ErrInvalid, []string{strings.Repeat("n", 64) + "…"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got body
			err := decode(request(tc.contentType, tc.body), &got, opts)
			if !errors.Is(err, tc.wantKind) {
				t.Fatalf("Decode = %v, want %v", err, tc.wantKind)
			}
			if got := fields(err); !reflect.DeepEqual(got, tc.wantFields) {
				t.Errorf("fields = %q, want %q", got, tc.wantFields)
			}
		})
	}
}

func TestDecodeMessages(t *testing.T) {
	var got body
	err := decode(request("application/json", `{"name": tru}`), &got, opts)
	if p := problem.From(err); !strings.Contains(p.Detail, "not valid JSON") || !strings.Contains(p.Detail, "at byte") {
		t.Errorf("detail = %q, want the syntax error and its position", p.Detail)
	}
	err = decode(request("application/json", `{"tags":[1]}`), &got, opts)
	var v *problem.ValidationError
	if !errors.As(err, &v) || v.Errors[0].Message != "must be a string" {
		t.Errorf("got %v, want tags[0]: must be a string", err)
	}
	err = decode(request("application/json", `{"tags":{}}`), &got, opts)
	if !errors.As(err, &v) || v.Errors[0].Message != "must be an array of strings" {
		t.Errorf("got %v, want tags: must be an array of strings", err)
	}
}

func TestDecodeTooLarge(t *testing.T) {
	r := request("application/json", `{"name":"`+strings.Repeat("a", 100)+`"}`)
	w := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(w, r.Body, 50)
	var got body
	err := decode(r, &got, opts)
	if !errors.Is(err, problem.ErrTooLarge) {
		t.Fatalf("Decode = %v, want ErrTooLarge", err)
	}
}

func TestUnmarshalCapsErrors(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("{")
	for i := range 500 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`"x` + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + `":1`)
	}
	sb.WriteString("}")
	var got body
	if n := len(fields(jsonbody.Unmarshal([]byte(sb.String()), &got, opts))); n != jsonbody.MaxErrors {
		t.Errorf("%d errors, want %d", n, jsonbody.MaxErrors)
	}
}

func TestMergePatch(t *testing.T) {
	// The examples of RFC 7396 Appendix A.
	cases := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"n":12345678901234567890}`, `{}`, `{"n":12345678901234567890}`},
	}
	for _, tc := range cases {
		got, err := jsonbody.MergePatch([]byte(tc.target), []byte(tc.patch))
		if err != nil {
			t.Errorf("MergePatch(%s, %s): %v", tc.target, tc.patch, err)
			continue
		}
		var g, w any
		_ = json.Unmarshal(got, &g)
		_ = json.Unmarshal([]byte(tc.want), &w)
		if !reflect.DeepEqual(g, w) || !strings.Contains(string(got), "12345678901234567890") && strings.Contains(tc.target, "12345678901234567890") {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", tc.target, tc.patch, got, tc.want)
		}
	}
	if _, err := jsonbody.MergePatch([]byte(`{`), []byte(`{}`)); err == nil {
		t.Error("MergePatch of invalid JSON: nil error, want one")
	}
}

func TestReadMergePatch(t *testing.T) {
	for _, ct := range []string{"application/merge-patch+json", "application/json"} {
		data, err := jsonbody.Read(request(ct, `{"name":null}`), jsonbody.MergePatchMediaType, jsonbody.MediaType)
		if err != nil || string(data) != `{"name":null}` {
			t.Errorf("Read(%s) = %s, %v", ct, data, err)
		}
	}
	_, err := jsonbody.Read(request("text/plain", `{}`), jsonbody.MergePatchMediaType, jsonbody.MediaType)
	if p := problem.From(err); p.Status != http.StatusUnsupportedMediaType || !strings.Contains(p.Detail, "application/merge-patch+json or application/json") {
		t.Errorf("got %d %q, want 415 naming both media types", p.Status, p.Detail)
	}
}

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	jsonbody.Write(w, http.StatusCreated, map[string]int{"a": 1})
	if w.Code != http.StatusCreated || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("got %d %v", w.Code, w.Header())
	}
	if strings.TrimSpace(w.Body.String()) != `{"a":1}` {
		t.Errorf("body %s", w.Body)
	}
}

// TestUnmarshalRefusesInvalidText: invalid UTF-8 and unpaired surrogate
// escapes are refused naming the member, where encoding/json alone would
// store U+FFFD; valid text, surrogate pairs and escaped backslashes pass.
func TestUnmarshalRefusesInvalidText(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		wantField  string
	}{
		{"invalid byte in a value", "{\"name\":\"a\xffb\"}", "name"},
		{"invalid byte in an array", "{\"tags\":[\"ok\",\"\xc3\"]}", "tags"},
		{"lone high surrogate", `{"name":"\ud800"}`, "name"},
		{"lone low surrogate", `{"name":"x\udc00"}`, "name"},
		{"high surrogate then text", `{"name":"\ud800x"}`, "name"},
		{"two high surrogates", `{"name":"\ud800\ud800"}`, "name"},
		{"invalid byte in a member name", "{\"na\xffme\":\"x\"}", "na\ufffdme"},
		{"pair", `{"name":"\ud83d\ude00"}`, ""},
		{"escaped backslash before u", `{"name":"\\ud800"}`, ""},
		{"multi-byte text", `{"name":"Zoë 日本 😀"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got body
			err := jsonbody.Unmarshal([]byte(tc.data), &got, opts)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if f := fields(err); len(f) != 1 || f[0] != tc.wantField {
				t.Errorf("fields = %q (%v), want [%s]", f, err, tc.wantField)
			}
		})
	}
}

// decode reads r's body as the handlers do: Read, then Unmarshal.
func decode(r *http.Request, dst any, opts jsonbody.Options) error {
	data, err := jsonbody.Read(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	return jsonbody.Unmarshal(data, dst, opts)
}
