package authservers_test

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

// TestValidation sends each invalid body to POST, PUT and PATCH (where it
// applies) and checks the status, code and every field named. POST and PUT
// send minimal() with the case's members set and removed; PATCH sends the
// case's members only.
func TestValidation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID, otherOrg := p.Org(t, nil), p.Org(t, nil)
	target := p.create(t, orgID, nil)
	sibling := p.create(t, orgID, nil)
	elsewhere := p.create(t, otherOrg, nil)

	const (
		post = 1 << iota
		put
		patch
		all = post | put | patch
	)
	long := strings.Repeat("x", 256)
	longURI := "https://example.com/" + strings.Repeat("p", 236) // 256 characters
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nrest"))
	items := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("flag-", i)
		}
		return out
	}
	uriFields := []string{
		"auto_registration_notification_webhook", "developer_portal_uri", "terms_of_service_uri",
		"notification_webhook", "openid_discovery_document", "payload_signing_cert_location_uri", "federation_endpoint",
	}
	type tc struct {
		name    string
		methods int
		set     map[string]any
		del     []string
		fields  []string
	}
	cases := []tc{
		{"required members missing", post | put, nil, []string{"auto_registration_supported", "customer_friendly_name", "customer_friendly_description"},
			[]string{"auto_registration_supported", "customer_friendly_name", "customer_friendly_description"}},
		{"required members null", all, map[string]any{"auto_registration_supported": nil, "customer_friendly_name": nil, "customer_friendly_description": nil}, nil,
			[]string{"auto_registration_supported", "customer_friendly_name", "customer_friendly_description"}},
		{"auto_registration_supported not a boolean", all, map[string]any{"auto_registration_supported": "yes"}, nil, []string{"auto_registration_supported"}},
		{"name blank", all, map[string]any{"customer_friendly_name": "  "}, nil, []string{"customer_friendly_name"}},
		{"name too long", all, map[string]any{"customer_friendly_name": long}, nil, []string{"customer_friendly_name"}},
		{"name with angle brackets", all, map[string]any{"customer_friendly_name": "<b>Acme</b>"}, nil, []string{"customer_friendly_name"}},
		{"name not a string", all, map[string]any{"customer_friendly_name": 42}, nil, []string{"customer_friendly_name"}},
		{"description blank", all, map[string]any{"customer_friendly_description": ""}, nil, []string{"customer_friendly_description"}},
		{"description too long", all, map[string]any{"customer_friendly_description": long}, nil, []string{"customer_friendly_description"}},
		{"description with angle brackets", all, map[string]any{"customer_friendly_description": "a > b"}, nil, []string{"customer_friendly_description"}},
		{"federation_endpoint over http", all, map[string]any{"federation_endpoint": "http://federation.example"}, nil, []string{"federation_endpoint"}},
		{"logo of another type", all, map[string]any{"customer_friendly_logo_uri": "https://cdn.example/logo.gif"}, nil, []string{"customer_friendly_logo_uri"}},
		{"logo without extension", all, map[string]any{"customer_friendly_logo_uri": "https://cdn.example/logo"}, nil, []string{"customer_friendly_logo_uri"}},
		{"logo over ftp", all, map[string]any{"customer_friendly_logo_uri": "ftp://cdn.example/logo.png"}, nil, []string{"customer_friendly_logo_uri"}},
		{"logo URL too long", all, map[string]any{"customer_friendly_logo_uri": longURI[:252] + ".png"}, nil, []string{"customer_friendly_logo_uri"}},
		{"logo data URI not base64", all, map[string]any{"customer_friendly_logo_uri": "data:image/png;base64,!!!"}, nil, []string{"customer_friendly_logo_uri"}},
		// logo data URI of another type: a warning, see TestLogoWarnings
		// logo data URI not the declared image: a warning, see TestLogoWarnings
		// logo data URI too large: a warning, see TestLogoWarnings
		{"parent id empty", all, map[string]any{"parent_authorisation_server_id": ""}, nil, []string{"parent_authorisation_server_id"}},
		{"parent id too long", all, map[string]any{"parent_authorisation_server_id": strings.Repeat("a", 41)}, nil, []string{"parent_authorisation_server_id"}},
		{"parent id with angle brackets", all, map[string]any{"parent_authorisation_server_id": "<x>"}, nil, []string{"parent_authorisation_server_id"}},
		{"parent unknown", all, map[string]any{"parent_authorisation_server_id": "6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11"}, nil, []string{"parent_authorisation_server_id"}},
		{"parent not a server id", all, map[string]any{"parent_authorisation_server_id": "acme-1"}, nil, []string{"parent_authorisation_server_id"}},
		{"parent in another organisation", all, map[string]any{"parent_authorisation_server_id": elsewhere.ID}, nil, []string{"parent_authorisation_server_id"}},
		{"parent is the server itself", put | patch, map[string]any{"parent_authorisation_server_id": target.ID}, nil, []string{"parent_authorisation_server_id"}},
		{"superseded_by too long", all, map[string]any{"superseded_by_authorisation_server_id": strings.Repeat("a", 41)}, nil, []string{"superseded_by_authorisation_server_id"}},
		{"superseded_by unknown", all, map[string]any{"superseded_by_authorisation_server_id": "6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11"}, nil, []string{"superseded_by_authorisation_server_id"}},
		{"superseded_by in another organisation", all, map[string]any{"superseded_by_authorisation_server_id": elsewhere.ID}, nil, []string{"superseded_by_authorisation_server_id"}},
		{"superseded_by the server itself", put | patch, map[string]any{"superseded_by_authorisation_server_id": strings.ToUpper(target.ID)}, nil, []string{"superseded_by_authorisation_server_id"}},
		{"deprecated_date not a date", all, map[string]any{"deprecated_date": "2027-02-30"}, nil, []string{"deprecated_date"}},
		{"deprecated_date short form", all, map[string]any{"deprecated_date": "2027-1-01"}, nil, []string{"deprecated_date"}},
		{"retirement_date a timestamp", all, map[string]any{"retirement_date": "2027-01-01T00:00:00Z"}, nil, []string{"retirement_date"}},
		{"retirement before deprecation", all, map[string]any{"deprecated_date": "2027-06-30", "retirement_date": "2027-06-29"}, nil, []string{"retirement_date"}},
		{"federation_id not a UUID", all, map[string]any{"federation_id": "federation-1"}, nil, []string{"federation_id"}},
		{"flags too many", all, map[string]any{"flags": items(51)}, nil, []string{"flags"}},
		{"flag too long", all, map[string]any{"flags": []string{strings.Repeat("f", 41)}}, nil, []string{"flags[0]"}},
		{"flag repeated", all, map[string]any{"flags": []string{"a", "b", "a"}}, nil, []string{"flags[2]"}},
		{"flag empty and with brackets", all, map[string]any{"flags": []string{"", "<a>"}}, nil, []string{"flags[0]", "flags[1]"}},
		{"flags not a list", all, map[string]any{"flags": "a"}, nil, []string{"flags"}},
		{"flag not a string", all, map[string]any{"flags": []any{1}}, nil, []string{"flags[0]"}},
		{"status in lower case", all, map[string]any{"status": "active"}, nil, []string{"status"}},
		{"capability flag not a boolean", all, map[string]any{"supports_ciba": "true", "supports_dcr": 1, "supports_redirect": "no"}, nil,
			[]string{"supports_ciba", "supports_dcr", "supports_redirect"}},
		{"unknown member", all, map[string]any{"issuer": "https://auth.example"}, nil, []string{"issuer"}},
		{"read-only members", all, map[string]any{"id": "x", "organisation_id": orgID, "created_at": "x", "updated_at": "x"}, nil,
			[]string{"id", "organisation_id", "created_at", "updated_at"}},
		{"every violation at once", all, map[string]any{
			"customer_friendly_name": "", "developer_portal_uri": "javascript:alert(1)", "federation_endpoint": "http://f.example",
			"retirement_date": "tomorrow", "flags": []string{"a", "a"}, "status": "Retired", "extra": true,
		}, nil, []string{"customer_friendly_name", "developer_portal_uri", "federation_endpoint", "retirement_date", "flags[1]", "status", "extra"}},
	}
	for _, f := range uriFields {
		cases = append(cases,
			tc{f + " not http", all, map[string]any{f: "ftp://auth.example/x"}, nil, []string{f}},
			tc{f + " empty", all, map[string]any{f: ""}, nil, []string{f}},
			tc{f + " without host", all, map[string]any{f: "https://"}, nil, []string{f}},
			tc{f + " with user info", all, map[string]any{f: "https://user:pass@auth.example/"}, nil, []string{f}},
			tc{f + " with a space", all, map[string]any{f: "https://auth.example/a b"}, nil, []string{f}},
			tc{f + " too long", all, map[string]any{f: longURI}, nil, []string{f}},
			tc{f + " not a string", all, map[string]any{f: true}, nil, []string{f}},
		)
	}
	for _, c := range cases {
		for _, m := range []struct {
			bit    int
			method string
		}{{post, http.MethodPost}, {put, http.MethodPut}, {patch, http.MethodPatch}} {
			if c.methods&m.bit == 0 {
				continue
			}
			t.Run(c.name+"/"+m.method, func(t *testing.T) {
				body := minimal(c.set)
				for _, k := range c.del {
					delete(body, k)
				}
				path := serverPath(orgID, target.ID)
				switch m.method {
				case http.MethodPost:
					path = serversPath(orgID)
				case http.MethodPatch:
					body = maps.Clone(c.set)
				}
				wantProblem(t, p.Do(t, m.method, path, body), http.StatusBadRequest, "invalid_request", c.fields...)
			})
		}
	}
	// Nothing was changed by the refused writes.
	if got := p.get(t, orgID, target.ID); got.UpdatedAt != target.UpdatedAt || got.CustomerFriendlyName != target.CustomerFriendlyName {
		t.Errorf("target after refused writes = %+v, want %+v", got, target)
	}

	// The boundaries that are accepted.
	valid := []struct {
		name string
		set  map[string]any
	}{
		{"255-character name and description", map[string]any{"customer_friendly_name": long[:255], "customer_friendly_description": long[:255]}},
		{"255-character URIs", map[string]any{"developer_portal_uri": longURI[:255], "notification_webhook": "http://hooks.example"}},
		{"http logo in upper case", map[string]any{"customer_friendly_logo_uri": "http://cdn.example/LOGO.PNG"}},
		{"jpeg logo with a query", map[string]any{"customer_friendly_logo_uri": "https://cdn.example/logo.jpeg?v=2"}},
		{"png data logo", map[string]any{"customer_friendly_logo_uri": "data:image/png;base64," + png}},
		{"svg data logo", map[string]any{"customer_friendly_logo_uri": "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))}},
		{"retirement on the deprecation day", map[string]any{"deprecated_date": "2028-02-29", "retirement_date": "2028-02-29"}},
		{"retirement without deprecation", map[string]any{"retirement_date": "2030-01-01"}},
		{"federation", map[string]any{"federation_id": "3F2B8C1E-9A4D-4E7B-8C2A-1D5E6F7A8B9C", "federation_endpoint": "https://federation.example/entity"}},
		{"50 flags of 40 characters", map[string]any{"flags": append(items(49), strings.Repeat("f", 40))}},
		{"parent and superseded_by the same sibling", map[string]any{"parent_authorisation_server_id": sibling.ID, "superseded_by_authorisation_server_id": strings.ToUpper(sibling.ID)}},
		{"inactive", map[string]any{"status": "Inactive"}},
		{"optional members null", map[string]any{"developer_portal_uri": nil, "flags": nil, "status": nil, "supports_dcr": nil}},
	}
	for _, c := range valid {
		t.Run("valid/"+c.name, func(t *testing.T) {
			s := p.create(t, orgID, c.set)
			if c.set["superseded_by_authorisation_server_id"] != nil && *s.SupersededByAuthorisationServerID != sibling.ID {
				t.Errorf("superseded_by = %v, want the canonical id %s", *s.SupersededByAuthorisationServerID, sibling.ID)
			}
			if c.set["status"] == nil && s.Status != "Active" || s.Flags == nil {
				t.Errorf("created %+v, want the defaults", s)
			}
		})
	}
}
