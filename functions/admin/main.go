// Command admin is the ops Lambda function (no HTTP route): it creates,
// reads, disables, enables and rotates partner accounts. Invoke it with a
// payload like those in events/admin/. It needs the table only, no KMS key.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/store"
)

func main() {
	logger := logging.Lambda()
	slog.SetDefault(logger) // the runtime's own log lines become JSON too
	cfg, awsCfg, err := app.LoadConfig(context.Background(), os.Getenv)
	if err != nil {
		logger.Error("start admin function", "err", err)
		os.Exit(1)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), cfg.TableName, nil)
	lambda.Start(admin.New(st, logger, nil).LambdaHandler())
}
