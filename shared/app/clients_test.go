package app_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/cpubench"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/store"
)

// BenchmarkCall measures single DynamoDB calls through the production
// client (app.NewDynamoDB) against the test endpoint: cpu-ms/op is what one
// call costs this process (the SDK's middleware stack, signing, JSON, HTTP),
// the figure issue 12's CPU budget per token is spent on. The items are
// scratch items of the benchmark's own, shaped like the token path's: a
// consistent read of one item, a consistent batch read of two, and an
// ADD-counter update.
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	e := apptest.New(b, apptest.Options{})
	db := app.NewDynamoDB(testenv.AWSConfig(b))
	table := aws.String(e.App.Config.TableName)
	key := func(sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			store.AttrPK: &types.AttributeValueMemberS{Value: "BENCH#call"},
			store.AttrSK: &types.AttributeValueMemberS{Value: sk},
		}
	}
	item := key("1")
	item["name"] = &types.AttributeValueMemberS{Value: "benchmark item"}
	item["enabled"] = &types.AttributeValueMemberBOOL{Value: true}
	item["secret_hash"] = &types.AttributeValueMemberS{Value: "hs256$0123456789abcdef0123456789abcdef$0123456789abcdef0123456789abcdef"}
	item["scopes"] = &types.AttributeValueMemberSS{Value: []string{"organisations:read", "organisations:write", "clients:read"}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item}); err != nil {
		b.Fatal(err)
	}

	b.Run("GetItem", func(b *testing.B) {
		cpubench.Loop(b, func() {
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key("1"), ConsistentRead: aws.Bool(true)})
			if err != nil || out.Item == nil {
				b.Fatalf("get item: %v (found %t)", err, out != nil && out.Item != nil)
			}
		})
	})
	b.Run("BatchGetItem", func(b *testing.B) {
		cpubench.Loop(b, func() {
			out, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				*table: {Keys: []map[string]types.AttributeValue{key("1"), key("2")}, ConsistentRead: aws.Bool(true)},
			}})
			if err != nil || len(out.Responses[*table]) != 1 {
				b.Fatalf("batch get item: %v", err)
			}
		})
	})
	b.Run("UpdateItem", func(b *testing.B) {
		cpubench.Loop(b, func() {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: table, Key: key("counter"),
				UpdateExpression:         aws.String("ADD #count :n SET #type = :type, expires_at = :exp"),
				ExpressionAttributeNames: map[string]string{"#count": "count", "#type": "type"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":n": &types.AttributeValueMemberN{Value: "1"}, ":type": &types.AttributeValueMemberS{Value: "bench"},
					":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)},
				},
			})
			if err != nil {
				b.Fatalf("update item: %v", err)
			}
		})
	})
}

// BenchmarkStoreCall measures the store's methods on the token path, each
// one DynamoDB call through the production client: the SDK's cost above
// plus the store's own (keys, expressions, decoding).
func BenchmarkStoreCall(b *testing.B) {
	ctx := context.Background()
	e := apptest.New(b, apptest.Options{})
	id, _ := e.Partner(b)
	st := e.App.Store
	now := time.Now()

	b.Run("GetCredential", func(b *testing.B) {
		cpubench.Loop(b, func() {
			c, err := st.GetCredential(ctx, id, "192.0.2.1", now.Truncate(15*time.Minute))
			if err != nil || !c.Found {
				b.Fatalf("get credential: %v (found %t)", err, c.Found)
			}
		})
	})
	b.Run("AddUsage", func(b *testing.B) {
		ev := store.UsageEvent{PartnerID: id, ClientID: id, Day: now.UTC().Format(time.DateOnly), Kind: store.UsageToken}
		cpubench.Loop(b, func() {
			if err := st.AddUsage(ctx, ev, 3, 1); err != nil {
				b.Fatalf("add usage: %v", err)
			}
		})
	})
	b.Run("TokenState", func(b *testing.B) {
		ref := store.TokenRef{TokenID: "bench-token", ClientID: id, PartnerID: id, IssuedAt: now.Add(time.Minute)}
		cpubench.Loop(b, func() {
			s, err := st.TokenState(ctx, ref)
			if err != nil || !s.Active {
				b.Fatalf("token state: %v (active %t)", err, s.Active)
			}
		})
	})
}
