package tokenapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/tokenapi"
)

// tree is a partner with organisations root > child and a client of child.
type tree struct {
	partnerID, partnerSecret string
	partnerToken             string
	rootID, childID          string
	clientID, clientSecret   string
}

// orgRequest sends a JSON request to the organisations API as the partner.
func orgRequest(t testing.TB, e *apptest.Env, tok, method, path, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, e.Server.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp := e.Do(t, req)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, resp.Body)
	}
	var out map[string]any
	_ = json.Unmarshal(resp.Body, &out)
	return out
}

// clientSpec is the client a tree gets, as the clients API takes it.
type clientSpec struct {
	Algorithm string   `json:"token_signing_algorithm,omitempty"`
	Lifetime  int64    `json:"access_token_lifetime,omitempty"`
	Scopes    []string `json:"additional_scopes,omitempty"`
	Required  []string `json:"required_scopes,omitempty"`
}

// newTree builds a tree through the organisations and clients APIs.
func newTree(t testing.TB, e *apptest.Env, client clientSpec) tree {
	t.Helper()
	var tr tree
	tr.partnerID, tr.partnerSecret = e.Partner(t)
	tr.partnerToken = e.Token(t, tr.partnerID, tr.partnerSecret, nil)
	tr.rootID = orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations",
		`{"name":"Root","allowed_scopes":["accounts","address","openid"]}`)["id"].(string)
	tr.childID = orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations",
		`{"name":"Child","parent_id":"`+tr.rootID+`"}`)["id"].(string)
	body := struct {
		Name string `json:"name"`
		clientSpec
	}{"Client", client}
	b, _ := json.Marshal(body)
	created := orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations/"+tr.childID+"/clients", string(b))
	tr.clientID, tr.clientSecret = created["id"].(string), created["secret"].(string)
	return tr
}

func TestClientTokens(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	for _, alg := range []signer.Algorithm{signer.PS256, signer.ES384, signer.ES512} {
		t.Run(string(alg), func(t *testing.T) {
			tr := newTree(t, e, clientSpec{
				Algorithm: string(alg), Lifetime: 600, Scopes: []string{"accounts", "address"}, Required: []string{"openid"},
			})
			resp := post(t, e, "/v1/token", "grant_type=client_credentials&scope=accounts", basic(tr.clientID, tr.clientSecret))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
			}
			var tb tokenBody
			_ = json.Unmarshal(resp.Body, &tb)
			if tb.ExpiresIn != 600 || tb.Scope != "accounts openid" {
				t.Errorf("expires_in %d scope %q, want 600 and the requested plus required scopes", tb.ExpiresIn, tb.Scope)
			}
			var jwks jose.JSONWebKeySet
			_ = json.Unmarshal(e.Do(t, mustGet(t, e.Server.URL+"/.well-known/jwks.json")).Body, &jwks)
			tok, err := josejwt.ParseSigned(tb.AccessToken, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("the token is not signed with %s: %v", alg, err)
			}
			keys := jwks.Key(tok.Headers[0].KeyID)
			if len(keys) != 1 {
				t.Fatalf("kid %q not in the JWKS", tok.Headers[0].KeyID)
			}
			var claims struct {
				josejwt.Claims
				OrganisationID string `json:"organisation_id"`
				PartnerID      string `json:"partner_id"`
				Scope          string `json:"scope"`
			}
			if err := tok.Claims(keys[0].Key, &claims); err != nil {
				t.Fatalf("go-jose does not verify the client token: %v", err)
			}
			if claims.Subject != tr.clientID || claims.OrganisationID != tr.childID || claims.PartnerID != tr.partnerID || claims.Scope != tb.Scope {
				t.Errorf("claims = %+v", claims)
			}
			if got := claims.Expiry.Time().Sub(claims.IssuedAt.Time()); got != 10*time.Minute {
				t.Errorf("lifetime = %v, want 10m", got)
			}

			// The partner may introspect its client's token; the client may
			// introspect its own but not the partner's.
			if got := introspect(t, e, tr.partnerID, tr.partnerSecret, tb.AccessToken); !got.Active || got.ClientID != tr.clientID {
				t.Errorf("partner's introspection of its client's token = %+v", got)
			}
			if got := introspect(t, e, tr.clientID, tr.clientSecret, tb.AccessToken); !got.Active {
				t.Errorf("client's introspection of its own token = %+v", got)
			}
			if got := introspect(t, e, tr.clientID, tr.clientSecret, tr.partnerToken); got.Active {
				t.Errorf("client's introspection of the partner's token = %+v, want inactive", got)
			}
		})
	}
}

func TestClientTokenDefaultsAndScopes(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	tr := newTree(t, e, clientSpec{Scopes: []string{"accounts", "openid"}})
	tests := []struct {
		name   string
		scope  string
		status int
		want   string
	}{
		{"all by default", "", 200, "accounts openid"},
		{"narrowed", "openid", 200, "openid"},
		{"wider", "openid address", 400, "invalid_scope"},
		{"partner scope", "organisations:read", 400, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := "grant_type=client_credentials"
			if tc.scope != "" {
				body += "&scope=" + url.QueryEscape(tc.scope)
			}
			resp := post(t, e, "/v1/token", body, basic(tr.clientID, tr.clientSecret))
			if resp.StatusCode != tc.status || !strings.Contains(string(resp.Body), tc.want) {
				t.Errorf("got %d %s, want %d with %q", resp.StatusCode, resp.Body, tc.status, tc.want)
			}
			if tc.status == 200 {
				var tb tokenBody
				_ = json.Unmarshal(resp.Body, &tb)
				if tb.ExpiresIn != int64(tokenapi.DefaultClientTokenLifetime/time.Second) {
					t.Errorf("expires_in = %d, want the default", tb.ExpiresIn)
				}
				if alg := jwtHeader(t, tb.AccessToken)["alg"]; alg != string(tokenapi.DefaultClientAlgorithm) {
					t.Errorf("alg = %v, want the default %s", alg, tokenapi.DefaultClientAlgorithm)
				}
			}
		})
	}
}

func jwtHeader(t *testing.T, raw string) map[string]any {
	t.Helper()
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.PS256, jose.ES384, jose.ES512})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"alg": tok.Headers[0].Algorithm, "kid": tok.Headers[0].KeyID}
}

// TestDisabledChainStopsClientTokens disables each link the client depends
// on: no new token is issued, and a token issued before stops working.
func TestDisabledChainStopsClientTokens(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	tr := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	tokenStatus := func() int {
		return post(t, e, "/v1/token", "grant_type=client_credentials", basic(tr.clientID, tr.clientSecret)).StatusCode
	}
	issued := e.Token(t, tr.clientID, tr.clientSecret, nil)
	setOrg := func(id string, enabled bool) {
		orgRequest(t, e, tr.partnerToken, http.MethodPatch, "/v1/organisations/"+id, `{"enabled":`+strconv.FormatBool(enabled)+`}`)
	}
	for _, id := range []string{tr.childID, tr.rootID} {
		setOrg(id, false)
		if got := tokenStatus(); got != 401 {
			t.Errorf("organisation %s disabled: token status %d, want 401", id, got)
		}
		if got := introspect(t, e, tr.partnerID, tr.partnerSecret, issued); got.Active {
			t.Errorf("organisation %s disabled: the issued token is still active", id)
		}
		setOrg(id, true)
	}
	if got := tokenStatus(); got != 200 {
		t.Fatalf("all enabled again: token status %d, want 200", got)
	}
	if got := introspect(t, e, tr.partnerID, tr.partnerSecret, issued); !got.Active {
		t.Error("all enabled again: the issued token is inactive")
	}
	orgRequest(t, e, tr.partnerToken, http.MethodPatch, "/v1/clients/"+tr.clientID, `{"enabled":false}`)
	if got := introspect(t, e, tr.partnerID, tr.partnerSecret, issued); got.Active {
		t.Error("client disabled: the issued token is still active")
	}
	if got := tokenStatus(); got != 401 {
		t.Errorf("client disabled: token status %d, want 401", got)
	}
}

// TestBruteForceLock counts failures per client id and source address.
func TestBruteForceLock(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	id, sec := e.Partner(t)
	h, err := e.App.Handler("token")
	if err != nil {
		t.Fatal(err)
	}
	attempt := func(source, secret string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		req.RemoteAddr = source + ":40000"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	const attacker, owner = "203.0.113.9", "198.51.100.20"
	for i := range tokenapi.FailureThreshold {
		if rec := attempt(attacker, "wrong-"+strconv.Itoa(i)); rec.Code != 401 || rec.Header().Get("Retry-After") != "" {
			t.Fatalf("failure %d: status %d Retry-After %q, want 401 without Retry-After", i+1, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	rec := attempt(attacker, sec)
	if rec.Code != 401 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "too many failed") {
		t.Errorf("locked source with the right secret: %d %s, want 401 with Retry-After", rec.Code, rec.Body)
	}
	if rec := attempt(owner, sec); rec.Code != 200 {
		t.Errorf("the owner from another address: status %d, want 200", rec.Code)
	}
	e.Clock.Advance(tokenapi.FailureWindow)
	if rec := attempt(attacker, sec); rec.Code != 200 {
		t.Errorf("after the window: status %d, want 200", rec.Code)
	}
}

// TestDeletedClientIDTakenAgain: a token of a deleted client stays dead when
// its id is taken again, by the same partner or another.
func TestDeletedClientIDTakenAgain(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	first := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	second := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	create := func(tr tree, id string) {
		t.Helper()
		orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations/"+tr.childID+"/clients",
			`{"name":"Reused","client_id":"`+id+`","additional_scopes":["openid"]}`)
	}
	const id = "reused-client-id"
	create(first, id)
	sec := rotate(t, e, first, id)
	old := e.Token(t, id, sec, nil)
	orgRequest(t, e, first.partnerToken, http.MethodDelete, "/v1/clients/"+id, "")
	e.Clock.Advance(time.Second) // iat has whole seconds
	for _, tr := range []tree{second, first} {
		create(tr, id)
		if got := introspect(t, e, first.partnerID, first.partnerSecret, old); got.Active {
			t.Errorf("id taken again by %s: the deleted client's token is active", tr.partnerID)
		}
		req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/v1/clients/me", nil)
		req.Header.Set("Authorization", "Bearer "+old)
		if got := e.Do(t, req).StatusCode; got != 401 {
			t.Errorf("id taken again by %s: the deleted client's token gets %d, want 401", tr.partnerID, got)
		}
		orgRequest(t, e, tr.partnerToken, http.MethodDelete, "/v1/clients/"+id, "")
	}
}

// rotate gives the client id of tr a new secret and returns it.
func rotate(t *testing.T, e *apptest.Env, tr tree, id string) string {
	t.Helper()
	return orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/clients/"+id+"/secret", "")["secret"].(string)
}

// TestSecretWithReservedCharacters: a caller-chosen secret with '+', '%',
// '/' and '=' works whether the client form-urlencodes it in Basic (RFC 6749)
// or sends it as it is (curl -u), and in the form body.
func TestSecretWithReservedCharacters(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	tr := newTree(t, e, clientSpec{Scopes: []string{"openid"}})
	const id, sec = "reserved-chars", "Abc+def/ghi=jkl%41mno+pqr/stu=vwx%zz"
	orgRequest(t, e, tr.partnerToken, http.MethodPost, "/v1/organisations/"+tr.childID+"/clients",
		`{"name":"Reserved","client_id":"`+id+`","client_secret":"`+sec+`","additional_scopes":["openid"]}`)
	for name, mutate := range map[string]func(*http.Request){
		"Basic, form-urlencoded": basic(id, sec),
		"Basic, as sent by curl": func(r *http.Request) { r.SetBasicAuth(id, sec) },
	} {
		if resp := post(t, e, "/v1/token", "grant_type=client_credentials", mutate); resp.StatusCode != 200 {
			t.Errorf("%s: status %d: %s", name, resp.StatusCode, resp.Body)
		}
	}
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}}.Encode()
	if resp := post(t, e, "/v1/token", body, nil); resp.StatusCode != 200 {
		t.Errorf("client_secret_post: status %d: %s", resp.StatusCode, resp.Body)
	}
	// The decoded form of a raw secret is not the secret.
	if resp := post(t, e, "/v1/token", "grant_type=client_credentials", func(r *http.Request) { r.SetBasicAuth(id, "Abc def/ghi=jklAmno pqr/stu=vwx%zz") }); resp.StatusCode != 401 {
		t.Errorf("a different secret: status %d, want 401", resp.StatusCode)
	}
}
