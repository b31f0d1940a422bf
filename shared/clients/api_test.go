package clients_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/credential"
)

func TestCreateGetReplacePatchDelete(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, map[string]any{
		"allowed_scopes": []string{"accounts", "address", "openid"}, "allowed_products": []string{"sign_up", "sign_up_plus"},
		"allowed_provider_groups": []string{"sandbox", "idscan"}, "has_production_access": true,
	})
	base := "/v1/organisations/" + orgID + "/clients"

	// Defaults: only name is required.
	resp := p.Do(t, http.MethodPost, base, map[string]any{"name": "Minimal"})
	minimal := decodeClient(t, resp, http.StatusCreated)
	if _, err := uuid.Parse(minimal.ID); err != nil {
		t.Errorf("generated id %q, want a UUID", minimal.ID)
	}
	if got, want := resp.Header.Get("Location"), "/v1/clients/"+minimal.ID; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if resp.Header.Get("ETag") != `"1"` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("create headers %v", resp.Header)
	}
	rfc3339UTC := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	if minimal.OrganisationID != orgID || minimal.TokenSigningAlgorithm != "ES384" || minimal.AccessTokenLifetime != 3600 ||
		!minimal.Enabled || minimal.IsProduction || minimal.SelectedProduct != nil ||
		minimal.AdditionalScopes == nil || len(minimal.AdditionalScopes) != 0 || minimal.ReturnURLs == nil ||
		!rfc3339UTC.MatchString(minimal.CreatedAt) || minimal.CreatedAt != minimal.UpdatedAt {
		t.Errorf("created %+v, want the defaults", minimal)
	}
	if len(minimal.Secret) < 43 {
		t.Errorf("generated secret of %d characters, want at least 43 (256 bits)", len(minimal.Secret))
	}

	// Every attribute, with a caller-chosen id and secret.
	chosen := "Chosen-secret_0123456789abcdefghijklmnop"
	full := decodeClient(t, p.Do(t, http.MethodPost, base, map[string]any{
		"client_id": "acme-web-1", "client_secret": chosen, "name": "Full", "token_signing_algorithm": "PS256",
		"additional_scopes": []string{"address", "accounts"}, "required_scopes": []string{"openid"},
		"return_urls":   []string{"https://app.example.com/cb?x=1", "http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb"},
		"is_production": false, "selected_product": "sign_up", "allowed_provider_groups": []string{"idscan"},
		"access_token_lifetime": 300, "enabled": false,
	}), http.StatusCreated)
	if full.ID != "acme-web-1" || full.Secret != chosen || full.TokenSigningAlgorithm != "PS256" ||
		!slices.Equal(full.AdditionalScopes, []string{"accounts", "address"}) || !slices.Equal(full.RequiredScopes, []string{"openid"}) ||
		len(full.ReturnURLs) != 4 || *full.SelectedProduct != "sign_up" || !slices.Equal(full.AllowedProviderGroups, []string{"idscan"}) ||
		full.AccessTokenLifetime != 300 || full.Enabled {
		t.Errorf("created %+v", full)
	}
	// The token endpoint reads the same item: the principal carries the
	// union of the scopes, the algorithm and the lifetime.
	pr, err := e.App.Store.GetPrincipal(context.Background(), full.ID)
	if err != nil || pr.Kind != "client" || pr.PartnerID != p.PartnerID || pr.OrganisationID != orgID ||
		!slices.Equal(slices.Sorted(slices.Values(pr.Scopes)), []string{"accounts", "address", "openid"}) ||
		!slices.Equal(pr.RequiredScopes, []string{"openid"}) || pr.Algorithm != "PS256" || pr.TokenLifetime != 300 || pr.Enabled {
		t.Errorf("principal %+v (%v)", pr, err)
	}
	if ok, _ := credential.Verify(chosen, pr.SecretHash); !ok || strings.Contains(pr.SecretHash, chosen) {
		t.Error("stored hash does not verify the chosen secret (or holds it in clear)")
	}

	// GET never shows the secret.
	resp = p.Do(t, http.MethodGet, "/v1/clients/"+full.ID, nil)
	got := decodeClient(t, resp, http.StatusOK)
	full.Secret = ""
	if !equalClient(got, full) || resp.Header.Get("ETag") != `"1"` || strings.Contains(string(resp.Body), `"secret"`) {
		t.Errorf("GET = %s, want %+v", resp.Body, full)
	}

	// PUT replaces everything; absent optional attributes take defaults.
	e.Clock.Advance(2 * time.Second)
	resp = p.Do(t, http.MethodPut, "/v1/clients/"+full.ID, map[string]any{"name": "Replaced", "is_production": true, "return_urls": []string{"https://prod.example.com/cb"}})
	put := decodeClient(t, resp, http.StatusOK)
	if resp.Header.Get("ETag") != `"2"` || put.Name != "Replaced" || !put.IsProduction || put.TokenSigningAlgorithm != "ES384" ||
		len(put.AdditionalScopes) != 0 || put.SelectedProduct != nil || !put.Enabled || put.AccessTokenLifetime != 3600 ||
		put.CreatedAt != full.CreatedAt || put.UpdatedAt == full.UpdatedAt || strings.Contains(string(resp.Body), `"secret"`) {
		t.Errorf("PUT = %s", resp.Body)
	}
	// The secret survives updates.
	if pr, _ := e.App.Store.GetPrincipal(context.Background(), full.ID); func() bool { ok, _ := credential.Verify(chosen, pr.SecretHash); return !ok }() {
		t.Error("PUT changed the secret")
	}

	// PATCH changes what it names; null resets to the default.
	resp = p.Do(t, http.MethodPatch, "/v1/clients/"+full.ID, `{"selected_product":"sign_up_plus","additional_scopes":["accounts"],"is_production":null,"return_urls":null}`,
		"Content-Type", "application/merge-patch+json")
	patched := decodeClient(t, resp, http.StatusOK)
	if patched.Name != "Replaced" || *patched.SelectedProduct != "sign_up_plus" || !slices.Equal(patched.AdditionalScopes, []string{"accounts"}) ||
		patched.IsProduction || len(patched.ReturnURLs) != 0 || resp.Header.Get("ETag") != `"3"` || strings.Contains(string(resp.Body), `"secret"`) {
		t.Errorf("PATCH = %s", resp.Body)
	}
	patched = decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+full.ID, `{"selected_product":null}`), http.StatusOK)
	if patched.SelectedProduct != nil || !slices.Equal(patched.AdditionalScopes, []string{"accounts"}) {
		t.Errorf("PATCH selected_product:null = %+v", patched)
	}
	wantProblem(t, p.Do(t, http.MethodPatch, "/v1/clients/"+full.ID, `{"name":null}`), 400, "invalid_request", "name")
	wantProblem(t, p.Do(t, http.MethodPatch, "/v1/clients/"+full.ID, `{"name":"x"}`, "Content-Type", "text/plain"), 415, "unsupported_media_type")

	// The list holds both, without secrets.
	if items := listAll(t, p, orgID, 1); len(items) != 2 || items[0].ID != full.ID && items[1].ID != full.ID {
		t.Errorf("list = %+v", items)
	}

	resp = p.Do(t, http.MethodDelete, "/v1/clients/"+full.ID, nil)
	if resp.StatusCode != http.StatusNoContent || len(resp.Body) != 0 {
		t.Fatalf("DELETE = %d %s, want 204", resp.StatusCode, resp.Body)
	}
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/clients/"+full.ID, nil), 404, "not_found")
	wantProblem(t, p.Do(t, http.MethodDelete, "/v1/clients/"+full.ID, nil), 404, "not_found")
	if _, err := e.App.Store.GetPrincipal(context.Background(), full.ID); err == nil {
		t.Error("the principal item outlived the client")
	}
	// The id is free again.
	decodeClient(t, p.Do(t, http.MethodPost, base, map[string]any{"name": "Again", "client_id": "acme-web-1"}), http.StatusCreated)

	resp = p.Do(t, http.MethodPost, "/v1/clients/"+minimal.ID, map[string]any{"name": "x"})
	wantProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := resp.Header.Get("Allow"); got != "DELETE, GET, PATCH, PUT" {
		t.Errorf("Allow %q", got)
	}
	resp = p.Do(t, http.MethodGet, "/v1/clients/"+minimal.ID+"/secret", nil)
	if wantProblem(t, resp, http.StatusMethodNotAllowed, "method_not_allowed"); resp.Header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", resp.Header.Get("Allow"))
	}
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/clients/"+minimal.ID+"/nope", nil), 404, "not_found")
	wantProblem(t, p.Do(t, http.MethodGet, "/v1/clients/x", nil), 404, "not_found")

	// No secret was logged, by the requests or their errors.
	log := e.Log.String()
	for _, s := range []string{minimal.Secret, chosen, p.Secret} {
		if strings.Contains(log, s) {
			t.Error("a secret appears in the log")
		}
	}
}

func equalClient(a, b client) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestIfMatch(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	cl := p.create(t, p.Org(t, nil), map[string]any{"name": "Versioned"})
	path := "/v1/clients/" + cl.ID

	wantProblem(t, p.Do(t, http.MethodPut, path, `{"name":"a"}`, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodPatch, path, `{"name":"a"}`, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodDelete, path, nil, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodPost, path+"/secret", nil, "If-Match", `"2"`), 412, "precondition_failed")
	wantProblem(t, p.Do(t, http.MethodPut, path, `{"name":"a"}`, "If-Match", `1`), 400, "invalid_request", "If-Match")

	if resp := p.Do(t, http.MethodPut, path, `{"name":"b"}`, "If-Match", `"1"`); resp.StatusCode != 200 || resp.Header.Get("ETag") != `"2"` {
		t.Fatalf("PUT with the current ETag = %d %s", resp.StatusCode, resp.Body)
	}
	if resp := p.Do(t, http.MethodPatch, path, `{"name":"c"}`, "If-Match", `"9", "2"`); resp.StatusCode != 200 || resp.Header.Get("ETag") != `"3"` {
		t.Fatalf("PATCH with a matching ETag in a list = %d %s", resp.StatusCode, resp.Body)
	}
	if resp := p.Do(t, http.MethodPost, path+"/secret", nil, "If-Match", `"3"`); resp.StatusCode != 200 || resp.Header.Get("ETag") != `"4"` {
		t.Fatalf("rotation with the current ETag = %d %s", resp.StatusCode, resp.Body)
	}
	wantProblem(t, p.Do(t, http.MethodDelete, path, nil, "If-Match", `"3"`), 412, "precondition_failed")
	if resp := p.Do(t, http.MethodDelete, path, nil, "If-Match", `"4"`); resp.StatusCode != 204 {
		t.Fatalf("DELETE with the current ETag = %d %s", resp.StatusCode, resp.Body)
	}
}
