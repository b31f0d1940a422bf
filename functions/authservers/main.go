// Command authservers is the Lambda function of the authorisation servers
// endpoint group: /v1/organisations/{id}/authorisation-servers and
// /v1/organisations/{id}/authorisation-servers/{as_id}.
package main

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/authservers"
)

func main() { app.StartHTTPFunction("authservers", authservers.Operations) }
