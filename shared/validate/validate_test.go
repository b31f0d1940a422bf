package validate_test

import (
	"slices"
	"testing"

	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/validate"
)

type input struct {
	Name  string   `json:"name"`
	Items []string `json:"items"`
	Flag  *bool    `json:"flag"`
}

func fields(v *problem.ValidationError) []string {
	var out []string
	for _, f := range v.Errors {
		out = append(out, f.Field)
	}
	return out
}

func TestDecodeZeroesMistypedMembers(t *testing.T) {
	v := &problem.ValidationError{}
	var in input
	if err := validate.Decode(v, []byte(`{"name":"x","items":["a",1],"flag":"yes","extra":1}`), &in, jsonbody.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := fields(v); !slices.Equal(got, []string{"items[1]", "flag", "extra"}) {
		t.Errorf("fields %v", got)
	}
	if in.Name != "x" || in.Items != nil || in.Flag != nil {
		t.Errorf("decoded %+v, want the mistyped members zero", in)
	}
	if err := validate.Decode(v, []byte(`[1]`), &in, jsonbody.Options{}); err == nil {
		t.Error("a body that is not an object decoded")
	}
}

func TestSettledDropsNoise(t *testing.T) {
	v := &problem.ValidationError{}
	var in input
	_ = validate.Decode(v, []byte(`{"name":7}`), &in, jsonbody.Options{})
	decoded := len(v.Errors)
	validate.Text(v, "name", in.Name, "is required")
	validate.List(v, "items", []string{"a", "a", "<"}, 100, nil)
	if err := validate.Settled(v, decoded); err == nil || !slices.Equal(fields(v), []string{"name", "items[1]", "items[2]"}) {
		t.Errorf("fields %v", fields(v))
	}
}

func TestList(t *testing.T) {
	v := &problem.ValidationError{}
	bad := validate.List(v, "l", []string{"a", "b", "c"}, 2, nil)
	if len(bad) != 3 || !slices.Equal(fields(v), []string{"l"}) {
		t.Errorf("too long: bad %v, fields %v", bad, fields(v))
	}
	v = &problem.ValidationError{}
	bad = validate.List(v, "l", []string{"ok", "", "no"}, 5, func(s string) string {
		if s == "no" {
			return "is no"
		}
		return ""
	})
	if !bad[1] || !bad[2] || bad[0] || !slices.Equal(fields(v), []string{"l[1]", "l[2]"}) {
		t.Errorf("bad %v, fields %v", bad, fields(v))
	}
}

func TestPatch(t *testing.T) {
	cur := input{Name: "cur", Items: []string{"a"}}
	v := &problem.ValidationError{}
	var out input
	if err := validate.Patch(v, cur, []byte(`{"items":null,"flag":true,"nope":null}`), &out, jsonbody.Options{}); err != nil {
		t.Fatal(err)
	}
	if out.Name != "cur" || out.Items != nil || out.Flag == nil || !*out.Flag || !slices.Equal(fields(v), []string{"nope"}) {
		t.Errorf("patched %+v, fields %v", out, fields(v))
	}
}
