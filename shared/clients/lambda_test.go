package clients_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/app"
)

// TestLambdaEvents runs every sample event of events/clients through the
// Lambda handler, as the function does, with real tokens and ids put in
// place of the {{token}}, {{organisation_id}} and {{id}} placeholders.
func TestLambdaEvents(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	h, err := e.App.Handler("clients")
	if err != nil {
		t.Fatalf("clients handler: %v", err)
	}
	events := apptest.NewEvents(t, filepath.Join("..", "..", "events", "clients"), app.LambdaHandler(h))
	var id string
	invoke := func(file, token string, status int) (http.Header, map[string]any) {
		t.Helper()
		return events.Invoke(t, file, strings.NewReplacer("{{token}}", token, "{{organisation_id}}", orgID, "{{id}}", id), status)
	}

	header, body := invoke("create.json", p.Token, http.StatusCreated)
	id, _ = body["id"].(string)
	if id != "acme-checkout-web" || body["secret"] == nil || header.Get("Location") != "/v1/clients/"+id || header.Get("ETag") != `"1"` {
		t.Errorf("create: %v %v", header, body)
	}
	if _, body = invoke("list.json", p.Token, http.StatusOK); len(body["items"].([]any)) != 1 {
		t.Errorf("list %v, want the created client", body)
	}
	if _, body = invoke("get.json", p.Token, http.StatusOK); body["secret"] != nil || body["token_signing_algorithm"] != "PS256" {
		t.Errorf("get: %v", body)
	}
	if _, body = invoke("replace.json", p.Token, http.StatusOK); body["name"] != "Acme checkout (web)" {
		t.Errorf("replace: %v", body)
	}
	if _, body = invoke("patch.json", p.Token, http.StatusOK); body["name"] != "Acme checkout" || len(body["allowed_provider_groups"].([]any)) != 0 {
		t.Errorf("patch: %v", body)
	}
	_, body = invoke("rotate-secret.json", p.Token, http.StatusOK)
	sec, _ := body["secret"].(string)
	if sec == "" || body["previous_secret_expires_at"] == nil {
		t.Errorf("rotate: %v", body)
	}
	self := e.Token(t, id, sec, nil)
	if _, body = invoke("get-me.json", self, http.StatusOK); body["id"] != id {
		t.Errorf("get me: %v", body)
	}
	if _, body = invoke("rotate-me-secret.json", self, http.StatusOK); body["client_id"] != id || body["previous_secret_expires_at"] != nil {
		t.Errorf("rotate me: %v", body)
	}
	// Seed 002's secondary client: a 16-character chosen password and extra_data.
	_, body = invoke("create-secondary.json", p.Token, http.StatusCreated)
	extra, _ := body["extra_data"].(map[string]any)
	if body["id"] != "TEST1234" || body["secret"] != "u7/JvJ+:X?Wc]6}." || extra["externalId"] != "123456789" {
		t.Errorf("create secondary: %v", body)
	}
	e.Token(t, "TEST1234", "u7/JvJ+:X?Wc]6}.", nil)
	invoke("delete.json", p.Token, http.StatusNoContent)
	invoke("get.json", p.Token, http.StatusNotFound)
	// As shipped, with its placeholder for a token, an event is refused.
	invoke("list.json", "{{token}}", http.StatusUnauthorized)
}
