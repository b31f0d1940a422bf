package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeFailures = "failures"

// failuresKey is the counter of failed secret attempts on clientID from
// source during the window starting at window (pattern 9). The window is
// part of the key, so a new window starts from zero without a reset write.
func failuresKey(clientID, source string, window time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: "CLIENT#" + clientID},
		AttrSK: &types.AttributeValueMemberS{Value: "FAILURES#" + source + "#" + strconv.FormatInt(window.Unix(), 10)},
	}
}

// Credential is a principal with the failed secret attempts counted against
// it from one source in the current window.
type Credential struct {
	Principal Principal
	// Found is false when no principal has the client id.
	Found bool
	// Failures counts failed attempts from the source in the window.
	Failures int64
}

// GetCredential reads the principal clientID and the failures counted
// against it from source in the window starting at window, in one consistent
// BatchGetItem (patterns 1 and 9): the one read of a token request.
//
// Errors: ErrUnavailable when DynamoDB throttles; an unknown client id is not an error (Found is false).
func (t *Table) GetCredential(ctx context.Context, clientID, source string, window time.Time) (Credential, error) {
	pKey, fKey := principalKey(clientID), failuresKey(clientID, source, window)
	items, err := t.batchGet(ctx, []map[string]types.AttributeValue{pKey, fKey}, "", nil)
	if err != nil {
		return Credential{}, fmt.Errorf("get credential: %w", err)
	}
	var c Credential
	for _, item := range items {
		switch keyString(item) {
		case keyString(pKey):
			var p principalItem
			if err := attributevalue.UnmarshalMap(item, &p); err != nil {
				return Credential{}, fmt.Errorf("get credential: decode: %w", err)
			}
			c.Principal, c.Found = p.Principal, true
		case keyString(fKey):
			if n, ok := item["failures"].(*types.AttributeValueMemberN); ok {
				c.Failures, _ = strconv.ParseInt(n.Value, 10, 64)
			}
		}
	}
	return c, nil
}

// RecordFailure counts one failed secret attempt on clientID from source in
// the window starting at window; the counter expires (TTL) at expires.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) RecordFailure(ctx context.Context, clientID, source string, window, expires time.Time) error {
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: failuresKey(clientID, source, window),
		UpdateExpression:         aws.String("ADD failures :one SET #type = :type, version = :one, expires_at = :exp"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": numberValue(1), ":type": &types.AttributeValueMemberS{Value: typeFailures},
			":exp": numberValue(expires.Unix()),
		},
	})
	if err != nil {
		return fmt.Errorf("record failure: %w", unavailable(err))
	}
	return nil
}
