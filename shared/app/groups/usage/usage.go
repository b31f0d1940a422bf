// Package usage binds the usage endpoint group (shared/usage, with the
// audit log of shared/audit) to the App's parts.
package usage

import (
	"maps"

	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/audit"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
	domain "github.com/partnerapi/partner-api/shared/usage"
)

// Operations are the usage group's operations: the usage report and the
// audit log.
func Operations(a *app.App) (endpoint.Operations, error) {
	c, err := cursor.New(a.Config.CursorKey)
	ops := domain.Operations(domain.NewService(a.Store))
	maps.Copy(ops, audit.Operations(a.Store, c))
	return ops, err
}
