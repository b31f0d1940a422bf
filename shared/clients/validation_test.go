package clients_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
)

// TestValidation sends each invalid body to POST, PUT and PATCH (where it
// applies) and checks the status, code and every field named.
func TestValidation(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	// restricted restricts everything and has production access; open
	// restricts nothing and has none.
	restricted := p.Org(t, map[string]any{
		"allowed_scopes": []string{"s1", "s2"}, "allowed_products": []string{"a", "b"},
		"allowed_provider_groups": []string{"g1", "g2"}, "has_production_access": true,
	})
	open := p.Org(t, nil)
	target := p.create(t, restricted, map[string]any{"name": "Target", "additional_scopes": []string{"s1"}})
	target.Secret = ""

	const (
		post = 1 << iota
		put
		patch
		all = post | put | patch
	)
	long := strings.Repeat("x", 256)
	urls := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `"https://example.com/` + strings.Repeat("p", i) + `"`
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	scopes := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `"s` + strings.Repeat("x", i) + `"`
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	cases := []struct {
		name    string
		methods int
		org     string // POST to this organisation; restricted when empty
		body    string
		status  int
		code    string
		fields  []string
	}{
		{"name missing", post | put, "", `{}`, 400, "invalid_request", []string{"name"}},
		{"name empty", all, "", `{"name":" "}`, 400, "invalid_request", []string{"name"}},
		{"name too long", all, "", `{"name":"` + long + `"}`, 400, "invalid_request", []string{"name"}},
		{"name with angle brackets", all, "", `{"name":"<b>x</b>"}`, 400, "invalid_request", []string{"name"}},
		{"name not a string", all, "", `{"name":42}`, 400, "invalid_request", []string{"name"}},
		{"unknown fields", all, "", `{"name":"x","nmae":"y","returnUrls":[]}`, 400, "invalid_request", []string{"nmae", "returnUrls"}},
		{"unknown field set to null", patch, "", `{"nmae":null}`, 400, "invalid_request", []string{"nmae"}},
		{"read-only fields", all, "", `{"name":"x","id":"abcde","organisation_id":"o","secret":"s","created_at":null,"updated_at":"x"}`,
			400, "invalid_request", []string{"id", "organisation_id", "secret", "created_at", "updated_at"}},
		{"repeated member", all, "", `{"name":"x","name":"y"}`, 400, "invalid_request", []string{"name"}},
		{"algorithm unknown", all, "", `{"name":"x","token_signing_algorithm":"RS256"}`, 400, "invalid_request", []string{"token_signing_algorithm"}},
		{"algorithm in lower case", all, "", `{"name":"x","token_signing_algorithm":"es384"}`, 400, "invalid_request", []string{"token_signing_algorithm"}},
		{"algorithm empty", all, "", `{"name":"x","token_signing_algorithm":""}`, 400, "invalid_request", []string{"token_signing_algorithm"}},
		{"scopes not an array", all, "", `{"name":"x","additional_scopes":"s1"}`, 400, "invalid_request", []string{"additional_scopes"}},
		{"scope not a string", all, "", `{"name":"x","required_scopes":["s1",2]}`, 400, "invalid_request", []string{"required_scopes[1]"}},
		{"scope not a scope token", all, open, `{"name":"x","additional_scopes":["a b","q\"x"]}`, 400, "invalid_request", []string{"additional_scopes[0]", "additional_scopes[1]"}},
		{"scope repeated", all, "", `{"name":"x","additional_scopes":["s1","s2","s1"]}`, 400, "invalid_request", []string{"additional_scopes[2]"}},
		{"scope in both lists", all, "", `{"name":"x","additional_scopes":["s2","s1"],"required_scopes":["s1"]}`, 400, "invalid_request", []string{"additional_scopes[1]"}},
		{"scopes outside the organisation", all, "", `{"name":"x","additional_scopes":["s1","s3"],"required_scopes":["openid"]}`, 400, "invalid_request", []string{"additional_scopes[1]", "required_scopes[0]"}},
		{"partner scopes", all, open, `{"name":"x","additional_scopes":["organisations:write"],"required_scopes":["clients:read"]}`, 400, "invalid_request", []string{"additional_scopes[0]", "required_scopes[0]"}},
		{"clients:manage required", all, "", `{"name":"x","required_scopes":["clients:manage"]}`, 400, "invalid_request", []string{"required_scopes[0]"}},
		{"too many scopes", post, open, `{"name":"x","additional_scopes":` + scopes(101) + `}`, 400, "invalid_request", []string{"additional_scopes"}},
		{"return URL not https", all, "", `{"name":"x","return_urls":["http://example.com/cb"]}`, 400, "invalid_request", []string{"return_urls[0]"}},
		{"return URL with fragment", all, "", `{"name":"x","return_urls":["https://example.com/cb#x","https://example.com/#"]}`, 400, "invalid_request", []string{"return_urls[0]", "return_urls[1]"}},
		{"return URL with user info", all, "", `{"name":"x","return_urls":["https://user:pw@example.com/cb"]}`, 400, "invalid_request", []string{"return_urls[0]"}},
		{"return URL not absolute", all, "", `{"name":"x","return_urls":["/cb","example.com/cb","https:example.com","https:///cb"]}`,
			400, "invalid_request", []string{"return_urls[0]", "return_urls[1]", "return_urls[2]", "return_urls[3]"}},
		{"return URL other scheme", all, "", `{"name":"x","return_urls":["ftp://example.com/cb","javascript:alert(1)"]}`, 400, "invalid_request", []string{"return_urls[0]", "return_urls[1]"}},
		{"return URL wildcard or odd host", all, "", `{"name":"x","return_urls":["https://*.example.com/cb","https://exa mple.com","https://ex%41mple.com/"]}`,
			400, "invalid_request", []string{"return_urls[0]", "return_urls[1]", "return_urls[2]"}},
		{"return URL empty", all, "", `{"name":"x","return_urls":[""]}`, 400, "invalid_request", []string{"return_urls[0]"}},
		{"return URL too long", all, "", `{"name":"x","return_urls":["https://example.com/` + strings.Repeat("p", 2048) + `"]}`, 400, "invalid_request", []string{"return_urls[0]"}},
		{"return URL repeated", all, "", `{"name":"x","return_urls":["https://example.com/cb","https://example.com/cb"]}`, 400, "invalid_request", []string{"return_urls[1]"}},
		{"too many return URLs", all, "", `{"name":"x","return_urls":` + urls(21) + `}`, 400, "invalid_request", []string{"return_urls"}},
		{"http localhost on production", all, "", `{"name":"x","is_production":true,"return_urls":["http://localhost:3000/cb","https://example.com/cb"]}`,
			400, "invalid_request", []string{"return_urls[0]"}},
		{"http on a lookalike of localhost", all, "", `{"name":"x","return_urls":["http://localhost.example.com/cb","http://127.0.0.2/cb"]}`,
			400, "invalid_request", []string{"return_urls[0]", "return_urls[1]"}},
		{"production without production access", post, open, `{"name":"x","is_production":true}`, 400, "invalid_request", []string{"is_production"}},
		{"is_production not a bool", all, "", `{"name":"x","is_production":"yes","enabled":1}`, 400, "invalid_request", []string{"is_production", "enabled"}},
		{"product not allowed", all, "", `{"name":"x","selected_product":"c"}`, 400, "invalid_request", []string{"selected_product"}},
		{"product empty", all, open, `{"name":"x","selected_product":""}`, 400, "invalid_request", []string{"selected_product"}},
		{"product not a string", all, "", `{"name":"x","selected_product":["a"]}`, 400, "invalid_request", []string{"selected_product"}},
		{"provider group not allowed", all, "", `{"name":"x","allowed_provider_groups":["g1","g3"]}`, 400, "invalid_request", []string{"allowed_provider_groups[1]"}},
		{"provider group repeated or empty", all, "", `{"name":"x","allowed_provider_groups":["g1","g1",""]}`, 400, "invalid_request", []string{"allowed_provider_groups[1]", "allowed_provider_groups[2]"}},
		{"lifetime too short", all, "", `{"name":"x","access_token_lifetime":299}`, 400, "invalid_request", []string{"access_token_lifetime"}},
		{"lifetime too long", all, "", `{"name":"x","access_token_lifetime":86401}`, 400, "invalid_request", []string{"access_token_lifetime"}},
		{"lifetime not an integer", all, "", `{"name":"x","access_token_lifetime":3600.5}`, 400, "invalid_request", []string{"access_token_lifetime"}},
		{"lifetime a string", all, "", `{"name":"x","access_token_lifetime":"3600"}`, 400, "invalid_request", []string{"access_token_lifetime"}},
		{"client_id too short", post, "", `{"name":"x","client_id":"abcd"}`, 400, "invalid_request", []string{"client_id"}},
		{"client_id bad characters", post, "", `{"name":"x","client_id":"acme_client!"}`, 400, "invalid_request", []string{"client_id"}},
		{"client_id too long", post, "", `{"name":"x","client_id":"` + strings.Repeat("a", 65) + `"}`, 400, "invalid_request", []string{"client_id"}},
		{"client_id on update", put | patch, "", `{"name":"x","client_id":"acme-other"}`, 400, "invalid_request", []string{"client_id"}},
		{"client_secret too short", post, "", `{"name":"x","client_secret":"k8Fq!zR"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret a common password", post, "", `{"name":"x","client_secret":"password1"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret a keyboard row", post, "", `{"name":"x","client_secret":"qwertyuiop"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret one character", post, "", `{"name":"x","client_secret":"aaaaaaaa"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret season and year", post, "", `{"name":"x","client_secret":"Summer2024!"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret word and digits", post, "", `{"name":"x","client_secret":"monkey123456"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret the client's name", post, "", `{"name":"Zebra Tango Billing","client_secret":"ZebraTangoBilling"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret with a space", post, "", `{"name":"x","client_secret":"Abcdefghijklmnop qrstuvwxyz0123456"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret not ASCII", post, "", `{"name":"x","client_secret":"Abcdefghijklmnopqrstuvwxyz0123456é"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret repetitive", post, "", `{"name":"x","client_secret":"` + strings.Repeat("ab", 20) + `"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret too long", post, "", `{"name":"x","client_secret":"` + strings.Repeat("Abcdefgh", 64) + `x"}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret not a string", post, "", `{"name":"x","client_secret":12345678901234567890123456789012345}`, 400, "invalid_request", []string{"client_secret"}},
		{"client_secret on update", put | patch, "", `{"name":"x","client_secret":"Abcdefghijklmnopqrstuvwxyz0123456789"}`, 400, "invalid_request", []string{"client_secret"}},
		{"every violation at once", all, "", `{"name":"","token_signing_algorithm":"HS256","additional_scopes":["s9"],"return_urls":["http://x.example"],"selected_product":"z","allowed_provider_groups":["g9"],"access_token_lifetime":1}`,
			400, "invalid_request", []string{"name", "token_signing_algorithm", "additional_scopes[0]", "return_urls[0]", "selected_product", "allowed_provider_groups[0]", "access_token_lifetime"}},
		{"unknown members and rule violations together", all, "", `{"name":"","nmae":"y","additional_scopes":[7],"selected_product":"z"}`,
			400, "invalid_request", []string{"nmae", "additional_scopes[0]", "name", "selected_product"}},
		{"not JSON", all, "", `{"name":`, 400, "invalid_request", []string{}},
		{"not an object", all, "", `["name"]`, 400, "invalid_request", []string{}},
		{"empty body", all, "", ``, 400, "invalid_request", []string{}},
		{"too large", all, "", `{"name":"` + strings.Repeat("x", 130<<10) + `"}`, 413, "payload_too_large", []string{}},
	}
	for _, tc := range cases {
		org := tc.org
		if org == "" {
			org = restricted
		}
		paths := map[int][2]string{
			post:  {http.MethodPost, "/v1/organisations/" + org + "/clients"},
			put:   {http.MethodPut, "/v1/clients/" + target.ID},
			patch: {http.MethodPatch, "/v1/clients/" + target.ID},
		}
		for _, m := range []int{post, put, patch} {
			if tc.methods&m == 0 {
				continue
			}
			t.Run(paths[m][0]+" "+tc.name, func(t *testing.T) {
				resp := p.Do(t, paths[m][0], paths[m][1], tc.body)
				pb := wantProblem(t, resp, tc.status, tc.code, tc.fields...)
				if tc.status == 400 && len(tc.fields) == 0 && pb.Detail == "" {
					t.Errorf("no detail in %s", resp.Body)
				}
			})
		}
	}
	t.Run("valid edge values", func(t *testing.T) {
		for _, body := range []string{
			`{"name":"` + strings.Repeat("x", 255) + `","access_token_lifetime":300}`,
			`{"name":"x","access_token_lifetime":86400,"return_urls":` + urls(20) + `}`,
			`{"name":"x","client_secret":"` + strings.Repeat("u7/JvJ+:X?Wc]6}.", 4) + "k8Fq!zR3" + strings.Repeat("Abcdefgh", 55) + `"}`,
			`{"name":"x","client_id":"` + strings.Repeat("A-9", 21) + `z"}`,
		} {
			decodeClient(t, p.Do(t, http.MethodPost, "/v1/organisations/"+open+"/clients", body), http.StatusCreated)
		}
		// An unrestricted organisation allows any product and scope.
		decodeClient(t, p.Do(t, http.MethodPost, "/v1/organisations/"+open+"/clients", `{"name":"x","selected_product":"anything","additional_scopes":["any:scope"]}`), http.StatusCreated)
	})
	t.Run("wrong content type", func(t *testing.T) {
		wantProblem(t, p.Do(t, http.MethodPost, "/v1/organisations/"+restricted+"/clients", `{"name":"x"}`, "Content-Type", "text/plain"), 415, "unsupported_media_type")
		wantProblem(t, p.Do(t, http.MethodPut, "/v1/clients/"+target.ID, `{"name":"x"}`, "Content-Type", "application/merge-patch+json"), 415, "unsupported_media_type")
	})
	t.Run("taken client_id", func(t *testing.T) {
		for _, id := range []string{target.ID, p.PartnerID} {
			pb := wantProblem(t, p.Do(t, http.MethodPost, "/v1/organisations/"+open+"/clients", map[string]any{"name": "x", "client_id": id}), 409, "conflict")
			if !strings.Contains(pb.Detail, "taken") {
				t.Errorf("detail %q", pb.Detail)
			}
		}
	})
	// Nothing was written by any refused request.
	if got := p.get(t, target.ID); !equalClient(got, target) {
		t.Errorf("target changed by refused requests: %+v", got)
	}
	if items := listAll(t, p, restricted, 100); len(items) != 1 {
		t.Errorf("%d clients after refused creates, want 1", len(items))
	}
}
