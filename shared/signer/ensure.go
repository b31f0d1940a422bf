package signer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMSAdmin is the subset of *kms.Client that EnsureKeys and EnsureKey use.
// DescribeKey must return an error matching *types.NotFoundException for an
// alias that does not exist, and CreateAlias one matching
// *types.AlreadyExistsException for an alias that does.
type KMSAdmin interface {
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	CreateKey(ctx context.Context, in *kms.CreateKeyInput, optFns ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
	CreateAlias(ctx context.Context, in *kms.CreateAliasInput, optFns ...func(*kms.Options)) (*kms.CreateAliasOutput, error)
}

var _ KMSAdmin = (*kms.Client)(nil)

// EnsureKeys makes sure that each alias in aliases (an alias name such as
// "alias/partner-api-es384") names a KMS signing key for its algorithm,
// creating the key and the alias when the alias does not exist yet. It is
// idempotent and meant for local development and tests; deployed keys come
// from the infrastructure code. It returns one KeyConfig per algorithm, in
// algorithm order, whose KeyID is the alias name.
func EnsureKeys(ctx context.Context, client KMSAdmin, aliases map[Algorithm]string) ([]KeyConfig, error) {
	algs := make([]Algorithm, 0, len(aliases))
	for alg := range aliases {
		algs = append(algs, alg)
	}
	slices.Sort(algs)

	configs := make([]KeyConfig, 0, len(algs))
	for _, alg := range algs {
		alias := aliases[alg]
		if err := ensureKey(ctx, client, alg, alias); err != nil {
			return nil, fmt.Errorf("ensure %s key %q: %w", alg, alias, err)
		}
		configs = append(configs, KeyConfig{Algorithm: alg, KeyID: alias})
	}
	return configs, nil
}

// ensureKey makes alias name a signing key for alg.
func ensureKey(ctx context.Context, client KMSAdmin, alg Algorithm, alias string) error {
	spec, ok := specFor(alg)
	if !ok {
		return ErrUnknownAlgorithm
	}
	if !strings.HasPrefix(alias, "alias/") {
		return errors.New(`alias name must start with "alias/"`)
	}

	return EnsureKey(ctx, client, alias, types.KeyUsageTypeSignVerify, spec.keySpecs,
		fmt.Sprintf("partner-api %s JWT signing key (local development)", alg))
}

// EnsureKey makes alias name a KMS key for usage of one of specs, creating
// one (of specs[0], described as description) and the alias when the alias
// does not exist yet. Like EnsureKeys it is idempotent and meant for local
// development and tests.
func EnsureKey(ctx context.Context, client KMSAdmin, alias string, usage types.KeyUsageType, specs []types.KeySpec, description string) error {
	found, err := describeAlias(ctx, client, alias, usage, specs)
	if err != nil || found {
		return err
	}

	created, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeyUsage:    usage,
		KeySpec:     specs[0],
		Description: aws.String(description),
	})
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	_, err = client.CreateAlias(ctx, &kms.CreateAliasInput{
		AliasName:   aws.String(alias),
		TargetKeyId: created.KeyMetadata.KeyId,
	})
	var exists *types.AlreadyExistsException
	if errors.As(err, &exists) {
		// Someone else created the alias since DescribeKey: use theirs.
		// The key made here stays unused; KMSAdmin cannot delete it.
		if _, err := describeAlias(ctx, client, alias, usage, specs); err != nil {
			return err
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("create alias: %w", err)
	}
	return nil
}

// describeAlias reports whether alias exists, and checks that the key it
// names is for usage and of one of specs if so.
func describeAlias(ctx context.Context, client KMSAdmin, alias string, usage types.KeyUsageType, specs []types.KeySpec) (bool, error) {
	out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	var notFound *types.NotFoundException
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe key: %w", err)
	}
	md := out.KeyMetadata
	if md == nil {
		return false, errors.New("describe key: no key metadata")
	}
	if !slices.Contains(specs, md.KeySpec) || md.KeyUsage != usage {
		return false, fmt.Errorf("existing key %s is %s for %s, want one of %v for %s",
			aws.ToString(md.Arn), md.KeySpec, md.KeyUsage, specs, usage)
	}
	return true, nil
}
