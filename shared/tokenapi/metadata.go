package tokenapi

import (
	"github.com/partnerapi/partner-api/shared/discovery"
	"github.com/partnerapi/partner-api/shared/signer"
)

// metadata is the RFC 8414 authorization server metadata: the same
// document as the OpenID Connect discovery document (package discovery).
func metadata(issuer string, algs []signer.Algorithm) discovery.Metadata {
	return discovery.Document(issuer, algs)
}
