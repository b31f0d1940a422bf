// Command admin is the ops Lambda function (no HTTP route): it creates,
// reads, disables, enables and rotates partner accounts. Invoke it with a
// payload like those in events/admin/. It needs the table only, no KMS key.
package main

import "github.com/partnerapi/partner-api/shared/app"

func main() { app.StartAdminFunction() }
