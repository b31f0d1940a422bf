// Helpers of the store's reads and writes: single consistent reads, batch
// reads, and transactions with their retries and failure explanations.

package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// conditionError reports that the condition of item Index of a transaction
// failed; callers turn it into ErrNotFound, a *VersionError or a
// *ConflictError according to which item it was. Old is the item as it was
// when the condition failed, when the transaction item asked for it
// (ReturnValuesOnConditionCheckFailure ALL_OLD) and it existed; nil
// otherwise.
type conditionError struct {
	Index int
	Old   map[string]types.AttributeValue
	err   error
}

func (e *conditionError) Error() string {
	return fmt.Sprintf("condition of transaction item %d failed: %v", e.Index, e.err)
}

func (e *conditionError) Unwrap() error { return e.err }

// Retries of a transaction that DynamoDB cancelled because a concurrent
// transaction held one of its items (or throttled it). The SDK does not retry
// these itself.
const (
	transactAttempts   = 8
	transactFirstDelay = 10 * time.Millisecond
)

// transact writes items atomically with TransactWriteItems. A transaction
// cancelled only by conflicts with concurrent transactions or by throttling
// is retried with jittered backoff (nothing was written); when retries run
// out the error wraps ErrUnavailable. A failed condition gives a
// *conditionError naming the first item whose condition failed, with the
// old item DynamoDB returned in the cancellation reason.
func (t *Table) transact(ctx context.Context, items []types.TransactWriteItem) error {
	delay := transactFirstDelay
	for attempt := 1; ; attempt++ {
		_, err := t.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) {
			return unavailable(err)
		}
		retry := len(tc.CancellationReasons) > 0
		for i, r := range tc.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				return &conditionError{Index: i, Old: r.Item, err: err}
			case "", "None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			default:
				retry = false
			}
		}
		if !retry {
			return err
		}
		if attempt == transactAttempts {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		case <-time.After(delay/2 + rand.N(delay)):
		}
		delay *= 2
	}
}

// The builders of transaction items below fill in the table name; cond may
// be empty (no condition).

func (t *Table) txPut(item map[string]types.AttributeValue, cond string, names map[string]string, values map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(t.name), Item: item, ConditionExpression: optional(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}
}

func (t *Table) txUpdate(key map[string]types.AttributeValue, update, cond string, names map[string]string, values map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(t.name), Key: key, UpdateExpression: aws.String(update), ConditionExpression: optional(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}
}

func (t *Table) txDelete(key map[string]types.AttributeValue, cond string, names map[string]string, values map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(t.name), Key: key, ConditionExpression: optional(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}
}

func (t *Table) txCheck(key map[string]types.AttributeValue, cond string, names map[string]string, values map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(t.name), Key: key, ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}}
}

// txUpdateBuilt is the transaction item of the update u of key on
// condition cond, both built with the SDK's expression builder (which
// aliases every name and value).
func (t *Table) txUpdateBuilt(key map[string]types.AttributeValue, u expression.UpdateBuilder, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithUpdate(u).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build update expression: %w", err)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(t.name), Key: key, UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// txCheckBuilt is the condition check cond of key, built with the SDK's
// expression builder.
func (t *Table) txCheckBuilt(key map[string]types.AttributeValue, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := buildCondition(cond)
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: aws.String(t.name), Key: key, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, err
}

// txDeleteBuilt is the delete of key on condition cond, built with the
// SDK's expression builder.
func (t *Table) txDeleteBuilt(key map[string]types.AttributeValue, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := buildCondition(cond)
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(t.name), Key: key, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, err
}

// buildCondition builds cond; on an error the expression is empty (and the
// item that uses it is never written: see txn.built).
func buildCondition(cond expression.ConditionBuilder) (expression.Expression, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return expression.Expression{}, fmt.Errorf("build condition expression: %w", err)
	}
	return expr, nil
}

// exists is the condition that the item exists.
func exists() expression.ConditionBuilder { return expression.Name(AttrPK).AttributeExists() }

// atVersion is the condition that the item is at version v.
func atVersion(v int64) expression.ConditionBuilder {
	return expression.Name("version").Equal(expression.Value(v))
}

// setOrRemove is the update that sets each of attrs to its value in item
// and removes those item lacks, then sets version to version.
func setOrRemove(item map[string]types.AttributeValue, attrs []string, version int64) expression.UpdateBuilder {
	u := expression.Set(expression.Name("version"), expression.Value(version))
	for _, a := range attrs {
		if av, ok := item[a]; ok {
			u = u.Set(expression.Name(a), expression.Value(av))
		} else {
			u = u.Remove(expression.Name(a))
		}
	}
	return u
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// getItem reads the item at key consistently into out (attributevalue
// decoding). A missing item gives ErrNotFound.
func (t *Table) getItem(ctx context.Context, key map[string]types.AttributeValue, out any) error {
	res, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.name), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return unavailable(err)
	}
	if res.Item == nil {
		return ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// batchGet reads keys consistently with BatchGetItem, 100 keys a call,
// retrying unprocessed keys. Items that do not exist are left out.
func (t *Table) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, projection string, names map[string]string) ([]map[string]types.AttributeValue, error) {
	keys = distinctKeys(keys) // DynamoDB refuses a batch that names a key twice
	var out []map[string]types.AttributeValue
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), 100)]
		keys = keys[len(chunk):]
		pending := map[string]types.KeysAndAttributes{t.name: {
			Keys: chunk, ConsistentRead: aws.Bool(true),
			ProjectionExpression: optional(projection), ExpressionAttributeNames: names,
		}}
		delay := transactFirstDelay
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > transactAttempts {
				return nil, fmt.Errorf("batch get: %w: keys left unprocessed", ErrUnavailable)
			}
			if attempt > 1 {
				select {
				case <-ctx.Done():
					return nil, fmt.Errorf("batch get: %w", ctx.Err())
				case <-time.After(delay/2 + rand.N(delay)):
				}
				delay *= 2
			}
			res, err := t.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", unavailable(err))
			}
			out = append(out, res.Responses[t.name]...)
			pending = res.UnprocessedKeys
		}
	}
	return out, nil
}

// queryPage runs the Query in from start (nil for the beginning) and
// returns up to limit items and whether more follow. It asks for one more
// than limit to know, and goes on when DynamoDB stops early at its 1 MB page
// size.
func (t *Table) queryPage(ctx context.Context, in *dynamodb.QueryInput, start map[string]types.AttributeValue, limit int) ([]map[string]types.AttributeValue, bool, error) {
	var items []map[string]types.AttributeValue
	for {
		in.ExclusiveStartKey = start
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
		out, err := t.db.Query(ctx, in)
		if err != nil {
			return nil, false, unavailable(err)
		}
		items = append(items, out.Items...)
		if len(items) > limit || out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}

// linked reads, consistently, the link items of the partner's partition
// whose sort key begins with prefix, then the items they point at: key
// builds the key of each from the link's idAttr. Items that no longer exist
// are left out.
func (t *Table) linked(ctx context.Context, partnerID, prefix, idAttr string, key func(id string) map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var keys []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(t.db, &dynamodb.QueryInput{
		TableName:              aws.String(t.name),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: orgPK(partnerID)}, ":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
		ProjectionExpression:     aws.String("#id"),
		ExpressionAttributeNames: map[string]string{"#id": idAttr},
		ConsistentRead:           aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(err)
		}
		for _, item := range page.Items {
			if id, ok := item[idAttr].(*types.AttributeValueMemberS); ok {
				keys = append(keys, key(id.Value))
			}
		}
	}
	return t.batchGet(ctx, keys, "", nil)
}

// txn is a transaction under construction: its items and, for each, how to
// explain a failure of its condition to the caller.
type txn struct {
	items  []types.TransactWriteItem
	onFail []explainFunc
	// err is the first error building an item (see built); run returns it
	// without writing anything.
	err error
}

// built returns item, keeping err, an error building it, for run to
// return: so item builders that may fail compose with add.
func (x *txn) built(item types.TransactWriteItem, err error) types.TransactWriteItem {
	if err != nil && x.err == nil {
		x.err = err
	}
	return item
}

// explainFunc builds the error of a transaction item whose condition
// failed from old, the item as it was then (nil when it did not exist or
// was not asked for).
type explainFunc func(old map[string]types.AttributeValue) error

// add appends item; onFail (nil when item has no condition) builds the
// error returned when its condition fails, without the old item.
func (x *txn) add(item types.TransactWriteItem, onFail func() error) {
	var f explainFunc
	if onFail != nil {
		f = func(map[string]types.AttributeValue) error { return onFail() }
	}
	x.items = append(x.items, item)
	x.onFail = append(x.onFail, f)
}

// addExplained appends item, asking DynamoDB to return the item as it was
// when its condition fails (ALL_OLD in the cancellation reason), which
// onFail explains: no second read, so no race with writes that follow.
func (x *txn) addExplained(item types.TransactWriteItem, onFail explainFunc) {
	const old = types.ReturnValuesOnConditionCheckFailureAllOld
	switch {
	case item.Put != nil:
		item.Put.ReturnValuesOnConditionCheckFailure = old
	case item.Update != nil:
		item.Update.ReturnValuesOnConditionCheckFailure = old
	case item.Delete != nil:
		item.Delete.ReturnValuesOnConditionCheckFailure = old
	case item.ConditionCheck != nil:
		item.ConditionCheck.ReturnValuesOnConditionCheckFailure = old
	}
	x.items = append(x.items, item)
	x.onFail = append(x.onFail, onFail)
}

// run writes x with transact, turning a failed condition into the error its
// item's onFail builds.
func (t *Table) run(ctx context.Context, x *txn) error {
	if x.err != nil {
		return x.err
	}
	err := t.transact(ctx, x.items)
	var ce *conditionError
	if errors.As(err, &ce) && ce.Index < len(x.onFail) && x.onFail[ce.Index] != nil {
		old := ce.Old
		if len(old) == 0 {
			old = nil
		}
		return x.onFail[ce.Index](old)
	}
	return err
}

// decodeOld decodes old, the item a failed condition returned with the
// cancellation, into out; no item (nil) gives ErrNotFound.
func decodeOld(old map[string]types.AttributeValue, out any) error {
	if old == nil {
		return ErrNotFound
	}
	if err := attributevalue.UnmarshalMap(old, out); err != nil {
		return fmt.Errorf("explain failed condition: decode: %w", err)
	}
	return nil
}

// numberValue is n as a DynamoDB number.
func numberValue(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// distinctKeys returns keys without repeats, in order.
func distinctKeys(keys []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	seen := make(map[string]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if s := keyString(k); !seen[s] {
			seen[s] = true
			out = append(out, k)
		}
	}
	return out
}
