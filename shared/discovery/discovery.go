// Package discovery builds the service's metadata document: OpenID Connect
// Discovery 1.0 §3 and RFC 8414 §2 in one, served at
// /.well-known/openid-configuration and /.well-known/oauth-authorization-server,
// and, when the issuer URL has a path (an API Gateway stage), also at the
// RFC 8414 §3.1 path-inserted locations /.well-known/<doc>/<path>.
package discovery

import (
	"net/url"
	"strings"

	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
)

// Metadata is the document.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	AccessTokenSigningAlgValuesSupported       []string `json:"access_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	UILocalesSupported                         []string `json:"ui_locales_supported"`
	AuthorizationResponseISSParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	RequireRequestURIRegistration              bool     `json:"require_request_uri_registration"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
}

// Scopes are the OpenID Connect scopes a sign-in may grant.
var Scopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// Claims are the claims of ID tokens and userinfo.
var Claims = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "authenticated_methods",
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "picture",
	"gender", "birthdate", "zoneinfo", "locale", "updated_at",
	"email", "email_verified", "address", "phone_number", "phone_number_verified",
}

// Document returns the metadata of issuer, whose keys sign with algs.
func Document(issuer string, algs []signer.Algorithm) Metadata {
	base := strings.TrimSuffix(issuer, "/")
	methods := []string{"client_secret_basic", "client_secret_post"}
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	return Metadata{
		Issuer:                            issuer,
		AuthorizationEndpoint:             base + "/v1/authorize",
		TokenEndpoint:                     base + "/v1/token",
		UserinfoEndpoint:                  base + "/v1/userinfo",
		JWKSURI:                           base + "/.well-known/jwks.json",
		IntrospectionEndpoint:             base + "/v1/token/introspect",
		RevocationEndpoint:                base + "/v1/token/revoke",
		GrantTypesSupported:               []string{"authorization_code", "client_credentials", "refresh_token"},
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		SubjectTypesSupported:             []string{"pairwise"},
		ScopesSupported:                   scope.Union(Scopes, scope.Partner()),
		ClaimsSupported:                   Claims,
		TokenEndpointAuthMethodsSupported: methods,
		IntrospectionEndpointAuthMethodsSupported:  methods,
		RevocationEndpointAuthMethodsSupported:     methods,
		IDTokenSigningAlgValuesSupported:           names,
		AccessTokenSigningAlgValuesSupported:       names,
		CodeChallengeMethodsSupported:              []string{"S256"},
		PromptValuesSupported:                      []string{"none", "login", "consent", "select_account"},
		UILocalesSupported:                         []string{"en"},
		AuthorizationResponseISSParameterSupported: true,
	}
}

// IssuerPath is the path of issuer without its leading slash ("dev" for
// https://x/dev), "" when it has none: the {issuer_path} of the
// path-inserted routes.
func IssuerPath(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return strings.Trim(u.Path, "/")
}
