package extradata_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/extradata"
	"github.com/partnerapi/partner-api/shared/problem"
)

// nested returns an object nested depth levels deep.
func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1)
}

// members returns an object with n members.
func members(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"k%d":%d`, i, i))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// sized returns an object whose compact encoding is n bytes.
func sized(n int) string {
	const frame = len(`{"s":""}`)
	return `{"s":"` + strings.Repeat("x", n-frame) + `"}`
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, raw, stored string
		fields            []string
	}{
		{"seed 002's example", `{"externalId": "123456789", "some": "Custom Property"}`, `{"externalId":"123456789","some":"Custom Property"}`, nil},
		{"order, numbers and escapes kept", `{"z":1.50,"a":12345678901234567890,"e":"caf\u00e9"}`, `{"z":1.50,"a":12345678901234567890,"e":"caf\u00e9"}`, nil},
		{"absent", ``, ``, nil},
		{"null", `null`, ``, nil},
		{"empty object", ` { } `, ``, nil},
		{"4 KiB", sized(4096), sized(4096), nil},
		{"4 KiB and one byte", sized(4097), ``, []string{"extra_data"}},
		{"whitespace does not count", strings.Replace(sized(4096), ":", ":    ", 1), sized(4096), nil},
		{"depth 5", nested(5), nested(5), nil},
		{"depth 6", nested(6), ``, []string{"extra_data.a.a.a.a.a"}},
		{"array depth counts", `{"a":[[[[[1]]]]]}`, ``, []string{"extra_data.a[0][0][0][0]"}},
		{"64 members", members(64), members(64), nil},
		{"65 members", members(65), ``, []string{"extra_data"}},
		{"65 members inside", `{"in":` + members(65) + `}`, ``, []string{"extra_data.in"}},
		{"65 items", `{"list":[` + strings.Repeat("1,", 64) + `1]}`, ``, []string{"extra_data.list"}},
		{"a repeated name", `{"a":1,"b":{"c":1,"c":2}}`, ``, []string{"extra_data.b.c"}},
		{"an array", `[1,2]`, ``, []string{"extra_data"}},
		{"a string", `"text"`, ``, []string{"extra_data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &problem.ValidationError{}
			got := extradata.Check(v, "extra_data", json.RawMessage(tc.raw))
			var fields []string
			for _, f := range v.Errors {
				fields = append(fields, f.Field)
			}
			if got != tc.stored || strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("got %q, fields %v; want %q, fields %v", got, fields, tc.stored, tc.fields)
			}
		})
	}
}

// TestMerge follows RFC 7396's appendix A examples, with the order of the
// target's members kept and new ones appended.
func TestMerge(t *testing.T) {
	for _, tc := range []struct{ current, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{``, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"z":1,"big":12345678901234567890,"y":2}`, `{"y":3,"x":{"n":null,"m":1.0}}`, `{"z":1,"big":12345678901234567890,"y":3,"x":{"m":1.0}}`},
		{`{"a":1}`, `null`, `null`},
	} {
		got, err := extradata.Merge(tc.current, json.RawMessage(tc.patch))
		if err != nil || string(got) != tc.want {
			t.Errorf("Merge(%s, %s) = %s, %v; want %s", tc.current, tc.patch, got, err, tc.want)
		}
	}
}
