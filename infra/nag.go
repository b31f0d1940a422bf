package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddNagChecks applies cdk-nag's AwsSolutions pack to everything in scope:
// each finding not suppressed below becomes an error annotation, which fails
// `cdk synth`/`cdk deploy` and the infra tests.
func AddNagChecks(scope awscdk.App) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{
		Verbose: jsii.Bool(true),
	}), nil)
}

// Reasons of the stack's cdk-nag suppressions. Each is a decision, not a
// silenced warning; the infra tests require every suppression to have one.
const (
	reasonXRay = "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; " +
		"Resource * is the narrowest possible, added by Tracing.ACTIVE."
	reasonAPIGatewayLogsRole = "The account-wide role API Gateway uses to write access and execution logs; " +
		"AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy made for exactly this role."
	reasonRequestValidation = "Every route is a Lambda proxy integration whose handler validates strictly " +
		"(size-limited, unknown fields rejected, all violations reported as problem+json per API.md); " +
		"a gateway model would duplicate that contract and answer in a different error shape."
	reasonWAF = "A development stage without a web ACL (context webAclArn associates one, createWebAcl=true " +
		"creates one; prod always has one and refuses to synthesise otherwise). Abuse is bounded by the stage's " +
		"method throttling and the token endpoint's failed-secret counter per client id and source address."
	reasonAlarmTopicKey = "The alarm topic carries only alarm names, states and metric values, no customer data; " +
		"CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and SSL is enforced " +
		"by the topic policy (EnforceSSL)."
	reasonAuthorizer = "Authentication is OAuth 2.0 at the application: the token endpoints authenticate " +
		"clients by secret (RFC 6749) and must be reachable unauthenticated, and every other route verifies " +
		"the KMS-signed bearer JWT in its handler (signature, alg, iss, aud, exp, revocation). " +
		"A gateway authorizer would be a second, diverging verifier."
	reasonCognito = "Partners and their clients are OAuth 2.0 clients of this service's own token endpoint, " +
		"not Cognito users."
	reasonSecretRotation = "CURSOR_KEY only authenticates short-lived list cursors and is resolved into the " +
		"functions at deploy time, so automatic rotation would not reach them; rotation is manual " +
		"(infra/README.md: new secret version, then deploy with context cursorKeyVersionId)."
)

// addNagSuppressions records the stack's justified exceptions to the
// AwsSolutions pack, each on the narrowest construct and, for IAM findings,
// only for the exact finding (appliesTo).
func addNagSuppressions(stack awscdk.Stack, cfg StageConfig, api *API, fns []*GroupFunction, cursorKey awssecretsmanager.Secret, topic awssns.Topic) {
	suppress := func(construct any, children bool, s ...*cdknag.NagPackSuppression) {
		cdknag.NagSuppressions_AddResourceSuppressions(construct, &s, jsii.Bool(children))
	}
	for _, fn := range fns {
		suppress(fn.Role, true, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reasonXRay),
			AppliesTo: &[]any{"Resource::*"},
		})
	}
	if cfg.APIGatewayCloudWatchRole {
		suppress(api.RestAPI, true, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-IAM4"), Reason: jsii.String(reasonAPIGatewayLogsRole),
			AppliesTo: &[]any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"},
		})
	}
	suppress(api.RestAPI, false, &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-APIG2"), Reason: jsii.String(reasonRequestValidation),
	})
	if cfg.WebACLARN == "" && !cfg.CreateWebACL {
		suppress(api.RestAPI.DeploymentStage(), false, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-APIG3"), Reason: jsii.String(reasonWAF),
		})
	}
	for _, m := range api.Methods {
		suppress(m, false,
			&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(reasonAuthorizer)},
			&cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-COG4"), Reason: jsii.String(reasonCognito)},
		)
	}
	if topic != nil {
		suppress(topic, false, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-SNS2"), Reason: jsii.String(reasonAlarmTopicKey),
		})
	}
	suppress(cursorKey, false, &cdknag.NagPackSuppression{
		Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String(reasonSecretRotation),
	})
}
