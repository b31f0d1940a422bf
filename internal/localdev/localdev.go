// Package localdev provisions what the service expects to exist, for the
// local server and tests: the table, the signing keys and the federation
// secrets' key. In AWS the CDK
// stack creates them instead.
package localdev

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
)

// Provision creates, idempotently, the table cfg.TableName and a KMS key
// behind every signing key of cfg that is named by an alias.
func Provision(ctx context.Context, cfg config.Config, awsCfg aws.Config) error {
	if err := store.CreateTable(ctx, dynamodb.NewFromConfig(awsCfg), cfg.TableName); err != nil {
		return err
	}
	aliases := map[signer.Algorithm]string{}
	for _, k := range cfg.SigningKeys {
		if strings.HasPrefix(k.KeyID, "alias/") {
			aliases[k.Algorithm] = k.KeyID
		}
	}
	if _, err := signer.EnsureKeys(ctx, kms.NewFromConfig(awsCfg), aliases); err != nil {
		return fmt.Errorf("ensure signing keys: %w", err)
	}
	if strings.HasPrefix(cfg.FederationKey, "alias/") {
		if err := EnsureSymmetricKey(ctx, kms.NewFromConfig(awsCfg), cfg.FederationKey); err != nil {
			return fmt.Errorf("ensure federation key: %w", err)
		}
	}
	return nil
}

// EnsureSymmetricKey makes alias name a symmetric encryption key (the
// federation client secrets' key), creating one when it names none.
func EnsureSymmetricKey(ctx context.Context, client *kms.Client, alias string) error {
	_, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	var nf *kmstypes.NotFoundException
	if err == nil || !errors.As(err, &nf) {
		return err
	}
	created, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecSymmetricDefault, KeyUsage: kmstypes.KeyUsageTypeEncryptDecrypt,
		Description: aws.String("partner-api federation client secrets (local development)"),
	})
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	_, err = client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: created.KeyMetadata.KeyId})
	var exists *kmstypes.AlreadyExistsException
	if errors.As(err, &exists) {
		return nil // created concurrently; the other key serves
	}
	return err
}
