package grants

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
)

// MaxCustomClaimsBytes bounds a mint's custom_claims, encoded.
const MaxCustomClaimsBytes = 4 << 10

// MaxSubjectLength bounds a subject (OpenID Connect Core §2: 255 ASCII).
const MaxSubjectLength = 255

// ReservedClaims may not be set as custom claims: the list of seed 003,
// every registered JWT claim (RFC 7519 §4.1, and the IANA registry's
// OAuth and OpenID Connect entries) and every OpenID Connect standard claim
// (Core §5.1), and this service's own claims.
var ReservedClaims = []string{
	// seed 003
	"aud", "exp", "jti", "iat", "iss", "nbf", "sub", "prev_token_id", "oid", "org_id", "user_id", "person_id",
	"first_token", "authenticated_methods", "oidc_tokens", "user_token", "groups", "roles", "access_token",
	"refresh_token", "id", "id_token", "gdpr", "gdpr_consent", "gdpr_consent_level", "parent_user_id",
	"parent_person_id", "parent_org_id", "parent_oid", "attributes", "custom_claims", "slashid", "slashid.dev",
	"slashid.com", "slashid.me", "sid",
	// JWT and OAuth/OpenID registered claims
	"typ", "cty", "azp", "nonce", "auth_time", "at_hash", "c_hash", "s_hash", "acr", "amr", "sub_jwk", "cnf",
	"sip_from_tag", "sip_date", "sip_callid", "sip_cseq_num", "sip_via_branch", "orig", "dest", "mky",
	"events", "toe", "txn", "rph", "sid", "vot", "vtm", "attest", "origid", "act", "scope", "client_id",
	"may_act", "jcard", "at_use_nbr", "div", "opt", "vc", "vp", "sph", "ace_profile", "cnonce", "exi",
	"roles", "groups", "entitlements", "token_introspection", "htm", "htu", "ath", "ueid", "sueids", "oemid",
	"hwmodel", "hwversion", "secboot", "dbgstat", "location", "eat_profile", "submods", "nonce",
	"authorization_details", "verified_claims", "place_of_birth", "nationalities", "birth_family_name",
	"birth_given_name", "birth_middle_name", "salutation", "title", "msisdn", "also_known_as", "htd",
	// OpenID Connect standard claims
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
	"picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale",
	"phone_number", "phone_number_verified", "address", "updated_at",
	// this service's
	"partner_id", "organisation_id",
}

// MintInput is the body of POST /v1/clients/{id}/tokens.
type MintInput struct {
	Subject      *string        `json:"subject"`
	Scope        *string        `json:"scope"`
	CustomClaims map[string]any `json:"custom_claims"`
}

// CheckMint checks in for client c and returns the grant to issue, adding
// every violation to v with its field path.
func CheckMint(v *problem.ValidationError, in MintInput, c store.Principal, now time.Time) store.Grant {
	g := store.Grant{
		ClientID: c.ID, PartnerID: c.PartnerID, OrganisationID: c.OrganisationID,
		AuthTime: now.UTC().Truncate(time.Second), Provider: "api", Methods: []string{"api"},
	}
	switch {
	case in.Subject == nil || *in.Subject == "":
		v.Add("subject", "is required")
	case len(*in.Subject) > MaxSubjectLength || !printableASCII(*in.Subject):
		v.Add("subject", "must be 1 to %d printable ASCII characters", MaxSubjectLength)
	default:
		g.Subject = *in.Subject
	}
	var requested []string
	if in.Scope != nil {
		var err error
		if requested, err = scope.Parse(*in.Scope); err != nil {
			v.Add("scope", "%s", err.Error())
		}
	}
	allowed := Allowed(c)
	for _, s := range requested {
		if !slices.Contains(allowed, s) {
			v.Add("scope", "scope %q is not allowed for this client", s)
		}
	}
	g.Scopes = Granted(requested, c)
	if len(in.CustomClaims) > 0 {
		names := make([]string, 0, len(in.CustomClaims))
		for k := range in.CustomClaims {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if slices.Contains(ReservedClaims, k) {
				v.Add("custom_claims."+k, "is a reserved claim name")
			}
		}
		b, err := json.Marshal(in.CustomClaims)
		switch {
		case err != nil:
			v.Add("custom_claims", "cannot be encoded")
		case len(b) > MaxCustomClaimsBytes:
			v.Add("custom_claims", "must be at most %d bytes encoded", MaxCustomClaimsBytes)
		default:
			g.CustomClaims = string(b)
		}
	}
	return g
}

// Mint issues the tokens of grant g to client c, as a code exchange would:
// an ID token with openid, a refresh token with offline_access and the
// refresh_token grant. It is metered as a token by the caller.
func (s *Service) Mint(ctx context.Context, c store.Principal, g store.Grant) (Response, error) {
	is := s.plan(c, g.Scopes)
	resp, err := s.issue(ctx, c, g, g.Scopes, is, true)
	if err != nil {
		return Response{}, fmt.Errorf("mint for %s: %w", c.ID, err)
	}
	return resp, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
