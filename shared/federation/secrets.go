package federation

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMS is the part of the KMS client the federation secrets use.
type KMS interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// SecretPurpose is the purpose member of every federation secret's
// encryption context; the key policy (infra) requires it.
const SecretPurpose = "federation-client-secret"

// Secrets encrypts and decrypts the federation client secrets of
// authorisation servers with a symmetric KMS key. Each ciphertext is bound
// by its encryption context to its partner and server: KMS refuses to
// decrypt it for any other (a ciphertext copied to another server's item is
// useless), and CloudTrail logs name them.
type Secrets struct {
	KMS   KMS
	KeyID string
}

// The keys of every federation secret's encryption context.
const (
	ContextPurpose   = "purpose"
	ContextPartnerID = "partner_id"
	ContextServerID  = "authorisation_server_id"
)

// ContextKeys are the keys of EncryptionContext, in the order the key
// policy (infra) lists them.
var ContextKeys = []string{ContextPurpose, ContextPartnerID, ContextServerID}

// EncryptionContext is the context of the secret of server serverID of
// partner partnerID.
func EncryptionContext(partnerID, serverID string) map[string]string {
	return map[string]string{ContextPurpose: SecretPurpose, ContextPartnerID: partnerID, ContextServerID: serverID}
}

// Seal encrypts secret for server serverID of partner partnerID.
func (s *Secrets) Seal(ctx context.Context, partnerID, serverID, secret string) ([]byte, error) {
	out, err := s.KMS.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String(s.KeyID), Plaintext: []byte(secret), EncryptionContext: EncryptionContext(partnerID, serverID),
	})
	if err != nil {
		return nil, fmt.Errorf("encrypt federation secret of %s: %w", serverID, err)
	}
	return out.CiphertextBlob, nil
}

// Open decrypts the ciphertext of Seal.
func (s *Secrets) Open(ctx context.Context, partnerID, serverID string, ciphertext []byte) (string, error) {
	out, err := s.KMS.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(s.KeyID), CiphertextBlob: ciphertext, EncryptionContext: EncryptionContext(partnerID, serverID),
	})
	if err != nil {
		return "", fmt.Errorf("decrypt federation secret of %s: %w", serverID, err)
	}
	return string(out.Plaintext), nil
}

// NewSecrets is the Secrets of the KMS key keyID with a KMS client of
// awsCfg, or nil without an AWS configuration (an App built without AWS
// access).
func NewSecrets(awsCfg *aws.Config, keyID string) *Secrets {
	if awsCfg == nil {
		return nil
	}
	return &Secrets{KMS: kms.NewFromConfig(*awsCfg), KeyID: keyID}
}
