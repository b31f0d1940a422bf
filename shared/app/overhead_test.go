package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerapi/partner-api/internal/cpubench"
	"github.com/partnerapi/partner-api/shared/app"
)

// cannedHTTP answers every request with body, without a network: what
// remains of a call's CPU is the SDK's and the client options'.
type cannedHTTP struct{ body []byte }

func (c cannedHTTP) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "REQUEST0123456789")
	return &http.Response{
		StatusCode: http.StatusOK, Header: h, ContentLength: int64(len(c.body)),
		Body: io.NopCloser(bytes.NewReader(c.body)), Request: req,
	}, nil
}

// BenchmarkCallOffline is BenchmarkCall's GetItem without the network
// (canned responses): cpu-ms/op and the allocations are the SDK's per-call
// overhead alone, steady enough to compare client options on a busy
// machine.
func BenchmarkCallOffline(b *testing.B) {
	cfg := aws.Config{
		Region:      "eu-west-2",
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")),
		HTTPClient: cannedHTTP{body: []byte(`{"Item":{"pk":{"S":"BENCH#call"},"sk":{"S":"1"},"name":{"S":"benchmark item"},` +
			`"enabled":{"BOOL":true},"scopes":{"SS":["clients:read","organisations:read"]}}}`)},
	}
	db := app.NewDynamoDB(cfg)
	ctx := context.Background()
	in := &dynamodb.GetItemInput{TableName: aws.String("partner-api"), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "BENCH#call"}, "sk": &types.AttributeValueMemberS{Value: "1"},
	}}
	cpubench.Loop(b, func() {
		out, err := db.GetItem(ctx, in)
		if err != nil || out.Item == nil {
			b.Fatalf("get item: %v", err)
		}
	})
}
