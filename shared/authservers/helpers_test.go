package authservers_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// These tests run the whole service (apptest) against DynamoDB Local and
// moto's KMS: partners get real tokens at the token endpoint.

// server is an authorisation server as the API returns it.
type server struct {
	ID                                  string   `json:"id"`
	OrganisationID                      string   `json:"organisation_id"`
	AutoRegistrationSupported           bool     `json:"auto_registration_supported"`
	AutoRegistrationNotificationWebhook *string  `json:"auto_registration_notification_webhook"`
	CustomerFriendlyDescription         string   `json:"customer_friendly_description"`
	CustomerFriendlyLogoURI             *string  `json:"customer_friendly_logo_uri"`
	CustomerFriendlyName                string   `json:"customer_friendly_name"`
	DeveloperPortalURI                  *string  `json:"developer_portal_uri"`
	TermsOfServiceURI                   *string  `json:"terms_of_service_uri"`
	NotificationWebhook                 *string  `json:"notification_webhook"`
	OpenIDDiscoveryDocument             *string  `json:"openid_discovery_document"`
	PayloadSigningCertLocationURI       *string  `json:"payload_signing_cert_location_uri"`
	ParentAuthorisationServerID         *string  `json:"parent_authorisation_server_id"`
	DeprecatedDate                      *string  `json:"deprecated_date"`
	RetirementDate                      *string  `json:"retirement_date"`
	SupersededByAuthorisationServerID   *string  `json:"superseded_by_authorisation_server_id"`
	FederationID                        *string  `json:"federation_id"`
	FederationEndpoint                  *string  `json:"federation_endpoint"`
	Flags                               []string `json:"flags"`
	Status                              string   `json:"status"`
	SupportsCIBA                        bool     `json:"supports_ciba"`
	SupportsDCR                         bool     `json:"supports_dcr"`
	SupportsRedirect                    bool     `json:"supports_redirect"`
	CreatedAt                           string   `json:"created_at"`
	UpdatedAt                           string   `json:"updated_at"`
}

// caller is a partner or client of the service under test, with this
// package's helpers.
type caller struct{ *apptest.Caller }

// newPartner creates a partner and a token with every partner scope.
func newPartner(t *testing.T, e *apptest.Env) *caller {
	t.Helper()
	return &caller{apptest.NewPartner(t, e)}
}

// minimal is the smallest valid body, with extra members set.
func minimal(extra map[string]any) map[string]any {
	body := map[string]any{
		"auto_registration_supported": false, "customer_friendly_name": "Acme Bank",
		"customer_friendly_description": "Sign in with Acme Bank",
	}
	maps.Copy(body, extra)
	return body
}

// create creates a server of organisation orgID from minimal(extra),
// failing the test unless it gets 201.
func (c *caller) create(t *testing.T, orgID string, extra map[string]any) server {
	t.Helper()
	return decodeServer(t, c.Do(t, http.MethodPost, serversPath(orgID), minimal(extra)), http.StatusCreated)
}

func (c *caller) get(t *testing.T, orgID, id string) server {
	t.Helper()
	return decodeServer(t, c.Do(t, http.MethodGet, serverPath(orgID, id), nil), http.StatusOK)
}

func serversPath(orgID string) string { return "/v1/organisations/" + orgID + "/authorisation-servers" }

func serverPath(orgID, id string) string { return serversPath(orgID) + "/" + id }

// decodeServer checks resp's status and returns its server.
func decodeServer(t *testing.T, resp apptest.Response, status int) server {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	var s server
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		t.Fatalf("decode server %s: %v", resp.Body, err)
	}
	return s
}

// listAll walks every page of an organisation's servers.
func listAll(t *testing.T, c *caller, orgID string, limit int) []server {
	t.Helper()
	get := func(path string) apptest.Response { return c.Do(t, http.MethodGet, path, nil) }
	return apptest.ListAll(t, get, serversPath(orgID), limit, func(s server) string { return s.ID })
}

// wantProblem is apptest.WantProblem.
var wantProblem = apptest.WantProblem
