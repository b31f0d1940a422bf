// Command organisations is the Lambda function of the organisations endpoint
// group: /v1/organisations, /v1/organisations/{id} and
// /v1/organisations/{id}/ui-config.
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
		logger.Error("start organisations function", "err", err)
		os.Exit(1)
	}
	h, err := a.Organisations()
	if err != nil {
		logger.Error("start organisations function", "err", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.Handler(h))
}
