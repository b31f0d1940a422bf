package app

import (
	"slices"

	"github.com/partnerapi/partner-api/shared/audit"
	"github.com/partnerapi/partner-api/shared/authservers"
	"github.com/partnerapi/partner-api/shared/clients"
	"github.com/partnerapi/partner-api/shared/organisations"
	"github.com/partnerapi/partner-api/shared/signin"
	"github.com/partnerapi/partner-api/shared/tokenapi"
	"github.com/partnerapi/partner-api/shared/usage"
)

// GroupRoutes names an endpoint group (one Lambda function) and the paths
// API Gateway routes to it, as OpenAPI path templates.
type GroupRoutes struct {
	Name  string
	Paths []string
}

// Routes lists every endpoint group with its paths. The local mux, the CDK
// stack's API Gateway resources and the OpenAPI check all read this one list.
func Routes() []GroupRoutes {
	return []GroupRoutes{
		{Name: "token", Paths: tokenapi.Routes},
		{Name: "organisations", Paths: organisations.Routes},
		{Name: "clients", Paths: clients.Routes},
		{Name: "authservers", Paths: authservers.Routes},
		{Name: "usage", Paths: append(slices.Clone(usage.Routes), audit.Routes...)},
		{Name: "signin", Paths: signin.Routes},
	}
}
