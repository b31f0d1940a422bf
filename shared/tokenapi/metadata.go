package tokenapi

import (
	"strings"

	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/signer"
)

// serverMetadata is the RFC 8414 authorization server metadata.
type serverMetadata struct {
	Issuer                                    string   `json:"issuer"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	ScopesSupported                           []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	AccessTokenSigningAlgValuesSupported      []string `json:"access_token_signing_alg_values_supported"`
}

func metadata(issuer string, algs []signer.Algorithm) serverMetadata {
	base := strings.TrimSuffix(issuer, "/")
	methods := []string{"client_secret_basic", "client_secret_post"}
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = string(a)
	}
	return serverMetadata{
		Issuer:                            issuer,
		TokenEndpoint:                     base + "/v1/token",
		JWKSURI:                           base + "/.well-known/jwks.json",
		IntrospectionEndpoint:             base + "/v1/token/introspect",
		RevocationEndpoint:                base + "/v1/token/revoke",
		GrantTypesSupported:               []string{"client_credentials"},
		ResponseTypesSupported:            []string{},
		ScopesSupported:                   scope.Partner(),
		TokenEndpointAuthMethodsSupported: methods,
		IntrospectionEndpointAuthMethodsSupported: methods,
		RevocationEndpointAuthMethodsSupported:    methods,
		AccessTokenSigningAlgValuesSupported:      names,
	}
}
