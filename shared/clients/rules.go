package clients

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/partnerapi/partner-api/shared/extradata"
	"github.com/partnerapi/partner-api/shared/fit"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/validate"
)

// Limits and defaults of client attributes.
const (
	// MaxReturnURLs bounds return_urls.
	MaxReturnURLs = 20
	// MaxURLLength bounds one return URL.
	MaxURLLength = 2048
	// DefaultAlgorithm signs the tokens of a client that names none: the
	// fastest of the three to sign and verify.
	DefaultAlgorithm = signer.ES384
	// Bounds and default of access_token_lifetime, in seconds.
	MinTokenLifetime     = 300
	MaxTokenLifetime     = 86400
	DefaultTokenLifetime = 3600
)

// Input is the body of POST /v1/organisations/{id}/clients and PUT
// /v1/clients/{id}, and what a PATCH gives once merged into the current
// client: the attributes a caller sets. Absent (or null) optional attributes
// take their defaults; see Resolve. ClientID and ClientSecret are accepted
// on create only.
type Input struct {
	ClientID              *string  `json:"client_id"`
	ClientSecret          *string  `json:"client_secret"`
	Name                  string   `json:"name"`
	TokenSigningAlgorithm *string  `json:"token_signing_algorithm"`
	AdditionalScopes      []string `json:"additional_scopes"`
	RequiredScopes        []string `json:"required_scopes"`
	ReturnURLs            []string `json:"return_urls"`
	IsProduction          *bool    `json:"is_production"`
	SelectedProduct       *string  `json:"selected_product"`
	AllowedProviderGroups []string `json:"allowed_provider_groups"`
	AccessTokenLifetime   *int64   `json:"access_token_lifetime"`
	Enabled               *bool    `json:"enabled"`
	// Sign-in (grants.go).
	GrantTypes                   []string `json:"grant_types"`
	RefreshTokenAbsoluteLifetime *int64   `json:"refresh_token_absolute_lifetime"`
	RefreshTokenIdleLifetime     *int64   `json:"refresh_token_idle_lifetime"`
	// ExtraData is kept as sent (extradata.Check).
	ExtraData json.RawMessage `json:"extra_data"`
}

// inputOptions refuses the generated attributes of the representation.
var inputOptions = jsonbody.Options{ReadOnly: []string{"id", "organisation_id", "secret", "created_at", "updated_at"}}

// Resolve checks every attribute of in against the client's organisation
// org, adding each violation to v with its JSON path, and returns the
// attributes to store (no ids, secret, times or version), defaults applied:
//
//   - name: required, 1 to 255 characters without '<' or '>'.
//   - token_signing_algorithm: PS256, ES384 or ES512; default ES384.
//   - additional_scopes, required_scopes: scope tokens, at most 100 each, no
//     repeats, none in both lists, each in the organisation's allowed_scopes
//     when that is not empty, and no partner scope (organisations:*,
//     clients:read, ...). The reserved clients:manage is allowed in
//     additional_scopes only, whatever allowed_scopes says (who may grant
//     it is checked by the service). The client's tokens may carry the
//     union; required ones are in every token. Both are kept sorted.
//   - return_urls: at most 20 absolute https URLs of at most 2048
//     characters, without fragment or user info; http only for localhost,
//     127.0.0.1 or [::1], and only when is_production is false.
//   - is_production: default false; true only when the organisation has
//     production access.
//   - selected_product: absent or null for none; else one of the
//     organisation's allowed_products (any product when that is empty,
//     which means unrestricted).
//   - allowed_provider_groups: at most 100, each in the organisation's list
//     when that is not empty; empty (the default) means all of the
//     organisation's.
//   - access_token_lifetime: 300 to 86400 seconds; default 3600.
//   - enabled: default true.
//   - grant_types, refresh_token_absolute_lifetime,
//     refresh_token_idle_lifetime: see resolveGrants.
//   - extra_data: the caller's own JSON object (extradata.Rule: at most 4
//     KiB compact, depth 5, 64 members per object or items per array),
//     stored as sent; default none, shown as {}.
func Resolve(v *problem.ValidationError, in Input, org store.Organisation) store.Client {
	c := store.Client{}
	c.Name, c.Enabled, c.Algorithm, c.TokenLifetime = in.Name, true, string(DefaultAlgorithm), DefaultTokenLifetime
	validate.Text(v, "name", in.Name, "is required")
	if in.TokenSigningAlgorithm != nil {
		c.Algorithm = *in.TokenSigningAlgorithm
		if _, err := signer.ParseAlgorithm(c.Algorithm); err != nil {
			v.Add("token_signing_algorithm", "must be one of %s, %s or %s", signer.PS256, signer.ES384, signer.ES512)
		}
	}
	if in.AccessTokenLifetime != nil {
		c.TokenLifetime = *in.AccessTokenLifetime
		if c.TokenLifetime < MinTokenLifetime || c.TokenLifetime > MaxTokenLifetime {
			v.Add("access_token_lifetime", "must be from %d to %d seconds", MinTokenLifetime, MaxTokenLifetime)
		}
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	c.ExtraData = extradata.Check(v, "extra_data", in.ExtraData)
	if in.IsProduction != nil {
		c.IsProduction = *in.IsProduction
		if c.IsProduction && !org.HasProductionAccess {
			v.Add("is_production", "can be true only when the organisation has production access")
		}
	}
	if in.SelectedProduct != nil {
		c.SelectedProduct = *in.SelectedProduct
		before := v.Count()
		validate.Text(v, "selected_product", c.SelectedProduct, "must not be empty; leave it out (or null) for no product")
		if v.Count() == before && !fit.Allowed(org.AllowedProducts, c.SelectedProduct) {
			v.Add("selected_product", "is not one of the organisation's allowed_products")
		}
	}
	c.RequiredScopes = checkScopes(v, "required_scopes", in.RequiredScopes, org, nil)
	c.AdditionalScopes = checkScopes(v, "additional_scopes", in.AdditionalScopes, org, c.RequiredScopes)
	c.Scopes = scope.Union(c.RequiredScopes, c.AdditionalScopes)
	c.ReturnURLs = checkReturnURLs(v, in.ReturnURLs, c.IsProduction)
	resolveGrants(v, in, &c)
	c.AllowedProviderGroups = nonNil(in.AllowedProviderGroups)
	bad := validate.List(v, "allowed_provider_groups", c.AllowedProviderGroups, validate.MaxListItems, nil)
	for i, g := range c.AllowedProviderGroups {
		if !bad[i] && !fit.Allowed(org.AllowedProviderGroups, g) {
			v.Add(fmt.Sprintf("allowed_provider_groups[%d]", i), "is not in the organisation's allowed_provider_groups")
		}
	}
	return c
}

// checkScopes checks the client scope list field and returns it sorted.
// required is the client's required_scopes when field is additional_scopes:
// a scope in both is refused.
func checkScopes(v *problem.ValidationError, field string, list []string, org store.Organisation, required []string) []string {
	rule := func(s string) string {
		switch {
		case !scope.Valid(s):
			return fmt.Sprintf("must be a scope token: 1 to %d printable ASCII characters without spaces, '\"' or '\\'", scope.MaxLength)
		case slices.Contains(scope.Partner(), s):
			return "is a partner scope; an organisation's client cannot hold it"
		case s == scope.ClientsManage && field == "required_scopes":
			return scope.ClientsManage + " can be granted in additional_scopes only"
		case !fit.ScopeAllowed(org, s):
			return "is not in the organisation's allowed_scopes"
		case slices.Contains(required, s):
			return "is also in required_scopes; list it once"
		}
		return ""
	}
	validate.List(v, field, list, validate.MaxListItems, rule)
	return slices.Sorted(slices.Values(nonNil(list)))
}

// checkReturnURLs checks return_urls and returns them as given.
func checkReturnURLs(v *problem.ValidationError, urls []string, production bool) []string {
	if len(urls) > MaxReturnURLs {
		v.Add("return_urls", "must have at most %d items", MaxReturnURLs)
		return urls
	}
	for i, u := range urls {
		path := fmt.Sprintf("return_urls[%d]", i)
		if msg := returnURLRule(u, production); msg != "" {
			v.Add(path, "%s", msg)
		} else if j := slices.Index(urls, u); j < i {
			v.Add(path, "repeats return_urls[%d]", j)
		}
	}
	return nonNil(urls)
}

// returnURLRule returns what is wrong with a return URL, "" when nothing is.
func returnURLRule(s string, production bool) string {
	const rule = "must be an absolute https URL without fragment or user info (http only for localhost, 127.0.0.1 or [::1] on a non-production client)"
	if len(s) > MaxURLLength {
		return fmt.Sprintf("must be at most %d characters", MaxURLLength)
	}
	if s == "" || strings.ContainsAny(s, "<>\"\\`{}|^ #") || strings.ContainsFunc(s, unicode.IsControl) || strings.ContainsFunc(s, func(r rune) bool { return r > unicode.MaxASCII }) {
		return rule
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || !validHost(u.Hostname()) {
		return rule
	}
	switch {
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && loopback(u.Hostname()):
		if production {
			return "must be an https URL: http is allowed for localhost only on a non-production client"
		}
		return ""
	}
	return rule
}

// validHost reports whether h is a DNS name (letters, digits, '-' and '.')
// or an IP address: no wildcards, no percent-encoding.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	return !strings.ContainsFunc(h, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.')
	})
}

func loopback(host string) bool {
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
