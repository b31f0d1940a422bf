package clients

import (
	"fmt"
	"slices"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

// Bounds and defaults of a client's refresh-token lifetimes, in seconds. A
// refresh-token family ends at its absolute lifetime after the sign-in that
// started it, or earlier when unused for its idle lifetime.
const (
	MinRefreshLifetime             = 300
	MaxRefreshAbsoluteLifetime     = 365 * 86400
	DefaultRefreshAbsoluteLifetime = store.DefaultRefreshAbsoluteLifetime
	DefaultRefreshIdleLifetime     = store.DefaultRefreshIdleLifetime
)

// grantsJSON is the sign-in part of a client's representation.
type grantsJSON struct {
	GrantTypes                   []string `json:"grant_types"`
	RefreshTokenAbsoluteLifetime int64    `json:"refresh_token_absolute_lifetime"`
	RefreshTokenIdleLifetime     int64    `json:"refresh_token_idle_lifetime"`
}

func grantsRepresentation(c store.Client) grantsJSON {
	abs, idle := c.RefreshLifetimes()
	return grantsJSON{
		GrantTypes:                   c.Grants(),
		RefreshTokenAbsoluteLifetime: int64(abs.Seconds()),
		RefreshTokenIdleLifetime:     int64(idle.Seconds()),
	}
}

// grantsInput adds c's sign-in attributes to the Input that would recreate it.
func grantsInput(c store.Client, in *Input) {
	r := grantsRepresentation(c)
	in.GrantTypes = r.GrantTypes
	in.RefreshTokenAbsoluteLifetime = &r.RefreshTokenAbsoluteLifetime
	in.RefreshTokenIdleLifetime = &r.RefreshTokenIdleLifetime
}

// resolveGrants checks the sign-in attributes of in into c (whose
// return_urls are already resolved):
//
//   - grant_types: a subset of client_credentials, authorization_code and
//     refresh_token without repeats; refresh_token only with
//     authorization_code; authorization_code needs at least one return URL;
//     absent, null or [] means ["client_credentials"]. Stored sorted.
//   - refresh_token_absolute_lifetime: 300 to 31536000 seconds, default
//     2592000 (30 days); refresh_token_idle_lifetime: 300 seconds to the
//     absolute lifetime, default 604800 (7 days, or the absolute lifetime
//     when that is shorter).
func resolveGrants(v *problem.ValidationError, in Input, c *store.Client) {
	grants := in.GrantTypes
	if len(grants) == 0 {
		grants = []string{store.GrantClientCredentials}
	}
	known := []string{store.GrantClientCredentials, store.GrantAuthorizationCode, store.GrantRefreshToken}
	for i, g := range grants {
		path := fmt.Sprintf("grant_types[%d]", i)
		switch {
		case !slices.Contains(known, g):
			v.Add(path, "must be one of client_credentials, authorization_code or refresh_token")
		case slices.Index(grants, g) < i:
			v.Add(path, "repeats grant_types[%d]", slices.Index(grants, g))
		}
	}
	if slices.Contains(grants, store.GrantRefreshToken) && !slices.Contains(grants, store.GrantAuthorizationCode) {
		v.Add("grant_types", "refresh_token is allowed only together with authorization_code")
	}
	if slices.Contains(grants, store.GrantAuthorizationCode) && len(c.ReturnURLs) == 0 {
		v.Add("grant_types", "authorization_code needs at least one return URL in return_urls")
	}
	c.GrantTypes = slices.Sorted(slices.Values(grants))

	abs, idle := int64(DefaultRefreshAbsoluteLifetime), int64(DefaultRefreshIdleLifetime)
	if in.RefreshTokenAbsoluteLifetime != nil {
		abs = *in.RefreshTokenAbsoluteLifetime
		if abs < MinRefreshLifetime || abs > MaxRefreshAbsoluteLifetime {
			v.Add("refresh_token_absolute_lifetime", "must be from %d to %d seconds", MinRefreshLifetime, MaxRefreshAbsoluteLifetime)
		}
	}
	if in.RefreshTokenIdleLifetime != nil {
		idle = *in.RefreshTokenIdleLifetime
		if idle < MinRefreshLifetime || idle > abs {
			v.Add("refresh_token_idle_lifetime", "must be from %d seconds to refresh_token_absolute_lifetime", MinRefreshLifetime)
		}
	} else if idle > abs {
		idle = abs
	}
	c.RefreshTokenAbsoluteLifetime, c.RefreshTokenIdleLifetime = abs, idle
}

// widerGrants names the sign-in attributes in which next is wider than cur.
func widerGrants(cur, next store.Client) []string {
	var wider []string
	if !subset(next.Grants(), cur.Grants()) {
		wider = append(wider, "grant_types")
	}
	ca, ci := cur.RefreshLifetimes()
	na, ni := next.RefreshLifetimes()
	if na > ca || ni > ci {
		wider = append(wider, "refresh token lifetimes")
	}
	return wider
}
