package tokenapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzCredentials: any Authorization header and form body give either one
// client id with its candidate secrets, bounded in length, or an error;
// never both methods at once, never a panic.
func FuzzCredentials(f *testing.F) {
	f.Add("Basic Y2xpZW50OnNlY3JldA==", "")
	f.Add("", "client_id=client&client_secret=secret")
	f.Add("Basic Y2xpZW50OnNlYyUyQnJldA==", "")
	f.Add("basic   Y2xpZW50Og==", "")
	f.Add("Bearer x", "client_id=a")
	f.Add("Basic !!!", "client_secret=only")
	f.Add("Basic Y2xpZW50OnNlY3JldA==", "client_id=client")
	f.Fuzz(func(t *testing.T, authz, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader(body))
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		id, secrets, err := credentials(r, form)
		if err != nil {
			return
		}
		if authz != "" && (form.Has("client_id") || form.Has("client_secret")) {
			t.Fatalf("both methods accepted: %q, %q", authz, body)
		}
		if id == "" || len(id) > maxCredentialLength || len(secrets) == 0 || len(secrets) > 2 {
			t.Fatalf("id %q, %d secrets from %q, %q", id, len(secrets), authz, body)
		}
		for _, s := range secrets {
			if s == "" || len(s) > 3*maxCredentialLength {
				t.Fatalf("secret of %d bytes from %q, %q", len(s), authz, body)
			}
		}
	})
}
