// Package authservers binds the authorisation servers endpoint group
// (shared/authservers) to the App's parts, with the fetcher of their
// discovery documents and the sealer of their federation client secrets.
package authservers

import (
	"maps"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/app"
	domain "github.com/partnerapi/partner-api/shared/authservers"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/federation"
)

// Operations are the authorisation servers group's operations: servers,
// their API resources and certifications.
func Operations(a *app.App) (endpoint.Operations, error) {
	c, err := cursor.New(a.Config.CursorKey)
	svc := domain.NewService(a.Store, c, a.Now, uuid.NewString)
	svc.Discoverer = federation.NewFetcher(federation.Policy{AllowLoopback: a.Config.FederationAllowLoopback})
	if s := federation.NewSecrets(a.AWS, a.Config.FederationKey); s != nil {
		svc.Sealer = s
	}
	ops := domain.Operations(svc)
	maps.Copy(ops, domain.ResourceOperations(a.Store, c, a.Now, uuid.NewString))
	return ops, err
}
