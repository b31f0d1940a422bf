// Package e2e is the end-to-end suite: it talks to a running Partner API over
// HTTP only, as a partner's script would.
//
// With E2E_BASE_URL (and E2E_CLIENT_ID, E2E_CLIENT_SECRET of a partner) it
// runs against that deployment — LocalStack, AWS or `make run`:
//
//	make e2e BASE_URL=https://abc123.execute-api.eu-west-2.amazonaws.com/prod CLIENT_ID=... CLIENT_SECRET=...
//
// Without, each test starts the whole service in process on loopback, with
// DynamoDB Local and moto, so `make test` runs the suite too.
package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
)

func TestMain(m *testing.M) {
	if os.Getenv("E2E_BASE_URL") != "" {
		os.Exit(m.Run()) // a deployed API: no emulators needed
	}
	testenv.Main(m)
}

// api is the deployment under test and a partner's credentials.
type api struct {
	base, id, secret string
	client           *http.Client
}

// target returns the API under test; every response its client receives is
// checked against openapi.yaml (see contract).
func target(t *testing.T) *api {
	t.Helper()
	a := &api{}
	if base := os.Getenv("E2E_BASE_URL"); base != "" {
		a.base, a.id, a.secret = strings.TrimSuffix(base, "/"), os.Getenv("E2E_CLIENT_ID"), os.Getenv("E2E_CLIENT_SECRET")
		if a.id == "" || a.secret == "" {
			t.Fatal("E2E_BASE_URL is set: E2E_CLIENT_ID and E2E_CLIENT_SECRET must be too")
		}
	} else {
		e := apptest.New(t, apptest.Options{})
		a.base = e.Server.URL
		a.id, a.secret = e.Partner(t)
	}
	checked, err := newContract(a.base, http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	a.client = &http.Client{Timeout: 30 * time.Second, Transport: checked}
	return a
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request; headers come in pairs.
func (a *api) do(t *testing.T, method, path string, body []byte, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("x-fapi-interaction-id") == "" {
		t.Errorf("%s %s: no x-fapi-interaction-id in the response", method, path)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func (a *api) token(t *testing.T, form url.Values) response {
	t.Helper()
	form.Set("grant_type", "client_credentials")
	req, _ := http.NewRequest(http.MethodPost, a.base+"/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.id), url.QueryEscape(a.secret))
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("POST /v1/token: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

func (a *api) accessToken(t *testing.T) string {
	t.Helper()
	r := a.token(t, url.Values{})
	if r.status != 200 {
		t.Fatalf("token: status %d: %s", r.status, r.body)
	}
	return r.json(t)["access_token"].(string)
}

// call sends a JSON request with the bearer token.
func (a *api) call(t *testing.T, tok, method, path, body string, headers ...string) response {
	t.Helper()
	h := append([]string{"Authorization", "Bearer " + tok, "Content-Type", "application/json"}, headers...)
	return a.do(t, method, path, []byte(body), h...)
}

func TestDiscoveryAndTokenVerification(t *testing.T) {
	a := target(t)
	meta := a.do(t, http.MethodGet, "/.well-known/oauth-authorization-server", nil).json(t)
	for _, k := range []string{"issuer", "token_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint"} {
		if s, _ := meta[k].(string); s == "" {
			t.Errorf("metadata %s is missing", k)
		}
	}
	if !strings.HasSuffix(meta["token_endpoint"].(string), "/v1/token") {
		t.Errorf("token_endpoint = %v", meta["token_endpoint"])
	}
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(a.do(t, http.MethodGet, "/.well-known/jwks.json", nil).body, &jwks); err != nil || len(jwks.Keys) < 3 {
		t.Fatalf("JWKS: %d keys, %v; want at least 3", len(jwks.Keys), err)
	}

	r := a.token(t, url.Values{})
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: status %d Cache-Control %q: %s", r.status, r.header.Get("Cache-Control"), r.body)
	}
	raw := r.json(t)["access_token"].(string)
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.PS256, jose.ES384, jose.ES512})
	if err != nil {
		t.Fatal(err)
	}
	keys := jwks.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("the token's kid is not in the JWKS")
	}
	var claims josejwt.Claims
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("the token does not verify against the JWKS: %v", err)
	}
	if claims.Issuer != meta["issuer"] || claims.Subject != a.id {
		t.Errorf("iss %q sub %q, want %v and %s", claims.Issuer, claims.Subject, meta["issuer"], a.id)
	}

	// Introspect, revoke, and see the revoked token refused.
	form := func(v url.Values) []byte { return []byte(v.Encode()) }
	basicAuth := "Basic " + basic(a.id, a.secret)
	in := a.do(t, http.MethodPost, "/v1/token/introspect", form(url.Values{"token": {raw}}),
		"Content-Type", "application/x-www-form-urlencoded", "Authorization", basicAuth).json(t)
	if in["active"] != true {
		t.Errorf("introspection = %v, want active", in)
	}
	if got := a.call(t, raw, http.MethodGet, "/v1/organisations", "").status; got != 200 {
		t.Errorf("list with a fresh token: status %d", got)
	}
	if r := a.do(t, http.MethodPost, "/v1/token/revoke", form(url.Values{"token": {raw}}),
		"Content-Type", "application/x-www-form-urlencoded", "Authorization", basicAuth); r.status != 200 {
		t.Fatalf("revoke: status %d", r.status)
	}
	if got := a.call(t, raw, http.MethodGet, "/v1/organisations", "").status; got != 401 {
		t.Errorf("list with a revoked token: status %d, want 401", got)
	}
}

func basic(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}

// TestOrganisationTree builds a three-level tree the way the README shows,
// checks the rules a partner meets, and removes it again.
func TestOrganisationTree(t *testing.T) {
	a := target(t)
	tok := a.accessToken(t)
	create := func(body string) map[string]any {
		t.Helper()
		r := a.call(t, tok, http.MethodPost, "/v1/organisations", body)
		if r.status != 201 || !strings.HasPrefix(r.header.Get("Location"), "/v1/organisations/") || r.header.Get("ETag") == "" {
			t.Fatalf("create: status %d Location %q: %s", r.status, r.header.Get("Location"), r.body)
		}
		return r.json(t)
	}
	suffix := uuid.NewString()[:8]
	root := create(`{"name":"e2e root ` + suffix + `","allowed_products":["sign_up","sign_up_plus"],"has_production_access":true}`)
	child := create(`{"name":"e2e child","parent_id":"` + root["id"].(string) + `","allowed_products":["sign_up"]}`)
	grandchild := create(`{"name":"e2e grandchild","parent_id":"` + child["id"].(string) + `"}`)
	ids := []string{grandchild["id"].(string), child["id"].(string), root["id"].(string)}
	t.Cleanup(func() {
		for _, id := range ids {
			a.call(t, tok, http.MethodDelete, "/v1/organisations/"+id, "")
		}
	})
	if got := grandchild["allowed_products"].([]any); len(got) != 1 || got[0] != "sign_up" {
		t.Errorf("grandchild allowed_products = %v, want the parent's [sign_up]", got)
	}

	// Rules: a wider child, production access the parent lacks, a cycle.
	for name, tc := range map[string]struct{ method, path, body, field string }{
		"wider products": {http.MethodPost, "/v1/organisations", `{"name":"x","parent_id":"` + ids[1] + `","allowed_products":["sign_up_plus"]}`, "allowed_products[0]"},
		"production":     {http.MethodPost, "/v1/organisations", `{"name":"x","parent_id":"` + ids[1] + `","has_production_access":true}`, "has_production_access"},
		"cycle":          {http.MethodPatch, "/v1/organisations/" + ids[2], `{"parent_id":"` + ids[0] + `"}`, "parent_id"},
		"unknown field":  {http.MethodPost, "/v1/organisations", `{"name":"x","colour":"red"}`, "colour"},
	} {
		r := a.call(t, tok, tc.method, tc.path, tc.body)
		if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: got %d %s, want 400 naming %s", name, r.status, r.body, tc.field)
		}
	}

	// Listing children, If-Match, and the delete order.
	list := a.call(t, tok, http.MethodGet, "/v1/organisations?parent_id="+ids[1], "").json(t)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != ids[0] {
		t.Errorf("children of the child = %v, want the grandchild", items)
	}
	got := a.call(t, tok, http.MethodGet, "/v1/organisations/"+ids[1], "")
	etag := got.header.Get("ETag")
	if r := a.call(t, tok, http.MethodPatch, "/v1/organisations/"+ids[1], `{"name":"renamed"}`, "If-Match", etag); r.status != 200 {
		t.Fatalf("patch with the current ETag: status %d: %s", r.status, r.body)
	}
	if r := a.call(t, tok, http.MethodPatch, "/v1/organisations/"+ids[1], `{"name":"again"}`, "If-Match", etag); r.status != 412 {
		t.Errorf("patch with a stale ETag: status %d, want 412", r.status)
	}
	if r := a.call(t, tok, http.MethodDelete, "/v1/organisations/"+ids[2], ""); r.status != 409 {
		t.Errorf("delete of a parent: status %d, want 409", r.status)
	}
	for _, id := range ids {
		if r := a.call(t, tok, http.MethodDelete, "/v1/organisations/"+id, ""); r.status != 204 {
			t.Errorf("delete %s: status %d: %s", id, r.status, r.body)
		}
	}
	if r := a.call(t, tok, http.MethodGet, "/v1/organisations/"+ids[0], ""); r.status != 404 {
		t.Errorf("get after delete: status %d, want 404", r.status)
	}
}

func TestErrorShapes(t *testing.T) {
	a := target(t)
	tok := a.accessToken(t)
	tests := []struct {
		name   string
		do     func() response
		status int
		want   string
	}{
		{"wrong secret", func() response {
			b := *a
			b.secret = "wrong-secret"
			return b.token(t, url.Values{})
		}, 401, `"error":"invalid_client"`},
		{"unsupported scope", func() response { return a.token(t, url.Values{"scope": {"everything"}}) }, 400, `"error":"invalid_scope"`},
		{"no bearer token", func() response { return a.do(t, http.MethodGet, "/v1/organisations", nil) }, 401, `"code":"unauthorized"`},
		{"bad interaction id", func() response {
			return a.call(t, tok, http.MethodGet, "/v1/organisations", "", "x-fapi-interaction-id", "not-a-uuid")
		}, 400, `"field":"x-fapi-interaction-id"`},
		{"unknown organisation", func() response {
			return a.call(t, tok, http.MethodGet, "/v1/organisations/"+uuid.NewString(), "")
		}, 404, `"code":"not_found"`},
		{"wrong media type", func() response {
			return a.do(t, http.MethodPost, "/v1/organisations", []byte("name=x"), "Authorization", "Bearer "+tok, "Content-Type", "text/plain")
		}, 415, `"code":"unsupported_media_type"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			if r.status != tc.status || !strings.Contains(string(r.body), tc.want) {
				t.Errorf("got %d %s, want %d with %s", r.status, r.body, tc.status, tc.want)
			}
			if strings.Contains(string(r.body), a.secret) {
				t.Error("the response contains the partner's secret")
			}
		})
	}
}

// TestClientLifecycle creates an organisation's client, gets its token,
// rotates its secret with an overlap, disables it, and deletes it.
func TestClientLifecycle(t *testing.T) {
	a := target(t)
	tok := a.accessToken(t)
	org := a.call(t, tok, http.MethodPost, "/v1/organisations",
		`{"name":"e2e clients `+uuid.NewString()[:8]+`","allowed_products":["sign_up"],"allowed_scopes":["openid","accounts"]}`).json(t)
	orgID := org["id"].(string)
	t.Cleanup(func() { a.call(t, tok, http.MethodDelete, "/v1/organisations/"+orgID, "") })

	r := a.call(t, tok, http.MethodPost, "/v1/organisations/"+orgID+"/clients",
		`{"name":"e2e web","selected_product":"sign_up","return_urls":["https://e2e.example/cb"],"additional_scopes":["accounts"],"required_scopes":["openid"],"token_signing_algorithm":"ES512"}`)
	if r.status != 201 {
		t.Fatalf("create client: status %d: %s", r.status, r.body)
	}
	created := r.json(t)
	client := &api{base: a.base, id: created["id"].(string), secret: created["secret"].(string), client: a.client}
	t.Cleanup(func() { a.call(t, tok, http.MethodDelete, "/v1/clients/"+client.id, "") })
	if got := a.call(t, tok, http.MethodGet, "/v1/clients/"+client.id, ""); got.status != 200 || strings.Contains(string(got.body), client.secret) || strings.Contains(string(got.body), `"secret"`) {
		t.Errorf("get client: status %d, body %s: want 200 without the secret", got.status, got.body)
	}

	tr := client.token(t, url.Values{})
	if tr.status != 200 {
		t.Fatalf("client token: status %d: %s", tr.status, tr.body)
	}
	body := tr.json(t)
	if body["scope"] != "accounts openid" || body["expires_in"] != float64(3600) {
		t.Errorf("client token = %v, want scope \"accounts openid\" for 3600 s", body)
	}
	ctok, err := josejwt.ParseSigned(body["access_token"].(string), []jose.SignatureAlgorithm{jose.ES512})
	if err != nil || ctok.Headers[0].Algorithm != "ES512" {
		t.Errorf("client token is not ES512: %v", err)
	}

	rot := a.call(t, tok, http.MethodPost, "/v1/clients/"+client.id+"/secret", `{"previous_secret_expires_in":600}`)
	if rot.status != 200 {
		t.Fatalf("rotate: status %d: %s", rot.status, rot.body)
	}
	newSecret := rot.json(t)["secret"].(string)
	if got := client.token(t, url.Values{}).status; got != 200 {
		t.Errorf("old secret during the overlap: status %d, want 200", got)
	}
	rotated := *client
	rotated.secret = newSecret
	if got := rotated.token(t, url.Values{}).status; got != 200 {
		t.Errorf("new secret: status %d, want 200", got)
	}

	if r := a.call(t, tok, http.MethodPatch, "/v1/clients/"+client.id, `{"enabled":false}`); r.status != 200 {
		t.Fatalf("disable: status %d: %s", r.status, r.body)
	}
	if got := rotated.token(t, url.Values{}); got.status != 401 || !strings.Contains(string(got.body), "invalid_client") {
		t.Errorf("disabled client's token request: %d %s, want 401 invalid_client", got.status, got.body)
	}
	if r := a.call(t, tok, http.MethodDelete, "/v1/organisations/"+orgID, ""); r.status != 409 {
		t.Errorf("delete an organisation that has a client: status %d, want 409", r.status)
	}
	if r := a.call(t, tok, http.MethodDelete, "/v1/clients/"+client.id, ""); r.status != 204 {
		t.Errorf("delete client: status %d", r.status)
	}
}

// TestReadmeWalkthrough follows the README's curl walkthrough past what the
// other tests cover (UI configuration, an organisation's clients and
// authorisation servers, a client's own calls, usage in JSON and CSV, the
// audit log, introspection of a foreign token), so that those responses are
// checked against openapi.yaml too.
func TestReadmeWalkthrough(t *testing.T) {
	a := target(t)
	tok := a.accessToken(t)
	want := func(r response, status int, what string) response {
		t.Helper()
		if r.status != status {
			t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
		}
		return r
	}
	org := want(a.call(t, tok, http.MethodPost, "/v1/organisations",
		`{"name":"e2e walkthrough `+uuid.NewString()[:8]+`","allowed_products":["sign_up"],"allowed_scopes":["openid","accounts"]}`), 201, "create organisation").json(t)
	orgID := org["id"].(string)
	t.Cleanup(func() { a.call(t, tok, http.MethodDelete, "/v1/organisations/"+orgID, "") })

	want(a.call(t, tok, http.MethodPut, "/v1/organisations/"+orgID+"/ui-config",
		`{"display_name":"Acme Retail","primary_colour":"#0B5FFF"}`), 200, "put ui-config")
	want(a.call(t, tok, http.MethodGet, "/v1/organisations/"+orgID+"/ui-config", ""), 200, "get ui-config")

	as := want(a.call(t, tok, http.MethodPost, "/v1/organisations/"+orgID+"/authorisation-servers",
		`{"auto_registration_supported":true,"customer_friendly_name":"Acme Bank","customer_friendly_description":"Retail banking",`+
			`"openid_discovery_document":"https://auth.acme.example/.well-known/openid-configuration"}`), 201, "create authorisation server").json(t)
	asPath := "/v1/organisations/" + orgID + "/authorisation-servers/" + as["id"].(string)
	want(a.call(t, tok, http.MethodGet, "/v1/organisations/"+orgID+"/authorisation-servers", ""), 200, "list authorisation servers")
	want(a.call(t, tok, http.MethodGet, asPath, ""), 200, "get authorisation server")
	want(a.call(t, tok, http.MethodDelete, asPath, ""), 204, "delete authorisation server")

	created := want(a.call(t, tok, http.MethodPost, "/v1/organisations/"+orgID+"/clients",
		`{"name":"e2e walkthrough web","selected_product":"sign_up","return_urls":["https://acme.example/callback"],"additional_scopes":["accounts"],"required_scopes":["openid"]}`),
		201, "create client").json(t)
	client := &api{base: a.base, id: created["id"].(string), secret: created["secret"].(string), client: a.client}
	t.Cleanup(func() { a.call(t, tok, http.MethodDelete, "/v1/clients/"+client.id, "") })
	want(a.call(t, tok, http.MethodGet, "/v1/organisations/"+orgID+"/clients", ""), 200, "list clients")
	ctok := client.accessToken(t)
	want(client.call(t, ctok, http.MethodGet, "/v1/clients/me", ""), 200, "client reads itself")
	want(client.call(t, ctok, http.MethodGet, "/v1/usage?from=2026-01-01&to=2026-01-31", ""), 403, "client reads usage")

	// A partner introspecting a token of another partner learns nothing.
	form := url.Values{"token": {"not.a.token"}}
	in := want(a.do(t, http.MethodPost, "/v1/token/introspect", []byte(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic "+basic(a.id, a.secret)), 200, "introspect").json(t)
	if in["active"] != false {
		t.Errorf("introspection of garbage = %v, want inactive", in)
	}

	today := time.Now().UTC().Format(time.DateOnly)
	for _, group := range []string{"organisation", "client", "day"} {
		want(a.call(t, tok, http.MethodGet, "/v1/usage?from="+today+"&to="+today+"&group_by="+group, ""), 200, "usage by "+group)
	}
	csv := want(a.call(t, tok, http.MethodGet, "/v1/usage?from="+today+"&to="+today+"&group_by=client", "", "Accept", "text/csv"), 200, "usage as CSV")
	if !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Errorf("usage as CSV: Content-Type %q", csv.header.Get("Content-Type"))
	}
	want(a.call(t, tok, http.MethodGet, "/v1/usage", ""), 400, "usage without from and to")
	events := want(a.call(t, tok, http.MethodGet, "/v1/audit-events?resource_id="+orgID+"&limit=20", ""), 200, "audit events").json(t)
	if items, _ := events["items"].([]any); len(items) == 0 {
		t.Errorf("audit events of the organisation = %v, want its changes", events)
	}
}
