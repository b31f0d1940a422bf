package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/store"
)

// PartnerAPIStackProps configure the stack.
type PartnerAPIStackProps struct {
	awscdk.StackProps
	// Config is the stage's configuration (ConfigFromContext).
	Config StageConfig
	// Groups names the endpoint groups to deploy (DiscoverGroups); each
	// must be in Catalog.
	Groups []string
	// Code returns the deployment package of a group's function: in the
	// app, the asset dist/<group>/ holding the bootstrap of `make build`;
	// in tests, any directory, so synthesis needs no build.
	Code func(group string) awslambda.Code
}

// StackName is the name of the stack of a stage: "PartnerApi-dev".
func StackName(stage string) string { return "PartnerApi-" + stage }

// NewPartnerAPIStack creates the Partner API: the table, the signing keys,
// the cursor key secret, one function per endpoint group, the REST API
// routing API.md to them, alarms and outputs. It panics on a props error
// (an unknown group, a route served twice), as CDK constructs do.
func NewPartnerAPIStack(scope constructs.Construct, id string, props *PartnerAPIStackProps) awscdk.Stack {
	sp := props.StackProps
	cfg := props.Config
	if sp.Description == nil {
		sp.Description = jsii.String(fmt.Sprintf("Partner API (%s stage)", cfg.Stage))
	}
	stack := awscdk.NewStack(scope, &id, &sp)
	awscdk.Tags_Of(stack).Add(jsii.String("partner-api:stage"), jsii.String(cfg.Stage), nil)

	table := newTable(stack, cfg)
	keys := NewSigningKeys(stack, "SigningKeys", cfg)
	cursorKey := newCursorKeySecret(stack, cfg)
	api := NewAPI(stack, cfg)

	issuer := issuerURL(api.RestAPI, cfg)
	httpEnv := map[string]*string{
		config.EnvIssuerURL:       issuer,
		config.EnvPartnerTokenAlg: jsii.String(string(cfg.PartnerTokenAlgorithm)),
	}
	if cfg.TokenAudience != "" {
		httpEnv[config.EnvTokenAudience] = jsii.String(cfg.TokenAudience)
	}
	for k, v := range keys.Environment() {
		httpEnv[k] = v
	}
	deps := functionDeps{
		cfg: cfg, table: table, keys: keys,
		httpEnv:       httpEnv,
		cursorEnv:     map[string]*string{config.EnvCursorKey: cursorKeyValue(cursorKey, cfg)},
		federationKey: newFederationKey(stack, cfg),
	}

	var fns []*GroupFunction
	for _, name := range props.Groups {
		g, ok := CatalogGroup(name)
		if !ok {
			panic(fmt.Sprintf("NewPartnerAPIStack: endpoint group %q is not in Catalog", name))
		}
		deps.code = props.Code(name)
		fn := NewGroupFunction(stack, g, deps)
		fns = append(fns, fn)
		if g.HTTP() {
			if err := api.Route(fn); err != nil {
				panic("NewPartnerAPIStack: " + err.Error())
			}
		}
		if g.Name == "admin" {
			output(stack, "AdminFunctionName", fn.Function.FunctionName(),
				"The ops function: aws lambda invoke --function-name <this> --payload file://events/admin/create-partner.json ...")
			if cfg.SigningMode == config.SigningWrapped {
				NewKeyRotationSchedule(stack, cfg, fn)
			}
		}
	}

	topic, createdTopic := NewAlarmTopic(stack, cfg)
	NewAlarms(stack, cfg, api, table, fns, topic)
	addNagSuppressions(stack, cfg, api, fns, cursorKey, createdTopic)

	output(stack, "ApiUrl", api.RestAPI.Url(), "The stage's execute-api URL")
	output(stack, "IssuerUrl", issuer, "The tokens' issuer and the base URL partners call (BASE_URL of make e2e)")
	output(stack, "TableName", table.TableName(), "The DynamoDB table")
	output(stack, "CursorKeySecretArn", cursorKey.SecretArn(), "The Secrets Manager secret holding CURSOR_KEY")
	if keys.Wrapping != nil {
		output(stack, "WrappingKeyArn", keys.Wrapping.KeyArn(), "The KMS key wrapping the signing key ring's private keys")
	}
	output(stack, "FederationKeyArn", deps.federationKey.KeyArn(), "The KMS key encrypting the authorisation servers' federation client secrets")
	for _, alg := range Algorithms {
		if keys.Aliases[alg] == nil {
			continue
		}
		output(stack, "KeyAlias"+string(alg), keys.Aliases[alg].AliasName(), "Alias of the active "+string(alg)+" signing key")
		output(stack, "SigningKeyArn"+string(alg), keys.Active[alg].KeyArn(), "The active "+string(alg)+" signing key")
	}
	if api.Domain != nil {
		output(stack, "DomainTarget", api.Domain.DomainNameAliasDomainName(),
			"Point the custom domain's DNS (CNAME or alias) here")
	}
	return stack
}

// newTable creates the single table with the key schema of package store.
func newTable(stack awscdk.Stack, cfg StageConfig) awsdynamodb.Table {
	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	key := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: key(store.AttrPK),
		SortKey:      key(store.AttrSK),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String(store.AttrExpiresAt),
		DeletionProtection:  jsii.Bool(cfg.Prod()),
		RemovalPolicy:       removal,
	})
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(store.IndexGSI1),
		PartitionKey:   key(store.AttrGSI1PK),
		SortKey:        key(store.AttrGSI1SK),
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	return table
}

// cursorKeyField is the JSON field of the cursor key secret holding the key.
const cursorKeyField = "key"

// newCursorKeySecret generates CURSOR_KEY: 43 characters of [A-Za-z0-9]
// (about 254 bits), the unpadded base64 of 32 bytes that config.FromEnv
// accepts. Secrets Manager cannot generate random bytes, only characters;
// letters and digits are all base64 digits.
func newCursorKeySecret(stack awscdk.Stack, cfg StageConfig) awssecretsmanager.Secret {
	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	return awssecretsmanager.NewSecret(stack, jsii.String("CursorKey"), &awssecretsmanager.SecretProps{
		Description: jsii.String(fmt.Sprintf("partner-api %s CURSOR_KEY: authenticates list cursors (field %q, 32 bytes as unpadded base64)", cfg.Stage, cursorKeyField)),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String("{}"),
			GenerateStringKey:    jsii.String(cursorKeyField),
			PasswordLength:       jsii.Number(43),
			ExcludePunctuation:   jsii.Bool(true),
			IncludeSpace:         jsii.Bool(false),
		},
		RemovalPolicy: removal,
	})
}

// cursorKeyValue is CURSOR_KEY as a CloudFormation dynamic reference
// ({{resolve:secretsmanager:...}}) that CloudFormation resolves at deploy
// time into the functions' environment.
//
// Why not read the secret at cold start: config.FromEnv, shared by every
// function and the local server, takes CURSOR_KEY from the environment, and
// a cold-start GetSecretValue would add a network round trip and a
// secretsmanager:GetSecretValue grant to four roles. The price of the
// dynamic reference: the value is stored in the Lambda configuration
// (encrypted at rest, readable by whoever may lambda:GetFunctionConfiguration,
// i.e. operators who could read the secret anyway), and it is not in the
// template or cdk.out. A changed secret reaches the functions only on a
// deploy that changes the reference: that is context cursorKeyVersionId.
func cursorKeyValue(secret awssecretsmanager.Secret, cfg StageConfig) *string {
	v := secret.SecretValueFromJson(jsii.String(cursorKeyField))
	if cfg.CursorKeyVersionID != "" {
		v = awscdk.SecretValue_SecretsManager(secret.SecretArn(), &awscdk.SecretsManagerSecretOptions{
			JsonField: jsii.String(cursorKeyField),
			VersionId: jsii.String(cfg.CursorKeyVersionID),
		})
	}
	// Nothing may be added around a dynamic reference: LocalStack's
	// CloudFormation replaces the whole value with the secret (AWS
	// replaces only the reference), so config.FromEnv accepts the key
	// without its base64 padding instead.
	return v.UnsafeUnwrap()
}

// output adds a stack output.
func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
		Value:       value,
		Description: jsii.String(description),
	})
}
