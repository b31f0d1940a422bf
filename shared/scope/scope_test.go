package scope

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{"empty", "", nil, false},
		{"one", "clients:read", []string{"clients:read"}, false},
		{"sorted and unique", "b a b", []string{"a", "b"}, false},
		{"double space", "a  b", nil, true},
		{"leading space", " a", nil, true},
		{"quote", `a"b`, nil, true},
		{"backslash", `a\b`, nil, true},
		{"non-ascii", "café", nil, true},
		{"tab", "a\tb", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Parse(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNarrow(t *testing.T) {
	allowed := []string{"c", "a", "b"}
	tests := []struct {
		name      string
		requested []string
		want      []string
		wantErr   bool
	}{
		{"nothing requested gives all", nil, []string{"a", "b", "c"}, false},
		{"subset", []string{"a"}, []string{"a"}, false},
		{"wider", []string{"a", "d"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Narrow(tc.requested, allowed)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Narrow() error = %v, want error %v", err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Narrow() = %q, want %q", got, tc.want)
			}
		})
	}
}
