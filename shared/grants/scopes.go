package grants

import (
	"slices"

	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
)

// Allowed are the scopes a sign-in of client c may grant: the client's own
// scopes (required and additional) but clients:manage, which acts as the
// client and never for an end user, and the OpenID Connect scopes openid,
// profile, email, address and phone; offline_access only when the client
// has the refresh_token grant.
func Allowed(c store.Principal) []string {
	var out []string
	for _, s := range c.Scopes {
		if s != scope.ClientsManage {
			out = append(out, s)
		}
	}
	for _, s := range OIDCScopes {
		if s != ScopeOfflineAccess || c.HasGrant(store.GrantRefreshToken) {
			out = append(out, s)
		}
	}
	return scope.Union(out, nil)
}

// Granted filters requested (parsed) to what client c may have and adds
// its required scopes (but clients:manage): OpenID Connect lets the
// provider grant fewer scopes than asked, and the token response says which.
func Granted(requested []string, c store.Principal) []string {
	allowed := Allowed(c)
	var out []string
	for _, s := range requested {
		if slices.Contains(allowed, s) {
			out = append(out, s)
		}
	}
	for _, s := range c.RequiredScopes {
		if s != scope.ClientsManage {
			out = append(out, s)
		}
	}
	return scope.Union(out, nil)
}
