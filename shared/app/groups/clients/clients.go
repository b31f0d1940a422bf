// Package clients binds the clients endpoint group (shared/clients) to the
// App's parts.
package clients

import (
	"github.com/partnerapi/partner-api/shared/app"
	domain "github.com/partnerapi/partner-api/shared/clients"
	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
)

// Operations are the clients group's operations: organisations' clients,
// their secrets, and a client's own.
func Operations(a *app.App) (endpoint.Operations, error) {
	c, err := cursor.New(a.Config.CursorKey)
	return domain.Operations(domain.NewService(a.Store, c, a.Now, credential.NewID)), err
}
