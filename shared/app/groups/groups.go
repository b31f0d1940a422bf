// Package groups binds every endpoint group to the constructor of its
// operations, for what serves them all in one process: the local server and
// the tests (app.Options.Groups). A Lambda function binds only its own
// group's package, so it links and initialises none of the others' code.
package groups

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/authservers"
	"github.com/partnerapi/partner-api/shared/app/groups/clients"
	"github.com/partnerapi/partner-api/shared/app/groups/organisations"
	"github.com/partnerapi/partner-api/shared/app/groups/signin"
	"github.com/partnerapi/partner-api/shared/app/groups/token"
	"github.com/partnerapi/partner-api/shared/app/groups/usage"
)

// All is every HTTP endpoint group of the registry, by name: the one line a
// new group adds here.
func All() map[string]app.Operations {
	return map[string]app.Operations{
		"token":         token.Operations,
		"signin":        signin.Operations,
		"organisations": organisations.Operations,
		"clients":       clients.Operations,
		"authservers":   authservers.Operations,
		"usage":         usage.Operations,
	}
}
