package federation

import (
	"slices"
	"time"

	"github.com/partnerapi/partner-api/shared/store"
)

// Offered returns the servers of servers that client cl's sign-in page
// offers on day today, in the order given. A server is offered when it is
// Active, supports redirects, is not past its retirement_date (offered
// through that day, UTC), has a usable discovery document and a federation
// client id, and is in an allowed provider group:
//
//   - the allowed groups are the organisation's allowed_provider_groups,
//     narrowed to the client's when the client names any (the client's
//     groups outside the organisation's allow nothing); an organisation
//     naming none allows every group, and then the client's alone decide;
//   - a server is in a group when its provider_groups name it; when no
//     group is named by either the organisation or the client, every
//     server is offered, even one in no group.
func Offered(org store.Organisation, cl store.Client, servers []store.AuthServer, today time.Time) []store.AuthServer {
	allowed, all := allowedGroups(org.AllowedProviderGroups, cl.AllowedProviderGroups)
	day := today.UTC().Format(time.DateOnly)
	var out []store.AuthServer
	for _, s := range servers {
		switch {
		case s.Status != "Active", !s.SupportsRedirect, s.RetirementDate != "" && day > s.RetirementDate,
			!s.Discovery.Usable(), s.FederationClientID == "":
			continue
		}
		if all || slices.ContainsFunc(s.ProviderGroups, func(g string) bool { return slices.Contains(allowed, g) }) {
			out = append(out, s)
		}
	}
	return out
}

// allowedGroups is the intersection of the organisation's and the client's
// groups (an empty list: no restriction at that level); all is true when
// neither restricts.
func allowedGroups(org, client []string) (allowed []string, all bool) {
	switch {
	case len(org) == 0 && len(client) == 0:
		return nil, true
	case len(org) == 0:
		return client, false
	case len(client) == 0:
		return org, false
	}
	for _, g := range client {
		if slices.Contains(org, g) {
			allowed = append(allowed, g)
		}
	}
	return allowed, false
}
