// Command token is the Lambda function of the token endpoint group:
// POST /v1/token, /v1/token/introspect, /v1/token/revoke, the JWKS and the
// authorization server metadata.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/lambdahttp"
	"github.com/partnerapi/partner-api/shared/logging"
)

func main() {
	logger := logging.Lambda()
	slog.SetDefault(logger) // the runtime's own log lines become JSON too
	a, err := app.FromEnv(context.Background(), os.Getenv, logger)
	if err != nil {
		logger.Error("start token function", "err", err)
		os.Exit(1)
	}
	h, err := a.Token()
	if err != nil {
		logger.Error("start token function", "err", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.Handler(h))
}
