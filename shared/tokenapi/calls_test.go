package tokenapi_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

// callLog records the AWS operations (X-Amz-Target) sent through it.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) Do(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.calls = append(c.calls, req.Header.Get("X-Amz-Target"))
	c.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func (c *callLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	slices.Sort(out)
	return out
}

// TestCallsPerToken: a partner token is one DynamoDB read (the credential
// and its attempt counts) and two writes: the lockout's count of the
// attempt (one conditional write, after the fast secret check; without it
// parallel guesses would test more secrets than the limit) and the usage
// counter; no KMS call. A client token is the same once the process has
// seen the client: its partner, organisation and the organisation's
// ancestors are read in the credential's batch (the first sight reads
// them apart).
func TestCallsPerToken(t *testing.T) {
	log := &callLog{}
	e := apptest.New(t, apptest.Options{HTTPClient: log})
	id, sec := e.Partner(t)
	tr := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	for _, tc := range []struct {
		name    string
		id, sec string
		want    []string
	}{
		{"partner", id, sec, []string{"DynamoDB_20120810.BatchGetItem",
			"DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.UpdateItem"}},
		{"client of a nested organisation", tr.clientID, tr.clientSecret, []string{"DynamoDB_20120810.BatchGetItem",
			"DynamoDB_20120810.UpdateItem", "DynamoDB_20120810.UpdateItem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Token(t, tc.id, tc.sec, nil) // the process sees the organisation
			log.take()
			e.Token(t, tc.id, tc.sec, nil)
			got := log.take()
			if !slices.Equal(got, tc.want) {
				t.Errorf("calls = %v, want %v", got, tc.want)
			}
			for _, c := range got {
				if strings.HasPrefix(c, "TrentService.") {
					t.Errorf("KMS call %s while issuing a token", c)
				}
			}
		})
	}
}
