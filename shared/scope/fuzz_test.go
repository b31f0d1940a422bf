package scope_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/scope"
)

// FuzzParse: any scope parameter parses to sorted, unique, valid tokens
// that format back to what parses the same, or is refused.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "openid", "a b a", "a  b", " a", "clients:manage openid", "\"x\"", "é", strings.Repeat("x", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, param string) {
		got, err := scope.Parse(param)
		if err != nil {
			return
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("Parse(%q) = %q: not sorted and unique", param, got)
		}
		for _, s := range got {
			if !scope.Valid(s) {
				t.Fatalf("Parse(%q) gave the invalid token %q", param, s)
			}
		}
		again, err := scope.Parse(scope.Format(got))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("Parse(Format(%q)) = %q, %v", got, again, err)
		}
	})
}
