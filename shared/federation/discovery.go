package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// WellKnown is where an issuer's discovery document is (OIDC Discovery §4).
const WellKnown = "/.well-known/openid-configuration"

// The warning codes of a discovery document that could not be used, as an
// authorisation server's operation_warnings report them.
const (
	WarnFetchFailed      = "OPENID_DISCOVERY_FETCH_FAILED"
	WarnInvalidLocation  = "OPENID_DISCOVERY_INVALID_LOCATION"
	WarnInvalidDocument  = "OPENID_DISCOVERY_INVALID_DOCUMENT"
	WarnIssuerMismatch   = "OPENID_DISCOVERY_ISSUER_MISMATCH"
	WarnInsecureEndpoint = "OPENID_DISCOVERY_INSECURE_ENDPOINT"
)

// DiscoveryError is why a discovery document was not used: Code is one of
// the Warn* codes, Detail a sentence safe to show the partner.
type DiscoveryError struct {
	Code   string
	Detail string
	cause  error
}

func (e *DiscoveryError) Error() string { return e.Code + ": " + e.Detail }

func (e *DiscoveryError) Unwrap() error { return e.cause }

// SigningAlgs are the ID token algorithms the service verifies: asymmetric
// only (never none, never HMAC with the client secret).
var SigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

type document struct {
	Issuer                   string   `json:"issuer"`
	AuthorizationEndpoint    string   `json:"authorization_endpoint"`
	TokenEndpoint            string   `json:"token_endpoint"`
	UserinfoEndpoint         string   `json:"userinfo_endpoint"`
	JWKSURI                  string   `json:"jwks_uri"`
	ResponseTypes            []string `json:"response_types_supported"`
	SubjectTypes             []string `json:"subject_types_supported"`
	SigningAlgs              []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported          []string `json:"scopes_supported"`
}

// Discover fetches the discovery document at docURL and checks it (OIDC
// Discovery §3 and §4.3): docURL ends in WellKnown and the document's issuer
// is docURL without it, exactly; the required members are there; the
// endpoints are absolute https URLs (http on the local stack); code is a
// supported response type and one of SigningAlgs a supported algorithm. A
// problem is a *DiscoveryError.
func (f *Fetcher) Discover(ctx context.Context, docURL string, now time.Time) (store.Discovery, error) {
	issuer, ok := strings.CutSuffix(docURL, WellKnown)
	if !ok || issuer == "" {
		return store.Discovery{}, &DiscoveryError{Code: WarnInvalidLocation,
			Detail: "openid_discovery_document must be the issuer followed by " + WellKnown}
	}
	body, err := f.Get(ctx, docURL)
	if err != nil {
		return store.Discovery{}, &DiscoveryError{Code: WarnFetchFailed, Detail: fetchDetail(err), cause: err}
	}
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return store.Discovery{}, &DiscoveryError{Code: WarnInvalidDocument, Detail: "the discovery document is not a JSON object of the expected members", cause: err}
	}
	if doc.Issuer != issuer {
		return store.Discovery{}, &DiscoveryError{Code: WarnIssuerMismatch,
			Detail: fmt.Sprintf("the document's issuer %q is not %q, its location without %s (OpenID Connect Discovery §4.3)", truncate.String(doc.Issuer, 200), truncate.String(issuer, 200), WellKnown)}
	}
	var missing []string
	for _, m := range []struct {
		name string
		ok   bool
	}{
		{"authorization_endpoint", doc.AuthorizationEndpoint != ""}, {"token_endpoint", doc.TokenEndpoint != ""},
		{"jwks_uri", doc.JWKSURI != ""}, {"response_types_supported", len(doc.ResponseTypes) > 0},
		{"subject_types_supported", len(doc.SubjectTypes) > 0},
		{"id_token_signing_alg_values_supported", len(doc.SigningAlgs) > 0},
	} {
		if !m.ok {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return store.Discovery{}, &DiscoveryError{Code: WarnInvalidDocument, Detail: "the discovery document lacks " + strings.Join(missing, ", ")}
	}
	if !slices.Contains(doc.ResponseTypes, "code") {
		return store.Discovery{}, &DiscoveryError{Code: WarnInvalidDocument, Detail: "the provider does not support response_type code"}
	}
	var algs []string
	for _, a := range doc.SigningAlgs {
		if slices.Contains(SigningAlgs, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		return store.Discovery{}, &DiscoveryError{Code: WarnInvalidDocument,
			Detail: "none of the provider's ID token algorithms is one the service verifies (" + strings.Join(SigningAlgs, ", ") + ")"}
	}
	for _, e := range []struct{ name, url string }{
		{"issuer", doc.Issuer}, {"authorization_endpoint", doc.AuthorizationEndpoint}, {"token_endpoint", doc.TokenEndpoint},
		{"jwks_uri", doc.JWKSURI}, {"userinfo_endpoint", doc.UserinfoEndpoint},
	} {
		if e.url == "" {
			continue
		}
		if err := f.CheckURL(e.url); err != nil {
			return store.Discovery{}, &DiscoveryError{Code: WarnInsecureEndpoint, Detail: e.name + " must be an absolute https URL without credentials", cause: err}
		}
		if u, _ := url.Parse(e.url); u.Fragment != "" {
			return store.Discovery{}, &DiscoveryError{Code: WarnInvalidDocument, Detail: e.name + " must not have a fragment"}
		}
	}
	return store.Discovery{
		Issuer: doc.Issuer, AuthorizationEndpoint: doc.AuthorizationEndpoint, TokenEndpoint: doc.TokenEndpoint,
		UserinfoEndpoint: doc.UserinfoEndpoint, JWKSURI: doc.JWKSURI, SigningAlgs: algs,
		TokenEndpointAuthMethods: doc.TokenEndpointAuthMethods, ScopesSupported: doc.ScopesSupported, FetchedAt: now.UTC().Format(time.RFC3339),
	}, nil
}

// fetchDetail says, for the partner, why a fetch failed (no internal
// addresses or error texts beyond the class of failure).
func fetchDetail(err error) string {
	var se *StatusError
	switch {
	case errors.Is(err, ErrRefusedAddress):
		return "the document's host resolves to an address the service does not connect to (loopback, private, link-local, multicast or metadata)"
	case errors.Is(err, ErrRefusedURL):
		return "the document (or a redirect) is not an https URL without credentials"
	case errors.Is(err, ErrTooLarge):
		return fmt.Sprintf("the document is larger than %d KiB", DefaultMaxBytes>>10)
	case errors.Is(err, ErrTooManyRedirects):
		return fmt.Sprintf("more than %d redirects", MaxRedirects)
	case errors.As(err, &se):
		return fmt.Sprintf("the document's URL answered status %d", se.Status)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "the document's server did not answer in time"
	}
	return "the document could not be fetched"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
