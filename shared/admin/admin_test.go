package admin_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/keyring"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func invoke(t *testing.T, e *apptest.Env, payload []byte) (admin.Response, error) {
	t.Helper()
	out, err := e.App.Admin().LambdaHandler().Invoke(t.Context(), payload)
	if err != nil {
		return admin.Response{}, err
	}
	var resp admin.Response
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp, nil
}

func tokenStatus(t *testing.T, e *apptest.Env, id, sec string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/v1/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(sec))
	return e.Do(t, req).StatusCode
}

// TestAdminEvents runs the samples of events/admin through the function's
// Lambda handler, in the order an operator would.
func TestAdminEvents(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	read := func(name string) []byte {
		b, err := os.ReadFile("../../events/admin/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	created, err := invoke(t, e, read("create-partner.json"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.PartnerID != "acme-partner" || created.Name != "Acme Ltd" || !created.Enabled || len(created.ClientSecret) < 43 {
		t.Fatalf("created = %+v", created)
	}
	if got := tokenStatus(t, e, created.PartnerID, created.ClientSecret); got != 200 {
		t.Fatalf("token with the new credentials: status %d", got)
	}
	if _, err := invoke(t, e, read("create-partner.json")); !errors.Is(err, problem.ErrConflict) && !strings.Contains(errString(err), "taken") {
		t.Errorf("second create: err = %v, want a conflict", err)
	}
	got, err := invoke(t, e, read("get-partner.json"))
	if err != nil || got.ClientSecret != "" || got.PartnerID != "acme-partner" {
		t.Errorf("get = %+v, %v; want the partner without its secret", got, err)
	}
	if got, err := invoke(t, e, read("disable-partner.json")); err != nil || got.Enabled {
		t.Errorf("disable = %+v, %v", got, err)
	}
	if got := tokenStatus(t, e, created.PartnerID, created.ClientSecret); got != 401 {
		t.Errorf("token of a disabled partner: status %d, want 401", got)
	}
	if got, err := invoke(t, e, read("enable-partner.json")); err != nil || !got.Enabled {
		t.Errorf("enable = %+v, %v", got, err)
	}
	rotated, err := invoke(t, e, read("rotate-partner-secret.json"))
	if err != nil || rotated.ClientSecret == "" || rotated.ClientSecret == created.ClientSecret || rotated.PreviousSecretExpiresAt == "" {
		t.Fatalf("rotate = %+v, %v", rotated, err)
	}
	for _, sec := range []string{created.ClientSecret, rotated.ClientSecret} {
		if got := tokenStatus(t, e, created.PartnerID, sec); got != 200 {
			t.Errorf("token during the rotation overlap: status %d, want 200", got)
		}
	}
	if strings.Contains(e.Log.String(), created.ClientSecret) || strings.Contains(e.Log.String(), rotated.ClientSecret) {
		t.Error("a secret was logged")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestAdminBadRequests(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"unknown action", `{"action":"delete_everything"}`, "action"},
		{"unknown field", `{"action":"get_partner","partner_id":"acme-partner","secret":"x"}`, "unknown field"},
		{"missing partner id", `{"action":"disable_partner"}`, "partner_id"},
		{"bad partner id", `{"action":"create_partner","partner_id":"a b","name":"x"}`, "partner_id"},
		{"missing name", `{"action":"create_partner"}`, "name"},
		{"name with markup", `{"action":"create_partner","name":"<script>"}`, "name"},
		{"overlap too long", `{"action":"rotate_partner_secret","partner_id":"acme-partner","previous_secret_expires_in":999999999}`, "previous_secret_expires_in"},
		{"overlap on another action", `{"action":"disable_partner","partner_id":"acme-partner","previous_secret_expires_in":5}`, "previous_secret_expires_in"},
		{"unknown partner", `{"action":"get_partner","partner_id":"nobody-here"}`, "not found"},
		{"not JSON", `action=get`, "invalid character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invoke(t, e, []byte(tc.payload))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestRotateSigningKeysEvent runs events/admin/rotate-signing-keys.json (the
// payload of the stack's schedule) through the Lambda handler: a pending
// key per algorithm, published at once.
func TestRotateSigningKeysEvent(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	payload, err := os.ReadFile("../../events/admin/rotate-signing-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.App.Admin().LambdaHandler().Invoke(t.Context(), payload)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	var rep keyring.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, k := range rep.Keys {
		if k.Status == store.KeyPending {
			pending++
		}
	}
	if len(rep.Created) != 3 || pending != 3 {
		t.Errorf("report %s: want three keys created, pending", out)
	}
	if strings.Contains(string(out), "wrapped") {
		t.Errorf("report %s names wrapped key material", out)
	}
	if _, err := e.App.Admin().LambdaHandler().Invoke(t.Context(), []byte(`{"action":"rotate_signing_keys","partner_id":"x"}`)); err == nil {
		t.Error("rotate_signing_keys with a partner_id: no error")
	}
}
