package signin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/store"
)

// BenchmarkCodeExchange measures POST /v1/token with grant_type
// authorization_code in process: the token group's handler behind its
// middleware, client authentication and chain check (DynamoDB Local), the
// code's conditional delete, the used-code marker and the subject's claims
// (two PutItems), the access token and ID token signatures (moto KMS), and
// for offline_access the refresh family's transaction. Issuing each code
// is not timed.
func BenchmarkCodeExchange(b *testing.B) {
	for _, tc := range []struct {
		name    string
		scopes  []string
		refresh bool
	}{
		{"openid", []string{"openid", "profile"}, false},
		{"openid+offline_access", []string{"offline_access", "openid", "profile"}, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b, clientOpts{alg: "ES384"})
			svc, h := benchParts(b, f)
			verifier := strings.Repeat("v", 43)
			g := store.Grant{
				ClientID: f.clientID, PartnerID: f.partnerID, OrganisationID: f.orgID, RedirectURI: f.redirect,
				CodeChallenge: grants.Challenge(verifier), Scopes: tc.scopes, AuthTime: f.env.Clock.Now(),
				Subject: "bench-subject", Provider: "sandbox", Claims: `{"email":"a@example.com"}`,
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				code, err := svc.IssueCode(context.Background(), g)
				if err != nil {
					b.Fatal(err)
				}
				form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.redirect}, "code_verifier": {verifier}}
				b.StartTimer()
				if body := benchPost(b, h, f, form); tc.refresh && !strings.Contains(body, `"refresh_token"`) {
					b.Fatalf("no refresh token: %s", body)
				}
			}
		})
	}
}

// BenchmarkRefresh measures POST /v1/token with grant_type refresh_token
// in process: client authentication, the token and family reads, the
// rotation transaction, and the new access and ID tokens' signatures.
func BenchmarkRefresh(b *testing.B) {
	f := newFixture(b, clientOpts{alg: "ES384"})
	svc, h := benchParts(b, f)
	cl, err := f.env.App.Store.GetClient(context.Background(), f.clientID)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := svc.Mint(context.Background(), cl.Principal, store.Grant{
		ClientID: f.clientID, PartnerID: f.partnerID, OrganisationID: f.orgID,
		Scopes: []string{"offline_access", "openid"}, AuthTime: f.env.Clock.Now(), Subject: "bench-subject",
	})
	if err != nil {
		b.Fatal(err)
	}
	rt := resp.RefreshToken
	b.ReportAllocs()
	for b.Loop() {
		body := benchPost(b, h, f, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		var out struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil || out.RefreshToken == "" {
			b.Fatalf("refresh: %s", body)
		}
		rt = out.RefreshToken
	}
}

func benchParts(b *testing.B, f *fixture) (*grants.Service, http.Handler) {
	b.Helper()
	a := f.env.App
	h, err := a.Handler("token")
	if err != nil {
		b.Fatal(err)
	}
	return grants.New(a.Store, a.Issuer, a.Signer, nil, a.Config.IssuerURL, a.Now), h
}

func benchPost(b *testing.B, h http.Handler, f *fixture, form url.Values) string {
	req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(f.clientID), url.QueryEscape(f.secret))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}
