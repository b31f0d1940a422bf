// Package fit holds the rules by which an organisation tree narrows down:
// a child organisation must fit inside its parent, and a client inside its
// organisation. An organisation's allowed_* lists restrict what its children
// and clients may have; an empty list means unrestricted. Both the
// organisations and the clients groups check these rules, on their own
// writes and when a change of an organisation would leave a child or a
// client outside it.
package fit

import (
	"slices"

	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
)

// List is one of an organisation's allowed_* lists.
type List struct {
	// Name is the attribute's name in the API.
	Name string
	// Field is the list in an organisation.
	Field func(*store.Organisation) *[]string
}

// Lists are the restricting lists of an organisation.
var Lists = []List{
	{"allowed_scopes", func(o *store.Organisation) *[]string { return &o.AllowedScopes }},
	{"allowed_products", func(o *store.Organisation) *[]string { return &o.AllowedProducts }},
	{"allowed_provider_groups", func(o *store.Organisation) *[]string { return &o.AllowedProviderGroups }},
}

// Allowed reports whether item is allowed by list, an organisation's
// allowed_* list: an empty list means unrestricted.
func Allowed(list []string, item string) bool {
	return len(list) == 0 || slices.Contains(list, item)
}

// Within reports whether a child's list fits inside its parent's: an empty
// parent list is unrestricted; an empty child list is unrestricted too, so
// it fits only an unrestricted parent.
func Within(list, parent []string) bool {
	if len(parent) == 0 {
		return true
	}
	if len(list) == 0 {
		return false
	}
	return !slices.ContainsFunc(list, func(item string) bool { return !slices.Contains(parent, item) })
}

// ScopeAllowed reports whether a client of org may have scope s. The
// reserved clients:manage is not an organisation scope: who may grant it is
// the clients group's rule.
func ScopeAllowed(org store.Organisation, s string) bool {
	return s == scope.ClientsManage || Allowed(org.AllowedScopes, s)
}

// ChildWider names the attributes in which child is wider than parent
// allows, none when child fits: the invariant every child keeps.
func ChildWider(child, parent store.Organisation) []string {
	var out []string
	for _, l := range Lists {
		if !Within(*l.Field(&child), *l.Field(&parent)) {
			out = append(out, l.Name)
		}
	}
	if child.HasProductionAccess && !parent.HasProductionAccess {
		out = append(out, "has_production_access")
	}
	return out
}

// ClientOutside names the attributes of c that fall outside org, none when
// c fits: the invariant every client keeps.
func ClientOutside(c store.Client, org store.Organisation) []string {
	var out []string
	scopeOutside := func(s string) bool { return !ScopeAllowed(org, s) }
	if slices.ContainsFunc(c.AdditionalScopes, scopeOutside) {
		out = append(out, "additional_scopes")
	}
	if slices.ContainsFunc(c.RequiredScopes, scopeOutside) {
		out = append(out, "required_scopes")
	}
	if c.SelectedProduct != "" && !Allowed(org.AllowedProducts, c.SelectedProduct) {
		out = append(out, "selected_product")
	}
	if slices.ContainsFunc(c.AllowedProviderGroups, func(g string) bool { return !Allowed(org.AllowedProviderGroups, g) }) {
		out = append(out, "allowed_provider_groups")
	}
	if c.IsProduction && !org.HasProductionAccess {
		out = append(out, "is_production")
	}
	return out
}

// RestrictionsChanged reports whether b restricts differently from a:
// another allowed_* set or another production access.
func RestrictionsChanged(a, b store.Organisation) bool {
	if a.HasProductionAccess != b.HasProductionAccess {
		return true
	}
	for _, l := range Lists {
		x, y := *l.Field(&a), *l.Field(&b)
		if !Within(x, y) || !Within(y, x) {
			return true
		}
	}
	return false
}
