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

// TestCallsPerToken: a partner token with a generated secret is one
// DynamoDB read (the credential and its attempt counts) and one write (the
// usage counter); no KMS call. A client token is the same once the process
// has seen the client: its partner, organisation and the organisation's
// ancestors are read in the credential's batch (the first sight reads
// them apart). A secret a caller chose may be guessed: its right attempt is
// also counted against the brute-force lock (one conditional write, after
// the fast check; without it parallel guesses would test more secrets
// than the limit).
func TestCallsPerToken(t *testing.T) {
	log := &callLog{}
	e := apptest.New(t, apptest.Options{HTTPClient: log})
	id, sec := e.Partner(t)
	tr := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	const chosenID, chosenSecret = "chosen-calls-client", "Xk4-pQ9z-Lm2w-Rt7v-Bn5c-Hy8d-Js3f-Gq6a"
	orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations/"+tr.childID+"/clients",
		`{"name":"Chosen","client_id":"`+chosenID+`","client_secret":"`+chosenSecret+`","additional_scopes":["openid"]}`)
	for _, tc := range []struct {
		name    string
		id, sec string
		want    []string
	}{
		{"partner", id, sec, []string{"DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.UpdateItem"}},
		{"client of a nested organisation", tr.clientID, tr.clientSecret, []string{"DynamoDB_20120810.BatchGetItem", "DynamoDB_20120810.UpdateItem"}},
		{"client with a chosen secret", chosenID, chosenSecret, []string{"DynamoDB_20120810.BatchGetItem",
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
