// Package lambdahttp turns an endpoint group's http.Handler into the Lambda
// handler of API Gateway REST API (v1) proxy events.
package lambdahttp

import (
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Handler is the lambda.Handler a function's main starts; tests invoke the
// same value with the JSON events of events/.
func Handler(h http.Handler) lambda.Handler {
	return lambda.NewHandler(httpadapter.New(h).ProxyWithContext)
}
