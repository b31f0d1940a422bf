package clients_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/credential"
)

// extraOf returns the extra_data member of a client response as sent.
func extraOf(t *testing.T, resp apptest.Response, status int) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	var body struct {
		ExtraData json.RawMessage `json:"extra_data"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("decode %s: %v", resp.Body, err)
	}
	return string(body.ExtraData)
}

// TestExtraData: seed 002's extraData round trip through create, every
// read, PUT and PATCH, with its limits.
func TestExtraData(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, nil)
	// Members in the caller's order, a 20-digit number and an escape: all
	// come back exactly.
	const extra = `{"externalId":"123456789","some":"Custom Property","big":12345678901234567890,"nested":{"z":1.50,"a":[true,null]},"e":"caf\u00e9"}`
	resp := p.Do(t, http.MethodPost, "/v1/organisations/"+orgID+"/clients", `{"name":"Secondary","extra_data":`+strings.ReplaceAll(extra, ",", ", ")+`}`)
	if got := extraOf(t, resp, http.StatusCreated); got != extra {
		t.Errorf("create: extra_data %s, want %s", got, extra)
	}
	var created client
	_ = json.Unmarshal(resp.Body, &created)
	path := "/v1/clients/" + created.ID
	if got := extraOf(t, p.Do(t, http.MethodGet, path, nil), http.StatusOK); got != extra {
		t.Errorf("get: extra_data %s, want %s", got, extra)
	}
	list := p.Do(t, http.MethodGet, "/v1/organisations/"+orgID+"/clients", nil)
	if !strings.Contains(string(list.Body), extra) {
		t.Errorf("list: %s does not hold extra_data %s", list.Body, extra)
	}
	self := p.Login(t, created.ID, created.Secret)
	if got := extraOf(t, self.Do(t, http.MethodGet, "/v1/clients/me", nil), http.StatusOK); got != extra {
		t.Errorf("/v1/clients/me: extra_data %s, want %s", got, extra)
	}

	t.Run("PATCH merges inside it", func(t *testing.T) {
		got := extraOf(t, p.Do(t, http.MethodPatch, path, `{"extra_data":{"some":null,"nested":{"a":"x","n":{"drop":null}},"added":1}}`), http.StatusOK)
		want := `{"externalId":"123456789","big":12345678901234567890,"nested":{"z":1.50,"a":"x","n":{}},"e":"caf\u00e9","added":1}`
		if got != want {
			t.Errorf("merged %s, want %s", got, want)
		}
		if got := extraOf(t, p.Do(t, http.MethodPatch, path, `{"name":"Renamed"}`), http.StatusOK); got != want {
			t.Errorf("a PATCH without extra_data changed it to %s", got)
		}
		if got := extraOf(t, p.Do(t, http.MethodPatch, path, `{"extra_data":null}`), http.StatusOK); got != `{}` {
			t.Errorf("PATCH null: %s, want {}", got)
		}
	})
	t.Run("PUT replaces it", func(t *testing.T) {
		if got := extraOf(t, p.Do(t, http.MethodPut, path, `{"name":"Secondary","extra_data":{"b":2,"a":1}}`), http.StatusOK); got != `{"b":2,"a":1}` {
			t.Errorf("PUT: %s", got)
		}
		if got := extraOf(t, p.Do(t, http.MethodPut, path, `{"name":"Secondary"}`), http.StatusOK); got != `{}` {
			t.Errorf("PUT without extra_data: %s, want {}", got)
		}
	})
	t.Run("limits", func(t *testing.T) {
		const frame = len(`{"s":""}`)
		fits := `{"s":"` + strings.Repeat("x", 4096-frame) + `"}`
		if got := extraOf(t, p.Do(t, http.MethodPatch, path, `{"extra_data":`+fits+`}`), http.StatusOK); got != fits {
			t.Error("4 KiB exactly was not stored as sent")
		}
		var many []string
		for i := range 65 {
			many = append(many, fmt.Sprintf(`"k%d":%d`, i, i))
		}
		for _, tc := range []struct {
			name, body string
			fields     []string
		}{
			{"4 KiB and one byte", `{"name":"x","extra_data":{"s":"` + strings.Repeat("x", 4097-frame) + `"}}`, []string{"extra_data"}},
			{"depth 6", `{"name":"x","extra_data":{"a":{"b":{"c":{"d":{"e":{}}}}}}}`, []string{"extra_data.a.b.c.d.e"}},
			{"65 members", `{"name":"x","extra_data":{` + strings.Join(many, ",") + `}}`, []string{"extra_data"}},
			{"65 items", `{"name":"x","extra_data":{"l":[` + strings.Repeat("0,", 64) + `0]}}`, []string{"extra_data.l"}},
			{"not an object", `{"name":"x","extra_data":["a"]}`, []string{"extra_data"}},
			{"a repeated member", `{"name":"x","extra_data":{"a":1,"a":2}}`, []string{"extra_data.a"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantProblem(t, p.Do(t, http.MethodPost, "/v1/organisations/"+orgID+"/clients", tc.body), 400, "invalid_request", tc.fields...)
				wantProblem(t, p.Do(t, http.MethodPut, path, tc.body), 400, "invalid_request", tc.fields...)
			})
		}
		// A merge that grows it past the limit is refused too.
		wantProblem(t, p.Do(t, http.MethodPatch, path, `{"extra_data":{"t":"x"}}`), 400, "invalid_request", "extra_data")
	})
}

// TestChosenSecrets: seed 002's caller-chosen passwords of 8 to 72
// characters on create, on a manager's reset of another client's secret and
// on a client's own rotation; short ones are stored with argon2id, and a
// rotation moves a client between the schemes. The audit names only
// client_secret and extra_data, never their values.
func TestChosenSecrets(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	orgID := p.Org(t, map[string]any{"allowed_scopes": []string{"openid"}})
	scheme := func(id string) string {
		t.Helper()
		c, err := e.App.Store.GetClient(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case credential.Slow(c.SecretHash):
			return "argon2id"
		case !credential.Guessable(c.SecretHash):
			return "generated"
		}
		return "fast"
	}
	rotate := func(c *caller, path string, body any, want int) string {
		t.Helper()
		resp := c.Do(t, http.MethodPost, path, body)
		if resp.StatusCode != want {
			t.Fatalf("rotate %s: %d %s, want %d", path, resp.StatusCode, resp.Body, want)
		}
		var r rotated
		_ = json.Unmarshal(resp.Body, &r)
		return r.Secret
	}

	const sixteen = "u7/JvJ+:X?Wc]6}."
	secondary := p.create(t, orgID, map[string]any{"name": "Secondary", "client_secret": sixteen,
		"additional_scopes": []string{"openid"}, "extra_data": map[string]any{"externalId": "123456789"}})
	if secondary.Secret != sixteen || scheme(secondary.ID) != "argon2id" {
		t.Fatalf("create with a 16-character secret: secret %q, scheme %s; want it echoed and argon2id", secondary.Secret, scheme(secondary.ID))
	}
	if tok := e.Token(t, secondary.ID, sixteen, nil); tok == "" {
		t.Fatal("no token with the 16-character secret")
	}

	primary, _ := p.login(t, orgID, map[string]any{"name": "Primary", "additional_scopes": []string{"clients:manage", "openid"}})
	path := "/v1/clients/" + secondary.ID + "/secret"
	t.Run("a manager resets another client's secret to a chosen one", func(t *testing.T) {
		const chosen = "k8Fq!zR3wP#m"
		if got := rotate(primary, path, map[string]any{"client_secret": chosen}, 200); got != chosen {
			t.Errorf("rotation answered secret %q, want the chosen one", got)
		}
		if scheme(secondary.ID) != "argon2id" || !authenticates(t, e, secondary.ID, chosen) || authenticates(t, e, secondary.ID, sixteen) {
			t.Error("after the reset: want only the chosen secret, stored with argon2id")
		}
	})
	t.Run("a generated secret moves it to the fast hash, a long chosen one keeps it there", func(t *testing.T) {
		gen := rotate(p, path, nil, 200)
		if scheme(secondary.ID) != "generated" || !authenticates(t, e, secondary.ID, gen) {
			t.Errorf("after a generated secret: %s; want the fast hash marked generated", scheme(secondary.ID))
		}
		const long = "Zq8#vL2!pX9$mK4@wR7&tN3*yB6^hJ5%"
		rotate(p, path, map[string]any{"client_secret": long, "previous_secret_expires_in": 60}, 200)
		if scheme(secondary.ID) != "fast" || !authenticates(t, e, secondary.ID, long) || !authenticates(t, e, secondary.ID, gen) {
			t.Error("after a long chosen secret with overlap: want the fast hash and both secrets")
		}
		rotate(p, path, map[string]any{"client_secret": sixteen}, 200)
		if scheme(secondary.ID) != "argon2id" || !authenticates(t, e, secondary.ID, sixteen) {
			t.Error("back to a short secret: want argon2id")
		}
	})
	t.Run("a client chooses its own", func(t *testing.T) {
		self := &caller{p.Login(t, secondary.ID, sixteen)}
		const own = "Gx7!rT2@kW9q"
		rotate(self, "/v1/clients/me/secret", map[string]any{"client_secret": own}, 200)
		if !authenticates(t, e, secondary.ID, own) {
			t.Error("the client's own chosen secret does not authenticate")
		}
	})
	t.Run("weak or malformed chosen secrets are refused on rotation", func(t *testing.T) {
		for _, weak := range []string{"password1", "qwertyuiop", "aaaaaaaa", "Summer2024!", "Secondary1", "short", "has a space in it", "Gx7!rT2\u00e9kW9"} {
			body, _ := json.Marshal(map[string]any{"client_secret": weak})
			wantProblem(t, p.Do(t, http.MethodPost, path, string(body)), 400, "invalid_request", "client_secret")
			wantProblem(t, primary.Do(t, http.MethodPost, path, string(body)), 400, "invalid_request", "client_secret")
		}
		wantProblem(t, p.Do(t, http.MethodPost, path, `{"client_secret":12345678}`), 400, "invalid_request", "client_secret")
	})
	t.Run("the audit names the fields, never their values", func(t *testing.T) {
		decodeClient(t, p.Do(t, http.MethodPatch, "/v1/clients/"+secondary.ID, `{"extra_data":{"externalId":"987654321"}}`), http.StatusOK)
		raw := p.Do(t, http.MethodGet, "/v1/audit-events?limit=100&resource_id="+secondary.ID, nil)
		if raw.StatusCode != http.StatusOK {
			t.Fatalf("audit: %d %s", raw.StatusCode, raw.Body)
		}
		for _, leak := range []string{"123456789", "987654321", "externalId", sixteen, "k8Fq!zR3wP#m", "secret_hash", "argon2id"} {
			if strings.Contains(string(raw.Body), leak) {
				t.Errorf("the audit shows %q", leak)
			}
		}
		var page struct {
			Items []struct {
				Action        string   `json:"action"`
				ChangedFields []string `json:"changed_fields"`
			} `json:"items"`
		}
		_ = json.Unmarshal(raw.Body, &page)
		var seen []string
		for _, ev := range page.Items {
			seen = append(seen, ev.Action+":"+strings.Join(ev.ChangedFields, ","))
		}
		all := strings.Join(seen, " ")
		if !strings.Contains(all, "update:extra_data") || !strings.Contains(all, "rotate_secret:client_secret") || !strings.Contains(all, "extra_data") {
			t.Errorf("audit records %v, want an update naming extra_data and rotations naming client_secret", seen)
		}
	})
	// No chosen secret was ever logged.
	for _, s := range []string{sixteen, "k8Fq!zR3wP#m", "Gx7!rT2@kW9q"} {
		if strings.Contains(e.Log.String(), s) {
			t.Errorf("a chosen secret appears in the log")
		}
	}
}
