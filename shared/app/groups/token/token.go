// Package token binds the token endpoint group (shared/tokenapi) to the
// App's parts.
package token

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/tokenapi"
)

// Operations are the token group's operations: the token endpoint with
// every grant, introspection, revocation, the JWKS and the metadata.
func Operations(a *app.App) (endpoint.Operations, error) {
	g := a.Grants()
	return tokenapi.Operations(tokenapi.Deps{
		Principals: a.Store, Revoker: a.Store, Keys: a.Signer, Meter: a.Meter,
		Issuer: a.Issuer, Verifier: a.Verifier,
		IssuerURL: a.Config.IssuerURL, PartnerAlgorithm: a.Config.PartnerAlgorithm, Now: a.Now,
		Grants: g, Refresh: g,
		JWKSMaxAge: app.JWKSMaxAge(a.Config),
	})
}
