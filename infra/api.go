package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
)

// API is the REST API with its stage, logs and web ACL.
type API struct {
	RestAPI    awsapigateway.RestApi
	AccessLogs awslogs.LogGroup
	// ExecutionLogs is the group API Gateway writes execution logs to.
	ExecutionLogs awslogs.LogGroup
	// WebACL is the web ACL the stack created, if it created one.
	WebACL awswafv2.CfnWebACL
	// Domain is the custom domain, when the stage has one.
	Domain awsapigateway.DomainName
	// Methods are the methods of every route, keyed by path.
	Methods map[string]awsapigateway.Method
}

// NewAPI creates the REST API (v1: LocalStack's open edition has no HTTP
// API) and its stage. Routes are added with Route.
//
// No CORS: the API is machine-to-machine. Partners call it from their back
// ends with a client secret, which must never reach a browser, so no browser
// origin has a reason to call it; CORS headers would only widen what a
// browser script may read. Add preflight for named origins only if a
// browser UI ever calls it directly.
func NewAPI(scope constructs.Construct, cfg StageConfig) *API {
	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	a := &API{Methods: map[string]awsapigateway.Method{}}
	a.AccessLogs = awslogs.NewLogGroup(scope, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     cfg.LogRetention,
		RemovalPolicy: removal,
	})
	stackName := *awscdk.Stack_Of(scope).StackName()
	var methodOptions *map[string]*awsapigateway.MethodDeploymentOptions
	if rate, burst, ok := tokenRouteThrottle(cfg); ok {
		// "/v1/token/POST": the resource path and method the stage's
		// method settings name.
		methodOptions = &map[string]*awsapigateway.MethodDeploymentOptions{
			"/v1/token/POST": {ThrottlingRateLimit: jsii.Number(rate), ThrottlingBurstLimit: jsii.Number(burst)},
		}
	}
	a.RestAPI = awsapigateway.NewRestApi(scope, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName:   jsii.String(stackName),
		Description:   jsii.String("Partner API " + cfg.Stage),
		EndpointTypes: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		// API Gateway writes access and execution logs through one role per
		// account and region; see README "Deploy" for accounts that have it.
		CloudWatchRole:              jsii.Bool(cfg.APIGatewayCloudWatchRole),
		CloudWatchRoleRemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		// With a custom domain, tokens name it as their issuer; the
		// execute-api URL would be a second, unofficial way in.
		DisableExecuteApiEndpoint: jsii.Bool(cfg.DomainName != ""),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(cfg.Stage),
			ThrottlingRateLimit:  jsii.Number(cfg.ThrottleRateLimit),
			ThrottlingBurstLimit: jsii.Number(cfg.ThrottleBurstLimit),
			MethodOptions:        methodOptions,
			TracingEnabled:       jsii.Bool(true),
			MetricsEnabled:       jsii.Bool(true),
			// Execution logs at ERROR only and never data traces: request
			// and response bodies carry client secrets and tokens.
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			DataTraceEnabled:     jsii.Bool(false),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(a.AccessLogs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat())),
		},
	})

	for _, gr := range gatewayResponses {
		body, err := json.Marshal(problem.From(gr.err))
		if err != nil {
			panic(err) // a Problem always encodes
		}
		headers := map[string]*string{
			"Content-Type":  jsii.String("'application/problem+json'"),
			"Cache-Control": jsii.String("'no-store'"),
			// Errors the gateway answers itself never reach a function: the
			// gateway's own request id (a UUID, also in the access log) is
			// the interaction id a partner can quote.
			"x-fapi-interaction-id": jsii.String("context.requestId"),
		}
		// The service's security header baseline, as on its own answers.
		for k, v := range middleware.SecurityHeaderValues() {
			headers[k] = jsii.String("'" + v + "'")
		}
		if gr.retryAfter > 0 {
			headers["Retry-After"] = jsii.String("'" + strconv.Itoa(gr.retryAfter) + "'")
		}
		a.RestAPI.AddGatewayResponse(jsii.String(gr.id), &awsapigateway.GatewayResponseOptions{
			Type:            gr.typ,
			StatusCode:      jsii.String(strconv.Itoa(problem.From(gr.err).Status)),
			ResponseHeaders: &headers,
			Templates:       &map[string]*string{"application/json": jsii.String(string(body))},
		})
	}

	// No usage plan: a plan's quota and throttle apply only to requests
	// carrying one of its API keys, and partners authenticate with OAuth
	// 2.0, not API keys. The stage's method throttling above is the limit
	// for the API as a whole, the web ACL's rate-based rule the one per
	// source address, and per-partner metering is the usage group's job.

	// API Gateway writes the stage's execution logs (ERROR only, above) to
	// a log group it names and would create itself, without retention.
	// Created here first (the stage waits for it), it gets the stage's
	// retention and removal policy.
	a.ExecutionLogs = awslogs.NewLogGroup(scope, jsii.String("ApiExecutionLogs"), &awslogs.LogGroupProps{
		LogGroupName: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("API-Gateway-Execution-Logs_"), a.RestAPI.RestApiId(), jsii.String("/" + cfg.Stage),
		}),
		Retention:     cfg.LogRetention,
		RemovalPolicy: removal,
	})
	a.RestAPI.DeploymentStage().Node().AddDependency(a.ExecutionLogs)

	switch {
	case cfg.WebACLARN != "":
		a.associateWebACL(scope, jsii.String(cfg.WebACLARN))
	case cfg.CreateWebACL:
		a.WebACL = newWebACL(scope, stackName, cfg)
		a.associateWebACL(scope, a.WebACL.AttrArn())
	}

	if cfg.DomainName != "" {
		a.Domain = awsapigateway.NewDomainName(scope, jsii.String("Domain"), &awsapigateway.DomainNameProps{
			DomainName:     jsii.String(cfg.DomainName),
			Certificate:    awscertificatemanager.Certificate_FromCertificateArn(scope, jsii.String("Certificate"), jsii.String(cfg.CertificateARN)),
			EndpointType:   awsapigateway.EndpointType_REGIONAL,
			SecurityPolicy: awsapigateway.SecurityPolicy_TLS_1_2,
		})
		awsapigateway.NewBasePathMapping(scope, jsii.String("DomainMapping"), &awsapigateway.BasePathMappingProps{
			DomainName: a.Domain,
			RestApi:    a.RestAPI,
			Stage:      a.RestAPI.DeploymentStage(),
		})
	}
	return a
}

// newWebACL is a regional web ACL that blocks a source IP address sending
// more than cfg.WAFRateLimit requests in 5 minutes and allows the rest.
// Partners call from their back ends, a few addresses each, so the limit
// is per address and generous; stage throttling still caps the total.
func newWebACL(scope constructs.Construct, name string, cfg StageConfig) awswafv2.CfnWebACL {
	visibility := func(metric string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
		return &awswafv2.CfnWebACL_VisibilityConfigProperty{
			CloudWatchMetricsEnabled: jsii.Bool(true),
			MetricName:               jsii.String(metric),
			SampledRequestsEnabled:   jsii.Bool(true),
		}
	}
	return awswafv2.NewCfnWebACL(scope, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Name:             jsii.String(name),
		Description:      jsii.String("Partner API " + cfg.Stage + ": rate limit per source IP"),
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
		VisibilityConfig: visibility(name),
		Rules: &[]any{&awswafv2.CfnWebACL_RuleProperty{
			Name:     jsii.String(WAFRateRuleName),
			Priority: jsii.Number(0),
			Action:   &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{}},
			Statement: &awswafv2.CfnWebACL_StatementProperty{
				RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
					Limit:               jsii.Number(float64(cfg.WAFRateLimit)),
					AggregateKeyType:    jsii.String("IP"),
					EvaluationWindowSec: jsii.Number(300),
				},
			},
			VisibilityConfig: visibility(name + "-" + WAFRateRuleName),
		}},
	})
}

// WAFRateRuleName is the name of the web ACL's rate-based rule (and of its
// CloudWatch metric, after the ACL's name).
const WAFRateRuleName = "rate-per-ip"

// associateWebACL puts the web ACL arn in front of the stage.
func (a *API) associateWebACL(scope constructs.Construct, arn *string) {
	awswafv2.NewCfnWebACLAssociation(scope, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: a.RestAPI.DeploymentStage().StageArn(),
		WebAclArn:   arn,
	})
}

// Route sends every method of each of g's routes to fn (Lambda proxy
// integration). The handler answers 405 for a method it does not serve, as
// the local server does; the gateway answers unknown paths itself (404).
func (a *API) Route(g *GroupFunction) error {
	integration := awsapigateway.NewLambdaIntegration(g.Function, &awsapigateway.LambdaIntegrationOptions{
		Proxy: jsii.Bool(true),
		// One resource-policy statement per method, for the deployed stage
		// only: the console's test-invoke is not needed and would double them.
		AllowTestInvoke: jsii.Bool(false),
	})
	for _, path := range g.Group.Paths() {
		if _, dup := a.Methods[path]; dup {
			return fmt.Errorf("route %s: served by two groups", path)
		}
		res := a.RestAPI.Root().ResourceForPath(jsii.String(path))
		a.Methods[path] = res.AddMethod(jsii.String("ANY"), integration, &awsapigateway.MethodOptions{
			AuthorizationType: awsapigateway.AuthorizationType_NONE,
		})
	}
	return nil
}

// Paths are the routed paths, sorted.
func (a *API) Paths() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for p := range a.Methods {
			if !yield(p) {
				return
			}
		}
	})
}

// issuerURL is ISSUER_URL for the functions.
//
// The obvious value, the stage URL (RestApi.url), references the Stage, and
// the Stage depends (through the Deployment and Methods) on the functions, so
// giving it to the functions is a cycle. The execute-api URL is assembled
// instead from the RestApi id, region, URL suffix and the stage *name*: the
// functions then depend on the RestApi resource only, which depends on
// nothing of theirs.
//
// Prod must not use it (ConfigFromContext refuses): the issuer is in every
// token and in every partner's configuration, and the RestApi id changes
// whenever the API is replaced. Prod names a stable URL: issuerUrl, or the
// custom domain. LocalStack serves execute-api under its own host.
func issuerURL(api awsapigateway.RestApi, cfg StageConfig) *string {
	stack := awscdk.Stack_Of(api)
	switch {
	case cfg.IssuerURL != "":
		return jsii.String(cfg.IssuerURL)
	case cfg.LocalStack:
		return jsii.String("http://" + *api.RestApiId() + ".execute-api." + cfg.LocalStackHost + "/" + cfg.Stage)
	default:
		return jsii.String("https://" + *api.RestApiId() + ".execute-api." + *stack.Region() + "." +
			*stack.UrlSuffix() + "/" + cfg.Stage)
	}
}

// gatewayResponses give the errors API Gateway answers itself (before any
// function runs) the problem+json shape of API.md instead of
// {"message": ...}.
var gatewayResponses = []struct {
	id         string
	typ        awsapigateway.ResponseType
	err        error
	retryAfter int
}{
	{"UnknownRoute", awsapigateway.ResponseType_MISSING_AUTHENTICATION_TOKEN(), problem.New(problem.ErrNotFound, "No such endpoint."), 0},
	{"ResourceNotFound", awsapigateway.ResponseType_RESOURCE_NOT_FOUND(), problem.New(problem.ErrNotFound, "No such endpoint."), 0},
	{"Throttled", awsapigateway.ResponseType_THROTTLED(), problem.New(problem.ErrRateLimited, "Too many requests; retry later."), 1},
	{"QuotaExceeded", awsapigateway.ResponseType_QUOTA_EXCEEDED(), problem.New(problem.ErrRateLimited, "Request quota exceeded."), 60},
	{"RequestTooLarge", awsapigateway.ResponseType_REQUEST_TOO_LARGE(), problem.New(problem.ErrTooLarge, "The request is too large."), 0},
	{"UnsupportedMediaType", awsapigateway.ResponseType_UNSUPPORTED_MEDIA_TYPE(), problem.New(problem.ErrUnsupportedMedia, "Unsupported media type."), 0},
	{"WafFiltered", awsapigateway.ResponseType_WAF_FILTERED(), problem.New(problem.ErrForbidden, "The request was blocked."), 0},
	{"IntegrationFailure", awsapigateway.ResponseType_INTEGRATION_FAILURE(), problem.ErrUnavailable, 1},
	{"IntegrationTimeout", awsapigateway.ResponseType_INTEGRATION_TIMEOUT(), problem.ErrUnavailable, 1},
	{"Default5xx", awsapigateway.ResponseType_DEFAULT_5XX(), errors.New("gateway error"), 0},
}

// accessLogFormat is the stage's JSON access log line. It holds no header
// or body, so no credential or token can reach it. (No error message
// either: $context.error.message may hold quotes that break the JSON.)
func accessLogFormat() string {
	fields := map[string]string{
		"requestId":          "$context.requestId",
		"extendedRequestId":  "$context.extendedRequestId",
		"requestTime":        "$context.requestTime",
		"ip":                 "$context.identity.sourceIp",
		"userAgent":          "$context.identity.userAgent",
		"httpMethod":         "$context.httpMethod",
		"resourcePath":       "$context.resourcePath",
		"path":               "$context.path",
		"protocol":           "$context.protocol",
		"status":             "$context.status",
		"responseLength":     "$context.responseLength",
		"responseLatency":    "$context.responseLatency",
		"integrationLatency": "$context.integration.latency",
		"integrationStatus":  "$context.integration.status",
		"errorType":          "$context.error.responseType",
		"xrayTraceId":        "$context.xrayTraceId",
		"wafStatus":          "$context.waf.status",
	}
	b, err := json.Marshal(fields) // sorted keys: a stable template
	if err != nil {
		panic(err)
	}
	return string(b)
}
