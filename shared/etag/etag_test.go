package etag_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/problem"
)

func TestFromVersion(t *testing.T) {
	if got, want := etag.FromVersion(12), `"12"`; got != want {
		t.Errorf("FromVersion(12) = %s, want %s", got, want)
	}
}

func TestIfMatch(t *testing.T) {
	current := etag.FromVersion(3)
	cases := []struct {
		name     string
		headers  []string
		wantBad  bool
		wantHold bool
	}{
		{"absent", nil, false, true},
		{"star", []string{"*"}, false, true},
		{"same", []string{`"3"`}, false, true},
		{"in a list", []string{`"1", "3"`}, false, true},
		{"in a second header", []string{`"1"`, `"3"`}, false, true},
		{"empty list elements", []string{` , "3",`}, false, true},
		{"other", []string{`"2"`}, false, false},
		{"weak never matches", []string{`W/"3"`}, false, false},
		{"unquoted", []string{`3`}, true, false},
		{"empty", []string{``}, true, false},
		{"only commas", []string{`,,`}, true, false},
		{"quote inside", []string{`"3"3"`}, true, false},
		{"space inside", []string{`"3 4"`}, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/x", nil)
			for _, h := range tc.headers {
				r.Header.Add("If-Match", h)
			}
			c, err := etag.IfMatch(r)
			if tc.wantBad {
				var v *problem.ValidationError
				if !errors.As(err, &v) || v.Errors[0].Field != "If-Match" {
					t.Fatalf("IfMatch = %v; want a validation error naming If-Match", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("IfMatch: %v", err)
			}
			if c.Present() != (tc.headers != nil) {
				t.Errorf("Present() = %v, want %v", c.Present(), tc.headers != nil)
			}
			err = c.Check(current)
			if tc.wantHold && err != nil {
				t.Errorf("Check = %v, want nil", err)
			}
			if !tc.wantHold && !errors.Is(err, problem.ErrPrecondition) {
				t.Errorf("Check = %v, want ErrPrecondition", err)
			}
		})
	}
}
