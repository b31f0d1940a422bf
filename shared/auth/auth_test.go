package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// protected serves the caller it sees, behind the real middleware.
func protected(e *apptest.Env) *httptest.Server {
	h := auth.Require(e.App.Verifier, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.RequireScope(r.Context(), scope.OrganisationsWrite); err != nil {
			problem.Write(w, r, err)
			return
		}
		c, _ := auth.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(c)
	}))
	srv := httptest.NewServer(middleware.Wrap(h, middleware.Options{Logger: e.App.Logger, MaxBodyBytes: 1024, WriteError: problem.Write}))
	return srv
}

func TestRequire(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	srv := protected(e)
	defer srv.Close()
	id, sec := e.Partner(t)
	good := e.Token(t, id, sec, nil)
	readOnly := e.Token(t, id, sec, url.Values{"scope": {scope.OrganisationsRead}})
	revoked := e.Token(t, id, sec, nil)
	resp := e.Do(t, formRequest(t, e.Server.URL+"/v1/token/revoke", url.Values{"token": {revoked}}, id, sec))
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: status %d: %s", resp.StatusCode, resp.Body)
	}

	disabledID, disabledSecret := e.Partner(t)
	disabledToken := e.Token(t, disabledID, disabledSecret, nil)
	if _, err := e.App.Admin().Handle(t.Context(), admin.Request{Action: admin.ActionDisable, PartnerID: disabledID}); err != nil {
		t.Fatal(err)
	}

	parts := strings.Split(good, ".")
	header, payload := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
	// A token whose payload was changed after signing.
	payload["partner_id"] = "someone-else"
	tampered := parts[0] + "." + encodeSegment(t, payload) + "." + parts[2]
	// alg none.
	noneHeader := map[string]any{"alg": "none", "typ": "at+jwt", "kid": header["kid"]}
	none := encodeSegment(t, noneHeader) + "." + parts[1] + "."
	// HS256 keyed with the public key's kid (algorithm confusion).
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(decodeSegment(t, parts[1])))
	hs.Header["kid"], hs.Header["typ"] = header["kid"], "at+jwt"
	hsToken, _ := hs.SignedString([]byte(header["kid"].(string)))
	// A token signed by a key the service does not know.
	foreignKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	foreign := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims(decodeSegment(t, parts[1])))
	foreign.Header["kid"], foreign.Header["typ"] = header["kid"], "at+jwt"
	foreignToken, _ := foreign.SignedString(foreignKey)
	// The same, naming a kid the service does not publish.
	foreign.Header["kid"] = "no-such-key"
	unknownKid, _ := foreign.SignedString(foreignKey)
	// ES512 header on the ES384 key.
	otherAlg := encodeSegment(t, map[string]any{"alg": "ES512", "typ": "at+jwt", "kid": header["kid"]}) + "." + parts[1] + "." + parts[2]
	// Signed by our keys but for another issuer, another audience, or not an access token.
	otherIssuer := issue(t, e, "https://evil.example", "https://partner-api.test", token.Type, id)
	otherAudience := issue(t, e, "https://partner-api.test", "https://other-api.example", token.Type, id)
	idToken := issue(t, e, "https://partner-api.test", "https://partner-api.test", "JWT", id)
	// A critical header extension (RFC 7515 §4.1.11): refused before the
	// signature is even checked.
	critHeader := maps.Clone(header)
	critHeader["crit"] = []string{"exp"}
	crit := encodeSegment(t, critHeader) + "." + parts[1] + "." + parts[2]
	// The malleable twin of the ES384 signature: s replaced by n - s
	// verifies the same, but the service only signs (and accepts) low s.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	n := elliptic.P384().Params().N
	highS := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[48:])).FillBytes(make([]byte, 48))
	malleable := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(append(slices.Clone(sig[:48]), highS...))
	// Validly signed, but a partner's token naming an organisation: the
	// claims do not fit the principal (it was a 500 once).
	withOrg := issue(t, e, "https://partner-api.test", "https://partner-api.test", token.Type, id, func(c *token.Claims) {
		c.OrganisationID = "5f0c6a8e-94a4-4c1e-8d52-0b7a4c1a2b3c"
	})

	tests := []struct {
		name      string
		authz     string
		advance   time.Duration
		status    int
		challenge string
		detail    string // the problem's detail, which the challenge's error explains
	}{
		{"valid", "Bearer " + good, 0, 200, "", ""},
		{"scheme is case-insensitive", "bEaReR " + good, 0, 200, "", ""},
		{"no header", "", 0, 401, `Bearer realm="partner-api"`, "Authorization: Bearer <access_token> is required"},
		{"basic scheme", "Basic " + good, 0, 401, `Bearer realm="partner-api"`, "Authorization: Bearer <access_token> is required"},
		{"empty token", "Bearer ", 0, 401, `Bearer realm="partner-api"`, "Authorization: Bearer <access_token> is required"},
		{"garbage", "Bearer not.a.jwt", 0, 401, `error="invalid_token"`, "malformed token"},
		{"tampered payload", "Bearer " + tampered, 0, 401, `error="invalid_token"`, "signature is invalid"},
		{"alg none", "Bearer " + none, 0, 401, `error="invalid_token"`, "signature is invalid"},
		{"HS256 confusion", "Bearer " + hsToken, 0, 401, `error="invalid_token"`, "signature is invalid"},
		{"unknown signing key", "Bearer " + foreignToken, 0, 401, `error="invalid_token"`, "signature is invalid"},
		{"unknown kid", "Bearer " + unknownKid, 0, 401, `error="invalid_token"`, "token cannot be verified: unknown key"},
		{"alg does not match key", "Bearer " + otherAlg, 0, 401, `error="invalid_token"`, "token cannot be verified: algorithm does not match the key"},
		{"other issuer", "Bearer " + otherIssuer, 0, 401, `error="invalid_token"`, "token is from another issuer"},
		{"other audience", "Bearer " + otherAudience, 0, 401, `error="invalid_token"`, "token is for another audience"},
		{"not an access token", "Bearer " + idToken, 0, 401, `error="invalid_token"`, "token cannot be verified: not an access token"},
		{"critical header", "Bearer " + crit, 0, 401, `error="invalid_token"`, "token cannot be verified: unsupported critical header parameter"},
		{"high-s signature", "Bearer " + malleable, 0, 401, `error="invalid_token"`, "token cannot be verified: non-canonical signature (high s)"},
		{"partner token naming an organisation", "Bearer " + withOrg, 0, 401, `error="invalid_token"`, "the client, its organisation or its partner account is disabled or deleted"},
		{"revoked", "Bearer " + revoked, 0, 401, `error="invalid_token"`, "token is revoked"},
		{"partner disabled after issuance", "Bearer " + disabledToken, 0, 401, `error="invalid_token"`, "the client, its organisation or its partner account is disabled or deleted"},
		{"insufficient scope", "Bearer " + readOnly, 0, 403, `error="insufficient_scope"`, "the access token lacks the scope organisations:write"},
		{"within clock skew after expiry", "Bearer " + good, 24*time.Hour + 20*time.Second, 200, "", ""},
		{"expired", "Bearer " + good, 24*time.Hour + time.Minute, 401, `error="invalid_token"`, "token is expired"},
		{"not yet valid", "Bearer " + good, -time.Minute, 401, `error="invalid_token"`, "token is not valid yet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Clock.Advance(tc.advance)
			defer e.Clock.Advance(-tc.advance)
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp := e.Do(t, req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status == 200 {
				var c auth.Caller
				if err := json.Unmarshal(resp.Body, &c); err != nil || c.PartnerID != id || c.ClientID != id || !c.IsPartner() {
					t.Errorf("caller = %+v (%v), want partner %s", c, err, id)
				}
				return
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tc.challenge) {
				t.Errorf("WWW-Authenticate = %q, want it to contain %q", got, tc.challenge)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/problem+json" {
				t.Errorf("Content-Type = %q, want application/problem+json", got)
			}
			var p problem.Problem
			if err := json.Unmarshal(resp.Body, &p); err != nil || p.Status != tc.status || p.Code == "" || p.Detail != tc.detail {
				t.Errorf("problem = %+v (%v), want status %d, detail %q", p, err, tc.status, tc.detail)
			}
		})
	}
	if strings.Contains(e.Log.String(), good) || strings.Contains(e.Log.String(), sec) {
		t.Error("log contains a token or secret")
	}
}

func issue(t *testing.T, e *apptest.Env, iss, aud, typ, id string, change ...func(*token.Claims)) string {
	t.Helper()
	now := e.Clock.Now()
	c := token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: iss, Subject: id, Audience: jwt.ClaimStrings{aud}, ID: "x-" + id,
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
		Scope: scope.Format(scope.Partner()), ClientID: id, PartnerID: id,
	}
	for _, f := range change {
		f(&c)
	}
	raw, err := e.App.Signer.SignJWT(t.Context(), signer.ES384, typ, c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func formRequest(t *testing.T, u string, form url.Values, id, sec string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, sec)
	return req
}

func decodeSegment(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
