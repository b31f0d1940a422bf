// Package localdev provisions what the service expects to exist, for the
// local server and tests: the table and the signing keys. In AWS the CDK
// stack creates them instead.
package localdev

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

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
	return nil
}
