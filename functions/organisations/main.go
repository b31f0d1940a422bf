// Command organisations is the Lambda function of the organisations endpoint
// group: /v1/organisations, /v1/organisations/{id} and
// /v1/organisations/{id}/ui-config.
package main

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/organisations"
)

func main() { app.StartHTTPFunction("organisations", organisations.Operations) }
