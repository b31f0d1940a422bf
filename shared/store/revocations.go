package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeRevocation = "revocation"

func revocationKey(jti string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: "REVOKED#" + jti},
		AttrSK: &types.AttributeValueMemberS{Value: "REVOKED"},
	}
}

// RevokeToken records that the token jti is revoked until its expiry, after
// which DynamoDB's TTL removes the record. Revoking twice is not an error.
func (t *Table) RevokeToken(ctx context.Context, jti string, expires time.Time) error {
	item := revocationKey(jti)
	item["type"] = &types.AttributeValueMemberS{Value: typeRevocation}
	item["version"] = &types.AttributeValueMemberN{Value: "1"}
	item["revoked_at"] = &types.AttributeValueMemberS{Value: t.now().UTC().Format(time.RFC3339)}
	item[AttrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)}
	if _, err := t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.name), Item: item}); err != nil {
		return fmt.Errorf("revoke token: %w", unavailable(err))
	}
	return nil
}
