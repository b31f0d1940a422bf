package signin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/shared/app"
)

// TestLambdaEvents feeds every event of events/signin through the Lambda
// handler the signin function starts.
func TestLambdaEvents(t *testing.T) {
	f := newFixture(t, clientOpts{https: true})
	h, err := f.env.App.Handler("signin")
	if err != nil {
		t.Fatal(err)
	}
	ev := apptest.NewEvents(t, "../../events/signin", app.LambdaHandler(h))
	fill := strings.NewReplacer("{{client_id}}", f.clientID, "{{token}}", f.partnerToken)
	resp := ev.InvokeResponse(t, "authorize.json", fill, http.StatusOK)
	if !strings.Contains(resp.Body, "Sandbox test identities") || !strings.Contains(http.Header(resp.MultiValueHeaders).Get("Set-Cookie"), "__Host-") {
		t.Errorf("authorize: got %.300s, want the sign-in page and a cookie", resp.Body)
	}
	ev.InvokeResponse(t, "authorize-unknown-client.json", fill, http.StatusBadRequest)
	if resp := ev.InvokeResponse(t, "authorize-callback-unknown-state.json", fill, http.StatusBadRequest); !strings.Contains(resp.Body, "expired") {
		t.Errorf("callback with an unknown state: got %.300s, want the error page", resp.Body)
	}
	resp = ev.InvokeResponse(t, "authorize-prompt-none.json", fill, http.StatusFound)
	if loc := http.Header(resp.MultiValueHeaders).Get("Location"); !strings.HasPrefix(loc, "https://app.example/callback?error=login_required") {
		t.Errorf("prompt=none: got Location %q", loc)
	}
	_, body := ev.Invoke(t, "openid-configuration.json", fill, http.StatusOK)
	if body["authorization_endpoint"] != f.issuer+"/v1/authorize" {
		t.Errorf("discovery: got %v", body)
	}
	hdr, _ := ev.Invoke(t, "userinfo-no-token.json", fill, http.StatusUnauthorized)
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("userinfo: got WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
	}
	_, body = ev.Invoke(t, "mint.json", fill, http.StatusOK)
	if body["id_token"] == nil || body["token_type"] != "Bearer" {
		t.Errorf("mint: got %v", body)
	}
}
