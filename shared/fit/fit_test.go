package fit_test

import (
	"slices"
	"testing"

	"github.com/partnerapi/partner-api/shared/fit"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestChildWider(t *testing.T) {
	t.Parallel()
	parent := store.Organisation{AllowedProducts: []string{"a", "b"}, AllowedScopes: []string{"s"}}
	cases := []struct {
		name  string
		child store.Organisation
		want  []string
	}{
		{"inside", store.Organisation{AllowedProducts: []string{"b"}, AllowedScopes: []string{"s"}}, nil},
		{"extra product", store.Organisation{AllowedProducts: []string{"b", "c"}, AllowedScopes: []string{"s"}}, []string{"allowed_products"}},
		{"unrestricted child", store.Organisation{}, []string{"allowed_scopes", "allowed_products"}},
		{"production access", store.Organisation{AllowedProducts: []string{"a"}, AllowedScopes: []string{"s"}, HasProductionAccess: true}, []string{"has_production_access"}},
	}
	for _, tc := range cases {
		if got := fit.ChildWider(tc.child, parent); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Wider = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := fit.ChildWider(store.Organisation{AllowedProducts: []string{"x"}, HasProductionAccess: false}, store.Organisation{}); got != nil {
		t.Errorf("under an unrestricted parent: Wider = %q, want none", got)
	}
}

func TestRestrictionsChanged(t *testing.T) {
	t.Parallel()
	base := store.Organisation{AllowedProducts: []string{"a", "b"}}
	cases := []struct {
		name string
		b    store.Organisation
		want bool
	}{
		{"same", store.Organisation{AllowedProducts: []string{"a", "b"}, Name: "renamed", Enabled: true}, false},
		{"reordered", store.Organisation{AllowedProducts: []string{"b", "a"}}, false},
		{"narrowed", store.Organisation{AllowedProducts: []string{"a"}}, true},
		{"widened to unrestricted", store.Organisation{}, true},
		{"production access", store.Organisation{AllowedProducts: []string{"a", "b"}, HasProductionAccess: true}, true},
		{"scopes", store.Organisation{AllowedProducts: []string{"a", "b"}, AllowedScopes: []string{"s"}}, true},
	}
	for _, tc := range cases {
		if got := fit.RestrictionsChanged(base, tc.b); got != tc.want {
			t.Errorf("%s: restrictionsChanged = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestClientOutside(t *testing.T) {
	t.Parallel()
	org := store.Organisation{AllowedScopes: []string{"s"}, AllowedProducts: []string{"p"}, AllowedProviderGroups: []string{"g"}}
	for _, tc := range []struct {
		name string
		c    store.Client
		want []string
	}{
		{"inside", store.Client{AdditionalScopes: []string{"s"}, SelectedProduct: "p", AllowedProviderGroups: []string{"g"}}, nil},
		{"clients:manage is not an organisation scope", store.Client{AdditionalScopes: []string{"clients:manage"}}, nil},
		{"additional scope", store.Client{AdditionalScopes: []string{"x"}}, []string{"additional_scopes"}},
		{"required scope", store.Client{Principal: store.Principal{RequiredScopes: []string{"x"}}}, []string{"required_scopes"}},
		{"product", store.Client{SelectedProduct: "q"}, []string{"selected_product"}},
		{"provider group", store.Client{AllowedProviderGroups: []string{"h"}}, []string{"allowed_provider_groups"}},
		{"production", store.Client{IsProduction: true}, []string{"is_production"}},
	} {
		if got := fit.ClientOutside(tc.c, org); !slices.Equal(got, tc.want) {
			t.Errorf("%s: ClientOutside = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := fit.ClientOutside(store.Client{AdditionalScopes: []string{"x"}, SelectedProduct: "q"}, store.Organisation{}); got != nil {
		t.Errorf("in an unrestricted organisation: ClientOutside = %q, want none", got)
	}
}
