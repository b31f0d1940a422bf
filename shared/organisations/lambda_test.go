package organisations_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/partnerapi/partner-api/shared/apptest"
	"github.com/partnerapi/partner-api/shared/lambdahttp"
)

// eventsDir holds the sample API Gateway events of the group.
var eventsDir = filepath.Join("..", "..", "events", "organisations")

// The interaction id the sample events carry.
const eventsInteractionID = "6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11"

// TestLambdaEvents runs every sample event of events/organisations through
// the Lambda handler, as the function does, with a real token and id put in
// place of the {{token}} and {{id}} placeholders.
func TestLambdaEvents(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	h, err := e.App.Organisations()
	if err != nil {
		t.Fatalf("organisations handler: %v", err)
	}
	fn := lambdahttp.Handler(h)
	var id string
	used := map[string]bool{}
	invoke := func(t *testing.T, file, token string, status int) (events.APIGatewayProxyResponse, map[string]any) {
		t.Helper()
		used[file] = true
		data, err := os.ReadFile(filepath.Join(eventsDir, file))
		if err != nil {
			t.Fatal(err)
		}
		// A real API Gateway REST proxy event: no member the SDK type lacks.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var ev events.APIGatewayProxyRequest
		if err := dec.Decode(&ev); err != nil || ev.HTTPMethod == "" || ev.RequestContext.Stage == "" {
			t.Fatalf("%s is not an API Gateway proxy event: %v", file, err)
		}
		payload := strings.NewReplacer("{{token}}", token, "{{id}}", id).Replace(string(data))
		out, err := fn.Invoke(context.Background(), []byte(payload))
		if err != nil {
			t.Fatalf("invoke %s: %v", file, err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: response %s: %v", file, out, err)
		}
		if resp.StatusCode != status {
			t.Fatalf("%s: status %d, want %d: %s", file, resp.StatusCode, status, resp.Body)
		}
		if got := http.Header(resp.MultiValueHeaders).Get("x-fapi-interaction-id"); got != eventsInteractionID {
			t.Errorf("%s: x-fapi-interaction-id %q, want the event's", file, got)
		}
		var body map[string]any
		if resp.Body != "" {
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("%s: body %s: %v", file, resp.Body, err)
			}
		}
		return resp, body
	}

	resp, body := invoke(t, "create.json", p.token, http.StatusCreated)
	id, _ = body["id"].(string)
	header := http.Header(resp.MultiValueHeaders)
	if header.Get("Location") != "/v1/organisations/"+id || header.Get("ETag") != `"1"` {
		t.Errorf("create headers %v", header)
	}
	_, body = invoke(t, "list.json", p.token, http.StatusOK)
	if items, _ := body["items"].([]any); len(items) != 1 {
		t.Errorf("list %v, want the created organisation", body)
	}
	invoke(t, "get.json", p.token, http.StatusOK)
	if _, body = invoke(t, "replace.json", p.token, http.StatusOK); body["name"] != "Acme Retail UK" {
		t.Errorf("replace: %v", body)
	}
	if _, body = invoke(t, "patch.json", p.token, http.StatusOK); body["name"] != "Acme Retail (UK)" || len(body["allowed_provider_groups"].([]any)) != 0 {
		t.Errorf("patch: %v", body)
	}
	invoke(t, "put-ui-config.json", p.token, http.StatusOK)
	if _, body = invoke(t, "get-ui-config.json", p.token, http.StatusOK); body["logo_url"] != "https://cdn.example.com/acme/logo.svg" {
		t.Errorf("ui-config: %v", body)
	}
	invoke(t, "delete.json", p.token, http.StatusNoContent)
	invoke(t, "get.json", p.token, http.StatusNotFound)
	// As shipped, with its placeholder for a token, an event is refused.
	invoke(t, "list.json", "{{token}}", http.StatusUnauthorized)

	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	for _, f := range files {
		if !used[filepath.Base(f)] {
			t.Errorf("event %s is not exercised by this test", filepath.Base(f))
		}
	}
	if len(files) == 0 || !slices.ContainsFunc(files, func(f string) bool { return strings.HasSuffix(f, "create.json") }) {
		t.Error("no sample events found")
	}
}
