package organisations

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

// These tests cover the pure rules; no DynamoDB is involved.

func fieldsOf(v *problem.ValidationError) []string {
	var out []string
	for _, f := range v.Errors {
		out = append(out, f.Field)
	}
	return out
}

func TestResolveDefaults(t *testing.T) {
	v := &problem.ValidationError{}
	root := Resolve(v, Input{Name: "Root"}, nil)
	if v.Err() != nil || !root.Enabled || root.EnableCustomLogo || root.HasProductionAccess || root.ParentID != "" || root.AllowedProducts != nil {
		t.Errorf("root defaults = %+v, %v", root, v.Err())
	}

	parent := store.Organisation{ID: "p", Path: []string{"r"}, AllowedScopes: []string{"s1"},
		AllowedProducts: []string{"a", "b"}, AllowedProviderGroups: []string{"g"}, HasProductionAccess: true}
	child := Resolve(v, Input{Name: "Child"}, &parent)
	if v.Err() != nil {
		t.Fatalf("child: %v", v.Err())
	}
	if child.ParentID != "p" || !slices.Equal(child.Path, []string{"r", "p"}) {
		t.Errorf("child parent %q path %v, want p [r p]", child.ParentID, child.Path)
	}
	if !slices.Equal(child.AllowedProducts, parent.AllowedProducts) || !slices.Equal(child.AllowedScopes, parent.AllowedScopes) ||
		!slices.Equal(child.AllowedProviderGroups, parent.AllowedProviderGroups) {
		t.Errorf("child lists %+v, want the parent's", child)
	}
	if child.HasProductionAccess {
		t.Error("child has production access by default; want false")
	}
	child.AllowedProducts[0] = "changed"
	if parent.AllowedProducts[0] != "a" {
		t.Error("the inherited list aliases the parent's")
	}
}

func TestResolveViolations(t *testing.T) {
	restricting := &store.Organisation{ID: "p", AllowedScopes: []string{"s1", "s2"}, AllowedProducts: []string{"a", "b"},
		AllowedProviderGroups: []string{"g"}}
	open := &store.Organisation{ID: "p", HasProductionAccess: true}
	many := make([]string, MaxListItems+1)
	for i := range many {
		many[i] = strings.Repeat("x", i%7+1) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
	}
	cases := []struct {
		name   string
		in     Input
		parent *store.Organisation
		want   []string
	}{
		{"name missing", Input{}, nil, []string{"name"}},
		{"name blank", Input{Name: " \t"}, nil, []string{"name"}},
		{"name 255 characters is fine", Input{Name: strings.Repeat("é", 255)}, nil, nil},
		{"name 256 characters", Input{Name: strings.Repeat("é", 256)}, nil, []string{"name"}},
		{"name with <", Input{Name: "a<b"}, nil, []string{"name"}},
		{"name with >", Input{Name: "a>b"}, nil, []string{"name"}},
		{"name with a control character", Input{Name: "a\x00b"}, nil, []string{"name"}},
		{"parent_id not a UUID", Input{Name: "n", ParentID: ptrTo("nope")}, nil, []string{"parent_id"}},
		{"too many items", Input{Name: "n", AllowedProducts: many}, nil, []string{"allowed_products"}},
		{"100 items is fine", Input{Name: "n", AllowedProducts: many[:MaxListItems]}, nil, nil},
		{"empty item", Input{Name: "n", AllowedProducts: []string{"a", ""}}, nil, []string{"allowed_products[1]"}},
		{"blank item", Input{Name: "n", AllowedProviderGroups: []string{" "}}, nil, []string{"allowed_provider_groups[0]"}},
		{"long item", Input{Name: "n", AllowedProviderGroups: []string{strings.Repeat("g", 256)}}, nil, []string{"allowed_provider_groups[0]"}},
		{"item with <", Input{Name: "n", AllowedProducts: []string{"<script>"}}, nil, []string{"allowed_products[0]"}},
		{"duplicates", Input{Name: "n", AllowedProducts: []string{"a", "b", "a", "b"}}, nil, []string{"allowed_products[2]", "allowed_products[3]"}},
		{"scope with a space", Input{Name: "n", AllowedScopes: []string{"ok", "a b"}}, nil, []string{"allowed_scopes[1]"}},
		{"scope with a quote", Input{Name: "n", AllowedScopes: []string{`a"b`}}, nil, []string{"allowed_scopes[0]"}},
		{"subset of the parent", Input{Name: "n", AllowedScopes: []string{"s2"}, AllowedProducts: []string{"b"}, AllowedProviderGroups: []string{"g"}}, restricting, nil},
		{"products outside the parent", Input{Name: "n", AllowedProducts: []string{"a", "c", "d"}}, restricting, []string{"allowed_products[1]", "allowed_products[2]"}},
		{"scopes outside the parent", Input{Name: "n", AllowedScopes: []string{"s3"}}, restricting, []string{"allowed_scopes[0]"}},
		{"provider groups outside the parent", Input{Name: "n", AllowedProviderGroups: []string{"h"}}, restricting, []string{"allowed_provider_groups[0]"}},
		{"empty list under a restricting parent", Input{Name: "n", AllowedProducts: []string{}}, restricting, []string{"allowed_products"}},
		{"anything under an unrestricted parent", Input{Name: "n", AllowedProducts: []string{"z"}, AllowedScopes: []string{}}, open, nil},
		{"production access without the parent's", Input{Name: "n", HasProductionAccess: ptrTo(true)}, restricting, []string{"has_production_access"}},
		{"production access with the parent's", Input{Name: "n", HasProductionAccess: ptrTo(true)}, open, nil},
		{"production access of a root", Input{Name: "n", HasProductionAccess: ptrTo(true)}, nil, nil},
		{"everything at once", Input{Name: "", ParentID: ptrTo("x"), AllowedProducts: []string{"", "a", "a"}, AllowedScopes: []string{"a b"}},
			nil, []string{"name", "parent_id", "allowed_scopes[0]", "allowed_products[0]", "allowed_products[2]"}},
		{"depth limit", Input{Name: "n"}, &store.Organisation{ID: "p", Path: make([]string, MaxDepth-1)}, []string{"parent_id"}},
		{"just below the depth limit", Input{Name: "n"}, &store.Organisation{ID: "p", Path: make([]string, MaxDepth-2)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := &problem.ValidationError{}
			Resolve(v, tc.in, tc.parent)
			if got := fieldsOf(v); !slices.Equal(got, tc.want) {
				t.Errorf("fields %q, want %q (%v)", got, tc.want, v.Err())
			}
		})
	}
}

func TestCyclic(t *testing.T) {
	parent := store.Organisation{ID: "c", Path: []string{"a", "b"}}
	for id, want := range map[string]bool{"a": true, "b": true, "c": true, "d": false} {
		if got := Cyclic(id, parent); got != want {
			t.Errorf("Cyclic(%s) = %v, want %v", id, got, want)
		}
	}
}

func TestResolveUIConfig(t *testing.T) {
	png := base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...))
	jpeg := base64.StdEncoding.EncodeToString([]byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2})
	svg := base64.StdEncoding.EncodeToString([]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`))
	huge := base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, MaxLogoBytes)...))
	logos := map[string]bool{
		"https://cdn.example.com/logo.svg":                                          true,
		"https://cdn.example.com/a/b/LOGO.PNG?v=2":                                  true,
		"https://cdn.example.com/logo.jpg":                                          true,
		"https://cdn.example.com/logo.jpeg#x":                                       true,
		"data:image/png;base64," + png:                                              true,
		"data:image/jpeg;base64," + jpeg:                                            true,
		"data:image/svg+xml;base64," + svg:                                          true,
		"http://cdn.example.com/logo.png":                                           false,
		"https://cdn.example.com/logo.gif":                                          false,
		"https://cdn.example.com/logo.png/":                                         false,
		"https:///logo.png":                                                         false,
		"https://user:pw@cdn.example.com/logo.png":                                  false,
		"https://cdn.example.com/<x>.png":                                           false,
		"https://cdn.example.com/a b.png":                                           false,
		"javascript:alert(1)//.png":                                                 false,
		"//cdn.example.com/logo.png":                                                false,
		"https://cdn.example.com/" + strings.Repeat("a", MaxLogoURLLength) + ".png": false,
		"data:image/gif;base64,R0lGODlh":                                            false,
		"data:image/png," + png:                                                     false,
		"data:image/png;base64,":                                                    false,
		"data:image/png;base64,@@@@":                                                false,
		"data:image/png;base64," + png[:len(png)-1]:                                 false,
		"data:image/png;base64," + jpeg:                                             false,
		"data:image/svg+xml;base64," + png:                                          false,
		"data:image/png;base64," + huge:                                             false,
	}
	enabled := store.Organisation{EnableCustomLogo: true}
	for logo, ok := range logos {
		v := &problem.ValidationError{}
		ResolveUIConfig(v, UIConfigInput{LogoURL: &logo}, enabled)
		if got := v.Err() == nil; got != ok {
			t.Errorf("logo %.60q: valid = %v, want %v (%v)", logo, got, ok, v.Err())
		}
	}

	v := &problem.ValidationError{}
	got := ResolveUIConfig(v, UIConfigInput{}, store.Organisation{})
	if v.Err() != nil || got.PrimaryColour != DefaultPrimaryColour || got.TextColour != DefaultTextColour || got.LogoURL != "" {
		t.Errorf("defaults = %+v, %v", got, v.Err())
	}

	v = &problem.ValidationError{}
	ResolveUIConfig(v, UIConfigInput{
		DisplayName: ptrTo("<b>"), LogoURL: ptrTo("https://cdn.example.com/logo.png"),
		PrimaryColour: ptrTo("#12345"), SecondaryColour: ptrTo("red"), BackgroundColour: ptrTo("#GGGGGG"), TextColour: ptrTo("#abcdef"),
	}, store.Organisation{})
	want := []string{"display_name", "logo_url", "primary_colour", "secondary_colour", "background_colour"}
	if got := fieldsOf(v); !slices.Equal(got, want) {
		t.Errorf("fields %q, want %q", got, want)
	}
}

func ptrTo[T any](v T) *T { return &v }
