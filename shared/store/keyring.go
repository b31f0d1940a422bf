package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeSigningKey = "signing_key"

// Statuses of a signing key in the key ring (pattern 28).
const (
	KeyPending  = "pending"  // published, not signing yet (ActivatesAt in the future)
	KeyActive   = "active"   // signing
	KeyRetiring = "retiring" // superseded: no longer signing, published until RetiresAt
	KeyRetired  = "retired"  // no longer published
)

// SigningKey is one key of the JWT signing key ring: its public half as a
// JWK and its private half (PKCS#8 DER) encrypted under the KMS wrapping key.
type SigningKey struct {
	KID         string    `dynamodbav:"kid"`
	Algorithm   string    `dynamodbav:"alg"`
	Status      string    `dynamodbav:"status"`
	CreatedAt   time.Time `dynamodbav:"created_at"`
	ActivatesAt time.Time `dynamodbav:"activates_at"`
	// RetiresAt is set once a newer key supersedes this one: the end of
	// the life of the last token this key signed.
	RetiresAt time.Time `dynamodbav:"retires_at,omitempty"`
	// PublicJWK is the JSON of the public JWK.
	PublicJWK string `dynamodbav:"public_jwk"`
	// WrappedKey is the KMS ciphertext of the private key.
	WrappedKey []byte `dynamodbav:"wrapped_key"`
	Version    int64  `dynamodbav:"version"`
}

type signingKeyItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	SigningKey
	// ExpiresAt lets DynamoDB's TTL remove a retired key.
	ExpiresAt int64 `dynamodbav:"expires_at,omitempty"`
}

// keyRingPK is the partition of the key ring: a handful of items, read
// whole.
const keyRingPK = "KEYRING"

func signingKeyKey(kid string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: keyRingPK},
		AttrSK: &types.AttributeValueMemberS{Value: "KEY#" + kid},
	}
}

// RetiredKeyRetention is how long a retired key's item stays (for the
// record) before its TTL removes it.
const RetiredKeyRetention = 30 * 24 * time.Hour

// SigningKeys returns every key of the ring, read consistently: one Query
// (pattern 28), all pages.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	var keys []SigningKey
	p := dynamodb.NewQueryPaginator(t.db, &dynamodb.QueryInput{
		TableName:              aws.String(t.name),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: keyRingPK},
			":sk": &types.AttributeValueMemberS{Value: "KEY#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("signing keys: %w", unavailable(err))
		}
		for _, item := range page.Items {
			var k signingKeyItem
			if err := attributevalue.UnmarshalMap(item, &k); err != nil {
				return nil, fmt.Errorf("signing keys: decode: %w", err)
			}
			keys = append(keys, k.SigningKey)
		}
	}
	return keys, nil
}

// PutSigningKey adds k to the ring at version 1. A kid already in the ring
// gives a *ConflictError with ConflictIDTaken.
func (t *Table) PutSigningKey(ctx context.Context, k SigningKey) error {
	k.Version = 1
	item, err := signingKeyAttrs(k)
	if err != nil {
		return fmt.Errorf("put signing key %s: %w", k.KID, err)
	}
	_, err = t.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.name), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if _, failed := errors.AsType[*types.ConditionalCheckFailedException](err); failed {
		return fmt.Errorf("put signing key: %w", &ConflictError{Reason: ConflictIDTaken, Entity: EntitySigningKey, ID: k.KID})
	}
	if err != nil {
		return fmt.Errorf("put signing key %s: %w", k.KID, unavailable(err))
	}
	return nil
}

// UpdateSigningKey writes k's status and retirement time if the stored
// version is still k.Version, and increments the version. A version that
// moved gives a *VersionError.
func (t *Table) UpdateSigningKey(ctx context.Context, k SigningKey) (SigningKey, error) {
	expected := k.Version
	k.Version++
	item, err := signingKeyAttrs(k)
	if err != nil {
		return SigningKey{}, fmt.Errorf("update signing key %s: %w", k.KID, err)
	}
	_, err = t.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(t.name), Item: item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": numberValue(expected)},
	})
	if _, failed := errors.AsType[*types.ConditionalCheckFailedException](err); failed {
		return SigningKey{}, fmt.Errorf("update signing key: %w", &VersionError{Entity: EntitySigningKey, ID: k.KID})
	}
	if err != nil {
		return SigningKey{}, fmt.Errorf("update signing key %s: %w", k.KID, unavailable(err))
	}
	return k, nil
}

func signingKeyAttrs(k SigningKey) (map[string]types.AttributeValue, error) {
	key := signingKeyKey(k.KID)
	it := signingKeyItem{
		PK: key[AttrPK].(*types.AttributeValueMemberS).Value, SK: key[AttrSK].(*types.AttributeValueMemberS).Value,
		Type: typeSigningKey, SigningKey: k,
	}
	if k.Status == KeyRetired && !k.RetiresAt.IsZero() {
		it.ExpiresAt = k.RetiresAt.Add(RetiredKeyRetention).Unix()
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return item, nil
}
