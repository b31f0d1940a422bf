package federation_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/federation"
)

// provider serves a discovery document built by doc from its own URL.
func provider(t *testing.T, doc func(iss string) map[string]any) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != federation.WellKnown {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(doc(srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func validDoc(iss string) map[string]any {
	return map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
		"userinfo_endpoint": iss + "/userinfo", "jwks_uri": iss + "/jwks",
		"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"none", "HS256", "RS256", "ES256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	}
}

func TestDiscover(t *testing.T) {
	f := federation.NewFetcher(federation.Policy{AllowLoopback: true})
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	iss := provider(t, validDoc)
	d, err := f.Discover(context.Background(), iss+federation.WellKnown, now)
	if err != nil {
		t.Fatal(err)
	}
	if d.Issuer != iss || d.TokenEndpoint != iss+"/token" || d.JWKSURI != iss+"/jwks" || d.FetchedAt != "2026-11-29T12:00:00Z" ||
		len(d.SigningAlgs) != 2 || d.SigningAlgs[0] != "RS256" || !d.Usable() {
		t.Errorf("got %+v, want the document's issuer and endpoints, algorithms without none and HS256", d)
	}

	with := func(change map[string]any) func(string) map[string]any {
		return func(iss string) map[string]any {
			m := validDoc(iss)
			maps.Copy(m, change)
			for k, v := range change {
				if v == nil {
					delete(m, k)
				}
			}
			return m
		}
	}
	for _, tc := range []struct {
		name string
		doc  func(string) map[string]any
		path string
		want string
	}{
		{"issuer of another location", with(map[string]any{"issuer": "https://evil.example"}), federation.WellKnown, federation.WarnIssuerMismatch},
		{"issuer with a trailing slash", func(iss string) map[string]any { return validDoc(iss + "/") }, federation.WellKnown, federation.WarnIssuerMismatch},
		{"no jwks_uri", with(map[string]any{"jwks_uri": nil}), federation.WellKnown, federation.WarnInvalidDocument},
		{"no subject types", with(map[string]any{"subject_types_supported": nil}), federation.WellKnown, federation.WarnInvalidDocument},
		{"no code flow", with(map[string]any{"response_types_supported": []string{"id_token"}}), federation.WellKnown, federation.WarnInvalidDocument},
		{"only none and HMAC", with(map[string]any{"id_token_signing_alg_values_supported": []string{"none", "HS256"}}), federation.WellKnown, federation.WarnInvalidDocument},
		{"not at the well-known path", validDoc, "/openid-configuration", federation.WarnInvalidLocation},
		{"missing document", validDoc, "/other" + federation.WellKnown, federation.WarnFetchFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := provider(t, tc.doc)
			_, err := f.Discover(context.Background(), base+tc.path, now)
			var de *federation.DiscoveryError
			if !errors.As(err, &de) || de.Code != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}

	t.Run("http endpoints in production", func(t *testing.T) {
		// Production (no loopback allowed) refuses http before it fetches.
		strict := federation.NewFetcher(federation.Policy{})
		_, err := strict.Discover(context.Background(), iss+federation.WellKnown, now)
		var de *federation.DiscoveryError
		if !errors.As(err, &de) || de.Code != federation.WarnFetchFailed || !errors.Is(err, federation.ErrRefusedURL) {
			t.Errorf("got %v, want a refused URL", err)
		}
	})
	t.Run("http endpoint in an https document", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		defer srv.Close()
		f := federation.NewFetcher(federation.Policy{})
		// CheckURL is what Discover applies to each endpoint.
		if err := f.CheckURL("http://auth.example/token"); !errors.Is(err, federation.ErrRefusedURL) {
			t.Errorf("got %v, want ErrRefusedURL", err)
		}
		if err := f.CheckURL("https://auth.example/token"); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}
