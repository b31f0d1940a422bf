// Package signin binds the sign-in endpoint group (shared/signin) to the
// App's parts, with the federation relying party it signs users in with at
// the organisations' authorisation servers.
package signin

import (
	"context"

	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/federation"
	domain "github.com/partnerapi/partner-api/shared/signin"
)

// Operations are the sign-in group's operations: the authorization
// endpoint and its page, the upstream callback, userinfo, the OpenID
// discovery document and minted tokens. The relying party's JWKS cache
// lives as long as the operations.
func Operations(a *app.App) (endpoint.Operations, error) {
	fetcher := federation.NewFetcher(federation.Policy{AllowLoopback: a.Config.FederationAllowLoopback})
	rp := federation.NewRelyingParty(fetcher, a.Now)
	rp.Assert = func(ctx context.Context, claims map[string]any) (string, error) {
		return a.Signer.SignJWT(ctx, a.Config.PartnerAlgorithm, "JWT", claims) // private_key_jwt: the service's JWKS has the key
	}
	upstream := &domain.Upstream{Store: a.Store, RP: rp, Now: a.Now}
	if s := federation.NewSecrets(a.AWS, a.Config.FederationKey); s != nil {
		upstream.Secrets = s
	}
	return domain.Operations(domain.Deps{
		Store: a.Store, Grants: a.Grants(), Verifier: a.Verifier, Meter: a.Meter,
		Providers: []domain.IdentityProvider{domain.Sandbox{}, upstream},
		IssuerURL: a.Config.IssuerURL, Algorithms: a.Signer.Algorithms(), SealKey: a.Config.CursorKey, Now: a.Now,
	})
}
