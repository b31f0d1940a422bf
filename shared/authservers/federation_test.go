package authservers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/federation"
	"github.com/partnerapi/partner-api/shared/store"
)

// fedServer is the federation part of a server's representation.
type fedServer struct {
	ID                 string   `json:"id"`
	ProviderGroups     []string `json:"provider_groups"`
	FederationClientID *string  `json:"federation_client_id"`
	SecretSet          bool     `json:"federation_client_secret_set"`
	Issuer             *string  `json:"issuer"`
	Discovery          *struct {
		TokenEndpoint string `json:"token_endpoint"`
		Error         string `json:"error"`
	} `json:"discovery"`
	Warnings []string `json:"operation_warnings"`
}

func decodeFed(t *testing.T, resp apptest.Response, status int) fedServer {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	var s fedServer
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDiscoveryOnWrite: the discovery document is fetched on create, update
// and refresh; problems are operation warnings (never a 5xx), and a failed
// refresh of the same document keeps the endpoints fetched before.
func TestDiscoveryOnWrite(t *testing.T) {
	e := apptest.New(t, apptest.Options{LoopbackIssuer: true}) // FEDERATION_ALLOW_LOOPBACK=true
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	var mu sync.Mutex
	broken := false
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == "/private"+federation.WellKnown:
			http.Redirect(w, r, "http://10.0.0.1"+federation.WellKnown, http.StatusFound)
		case broken:
			http.Error(w, "down", http.StatusBadGateway)
		default:
			iss := srv.URL + strings.TrimSuffix(r.URL.Path, federation.WellKnown)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
				"jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"},
				"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
			})
		}
	}))
	defer srv.Close()
	doc := srv.URL + "/tenant" + federation.WellKnown

	s := decodeFed(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{"openid_discovery_document": doc})), http.StatusCreated)
	if s.Issuer == nil || *s.Issuer != srv.URL+"/tenant" || s.Discovery == nil || s.Discovery.TokenEndpoint != srv.URL+"/tenant/token" || len(s.Warnings) != 0 {
		t.Fatalf("create: got %+v, want the document's issuer and endpoints, no warning", s)
	}
	mu.Lock()
	broken = true
	mu.Unlock()
	got := decodeFed(t, p.Do(t, http.MethodPost, serverPath(orgID, s.ID)+"/refresh", nil), http.StatusOK)
	if !slices.Equal(got.Warnings, []string{federation.WarnFetchFailed}) || got.Issuer == nil || !strings.Contains(got.Discovery.Error, "502") {
		t.Errorf("failed refresh: got %+v, want a warning and the endpoints kept", got)
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	got = decodeFed(t, p.Do(t, http.MethodPost, serverPath(orgID, s.ID)+"/refresh", nil, "If-Match", `"2"`), http.StatusOK)
	if len(got.Warnings) != 0 || got.Discovery.Error != "" {
		t.Errorf("refresh: got %+v, want no warning", got)
	}
	if resp := p.Do(t, http.MethodPost, serverPath(orgID, s.ID)+"/refresh", nil, "If-Match", `"2"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("refresh with a stale If-Match: got %d, want 412", resp.StatusCode)
	}
	for _, tc := range []struct {
		name, doc, warning string
	}{
		{"redirect to a private address", srv.URL + "/private" + federation.WellKnown, federation.WarnFetchFailed},
		{"metadata address", "http://169.254.169.254" + federation.WellKnown, federation.WarnFetchFailed},
		{"not at the well-known path", srv.URL + "/tenant/openid.json", federation.WarnInvalidLocation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := p.Do(t, http.MethodPatch, serverPath(orgID, s.ID), map[string]any{"openid_discovery_document": tc.doc}, "Content-Type", "application/merge-patch+json")
			got := decodeFed(t, resp, http.StatusOK)
			if !slices.Equal(got.Warnings, []string{tc.warning}) || got.Issuer != nil {
				t.Errorf("got %+v, want warning %s and no issuer (another document)", got, tc.warning)
			}
		})
	}
	if resp := p.Do(t, http.MethodPost, serverPath(orgID, p.create(t, orgID, nil).ID)+"/refresh", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("refresh without a document: got %d, want 400", resp.StatusCode)
	}
}

// TestFederationCredentials: the secret is write-only, encrypted with KMS
// under an encryption context binding it to the partner and server, kept
// by writes that do not name it, dropped with the client id, and audited
// by name only.
func TestFederationCredentials(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	const secret = "upstream-secret-value-1"
	resp := p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{
		"federation_client_id": "broker", "federation_client_secret": secret, "provider_groups": []string{"retail", "sandbox"},
	}))
	s := decodeFed(t, resp, http.StatusCreated)
	if !s.SecretSet || strings.Contains(string(resp.Body), secret) || *s.FederationClientID != "broker" || !slices.Equal(s.ProviderGroups, []string{"retail", "sandbox"}) {
		t.Fatalf("create: %s", resp.Body)
	}
	ctx := context.Background()
	secrets := federation.NewSecrets(e.App.AWS, e.App.Config.FederationKey)
	stored, err := e.App.Store.GetAuthServer(ctx, p.PartnerID, orgID, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.FederationSecret), secret) {
		t.Fatal("the secret is stored in clear")
	}
	if got, err := secrets.Open(ctx, p.PartnerID, s.ID, stored.FederationSecret); err != nil || got != secret {
		t.Errorf("decrypt with its context: %q, %v", got, err)
	}
	if _, err := secrets.Open(ctx, p.PartnerID, "another-server", stored.FederationSecret); err == nil {
		t.Error("the ciphertext decrypts for another server")
	}
	if _, err := secrets.Open(ctx, "another-partner", s.ID, stored.FederationSecret); err == nil {
		t.Error("the ciphertext decrypts for another partner")
	}

	// A PATCH (or PUT) without the secret keeps it; the GET never shows it.
	patch := func(body map[string]any) fedServer {
		return decodeFed(t, p.Do(t, http.MethodPatch, serverPath(orgID, s.ID), body, "Content-Type", "application/merge-patch+json"), http.StatusOK)
	}
	if got := patch(map[string]any{"customer_friendly_name": "Acme"}); !got.SecretSet {
		t.Error("a PATCH without the secret dropped it")
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"empty secret", map[string]any{"federation_client_secret": ""}, "federation_client_secret"},
		{"secret without client id", map[string]any{"federation_client_id": nil, "federation_client_secret": "x"}, "federation_client_secret"},
		{"client id with '<'", map[string]any{"federation_client_id": "<b>"}, "federation_client_id"},
		{"read-only set flag", map[string]any{"federation_client_secret_set": false}, "federation_client_secret_set"},
		{"long provider group", map[string]any{"provider_groups": []string{strings.Repeat("g", 41)}}, "provider_groups[0]"},
		{"unknown auth method", map[string]any{"federation_token_endpoint_auth_method": "tls_client_auth"}, "federation_token_endpoint_auth_method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := p.Do(t, http.MethodPatch, serverPath(orgID, s.ID), tc.body, "Content-Type", "application/merge-patch+json")
			wantProblem(t, resp, http.StatusBadRequest, "invalid_request", tc.field)
		})
	}
	if got := patch(map[string]any{"federation_client_secret": "rotated-secret"}); !got.SecretSet {
		t.Error("rotation lost the secret")
	}
	if got := patch(map[string]any{"federation_client_id": nil}); got.SecretSet || got.FederationClientID != nil {
		t.Errorf("unsetting the client id: got %+v, want no secret", got)
	}

	wantProblem(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{
		"federation_client_id": "broker", "federation_token_endpoint_auth_method": "client_secret_post",
	})), http.StatusBadRequest, "invalid_request", "federation_client_secret")
	pk := decodeFed(t, p.Do(t, http.MethodPost, serversPath(orgID), minimal(map[string]any{
		"federation_client_id": "broker", "federation_token_endpoint_auth_method": "private_key_jwt",
	})), http.StatusCreated)
	if pk.SecretSet {
		t.Errorf("private_key_jwt: got %+v", pk)
	}

	// The audit log names the secret, never its value or ciphertext.
	raw := p.Do(t, http.MethodGet, "/v1/audit-events?limit=100", nil).Body
	if strings.Contains(string(raw), "rotated-secret") || strings.Contains(string(raw), "ciphertext") || !strings.Contains(string(raw), `"`+store.FederationSecretField+`"`) {
		t.Errorf("audit: %s", raw)
	}
}
