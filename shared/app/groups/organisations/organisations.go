// Package organisations binds the organisations endpoint group
// (shared/organisations) to the App's parts.
package organisations

import (
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
	domain "github.com/partnerapi/partner-api/shared/organisations"
)

// Operations are the organisations group's operations: organisations and
// their ui-configs.
func Operations(a *app.App) (endpoint.Operations, error) {
	c, err := cursor.New(a.Config.CursorKey)
	return domain.Operations(domain.NewService(a.Store, c, a.Now, uuid.NewString)), err
}
