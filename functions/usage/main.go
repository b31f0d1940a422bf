// Command usage is the Lambda function of the usage and billing endpoint
// group: GET /v1/usage.
package main

import "github.com/partnerapi/partner-api/shared/app"

func main() { app.StartHTTPFunction("usage") }
