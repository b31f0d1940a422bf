package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/signer"
)

// Algorithms are the JWS algorithms the service signs with, one KMS key each.
var Algorithms = []signer.Algorithm{signer.PS256, signer.ES384, signer.ES512}

// keySpecs maps each algorithm to the KMS key spec the stack creates (the
// signer also accepts RSA_3072/4096 for PS256; 2048 signs fastest).
var keySpecs = map[signer.Algorithm]awskms.KeySpec{
	signer.PS256: awskms.KeySpec_RSA_2048,
	signer.ES384: awskms.KeySpec_ECC_NIST_P384,
	signer.ES512: awskms.KeySpec_ECC_NIST_P521,
}

// SigningKeys are the KMS keys behind the service's JWTs: in wrapped mode
// one symmetric key wrapping the key ring's private keys (the ring itself is
// in the table); in kms mode the asymmetric keys that sign and verify.
type SigningKeys struct {
	constructs.Construct
	// Mode is the stage's signing mode.
	Mode config.SigningMode
	// Wrapping is the symmetric key wrapping the key ring (wrapped mode).
	Wrapping awskms.Key
	// Active is the signing key of each algorithm.
	Active map[signer.Algorithm]awskms.Key
	// Published are all keys whose public keys are in the JWKS: the active
	// ones, plus any generation rotating in or out.
	Published []awskms.Key
	// NotSigning are the published keys that do not sign (KMS_RETIRED_KEYS).
	NotSigning []awskms.Key
	// Aliases name the active key of each algorithm.
	Aliases map[signer.Algorithm]awskms.Alias
}

// KeyAlias is the alias of alg's active key in stage, e.g.
// "alias/partner-api-prod-es384".
func KeyAlias(stage string, alg signer.Algorithm) string {
	return fmt.Sprintf("alias/partner-api-%s-%s", stage, strings.ToLower(string(alg)))
}

// NewSigningKeys creates one asymmetric SIGN_VERIFY key per algorithm and
// generation, and an alias per algorithm on the active generation.
//
// Each generation is its own construct (SigningKey<ALG>Gen<N>), so adding a
// generation never replaces an existing key, and the alias (a construct of its
// own, not a child of a key) is updated in place when Active moves, which is
// the "alias switch" of the rotation procedure in infra/README.md.
// Asymmetric KMS keys cannot rotate automatically; rotation is that procedure.
func NewSigningKeys(scope constructs.Construct, id string, cfg StageConfig) *SigningKeys {
	c := constructs.NewConstruct(scope, jsii.String(id))
	k := &SigningKeys{
		Construct: c,
		Mode:      cfg.SigningMode,
		Active:    map[signer.Algorithm]awskms.Key{},
		Aliases:   map[signer.Algorithm]awskms.Alias{},
	}
	removal, pending := awscdk.RemovalPolicy_DESTROY, 7.0
	if cfg.Prod() {
		// A deleted signing key can never be recovered; a retired one left
		// behind costs $1/month. Prod keys outlive the stack.
		removal, pending = awscdk.RemovalPolicy_RETAIN, 30
	}
	if cfg.SigningMode == config.SigningWrapped {
		// Deleting it would make every wrapped key undecryptable: the same
		// retention as the signing keys. KMS rotates its backing key
		// yearly and keeps the old ones, so ciphertexts stay decryptable.
		k.Wrapping = awskms.NewKey(c, jsii.String("WrappingKey"), &awskms.KeyProps{
			Description:       jsii.String(fmt.Sprintf("partner-api %s: wraps the JWT signing key ring's private keys", cfg.Stage)),
			KeySpec:           awskms.KeySpec_SYMMETRIC_DEFAULT,
			KeyUsage:          awskms.KeyUsage_ENCRYPT_DECRYPT,
			EnableKeyRotation: jsii.Bool(true),
			PendingWindow:     awscdk.Duration_Days(jsii.Number(pending)),
			RemovalPolicy:     removal,
		})
		return k
	}
	for _, alg := range Algorithms {
		gens := cfg.SigningKeys[alg]
		sorted := slices.Sorted(slices.Values(gens.Generations))
		for _, n := range sorted {
			key := awskms.NewKey(c, jsii.String(fmt.Sprintf("SigningKey%sGen%d", alg, n)), &awskms.KeyProps{
				Description: jsii.String(fmt.Sprintf("partner-api %s %s JWT signing key, generation %d", cfg.Stage, alg, n)),
				KeySpec:     keySpecs[alg],
				KeyUsage:    awskms.KeyUsage_SIGN_VERIFY,
				// The default key policy delegates to IAM in this account;
				// the functions' roles then get kms:Sign/GetPublicKey on
				// exactly these key ARNs.
				PendingWindow: awscdk.Duration_Days(jsii.Number(pending)),
				RemovalPolicy: removal,
			})
			k.Published = append(k.Published, key)
			if n == gens.Active {
				k.Active[alg] = key
			} else {
				k.NotSigning = append(k.NotSigning, key)
			}
		}
		// The alias goes with the stack even in prod: it is only a name
		// (the functions use key ARNs), and a retained alias would make the
		// next deployment of the stack fail ("already exists"). The keys
		// themselves are retained; infra/README.md says how to import them.
		k.Aliases[alg] = awskms.NewAlias(c, jsii.String("Alias"+string(alg)), &awskms.AliasProps{
			AliasName:     jsii.String(KeyAlias(cfg.Stage, alg)),
			TargetKey:     k.Active[alg],
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
	}
	return k
}

// PublishedARNs are the ARNs of every published key.
func (k *SigningKeys) PublishedARNs() []*string { return keyARNs(k.Published) }

// ActiveARNs are the ARNs of the active keys, in Algorithms order.
func (k *SigningKeys) ActiveARNs() []*string {
	var keys []awskms.Key
	for _, alg := range Algorithms {
		keys = append(keys, k.Active[alg])
	}
	return keyARNs(keys)
}

// Environment is the HTTP functions' key configuration in kms mode:
// KMS_KEY_<ALG> is the active key's ARN (not the alias: the deployed
// configuration, not a concurrent alias update, decides which key signs,
// and IAM grants exactly that ARN), KMS_RETIRED_KEYS the published keys that
// do not sign. In wrapped mode there is none (the ring is in the table; the
// wrapping key goes to the functions that sign or rotate, WrappingEnvironment).
func (k *SigningKeys) Environment() map[string]*string {
	env := map[string]*string{}
	if k.Mode == config.SigningWrapped {
		return env
	}
	for _, alg := range Algorithms {
		env[config.EnvKMSKey(alg)] = k.Active[alg].KeyArn()
	}
	if len(k.NotSigning) > 0 {
		arns := keyARNs(k.NotSigning)
		env[config.EnvRetiredKeys] = awscdk.Fn_Join(jsii.String(","), &arns)
	}
	return env
}

func keyARNs(keys []awskms.Key) []*string {
	arns := make([]*string, len(keys))
	for i, key := range keys {
		arns[i] = key.KeyArn()
	}
	return arns
}

// WrappingEnvironment is KMS_WRAPPING_KEY for a group that signs or
// rotates in wrapped mode (empty otherwise), and SIGNING_MODE for any group
// with key access.
func (k *SigningKeys) WrappingEnvironment(access KMSAccess) map[string]*string {
	if access == KMSNone {
		return nil
	}
	env := map[string]*string{config.EnvSigningMode: jsii.String(string(k.Mode))}
	if k.Mode == config.SigningWrapped && (access == KMSSign || access == KMSRotate) {
		env[config.EnvWrappingKey] = k.Wrapping.KeyArn()
	}
	return env
}
