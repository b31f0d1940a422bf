// Command usage is the Lambda function of the usage and billing endpoint
// group: GET /v1/usage (the usage report) and GET /v1/audit-events (the
// audit log).
package main

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/usage"
)

func main() { app.StartHTTPFunction("usage", usage.Operations) }
