package authservers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/app"
)

// TestLambdaEvents runs every sample event of events/authservers through the
// Lambda handler, as the function does, with real tokens and ids put in
// place of the {{token}}, {{organisation_id}} and {{id}} placeholders.
func TestLambdaEvents(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	h, err := e.App.Handler("authservers")
	if err != nil {
		t.Fatalf("authservers handler: %v", err)
	}
	events := apptest.NewEvents(t, filepath.Join("..", "..", "events", "authservers"), app.LambdaHandler(h))
	var id string
	invoke := func(file, token string, status int) (http.Header, map[string]any) {
		t.Helper()
		return events.Invoke(t, file, strings.NewReplacer("{{token}}", token, "{{organisation_id}}", orgID, "{{id}}", id), status)
	}

	header, body := invoke("create.json", p.Token, http.StatusCreated)
	id, _ = body["id"].(string)
	if id == "" || header.Get("Location") != serverPath(orgID, id) || header.Get("ETag") != `"1"` ||
		body["federation_endpoint"] != "https://federation.acme.example" || body["organisation_id"] != orgID {
		t.Errorf("create: %v %v", header, body)
	}
	if _, body = invoke("list.json", p.Token, http.StatusOK); len(body["items"].([]any)) != 1 || body["next_cursor"] != nil {
		t.Errorf("list %v, want the created server", body)
	}
	if header, body = invoke("get.json", p.Token, http.StatusOK); body["id"] != id || header.Get("ETag") != `"1"` {
		t.Errorf("get: %v %v", header, body)
	}
	// replace.json sends If-Match "1".
	if header, body = invoke("replace.json", p.Token, http.StatusOK); body["customer_friendly_name"] != "Acme Bank (retail)" ||
		body["status"] != "Inactive" || body["deprecated_date"] != nil || header.Get("ETag") != `"2"` {
		t.Errorf("replace: %v %v", header, body)
	}
	invoke("replace.json", p.Token, http.StatusPreconditionFailed)
	if _, body = invoke("patch.json", p.Token, http.StatusOK); body["customer_friendly_name"] != "Acme Bank" ||
		body["status"] != "Active" || len(body["flags"].([]any)) != 0 {
		t.Errorf("patch: %v", body)
	}
	// refresh.json: the document's host does not resolve here, a warning.
	if _, body = invoke("refresh.json", p.Token, http.StatusOK); fmt.Sprint(body["operation_warnings"]) != "[OPENID_DISCOVERY_FETCH_FAILED]" {
		t.Errorf("refresh: %v", body)
	}
	if _, body = invoke("create-api-resource.json", p.Token, http.StatusCreated); body["certification_status"] != "Certified" {
		t.Errorf("create API resource: %v", body)
	}
	if _, body = invoke("create-certification.json", p.Token, http.StatusCreated); body["profile_version"] != 1.1 {
		t.Errorf("create certification: %v", body)
	}
	for _, f := range []string{"list-api-resources.json", "list-certifications.json"} {
		if _, body = invoke(f, p.Token, http.StatusOK); len(body["items"].([]any)) != 1 {
			t.Errorf("%s: %v", f, body)
		}
	}
	invoke("delete.json", p.Token, http.StatusConflict) // it has an API resource and a certification
	for _, kind := range []string{"api-resources", "certifications"} {
		path := serverPath(orgID, id) + "/" + kind
		resp := p.Do(t, http.MethodGet, path, nil)
		var page struct {
			Items []map[string]any `json:"items"`
		}
		_ = json.Unmarshal(resp.Body, &page)
		for _, it := range page.Items {
			itemID, _ := it["api_resource_id"].(string)
			if itemID == "" {
				itemID, _ = it["certification_id"].(string)
			}
			if resp := p.Do(t, http.MethodDelete, path+"/"+itemID, nil); resp.StatusCode != http.StatusNoContent {
				t.Errorf("delete %s: %d", path, resp.StatusCode)
			}
		}
	}
	invoke("delete.json", p.Token, http.StatusNoContent)
	invoke("get.json", p.Token, http.StatusNotFound)
	// As shipped, with its placeholder for a token, an event is refused.
	invoke("list.json", "{{token}}", http.StatusUnauthorized)
}
