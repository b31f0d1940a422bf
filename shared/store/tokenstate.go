package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TokenState is what a token's validity depends on beyond its signature
// and claims.
type TokenState struct {
	// Revoked is true when the token id was revoked.
	Revoked bool
	// Active is true when the token's principal exists and is enabled, so
	// disabling or deleting a partner or client stops its tokens at once.
	Active bool
}

// TokenState reads the revocation record of jti and the principal clientID
// in one consistent BatchGetItem (patterns 1 and 8), the one read every
// authenticated request makes.
func (t *Table) TokenState(ctx context.Context, jti, clientID string) (TokenState, error) {
	revKey, principal := revocationKey(jti), principalKey(clientID)
	keys := []map[string]types.AttributeValue{revKey, principal}
	var items []map[string]types.AttributeValue
	for attempt := 0; len(keys) > 0; attempt++ {
		if attempt == 5 {
			return TokenState{}, fmt.Errorf("token state: %w", unavailable(&types.ProvisionedThroughputExceededException{Message: aws.String("unprocessed keys after retries")}))
		}
		out, err := t.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
			RequestItems: map[string]types.KeysAndAttributes{t.name: {
				Keys: keys, ConsistentRead: aws.Bool(true),
				ProjectionExpression: aws.String("pk, sk, enabled"),
			}},
		})
		if err != nil {
			return TokenState{}, fmt.Errorf("token state: %w", unavailable(err))
		}
		items = append(items, out.Responses[t.name]...)
		keys = out.UnprocessedKeys[t.name].Keys
	}
	var s TokenState
	for _, item := range items {
		switch pk := item[AttrPK].(*types.AttributeValueMemberS).Value; pk {
		case revKey[AttrPK].(*types.AttributeValueMemberS).Value:
			s.Revoked = true
		case principal[AttrPK].(*types.AttributeValueMemberS).Value:
			enabled, ok := item["enabled"].(*types.AttributeValueMemberBOOL)
			s.Active = ok && enabled.Value
		}
	}
	return s, nil
}
