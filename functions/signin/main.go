// Command signin is the Lambda function of the sign-in endpoint group:
// GET and POST /v1/authorize with the hosted sign-in page, /v1/userinfo,
// the OpenID Connect discovery document and POST /v1/clients/{id}/tokens.
package main

import (
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/signin"
)

func main() { app.StartHTTPFunction("signin", signin.Operations) }
