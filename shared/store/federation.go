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

const typeFlow = "federation_flow"

// Flow is a sign-in sent to an upstream identity provider (an
// organisation's authorisation server) and not yet back: what the callback
// needs to finish it. It is keyed by the hash of the state sent upstream.
type Flow struct {
	// SessionID is the browser session that started it: the callback must
	// come with the same session.
	SessionID string `dynamodbav:"session_id"`
	ClientID  string `dynamodbav:"client_id"`
	PartnerID string `dynamodbav:"partner_id"`
	// OrganisationID and ServerID name the upstream authorisation server.
	OrganisationID string `dynamodbav:"organisation_id"`
	ServerID       string `dynamodbav:"authorisation_server_id"`
	// Request is the partner client's authorization request (JSON).
	Request string `dynamodbav:"request"`
	// Nonce and Verifier are what was sent upstream (nonce) and the PKCE
	// code verifier of the challenge sent upstream.
	Nonce     string    `dynamodbav:"nonce"`
	Verifier  string    `dynamodbav:"verifier"`
	ExpiresAt time.Time `dynamodbav:"-"`
}

type flowItem struct {
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	Expires int64  `dynamodbav:"expires_at"`
	Used    bool   `dynamodbav:"used"`
	Flow
}

// Key builder of federation flows (pattern 29).
func flowKey(hash string) map[string]types.AttributeValue { return keyOf(flowPK(hash), "FLOW") }

func flowPK(hash string) string { return "FLOW#" + hash }

// PutFlow stores f under the hash of its state until f.ExpiresAt (pattern
// 27); the hash must be new.
func (t *Table) PutFlow(ctx context.Context, hash string, f Flow) error {
	return t.putSignIn(ctx, "put federation flow", flowKey(hash), flowItem{
		Type: typeFlow, Version: 1, Expires: f.ExpiresAt.Unix(), Flow: f,
	}, true)
}

// ClaimFlow marks the flow of state hash used and returns it: a
// conditional UpdateItem, so of two callbacks with one state only the first
// gets it. A flow claimed before is returned with an error wrapping ErrUsed
// (the caller can still answer its client); a missing or expired one gives
// ErrGone; ErrUnavailable when DynamoDB throttles.
func (t *Table) ClaimFlow(ctx context.Context, hash string) (Flow, error) {
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: flowKey(hash),
		UpdateExpression:                    aws.String("SET used = :true"),
		ConditionExpression:                 aws.String("attribute_exists(pk) AND used = :false"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}, ":false": &types.AttributeValueMemberBOOL{Value: false}},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if ccf.Item == nil {
			return Flow{}, fmt.Errorf("claim federation flow: %w", ErrGone)
		}
		f, derr := t.decodeFlow(ccf.Item)
		if derr != nil {
			return Flow{}, fmt.Errorf("claim federation flow: %w", derr)
		}
		return f, fmt.Errorf("claim federation flow: %w", ErrUsed)
	case err != nil:
		return Flow{}, fmt.Errorf("claim federation flow: %w", unavailable(err))
	}
	f, err := t.decodeFlow(out.Attributes)
	if err != nil {
		return Flow{}, fmt.Errorf("claim federation flow: %w", err)
	}
	return f, nil
}

// decodeFlow decodes a flow item; an expired one gives ErrGone.
func (t *Table) decodeFlow(item map[string]types.AttributeValue) (Flow, error) {
	var it flowItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return Flow{}, fmt.Errorf("decode: %w", err)
	}
	it.Flow.ExpiresAt = time.Unix(it.Expires, 0).UTC()
	if t.expired(it.Expires) {
		return Flow{}, fmt.Errorf("expired: %w", ErrGone)
	}
	return it.Flow, nil
}
