// Command token is the Lambda function of the token endpoint group:
// POST /v1/token, /v1/token/introspect, /v1/token/revoke, the JWKS and the
// authorization server metadata.
package main

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/token"
)

func main() { app.StartHTTPFunction("token", token.Operations) }
