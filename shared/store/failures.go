package store

import (
	"context"
	"errors"
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

// ReserveAttempt counts one secret attempt on clientID from source in the
// window starting at window and reports whether it is among the first
// limit counted there: one UpdateItem (pattern 9) both counts and, by the
// count it returns, decides, so however many attempts race, at most limit
// are ever let through to a secret check in a window. The counter expires
// (TTL) at expires. A let-through attempt whose secret then matches is
// taken back with ReleaseAttempt, so the count is of failures (and of
// attempts in flight, and of refused ones past the limit).
//
// Errors: ErrUnavailable when DynamoDB throttles; a full window is not an
// error (false).
func (t *Table) ReserveAttempt(ctx context.Context, clientID, source string, window, expires time.Time, limit int64) (bool, error) {
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: failuresKey(clientID, source, window),
		UpdateExpression:         aws.String("ADD failures :one SET #type = :type, version = :one, expires_at = :exp"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": numberValue(1), ":type": &types.AttributeValueMemberS{Value: typeFailures},
			":exp": numberValue(expires.Unix()),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return false, fmt.Errorf("reserve attempt: %w", unavailable(err))
	}
	n, ok := out.Attributes["failures"].(*types.AttributeValueMemberN)
	if !ok {
		return false, errors.New("reserve attempt: no count returned")
	}
	count, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return false, fmt.Errorf("reserve attempt: count %q: %w", n.Value, err)
	}
	return count <= limit, nil
}

// ReleaseAttempt takes back an attempt ReserveAttempt counted, once its
// secret matched.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) ReleaseAttempt(ctx context.Context, clientID, source string, window time.Time) error {
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: failuresKey(clientID, source, window),
		UpdateExpression:          aws.String("ADD failures :minus"),
		ConditionExpression:       aws.String("failures > :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": numberValue(-1), ":zero": numberValue(0)},
	})
	if _, gone := errors.AsType[*types.ConditionalCheckFailedException](err); gone {
		return nil // expired or never counted: nothing to take back
	}
	if err != nil {
		return fmt.Errorf("release attempt: %w", unavailable(err))
	}
	return nil
}
