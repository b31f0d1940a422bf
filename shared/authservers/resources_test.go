package authservers_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/apptest"
)

func resourcesPath(orgID, asID string) string { return serverPath(orgID, asID) + "/api-resources" }

func certificationsPath(orgID, asID string) string {
	return serverPath(orgID, asID) + "/certifications"
}

func decodeMap(t *testing.T, resp apptest.Response, status int) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(resp.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAPIResources: CRUD of a server's API resources with seed 004's
// fields, ETags, If-Match, pagination, isolation, and the server's delete
// refused while it has some.
func TestAPIResources(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	as := p.create(t, orgID, nil)
	path := resourcesPath(orgID, as.ID)

	resp := p.Do(t, http.MethodPost, path, map[string]any{
		"api_family_type": "accounts", "api_version": "2.0.1", "family_complete": true,
		"api_certification_uri": "https://github.com/OpenDomain/conformance/blob/main/submissions/accounts-2.0.1.zip",
		"certification_status":  "Certified", "certification_start_date": "05/03/2026", "certification_expiration_date": "05/03/2027",
		"api_discovery_endpoints": []map[string]any{{"api_endpoint": "https://api.acme.example/accounts/v2/accounts"}},
		"api_metadata":            map[string]any{"region": "uk"},
	})
	r := decodeMap(t, resp, http.StatusCreated)
	id, _ := r["api_resource_id"].(string)
	eps, _ := r["api_discovery_endpoints"].([]any)
	if id == "" || resp.Header.Get("Location") != path+"/"+id || resp.Header.Get("ETag") != `"1"` || r["status"] != "Active" ||
		r["authorisation_server_id"] != as.ID || len(eps) != 1 || eps[0].(map[string]any)["api_discovery_id"] == "" ||
		r["api_metadata"].(map[string]any)["region"] != "uk" {
		t.Fatalf("create: %v %s", resp.Header, resp.Body)
	}
	if got := decodeMap(t, p.Do(t, http.MethodGet, path+"/"+id, nil), http.StatusOK); got["api_version"] != "2.0.1" {
		t.Errorf("get: %v", got)
	}
	got := decodeMap(t, p.Do(t, http.MethodPatch, path+"/"+id, map[string]any{"certification_status": "Deprecated", "api_metadata": nil},
		"Content-Type", "application/merge-patch+json", "If-Match", `"1"`), http.StatusOK)
	if got["certification_status"] != "Deprecated" || got["api_metadata"] != nil || got["api_family_type"] != "accounts" ||
		len(got["api_discovery_endpoints"].([]any)) != 1 {
		t.Errorf("patch: %v", got)
	}
	if resp := p.Do(t, http.MethodPut, path+"/"+id, map[string]any{"api_family_type": "x", "api_version": "1"}, "If-Match", `"1"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("stale PUT: %d", resp.StatusCode)
	}
	got = decodeMap(t, p.Do(t, http.MethodPut, path+"/"+id, map[string]any{"api_family_type": "payments", "api_version": "3"}), http.StatusOK)
	if got["certification_status"] != "Awaiting Certification" || got["family_complete"] != false || got["api_certification_uri"] != nil {
		t.Errorf("put: %v, want defaults", got)
	}

	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"required", map[string]any{}, []string{"api_family_type", "api_version"}},
		{"patterns", map[string]any{
			"api_family_type": "a<b>", "api_version": "1.2", "api_certification_uri": "http://cert.example/x.zip",
			"certification_status": "Done", "certification_start_date": "2026-03-05", "status": "On",
			"api_discovery_endpoints": []map[string]any{{"api_endpoint": "ftp://x"}}, "api_metadata": []int{1},
		}, []string{"api_family_type", "api_version", "api_certification_uri", "certification_status", "certification_start_date",
			"status", "api_discovery_endpoints[0].api_endpoint", "api_metadata"}},
		{"not a date", map[string]any{"api_family_type": "a", "api_version": "1", "certification_start_date": "31/02/2026"}, []string{"certification_start_date"}},
		{"expiry before start", map[string]any{"api_family_type": "a", "api_version": "1", "certification_start_date": "05/03/2026",
			"certification_expiration_date": "04/03/2026"}, []string{"certification_expiration_date"}},
		{"read-only", map[string]any{"api_family_type": "a", "api_version": "1", "api_resource_id": "x"}, []string{"api_resource_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, p.Do(t, http.MethodPost, path, tc.body), http.StatusBadRequest, "invalid_request", tc.fields...)
		})
	}

	for range 2 {
		decodeMap(t, p.Do(t, http.MethodPost, path, map[string]any{"api_family_type": "more", "api_version": "1"}), http.StatusCreated)
	}
	get := func(u string) apptest.Response { return p.Do(t, http.MethodGet, u, nil) }
	all := apptest.ListAll(t, get, path, 2, func(m map[string]any) string { s, _ := m["api_resource_id"].(string); return s })
	if len(all) != 3 {
		t.Errorf("list: got %d, want 3", len(all))
	}

	other := newPartner(t, e)
	for _, u := range []string{path, path + "/" + id} {
		if resp := other.Do(t, http.MethodGet, u, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another partner GET %s: %d, want 404", u, resp.StatusCode)
		}
	}
	if resp := p.Do(t, http.MethodGet, resourcesPath(orgID, "00000000-0000-4000-8000-000000000000"), nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown server: %d, want 404", resp.StatusCode)
	}

	resp = p.Do(t, http.MethodDelete, serverPath(orgID, as.ID), nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(resp.Body), "API resources or certifications") {
		t.Errorf("delete the server with resources: %d %s, want 409", resp.StatusCode, resp.Body)
	}
	for _, m := range all {
		if resp := p.Do(t, http.MethodDelete, path+"/"+m["api_resource_id"].(string), nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("delete resource: %d %s", resp.StatusCode, resp.Body)
		}
	}
	if resp := p.Do(t, http.MethodDelete, serverPath(orgID, as.ID), nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete the emptied server: %d %s", resp.StatusCode, resp.Body)
	}
	raw := string(p.Do(t, http.MethodGet, "/v1/audit-events?limit=100", nil).Body)
	if !strings.Contains(raw, `"type":"api_resource"`) {
		t.Errorf("audit: no api_resource record in %.500s", raw)
	}
}

// TestCertifications: CRUD of a server's certifications with seed 004's
// fields (none required), defaults and patterns.
func TestCertifications(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	as := p.create(t, orgID, nil)
	path := certificationsPath(orgID, as.ID)
	c := decodeMap(t, p.Do(t, http.MethodPost, path, map[string]any{}), http.StatusCreated)
	if c["certification_status"] != "Awaiting Certification" || c["status"] != "Active" || c["profile_type"] != nil {
		t.Errorf("defaults: %v", c)
	}
	id := c["certification_id"].(string)
	got := decodeMap(t, p.Do(t, http.MethodPatch, path+"/"+id, map[string]any{
		"profile_type": "Redirect", "profile_variant": "FAPI-Adv", "profile_version": 1.1,
		"certification_uri": "https://cert.example/pkg.zip", "certification_status": "Self-Certified",
		"certification_start_date": "01/12/2026",
	}, "Content-Type", "application/merge-patch+json"), http.StatusOK)
	if got["profile_version"] != 1.1 || got["certification_status"] != "Self-Certified" || got["certification_start_date"] != "01/12/2026" {
		t.Errorf("patch: %v", got)
	}
	wantProblem(t, p.Do(t, http.MethodPost, path, map[string]any{
		"certification_uri": "http://x.example", "certification_status": "Certified!", "certification_start_date": "1/12/2026",
		"profile_type": "", "profile_version": "one",
	}), http.StatusBadRequest, "invalid_request", "certification_uri", "certification_status", "certification_start_date", "profile_type", "profile_version")
	if resp := p.Do(t, http.MethodDelete, path+"/"+id, nil, "If-Match", `"2"`); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := p.Do(t, http.MethodGet, path+"/"+id, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("get deleted: %d", resp.StatusCode)
	}
}

// TestNotificationWebhookStatus: Pending from the day the webhook is set or
// changed, kept by other writes, gone with the webhook.
func TestNotificationWebhookStatus(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	r := decodeMap(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{"notification_webhook": "https://hooks.acme.example/n"})), http.StatusCreated)
	today := e.Clock.Now().UTC().Format("2006-01-02")
	if r["notification_webhook_status"] != "Pending" || r["notification_webhook_added_date"] != today {
		t.Fatalf("create: %v", r)
	}
	path := serverPath(orgID, r["id"].(string))
	patch := func(body map[string]any) map[string]any {
		return decodeMap(t, p.Do(t, http.MethodPatch, path, body, "Content-Type", "application/merge-patch+json"), http.StatusOK)
	}
	e.Clock.Advance(48 * time.Hour)
	p.Token = e.Token(t, p.PartnerID, p.Secret, nil) // a token of the new day
	if got := patch(map[string]any{"customer_friendly_name": "Acme"}); got["notification_webhook_added_date"] != today {
		t.Errorf("unrelated change: %v", got)
	}
	if got := patch(map[string]any{"notification_webhook": "https://hooks.acme.example/m"}); got["notification_webhook_added_date"] == today || got["notification_webhook_status"] != "Pending" {
		t.Errorf("changed webhook: %v", got)
	}
	if got := patch(map[string]any{"notification_webhook": nil}); got["notification_webhook_status"] != nil || got["notification_webhook_added_date"] != nil {
		t.Errorf("no webhook: %v", got)
	}
	wantProblem(t, p.Do(t, http.MethodPatch, path, map[string]any{"notification_webhook_status": "Confirmed"}, "Content-Type", "application/merge-patch+json"),
		http.StatusBadRequest, "invalid_request", "notification_webhook_status")
}

// TestLogoWarnings: a data:image logo of seed 004's form whose image is
// not usable is replaced by the placeholder (no logo) with seed 004's
// operation warning; the write goes ahead.
func TestLogoWarnings(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nrest"))
	for _, tc := range []struct {
		name, logo, warning string
	}{
		{"gif", "data:image/gif;base64,R0lGODlh", "IMAGE_VALIDATION_FAILURE_UNSUPPORTED_IMAGE_FORMAT_PLACEHOLDER_USED"},
		{"not the declared image", "data:image/jpeg;base64," + png, "IMAGE_VALIDATION_CONTENT_FAILURE_PLACEHOLDER_USED"},
		{"too large", "data:image/png;base64," + strings.Repeat("A", 90000), "IMAGE_VALIDATION_MAX_SIZE_FAILURE_PLACEHOLDER_USED"},
		{"bad base64", "data:image/png;base64,AAAAA", "IMAGE_VALIDATION_FAILURE_BAD_DATA_ENCODING_PLACEHOLDER_USED"},
		{"usable", "data:image/png;base64," + png, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := decodeMap(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{"customer_friendly_logo_uri": tc.logo})), http.StatusCreated)
			warnings, _ := r["operation_warnings"].([]any)
			switch {
			case tc.warning == "" && (len(warnings) != 0 || r["customer_friendly_logo_uri"] != tc.logo):
				t.Errorf("got %v, %v; want the logo, no warning", warnings, r["customer_friendly_logo_uri"])
			case tc.warning != "" && (len(warnings) != 1 || warnings[0] != tc.warning || r["customer_friendly_logo_uri"] != nil):
				t.Errorf("got %v, %v; want %s and no logo", warnings, r["customer_friendly_logo_uri"], tc.warning)
			}
		})
	}
	wantProblem(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{"customer_friendly_logo_uri": "data:image/png;base64,!!!"})),
		http.StatusBadRequest, "invalid_request", "customer_friendly_logo_uri")
}
