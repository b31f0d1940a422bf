package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/store"
)

// throttlingHTTP answers the first throttled requests with DynamoDB's
// throttling error, the others with an empty success, and keeps the body
// of every request it got.
type throttlingHTTP struct {
	throttled int
	mu        sync.Mutex
	bodies    [][]byte
}

func (c *throttlingHTTP) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.bodies = append(c.bodies, body)
	n := len(c.bodies)
	c.mu.Unlock()
	status, out := http.StatusOK, `{}`
	if n <= c.throttled {
		status, out = http.StatusBadRequest,
			`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}`
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "REQUEST0123456789")
	return &http.Response{
		StatusCode: status, Header: h, ContentLength: int64(len(out)),
		Body: io.NopCloser(bytes.NewReader([]byte(out))), Request: req,
	}, nil
}

// TestDynamoDBRetriesThrottling checks, through the production client
// (app.NewDynamoDB) and the store, that a throttled call is retried with
// its whole request each time, and that throttling outlasting the retries
// is store.ErrUnavailable.
func TestDynamoDBRetriesThrottling(t *testing.T) {
	tests := []struct {
		name      string
		throttled int
		wantErr   error
		attempts  int
	}{
		{"throttled once", 1, nil, 2},
		{"throttled throughout", 100, store.ErrUnavailable, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &throttlingHTTP{throttled: tc.throttled}
			db := app.NewDynamoDB(aws.Config{
				Region:      "eu-west-2",
				Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")),
				HTTPClient:  h,
			})
			st := app.NewStore(config.Config{TableName: "partner-api"}, db, time.Now)
			ev := store.UsageEvent{PartnerID: "p", ClientID: "p", Day: "2026-11-29", Kind: store.UsageToken}
			err := st.AddUsage(context.Background(), ev, 0, 1)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if len(h.bodies) != tc.attempts {
				t.Fatalf("got %d attempts, want %d", len(h.bodies), tc.attempts)
			}
			for i, b := range h.bodies {
				if !json.Valid(b) || !bytes.Equal(b, h.bodies[0]) {
					t.Errorf("attempt %d sent %q, want the first attempt's request %q", i+1, b, h.bodies[0])
				}
			}
		})
	}
}
