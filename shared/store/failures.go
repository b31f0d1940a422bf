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
	// ChainChecked is true when the read also covered a client's partner
	// account, organisation and the organisation's ancestors; ChainActive
	// then says what ClientChainActive would.
	ChainChecked, ChainActive bool
}

// GetCredential reads the principal clientID and the failures counted
// against it from source in the window starting at window, in one consistent
// BatchGetItem (patterns 1 and 9): the one read of a token request. For a
// client whose partner and organisation this process has seen, the batch
// also holds its partner account, its organisation and the organisation's
// ancestors (pattern 19), and the chain is checked (ChainChecked): a client
// token then needs no second read. The remembered owner is only a guess
// of what to read: the client's item in the same batch confirms it.
//
// Errors: ErrUnavailable when DynamoDB throttles; an unknown client id is not an error (Found is false).
func (t *Table) GetCredential(ctx context.Context, clientID, source string, window time.Time) (Credential, error) {
	pKey, fKey := principalKey(clientID), failuresKey(clientID, source, window)
	keys := []map[string]types.AttributeValue{pKey, fKey}
	guess, guessed := t.paths.owner(clientID)
	var chain []map[string]types.AttributeValue
	var hint []string
	if guessed {
		chain = []map[string]types.AttributeValue{principalKey(guess.partnerID), orgKey(guess.partnerID, guess.orgID)}
		hint = t.paths.hint(guess.partnerID, guess.orgID)
		keys = append(append(keys, chain...), orgKeys(guess.partnerID, hint)...)
	}
	items, err := t.batchGet(ctx, keys, "", nil)
	if err != nil {
		return Credential{}, fmt.Errorf("get credential: %w", err)
	}
	var c Credential
	found := make(map[string]enabledItem, len(items))
	for _, item := range items {
		switch k := keyString(item); k {
		case keyString(pKey):
			var p principalItem
			if err := attributevalue.UnmarshalMap(item, &p); err != nil {
				return Credential{}, fmt.Errorf("get credential: decode: %w", err)
			}
			c.Principal, c.Found = p.Principal, true
		case keyString(fKey):
			c.Failures = counter(item, "failures")
		default:
			e, err := decodeEnabled(item)
			if err != nil {
				return Credential{}, fmt.Errorf("get credential: %w", err)
			}
			found[k] = e
		}
	}
	if !c.Found || c.Principal.Kind != KindClient {
		return c, nil
	}
	actual := owner{partnerID: c.Principal.PartnerID, orgID: c.Principal.OrganisationID}
	if !guessed || guess != actual {
		t.paths.rememberOwner(clientID, actual)
		return c, nil
	}
	if c.ChainActive, err = t.chainActive(ctx, guess.partnerID, found, chain, hint); err != nil {
		return Credential{}, fmt.Errorf("get credential: %w", err)
	}
	c.ChainChecked = true
	return c, nil
}

// Reservation is the outcome of ReserveAttempt.
type Reservation struct {
	// Admitted is true when the attempt may have its secret checked; it
	// must then be finished with FinishAttempt.
	Admitted bool
	// Failures counts the failed attempts of the window, this one not
	// included: at the limit the source is locked out; below it, an
	// attempt not admitted only met too many attempts still in flight.
	Failures int64
}

// ReserveAttempt counts one secret attempt on clientID from source in the
// window starting at window as in flight, and admits it to a secret check
// when the window's failures and attempts in flight, itself included, are
// at most limit: one UpdateItem (pattern 9) counts and returns both, so
// however many attempts race, at most limit wrong secrets are ever checked
// in a window (a wrong attempt stays counted, in flight then as a failure).
// An attempt not admitted is uncounted again before ReserveAttempt
// returns. The counter expires (TTL) at expires.
//
// Errors: ErrUnavailable when DynamoDB throttles; not being admitted is
// not an error.
func (t *Table) ReserveAttempt(ctx context.Context, clientID, source string, window, expires time.Time, limit int64) (Reservation, error) {
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: failuresKey(clientID, source, window),
		UpdateExpression:         aws.String("ADD pending :one SET #type = :type, version = :one, expires_at = :exp"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": numberValue(1), ":type": &types.AttributeValueMemberS{Value: typeFailures},
			":exp": numberValue(expires.Unix()),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return Reservation{}, fmt.Errorf("reserve attempt: %w", unavailable(err))
	}
	failures, pending := counter(out.Attributes, "failures"), counter(out.Attributes, "pending")
	if failures+pending <= limit {
		return Reservation{Admitted: true, Failures: failures}, nil
	}
	if err := t.addAttempt(ctx, clientID, source, window, false); err != nil {
		return Reservation{}, fmt.Errorf("reserve attempt: %w", err)
	}
	return Reservation{Failures: failures}, nil
}

// CountAttempt counts one attempt on clientID from source in the window
// starting at window whose secret was checked already (a fast check, no
// argon2id): as a failure when failed, else as a success, in one
// UpdateItem that holds only while the window's failures are below limit
// (pattern 9). It reports whether the attempt was counted. Right and wrong
// secrets make the same conditional write on the same item, so which
// attempts are counted does not depend on which secret was right: however
// many attempts race, at most limit failures are counted and a right
// secret is accepted only when fewer than limit failures were counted
// before it. An attempt not counted must be answered as locked out, right
// secret or not. The counter expires (TTL) at expires.
//
// Errors: ErrUnavailable when DynamoDB throttles; not being counted is not
// an error.
func (t *Table) CountAttempt(ctx context.Context, clientID, source string, window, expires time.Time, limit int64, failed bool) (bool, error) {
	counted := "successes"
	if failed {
		counted = "failures"
	}
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: failuresKey(clientID, source, window),
		UpdateExpression:         aws.String("ADD " + counted + " :one SET #type = :type, version = :one, expires_at = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(failures) OR failures < :limit"),
		ExpressionAttributeNames: map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": numberValue(1), ":type": &types.AttributeValueMemberS{Value: typeFailures},
			":exp": numberValue(expires.Unix()), ":limit": numberValue(limit),
		},
	})
	if _, locked := errors.AsType[*types.ConditionalCheckFailedException](err); locked {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count attempt: %w", unavailable(err))
	}
	return true, nil
}

// Attempts reads, consistently, the failures and the attempts in flight
// counted on clientID from source in the window starting at window: what
// an attempt not admitted polls (a read) until there is room.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) Attempts(ctx context.Context, clientID, source string, window time.Time) (failures, pending int64, err error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.name), Key: failuresKey(clientID, source, window), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, 0, fmt.Errorf("attempts: %w", unavailable(err))
	}
	return counter(out.Item, "failures"), counter(out.Item, "pending"), nil
}

// FinishAttempt ends an attempt ReserveAttempt admitted: no longer in
// flight, and counted as a failure when failed.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) FinishAttempt(ctx context.Context, clientID, source string, window time.Time, failed bool) error {
	if err := t.addAttempt(ctx, clientID, source, window, failed); err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	return nil
}

// addAttempt takes one attempt out of flight, into the failures if failed.
func (t *Table) addAttempt(ctx context.Context, clientID, source string, window time.Time, failed bool) error {
	update, values := "ADD pending :minus", map[string]types.AttributeValue{":minus": numberValue(-1)}
	if failed {
		update, values[":one"] = "ADD pending :minus, failures :one", numberValue(1)
	}
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: failuresKey(clientID, source, window),
		UpdateExpression: aws.String(update), ExpressionAttributeValues: values,
	})
	return unavailable(err)
}

// counter reads the number attribute name of item, 0 when absent.
func counter(item map[string]types.AttributeValue, name string) int64 {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.ParseInt(n.Value, 10, 64)
	return v
}
