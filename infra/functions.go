package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/keyring"
	"github.com/partnerapi/partner-api/shared/store"
)

// GroupTag is the tag key that names a resource's endpoint group (function,
// role, log group); ops filter on it, and the tests find functions by it.
const GroupTag = "partner-api:group"

// GroupFunction is one endpoint group's Lambda function with its role and
// log group.
type GroupFunction struct {
	constructs.Construct
	Group    EndpointGroup
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// functionDeps are the shared resources a group function uses.
type functionDeps struct {
	cfg   StageConfig
	table awsdynamodb.Table
	keys  *SigningKeys
	// httpEnv is the configuration of every HTTP group (issuer, keys,
	// partner algorithm); cursorEnv adds CURSOR_KEY for groups that list.
	httpEnv   map[string]*string
	cursorEnv map[string]*string
	// federationKey encrypts the federation client secrets.
	federationKey awskms.Key
	code          awslambda.Code
}

// NewGroupFunction creates the function of group g: provided.al2023 on
// arm64 running the bootstrap built by `make build`, with a role that may do
// only what g needs.
//
// No reserved concurrency, deliberately: API Gateway stage throttling is the
// front-door limit, and Lambda throttling behind API Gateway surfaces as a
// 500/503 the client cannot tell from a fault; reserving concurrency also
// takes it from the account's unreserved pool (which must keep 100) and
// fails outright in new accounts whose limit is 10. The Throttles alarm
// tells when the account limit, not the stage limit, is what bites; then
// raise the account quota or deploy into a dedicated account.
func NewGroupFunction(scope constructs.Construct, g EndpointGroup, d functionDeps) *GroupFunction {
	c := constructs.NewConstruct(scope, jsii.String(groupID(g.Name)))
	awscdk.Tags_Of(c).Add(jsii.String(GroupTag), jsii.String(g.Name), nil)
	gf := &GroupFunction{Construct: c, Group: g}

	removal := awscdk.RemovalPolicy_DESTROY
	if d.cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	gf.LogGroup = awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     d.cfg.LogRetention,
		RemovalPolicy: removal,
	})

	// An explicit role instead of the default one: the default attaches the
	// AWS-managed AWSLambdaBasicExecutionRole (logs:CreateLogGroup and
	// PutLogEvents on every log group); this one may write to its own log
	// group only.
	gf.Role = awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("partner-api %s %s function", d.cfg.Stage, g.Name)),
	})
	gf.LogGroup.GrantWrite(gf.Role)
	grantTable(gf.Role, d.table, g)
	grantKeys(gf.Role, d.keys, g.KMS)
	grantFederationKey(gf.Role, d.federationKey, g.FederationKey)

	// What config.FromEnv reads (config.Keys says which of it each group
	// needs; TestFunctionEnvironmentIsConfig checks the two agree).
	env := map[string]*string{
		// app.TuneGC's GC target from the process's start rather than from
		// main: the package initialisation's allocations (the clients
		// function's password dictionaries, ~10 MB) then run at it too;
		// at Go's default (100) their collections cost the clients
		// function ~70 ms of CPU at its cold start under qemu.
		envGOGC:                      jsii.String(strconv.Itoa(registry.GCPercent)),
		config.EnvTableName:          d.table.TableName(),
		config.EnvLogLevel:           jsii.String(d.cfg.LogLevel),
		config.EnvAuditRetentionDays: jsii.String(strconv.Itoa(d.cfg.AuditRetentionDays)),
	}
	if g.HTTP() {
		maps.Copy(env, d.httpEnv)
	}
	maps.Copy(env, d.keys.WrappingEnvironment(g.KMS))
	if g.CursorKey {
		maps.Copy(env, d.cursorEnv)
	}
	if g.Metered {
		env[config.EnvWritesPerMinute] = jsii.String(strconv.Itoa(d.cfg.WritesPerMinute))
	}
	if g.FederationKey != registry.FederationNone {
		env[config.EnvFederationKey] = d.federationKey.KeyArn()
	}

	gf.Function = awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String(fmt.Sprintf("partner-api %s: %s endpoint group", d.cfg.Stage, g.Name)),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         d.code,
		MemorySize:   jsii.Number(g.MemoryMB),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(g.TimeoutSeconds)),
		Environment:  &env,
		Role:         gf.Role,
		LogGroup:     gf.LogGroup,
		// JSON: lambdacontext.NewLogger writes slog JSON with the request
		// id, and Lambda filters it by the same level.
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: lambdaLogLevel(d.cfg.LogLevel),
		SystemLogLevelV2:      awslambda.SystemLogLevel_INFO,
		Tracing:               awslambda.Tracing_ACTIVE,
	})
	return gf
}

// groupID is the construct id of a group: "Token", "Organisations", ...
func groupID(name string) string {
	return strings.ToUpper(name[:1]) + name[1:]
}

// grantTable allows g's table actions on the table and its index actions on
// GSI1, by exact ARN.
func grantTable(role awsiam.Role, table awsdynamodb.Table, g EndpointGroup) {
	if len(g.TableActions) > 0 {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Table"),
			Actions:   jsii.Strings(g.TableActions...),
			Resources: jsii.Strings(*table.TableArn()),
		}))
	}
	if len(g.IndexActions) > 0 {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Index"),
			Actions:   jsii.Strings(g.IndexActions...),
			Resources: jsii.Strings(*table.TableArn() + "/index/" + store.IndexGSI1),
		}))
	}
}

// grantKeys allows, in kms mode, kms:GetPublicKey on every published key
// (verification keys are loaded once per cold start) and, for the signing
// group, kms:Sign on the active keys only. In wrapped mode verification
// needs no KMS access; the signing group may kms:Decrypt and the rotating
// (admin) group kms:Encrypt, each on the wrapping key only and only with the
// key ring's encryption context (grantWrapping).
func grantKeys(role awsiam.Role, keys *SigningKeys, access KMSAccess) {
	if keys.Mode == config.SigningWrapped {
		switch access {
		case KMSSign:
			grantWrapping(role, keys, "Unwrap", "kms:Decrypt")
		case KMSRotate:
			grantWrapping(role, keys, "Wrap", "kms:Encrypt")
		}
		return
	}
	if access != KMSVerify && access != KMSSign {
		return
	}
	published := keys.PublishedARNs()
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PublicKeys"),
		Actions:   jsii.Strings("kms:GetPublicKey"),
		Resources: &published,
	}))
	if access == KMSSign {
		active := keys.ActiveARNs()
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Sign"),
			Actions:   jsii.Strings("kms:Sign"),
			Resources: &active,
		}))
	}
}

// grantWrapping allows action on the wrapping key when the request's
// encryption context is a key ring's: purpose keyring.Purpose and a kid,
// nothing else. So the role can neither decrypt nor make ciphertexts for any
// other use of the key.
func grantWrapping(role awsiam.Role, keys *SigningKeys, sid, action string) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(action),
		Resources: jsii.Strings(*keys.Wrapping.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals":              map[string]any{"kms:EncryptionContext:purpose": keyring.Purpose},
			"ForAllValues:StringEquals": map[string]any{"kms:EncryptionContextKeys": wrappingContextKeys()},
			"Null":                      map[string]any{"kms:EncryptionContext:kid": "false"},
		},
	}))
}

// wrappingContextKeys are the keys of a key ring's encryption context
// (keyring.EncryptionContext), sorted: [kid purpose].
func wrappingContextKeys() []string {
	return slices.Sorted(maps.Keys(keyring.EncryptionContext("")))
}

// envGOGC is the Go runtime's variable of the garbage collector's target.
const envGOGC = "GOGC"

// lambdaLogLevel maps LOG_LEVEL to Lambda's application log level.
func lambdaLogLevel(level string) awslambda.ApplicationLogLevel {
	switch level {
	case "debug":
		return awslambda.ApplicationLogLevel_DEBUG
	case "warn":
		return awslambda.ApplicationLogLevel_WARN
	case "error":
		return awslambda.ApplicationLogLevel_ERROR
	default:
		return awslambda.ApplicationLogLevel_INFO
	}
}
