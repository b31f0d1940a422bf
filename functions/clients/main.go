// Command clients is the Lambda function of the clients endpoint group:
// /v1/organisations/{id}/clients, /v1/clients/{id}, /v1/clients/{id}/secret,
// /v1/clients/me and /v1/clients/me/secret.
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
		logger.Error("start clients function", "err", err)
		os.Exit(1)
	}
	h, err := a.Clients()
	if err != nil {
		logger.Error("start clients function", "err", err)
		os.Exit(1)
	}
	lambda.Start(lambdahttp.Handler(h))
}
