package tokenapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/app"
)

// The sample events sign in as this partner.
const eventsPartner, eventsSecret = "events-partner", "events-partner-sample-secret-0123456789abcdef"

// TestLambdaEvents feeds every event of events/token through the Lambda
// handler the token function starts, and checks the responses.
func TestLambdaEvents(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	if _, err := e.App.Admin().EnsurePartner(t.Context(), eventsPartner, eventsSecret); err != nil {
		t.Fatal(err)
	}
	h, err := e.App.Handler("token")
	if err != nil {
		t.Fatal(err)
	}
	lh := app.LambdaHandler(h)
	want := map[string]struct {
		status   int
		contains string
	}{
		"token-client-secret-basic.json":    {200, `"token_type":"Bearer"`},
		"token-client-secret-post.json":     {200, `"scope":"organisations:read"`},
		"token-base64-body.json":            {200, `"access_token":"ey`},
		"token-invalid-client.json":         {401, `"error":"invalid_client"`},
		"token-unsupported-grant-type.json": {400, `"error":"unsupported_grant_type"`},
		"introspect.json":                   {200, `"active":false`},
		"revoke.json":                       {200, ``},
		"jwks.json":                         {200, `"keys":[`},
		"oauth-authorization-server.json":   {200, `"token_endpoint":"https://partner-api.test/v1/token"`},
	}
	files, err := filepath.Glob("../../events/token/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no events found: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("event %s has no expectation in this test", name)
			}
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := lh.Invoke(t.Context(), payload)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("response is not an API Gateway proxy response: %v", err)
			}
			if resp.StatusCode != w.status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, w.status, resp.Body)
			}
			if !strings.Contains(resp.Body, w.contains) {
				t.Errorf("body %s does not contain %s", resp.Body, w.contains)
			}
			if got := header(resp, "x-fapi-interaction-id"); got != "6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11" {
				t.Errorf("x-fapi-interaction-id = %q, want the event's", got)
			}
		})
	}
}

func header(r events.APIGatewayProxyResponse, name string) string {
	for k, v := range r.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
