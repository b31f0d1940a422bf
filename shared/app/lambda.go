package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	smithylogging "github.com/aws/smithy-go/logging"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/logging"
)

// StartHTTPFunction is the whole main of an endpoint group's Lambda
// function: the configuration and the JSON logger at its level
// (startFunction), the App, the group's handler (Handler) with the
// operations ops builds, and the Lambda loop for API Gateway REST proxy
// events. It exits when the configuration or the keys cannot be loaded, so
// the failure shows as an init error.
func StartHTTPFunction(name string, ops Operations) {
	cfg, awsCfg, logger := startFunction(name)
	g, _ := registry.Lookup(name)
	a, err := Build(context.Background(), cfg, awsCfg, logger, Options{
		VerifyOnly: g.KMS != registry.KMSSign, Groups: map[string]Operations{name: ops},
	})
	if err != nil {
		logger.Error(StartFailedMessage, "function", name, "err", err)
		os.Exit(1)
	}
	h, err := a.Handler(name)
	if err != nil {
		logger.Error(StartFailedMessage, "function", name, "err", err)
		os.Exit(1)
	}
	lambda.Start(LambdaHandler(h))
}

// StartAdminFunction is the whole main of the admin (ops) function: the
// same configuration path as the HTTP functions, the store (with the
// configured audit retention) and, in wrapped mode, the signing key ring it
// rotates (kms:Encrypt under the wrapping key; it never decrypts).
func StartAdminFunction() {
	cfg, awsCfg, logger := startFunction("admin")
	st := NewStore(cfg, NewDynamoDB(awsCfg), time.Now)
	svc := admin.New(st, logger, time.Now)
	if cfg.SigningMode == config.SigningWrapped {
		svc = svc.WithKeyRing(Ring(cfg, st, kms.NewFromConfig(awsCfg), time.Now))
	}
	lambda.Start(svc.LambdaHandler())
}

// StartFailedMessage is the message of the line a function logs (at Error,
// with the cause in "err") when it cannot start.
const StartFailedMessage = "start function"

// startFunction reads the configuration of group name's function, makes
// the Lambda logger at its LOG_LEVEL (the runtime's own lines become JSON
// too) and warns about any setting the group uses that was left at a
// development default. It exits when the configuration is invalid.
func startFunction(name string) (config.Config, aws.Config, *slog.Logger) {
	TuneGC(os.Getenv)
	cfg, awsCfg, err := LoadConfig(context.Background(), os.Getenv)
	logger := logging.Lambda(cfg.LogLevel) // info when the configuration failed
	slog.SetDefault(logger)
	awsCfg.Logger = SDKLogger(logger)
	if err != nil {
		logger.Error(StartFailedMessage, "function", name, "err", err)
		os.Exit(1)
	}
	if g, ok := registry.Lookup(name); ok {
		if insecure := cfg.InsecureFor(g); len(insecure) > 0 {
			logger.Warn("development defaults in use: set these in every deployment", "settings", insecure)
		}
	}
	return cfg, awsCfg, logger
}

// LambdaHandler turns an endpoint group's http.Handler into the Lambda
// handler of API Gateway REST API (v1) proxy events: the value a function's
// main starts, which tests invoke with the JSON events of events/.
func LambdaHandler(h http.Handler) lambda.Handler {
	return lambda.NewHandler(httpadapter.New(h).ProxyWithContext)
}

// SDKLogger routes the AWS SDK's own log lines (e.g. a response body it
// could not drain) to logger, so that a function's every line is the JSON
// Lambda and the metric filters expect, never the SDK's plain text on
// stderr: warnings at Warn, the rest at Debug.
func SDKLogger(logger *slog.Logger) smithylogging.Logger {
	return smithylogging.LoggerFunc(func(c smithylogging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == smithylogging.Warn {
			level = slog.LevelWarn
		}
		logger.Log(context.Background(), level, "aws sdk", slog.String("detail", fmt.Sprintf(format, v...)))
	})
}
