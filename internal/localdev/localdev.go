// Package localdev provisions what the service expects to exist, for the
// local server and tests: the table, the signing keys (wrapped mode: the
// KMS wrapping key and the key ring; kms mode: the KMS signing keys) and
// the federation secrets' key. In AWS the CDK stack creates the table and
// KMS keys, and the admin function's rotation (run by the stack at
// deployment and on a schedule) fills the ring.
package localdev

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/keyring"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
)

// Provision creates, idempotently, the table cfg.TableName and the keys of
// cfg's signing mode: in wrapped mode the symmetric wrapping key (when
// named by an alias) and a key per algorithm in the ring, through the same
// keyring code the admin function rotates with; in kms mode a KMS key
// behind every signing key named by an alias.
func Provision(ctx context.Context, cfg config.Config, awsCfg aws.Config) error {
	db := dynamodb.NewFromConfig(awsCfg)
	if err := store.CreateTable(ctx, db, cfg.TableName); err != nil {
		return err
	}
	k := kms.NewFromConfig(awsCfg)
	if strings.HasPrefix(cfg.FederationKey, "alias/") {
		if err := EnsureSymmetricKey(ctx, k, cfg.FederationKey, "partner-api federation client secrets (local development)"); err != nil {
			return fmt.Errorf("ensure federation key: %w", err)
		}
	}
	if cfg.SigningMode == config.SigningWrapped {
		if strings.HasPrefix(cfg.WrappingKey, "alias/") {
			if err := EnsureSymmetricKey(ctx, k, cfg.WrappingKey, "partner-api JWT signing key wrapping key (local development)"); err != nil {
				return fmt.Errorf("ensure wrapping key: %w", err)
			}
		}
		ring := keyring.New(store.New(db, cfg.TableName, nil), k, cfg.WrappingKey, keyring.DefaultPolicy, nil)
		if _, err := ring.Ensure(ctx); err != nil {
			return fmt.Errorf("ensure signing key ring: %w", err)
		}
		return nil
	}
	aliases := map[signer.Algorithm]string{}
	for _, k := range cfg.SigningKeys {
		if strings.HasPrefix(k.KeyID, "alias/") {
			aliases[k.Algorithm] = k.KeyID
		}
	}
	if _, err := signer.EnsureKeys(ctx, k, aliases); err != nil {
		return fmt.Errorf("ensure signing keys: %w", err)
	}
	return nil
}

// EnsureSymmetricKey makes alias name a symmetric ENCRYPT_DECRYPT key,
// creating one (described as description) when it names none.
func EnsureSymmetricKey(ctx context.Context, k *kms.Client, alias, description string) error {
	return signer.EnsureKey(ctx, k, alias, types.KeyUsageTypeEncryptDecrypt, []types.KeySpec{types.KeySpecSymmetricDefault}, description)
}
