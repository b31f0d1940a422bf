package organisations

import (
	"fmt"
	"slices"

	"github.com/partnerapi/partner-api/shared/fit"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/validate"
)

// Limits of organisation attributes.
const (
	// MaxTextLength bounds names and list items, in characters.
	MaxTextLength = validate.MaxTextLength
	// MaxListItems bounds each allowed_* list.
	MaxListItems = validate.MaxListItems
	// MaxDepth bounds the depth of a tree (a root is at depth 1), so that
	// an organisation and its ancestors are read with one BatchGetItem.
	MaxDepth = 20
)

// Input is the body of POST /v1/organisations and PUT
// /v1/organisations/{id}, and what a PATCH gives once merged into the
// current organisation: the attributes a partner sets. Absent (or null)
// optional attributes take their defaults; see Resolve.
type Input struct {
	ParentID              *string  `json:"parent_id"`
	Name                  string   `json:"name"`
	EnableCustomLogo      *bool    `json:"enable_custom_logo"`
	AllowedScopes         []string `json:"allowed_scopes"`
	AllowedProducts       []string `json:"allowed_products"`
	AllowedProviderGroups []string `json:"allowed_provider_groups"`
	HasProductionAccess   *bool    `json:"has_production_access"`
	Enabled               *bool    `json:"enabled"`
}

// inputOptions refuses the generated attributes of the representation.
var inputOptions = jsonbody.Options{ReadOnly: []string{"id", "created_at", "updated_at"}}

// restrictions are the rules of the allowed_* lists (fit.Lists) on input:
// where each comes from in an Input, and an extra rule for each item (the
// violation, or "").
var restrictions = map[string]struct {
	input func(Input) []string
	item  func(string) string
}{
	"allowed_scopes":          {func(in Input) []string { return in.AllowedScopes }, scopeRule},
	"allowed_products":        {func(in Input) []string { return in.AllowedProducts }, nil},
	"allowed_provider_groups": {func(in Input) []string { return in.AllowedProviderGroups }, nil},
}

func scopeRule(s string) string {
	if !scope.Valid(s) {
		return fmt.Sprintf("must be a scope token: 1 to %d printable ASCII characters without spaces, '\"' or '\\'", scope.MaxLength)
	}
	return ""
}

// Resolve checks every attribute of in and, for a child (parent not nil),
// its fit inside parent; it adds each violation to v with its JSON path and
// returns the attributes to store, defaults applied:
//
//   - parent_id: absent or null for a root organisation.
//   - allowed_scopes, allowed_products, allowed_provider_groups: absent or
//     null inherits the parent's list (a root's: empty, i.e. unrestricted).
//     When the parent's list is not empty, the child's must be a non-empty
//     subset of it.
//   - has_production_access: default false; true only if the parent has it
//     (a root is unrestricted).
//   - enabled: default true. enable_custom_logo: default false.
//
// When in names a parent that could not be found, the caller reports it and
// passes a nil parent.
func Resolve(v *problem.ValidationError, in Input, parent *store.Organisation) store.Organisation {
	o := store.Organisation{Name: in.Name, Enabled: true}
	validate.Text(v, "name", in.Name, "is required")
	if in.ParentID != nil && !middleware.IsUUID(*in.ParentID) {
		v.Add("parent_id", "must be the id (a UUID) of one of your organisations")
	}
	if parent != nil {
		o.ParentID, o.Path = parent.ID, append(slices.Clone(parent.Path), parent.ID)
		if len(o.Path) >= MaxDepth {
			v.Add("parent_id", "is at the deepest level allowed: trees are at most %d levels deep", MaxDepth)
		}
	}
	for _, l := range fit.Lists {
		r := restrictions[l.Name]
		items := r.input(in)
		bad := validate.List(v, l.Name, items, MaxListItems, r.item)
		switch {
		case items == nil && parent != nil:
			items = slices.Clone(*l.Field(parent))
		case parent != nil && len(*l.Field(parent)) > 0:
			allowed := *l.Field(parent)
			if len(items) == 0 {
				v.Add(l.Name, "must not be empty: the parent organisation restricts %s (an empty list means unrestricted); omit it to inherit the parent's", l.Name)
			}
			for i, item := range items {
				if !bad[i] && !fit.Allowed(allowed, item) {
					v.Add(fmt.Sprintf("%s[%d]", l.Name, i), "is not in the parent organisation's %s", l.Name)
				}
			}
		}
		*l.Field(&o) = items
	}
	if in.EnableCustomLogo != nil {
		o.EnableCustomLogo = *in.EnableCustomLogo
	}
	if in.HasProductionAccess != nil {
		o.HasProductionAccess = *in.HasProductionAccess
		if o.HasProductionAccess && parent != nil && !parent.HasProductionAccess {
			v.Add("has_production_access", "can be true only when the parent organisation has production access")
		}
	}
	if in.Enabled != nil {
		o.Enabled = *in.Enabled
	}
	return o
}

// Cyclic reports whether making parent the parent of the organisation orgID
// would make orgID its own ancestor.
func Cyclic(orgID string, parent store.Organisation) bool {
	return parent.ID == orgID || slices.Contains(parent.Path, orgID)
}
