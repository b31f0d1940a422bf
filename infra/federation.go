package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/federation"
)

// newFederationKey creates the symmetric KMS key encrypting the
// authorisation servers' federation client secrets (rotated yearly by KMS;
// kept on stack deletion in production, as the secrets are unreadable
// without it).
func newFederationKey(stack awscdk.Stack, cfg StageConfig) awskms.Key {
	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Prod() {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	return awskms.NewKey(stack, jsii.String("FederationKey"), &awskms.KeyProps{
		Description:       jsii.String(fmt.Sprintf("partner-api %s: federation client secrets of authorisation servers", cfg.Stage)),
		KeySpec:           awskms.KeySpec_SYMMETRIC_DEFAULT,
		KeyUsage:          awskms.KeyUsage_ENCRYPT_DECRYPT,
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
}

// grantFederationKey allows kms:Encrypt (authservers) or kms:Decrypt
// (signin) on the federation key, only with the secrets' encryption
// context: purpose federation-client-secret, a partner id and a server id.
// The grant refuses a call with any other set of context keys
// (federation.ContextKeys), or without a partner and server, so a secret is
// always bound to both.
func grantFederationKey(role awsiam.Role, key awskms.Key, access registry.FederationKeyAccess) {
	var action string
	switch access {
	case registry.FederationEncrypt:
		action = "kms:Encrypt"
	case registry.FederationDecrypt:
		action = "kms:Decrypt"
	default:
		return
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("FederationSecrets"),
		Actions:   jsii.Strings(action),
		Resources: jsii.Strings(*key.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals":              map[string]any{"kms:EncryptionContext:" + federation.ContextPurpose: federation.SecretPurpose},
			"ForAllValues:StringEquals": map[string]any{"kms:EncryptionContextKeys": federation.ContextKeys},
			"Null": map[string]any{
				"kms:EncryptionContext:" + federation.ContextPartnerID: "false",
				"kms:EncryptionContext:" + federation.ContextServerID:  "false",
			},
		},
	}))
}
