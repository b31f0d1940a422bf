// Command clients is the Lambda function of the clients endpoint group:
// /v1/organisations/{id}/clients, /v1/clients/{id}, /v1/clients/{id}/secret,
// /v1/clients/me and /v1/clients/me/secret.
package main

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/clients"
)

func main() { app.StartHTTPFunction("clients", clients.Operations) }
