package authservers_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/scope"
)

// full sets every optional member.
var full = map[string]any{
	"auto_registration_supported":            true,
	"auto_registration_notification_webhook": "https://auth.acme.example/webhooks/registration",
	"customer_friendly_logo_uri":             "https://static.acme.example/logo.svg",
	"developer_portal_uri":                   "https://developer.acme.example",
	"terms_of_service_uri":                   "https://acme.example/terms",
	"notification_webhook":                   "http://auth.acme.example/webhooks/notifications",
	"openid_discovery_document":              "https://auth.acme.example/.well-known/openid-configuration",
	"payload_signing_cert_location_uri":      "https://keystore.acme.example/signing.jwks",
	"deprecated_date":                        "2027-06-30",
	"retirement_date":                        "2027-12-31",
	"federation_id":                          "3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c",
	"federation_endpoint":                    "https://federation.acme.example",
	"flags":                                  []string{"open-finance", "fapi-2"},
	"status":                                 "Inactive",
	"supports_ciba":                          true,
	"supports_dcr":                           true,
	"supports_redirect":                      true,
}

func TestCreateGetReplacePatchDelete(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)

	// The defaults: optional members null, flags [], status Active, no
	// capabilities.
	resp := p.Do(t, http.MethodPost, serversPath(orgID), minimal(nil))
	s := decodeServer(t, resp, http.StatusCreated)
	if id, err := uuid.Parse(s.ID); err != nil || id.Version() != 4 || id.String() != s.ID {
		t.Errorf("id %q, want a lower-case UUID v4", s.ID)
	}
	if got, want := resp.Header.Get("Location"), serverPath(orgID, s.ID); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if got := resp.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag %q, want \"1\"", got)
	}
	rfc3339UTC := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	if s.OrganisationID != orgID || s.AutoRegistrationSupported || s.CustomerFriendlyName != "Acme Bank" || s.Status != "Active" ||
		s.Flags == nil || len(s.Flags) != 0 || s.SupportsCIBA || s.SupportsDCR || s.SupportsRedirect ||
		!rfc3339UTC.MatchString(s.CreatedAt) || s.CreatedAt != s.UpdatedAt {
		t.Errorf("created %+v, want the defaults", s)
	}
	var raw map[string]any
	_ = json.Unmarshal(resp.Body, &raw)
	for _, k := range []string{
		"auto_registration_notification_webhook", "customer_friendly_logo_uri", "developer_portal_uri", "terms_of_service_uri",
		"notification_webhook", "openid_discovery_document", "payload_signing_cert_location_uri", "parent_authorisation_server_id",
		"deprecated_date", "retirement_date", "superseded_by_authorisation_server_id", "federation_id", "federation_endpoint",
	} {
		if v, ok := raw[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %t), want null", k, v, ok)
		}
	}
	if len(raw) != 34 {
		t.Errorf("representation has %d members, want 34: %s", len(raw), resp.Body)
	}
	for _, k := range []string{"federation_client_id", "federation_token_endpoint_auth_method", "issuer", "discovery", "notification_webhook_status", "notification_webhook_added_date"} {
		if v, ok := raw[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %t), want null", k, v, ok)
		}
	}

	resp = p.Do(t, http.MethodGet, serverPath(orgID, s.ID), nil)
	if got := decodeServer(t, resp, http.StatusOK); !equal(got, s) || resp.Header.Get("ETag") != `"1"` {
		t.Errorf("GET = %+v (ETag %s), want %+v", got, resp.Header.Get("ETag"), s)
	}
	// Upper-case ids name the same organisation and server.
	decodeServer(t, p.Do(t, http.MethodGet, serverPath(strings.ToUpper(orgID), strings.ToUpper(s.ID)), nil), http.StatusOK)

	// PUT replaces everything.
	e.Clock.Advance(2 * time.Second)
	resp = p.Do(t, http.MethodPut, serverPath(orgID, s.ID), minimal(full))
	put := decodeServer(t, resp, http.StatusOK)
	if resp.Header.Get("ETag") != `"2"` || !put.AutoRegistrationSupported || *put.FederationEndpoint != full["federation_endpoint"] ||
		*put.DeprecatedDate != "2027-06-30" || *put.RetirementDate != "2027-12-31" || !slices.Equal(put.Flags, []string{"open-finance", "fapi-2"}) ||
		put.Status != "Inactive" || !put.SupportsCIBA || !put.SupportsDCR || !put.SupportsRedirect ||
		*put.NotificationWebhook != full["notification_webhook"] || put.CreatedAt != s.CreatedAt || put.UpdatedAt == s.UpdatedAt {
		t.Errorf("PUT = %+v (ETag %s)", put, resp.Header.Get("ETag"))
	}
	// PUT without the optional members resets them.
	if got := decodeServer(t, p.Do(t, http.MethodPut, serverPath(orgID, s.ID), minimal(nil)), http.StatusOK); got.FederationEndpoint != nil ||
		got.Status != "Active" || len(got.Flags) != 0 || got.SupportsDCR {
		t.Errorf("PUT minimal = %+v, want the defaults", got)
	}
	decodeServer(t, p.Do(t, http.MethodPut, serverPath(orgID, s.ID), minimal(full)), http.StatusOK)

	// PATCH changes what it names; null unsets or resets to the default.
	resp = p.Do(t, http.MethodPatch, serverPath(orgID, s.ID),
		`{"customer_friendly_name":"Acme","status":null,"federation_endpoint":null,"flags":["x"]}`, "Content-Type", "application/merge-patch+json")
	patched := decodeServer(t, resp, http.StatusOK)
	if patched.CustomerFriendlyName != "Acme" || patched.Status != "Active" || patched.FederationEndpoint != nil ||
		!slices.Equal(patched.Flags, []string{"x"}) || *patched.FederationID != full["federation_id"] || !patched.SupportsCIBA ||
		resp.Header.Get("ETag") != `"5"` {
		t.Errorf("PATCH = %+v (ETag %s)", patched, resp.Header.Get("ETag"))
	}
	// application/json is accepted for a merge patch; other types are not.
	if got := decodeServer(t, p.Do(t, http.MethodPatch, serverPath(orgID, s.ID), `{"supports_ciba":null}`), http.StatusOK); got.SupportsCIBA {
		t.Errorf("PATCH supports_ciba:null = %+v, want false", got)
	}
	wantProblem(t, p.Do(t, http.MethodPatch, serverPath(orgID, s.ID), `{"status":"Active"}`, "Content-Type", "text/plain"),
		http.StatusUnsupportedMediaType, "unsupported_media_type")
	wantProblem(t, p.Do(t, http.MethodPost, serversPath(orgID), `[1]`), http.StatusBadRequest, "invalid_request")

	resp = p.Do(t, http.MethodPost, serverPath(orgID, s.ID), minimal(nil))
	wantProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := resp.Header.Get("Allow"); got != "DELETE, GET, PATCH, PUT" {
		t.Errorf("Allow %q", got)
	}
	resp = p.Do(t, http.MethodDelete, serversPath(orgID), nil)
	if wantProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed"); resp.Header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", resp.Header.Get("Allow"))
	}

	resp = p.Do(t, http.MethodDelete, serverPath(orgID, s.ID), nil)
	if resp.StatusCode != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("DELETE = %d %s, want 204", resp.StatusCode, resp.Body)
	}
	wantProblem(t, p.Do(t, http.MethodGet, serverPath(orgID, s.ID), nil), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodDelete, serverPath(orgID, s.ID), nil), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodGet, serverPath(orgID, "not-a-uuid"), nil), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodGet, serverPath("not-a-uuid", s.ID), nil), http.StatusNotFound, "not_found")
	unknownOrg := uuid.NewString()
	wantProblem(t, p.Do(t, http.MethodGet, serversPath(unknownOrg), nil), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodPost, serversPath(unknownOrg), minimal(nil)), http.StatusNotFound, "not_found")
	wantProblem(t, p.Do(t, http.MethodPost, serversPath("not-a-uuid"), minimal(nil)), http.StatusNotFound, "not_found")
}

func TestETag(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	s := p.create(t, orgID, nil)
	path := serverPath(orgID, s.ID)

	for _, tc := range []struct {
		method string
		body   any
	}{
		{http.MethodPut, minimal(nil)},
		{http.MethodPatch, map[string]any{"status": "Inactive"}},
		{http.MethodDelete, nil},
	} {
		t.Run(tc.method, func(t *testing.T) {
			wantProblem(t, p.Do(t, tc.method, path, tc.body, "If-Match", `"7"`), http.StatusPreconditionFailed, "precondition_failed")
			wantProblem(t, p.Do(t, tc.method, path, tc.body, "If-Match", `W/"1"`), http.StatusPreconditionFailed, "precondition_failed")
		})
	}
	// Nothing changed; the right ETag (or *) goes through.
	if got := p.get(t, orgID, s.ID); got.UpdatedAt != s.UpdatedAt || got.Status != "Active" {
		t.Errorf("after refused writes %+v", got)
	}
	resp := p.Do(t, http.MethodPatch, path, map[string]any{"status": "Inactive"}, "If-Match", `"1"`)
	if decodeServer(t, resp, http.StatusOK); resp.Header.Get("ETag") != `"2"` {
		t.Errorf("ETag %q, want \"2\"", resp.Header.Get("ETag"))
	}
	decodeServer(t, p.Do(t, http.MethodPut, path, minimal(nil), "If-Match", `"2"`), http.StatusOK)
	wantProblem(t, p.Do(t, http.MethodDelete, path, nil, "If-Match", `"2"`), http.StatusPreconditionFailed, "precondition_failed")
	if resp := p.Do(t, http.MethodDelete, path, nil, "If-Match", "*"); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE If-Match * = %d %s", resp.StatusCode, resp.Body)
	}

	// Concurrent PATCHes with the same If-Match: one wins, the others 412.
	s = p.create(t, orgID, nil)
	var fns []func() apptest.Response
	for i := range 5 {
		fns = append(fns, func() apptest.Response {
			return p.Do(t, http.MethodPatch, serverPath(orgID, s.ID),
				map[string]any{"customer_friendly_name": "n" + string(rune('a'+i))}, "If-Match", `"1"`)
		})
	}
	won := 0
	for _, r := range apptest.Race(fns...) {
		switch r.StatusCode {
		case http.StatusOK:
			won++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("racing PATCH = %d %s", r.StatusCode, r.Body)
		}
	}
	if won != 1 {
		t.Errorf("%d racing PATCHes won, want 1", won)
	}
}

// TestAccess: partner tokens only, organisations:read to read and
// organisations:write to write; a client's token is refused.
func TestAccess(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	s := p.create(t, orgID, nil)
	reader := &caller{p.WithScopes(t, scope.OrganisationsRead)}
	writer := &caller{p.WithScopes(t, scope.OrganisationsWrite)}
	client := p.StoredClient(t, orgID, scope.OrganisationsRead, scope.OrganisationsWrite)

	requests := []struct {
		method, path string
		body         any
		write        bool
	}{
		{http.MethodGet, serversPath(orgID), nil, false},
		{http.MethodPost, serversPath(orgID), minimal(nil), true},
		{http.MethodGet, serverPath(orgID, s.ID), nil, false},
		{http.MethodPut, serverPath(orgID, s.ID), minimal(nil), true},
		{http.MethodPatch, serverPath(orgID, s.ID), map[string]any{"status": "Active"}, true},
		{http.MethodDelete, serverPath(orgID, s.ID), nil, true},
	}
	for _, r := range requests {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			wantProblem(t, e.Request(t, "", r.method, r.path, r.body), http.StatusUnauthorized, "unauthorized")
			wantProblem(t, client.Do(t, r.method, r.path, r.body), http.StatusForbidden, "forbidden")
			denied := reader
			if !r.write {
				denied = writer
			}
			resp := denied.Do(t, r.method, r.path, r.body)
			wantProblem(t, resp, http.StatusForbidden, "forbidden")
			if !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope") {
				t.Errorf("WWW-Authenticate %q, want insufficient_scope", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if got := reader.get(t, orgID, s.ID); got.ID != s.ID {
		t.Errorf("reader GET = %+v", got)
	}
	if resp := writer.Do(t, http.MethodDelete, serverPath(orgID, s.ID), nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("writer DELETE = %d %s", resp.StatusCode, resp.Body)
	}
}

// TestIsolation: another partner's organisation or server is not found on
// any route, nor is a server through another organisation of its partner.
func TestIsolation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p, other := newPartner(t, e), newPartner(t, e)
	orgID, sameP := p.Org(t, nil), p.Org(t, nil)
	otherOrg := other.Org(t, nil)
	s := p.create(t, orgID, nil)
	theirs := other.create(t, otherOrg, nil)

	for _, tc := range []struct {
		name string
		c    *caller
		org  string
		id   string
	}{
		{"another partner's organisation", other, orgID, s.ID},
		{"another partner's server through its own organisation", other, otherOrg, s.ID},
		{"another organisation of the same partner", p, sameP, s.ID},
		{"the other partner's server through the partner's organisation", p, orgID, theirs.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				method string
				body   any
			}{{http.MethodGet, nil}, {http.MethodPut, minimal(nil)}, {http.MethodPatch, map[string]any{"status": "Inactive"}}, {http.MethodDelete, nil}} {
				wantProblem(t, tc.c.Do(t, r.method, serverPath(tc.org, tc.id), r.body), http.StatusNotFound, "not_found")
			}
		})
	}
	wantProblem(t, other.Do(t, http.MethodGet, serversPath(orgID), nil), http.StatusNotFound, "not_found")
	wantProblem(t, other.Do(t, http.MethodPost, serversPath(orgID), minimal(nil)), http.StatusNotFound, "not_found")
	// Another partner's server cannot be referenced either.
	wantProblem(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{"parent_authorisation_server_id": theirs.ID})),
		http.StatusBadRequest, "invalid_request", "parent_authorisation_server_id")
	// Each partner lists its own only; nothing was changed.
	if got := listAll(t, other, otherOrg, 10); len(got) != 1 || got[0].ID != theirs.ID {
		t.Errorf("other partner lists %+v", got)
	}
	if got := listAll(t, p, sameP, 10); len(got) != 0 {
		t.Errorf("an organisation without servers lists %+v", got)
	}
	if got := p.get(t, orgID, s.ID); !equal(got, s) {
		t.Errorf("server after the other partner's attempts = %+v, want %+v", got, s)
	}
}

func equal(a, b server) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
