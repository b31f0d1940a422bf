package app

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/partnerapi/partner-api/shared/logging"
)

// StartHTTPFunction is the whole main of an endpoint group's Lambda
// function: JSON logs with the Lambda request id (the runtime's own lines
// too), the App from the environment, the group's handler (Handler), and
// the Lambda loop for API Gateway REST proxy events. It exits when the
// configuration or the keys cannot be loaded, so the failure shows as an
// init error.
func StartHTTPFunction(name string) {
	logger := logging.Lambda()
	slog.SetDefault(logger)
	a, err := FromEnv(context.Background(), os.Getenv, logger)
	if err != nil {
		logger.Error("start function", "function", name, "err", err)
		os.Exit(1)
	}
	if len(a.Config.InsecureDefaults) > 0 {
		logger.Warn("development defaults in use: set these in every deployment", "settings", a.Config.InsecureDefaults)
	}
	h, err := a.Handler(name)
	if err != nil {
		logger.Error("start function", "function", name, "err", err)
		os.Exit(1)
	}
	lambda.Start(LambdaHandler(h))
}

// LambdaHandler turns an endpoint group's http.Handler into the Lambda
// handler of API Gateway REST API (v1) proxy events: the value a function's
// main starts, which tests invoke with the JSON events of events/.
func LambdaHandler(h http.Handler) lambda.Handler {
	return lambda.NewHandler(httpadapter.New(h).ProxyWithContext)
}
