package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeWrites = "writes"

// writesKey is the counter of a partner's management writes in the window
// starting at window (pattern 27).
func writesKey(partnerID string, window time.Time) map[string]types.AttributeValue {
	return keyOf("WRITES#"+partnerID, strconv.FormatInt(window.Unix(), 10))
}

// CountWrite counts one management write of partnerID in the window
// starting at window, unless limit writes were counted in it already: one
// conditional UpdateItem decides, so concurrent writes never pass the
// limit. allowed is false when the limit is reached. The counter expires
// (TTL) at expires.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) CountWrite(ctx context.Context, partnerID string, window, expires time.Time, limit int) (allowed bool, err error) {
	_, err = t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: writesKey(partnerID, window),
		UpdateExpression:         aws.String("ADD writes :one SET #type = :type, expires_at = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(writes) OR writes < :limit"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": numberValue(1), ":type": &types.AttributeValueMemberS{Value: typeWrites},
			":exp": numberValue(expires.Unix()), ":limit": numberValue(int64(limit)),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count write: %w", unavailable(err))
	}
	return true, nil
}
