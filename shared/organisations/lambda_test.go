package organisations_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/app"
)

// TestLambdaEvents runs every sample event of events/organisations through
// the Lambda handler, as the function does, with a real token and id put in
// place of the {{token}} and {{id}} placeholders.
func TestLambdaEvents(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	h, err := e.App.Handler("organisations")
	if err != nil {
		t.Fatalf("organisations handler: %v", err)
	}
	events := apptest.NewEvents(t, filepath.Join("..", "..", "events", "organisations"), app.LambdaHandler(h))
	var id string
	invoke := func(t *testing.T, file, token string, status int) (http.Header, map[string]any) {
		t.Helper()
		return events.Invoke(t, file, strings.NewReplacer("{{token}}", token, "{{id}}", id), status)
	}

	header, body := invoke(t, "create.json", p.Token, http.StatusCreated)
	id, _ = body["id"].(string)
	if header.Get("Location") != "/v1/organisations/"+id || header.Get("ETag") != `"1"` {
		t.Errorf("create headers %v", header)
	}
	_, body = invoke(t, "list.json", p.Token, http.StatusOK)
	if items, _ := body["items"].([]any); len(items) != 1 {
		t.Errorf("list %v, want the created organisation", body)
	}
	invoke(t, "get.json", p.Token, http.StatusOK)
	if _, body = invoke(t, "replace.json", p.Token, http.StatusOK); body["name"] != "Acme Retail UK" {
		t.Errorf("replace: %v", body)
	}
	if _, body = invoke(t, "patch.json", p.Token, http.StatusOK); body["name"] != "Acme Retail (UK)" || len(body["allowed_provider_groups"].([]any)) != 0 {
		t.Errorf("patch: %v", body)
	}
	invoke(t, "put-ui-config.json", p.Token, http.StatusOK)
	if _, body = invoke(t, "get-ui-config.json", p.Token, http.StatusOK); body["logo_url"] != "https://cdn.example.com/acme/logo.svg" {
		t.Errorf("ui-config: %v", body)
	}
	invoke(t, "delete.json", p.Token, http.StatusNoContent)
	invoke(t, "get.json", p.Token, http.StatusNotFound)
	// As shipped, with its placeholder for a token, an event is refused.
	invoke(t, "list.json", "{{token}}", http.StatusUnauthorized)
}
