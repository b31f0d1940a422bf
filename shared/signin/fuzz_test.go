package signin

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/store"
)

// FuzzAuthorizeRequest: any query of /v1/authorize is either refused
// (an error page before the client and redirect URI are known good, a
// redirect error after) or gives a request that holds only what the rules
// allow: a registered redirect URI, an S256 challenge, code only, scopes
// the client may have. Never a panic.
func FuzzAuthorizeRequest(f *testing.F) {
	c := store.Client{Principal: store.Principal{ID: "web-client", Enabled: true, Scopes: []string{"accounts"},
		GrantTypes: []string{store.GrantAuthorizationCode, store.GrantRefreshToken}},
		ReturnURLs: []string{"https://app.example/cb", "https://app.example/cb?x=1"}}
	good := "response_type=code&client_id=web-client&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid+profile+offline_access" +
		"&state=s&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	for _, s := range []string{good, "", "client_id=web-client", good + "&prompt=none+login", good + "&max_age=-1", good + "&request=x",
		strings.Replace(good, "S256", "plain", 1), good + "&scope=x", "redirect_uri=https%3A%2F%2Fevil.example&client_id=web-client",
		good + "&ui_locales=%ff%fe", good + "&state=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		params, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		if e := CheckClient(params, c, params.Get("client_id") == c.ID); e != nil {
			if e.Redirect {
				t.Fatalf("%q: an error before the redirect URI is checked redirects", query)
			}
			return
		}
		r, e := Parse(params, c)
		if e != nil {
			if !e.Redirect || strings.ContainsAny(e.Description, "\"\\") {
				t.Fatalf("%q: error %+v", query, e)
			}
			return
		}
		switch {
		case !slices.Contains(c.ReturnURLs, r.RedirectURI):
			t.Fatalf("%q: redirect URI %q is not registered", query, r.RedirectURI)
		case params.Get("response_type") != "code" || params.Get("code_challenge_method") != "S256" || !grants.ValidChallenge(r.CodeChallenge):
			t.Fatalf("%q: accepted without code + S256", query)
		}
		for _, s := range r.Scopes {
			if !slices.Contains([]string{"openid", "profile", "email", "address", "phone", "offline_access", "accounts"}, s) {
				t.Fatalf("%q: granted scope %q", query, s)
			}
		}
	})
}
