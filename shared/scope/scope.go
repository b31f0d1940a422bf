// Package scope parses and narrows OAuth 2.0 scopes (RFC 6749 §3.3) and names
// the scopes of partner tokens.
package scope

import (
	"fmt"
	"slices"
	"strings"

	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// The scopes a partner token may carry. A partner token gets all of them
// unless the token request narrows them.
const (
	OrganisationsRead  = "organisations:read"
	OrganisationsWrite = "organisations:write"
	ClientsRead        = "clients:read"
	ClientsWrite       = "clients:write"
	UsageRead          = "usage:read"
	AuditRead          = "audit:read"
	// TokensMint lets a partner mint sign-in tokens for a subject of one
	// of its clients (POST /v1/clients/{id}/tokens). Never a client's.
	TokensMint = "tokens:mint"
)

// ClientsManage is the reserved scope of delegated management: an
// organisation's client whose token carries it may manage the clients of its
// own organisation with the clients endpoints. Only a partner may grant it,
// in a client's additional_scopes; it is not a partner scope.
const ClientsManage = "clients:manage"

// Partner lists every partner scope, sorted.
func Partner() []string {
	return []string{AuditRead, ClientsRead, ClientsWrite, OrganisationsRead, OrganisationsWrite, TokensMint, UsageRead}
}

// MaxLength bounds one scope token.
const MaxLength = 128

// Valid reports whether s is a scope-token of RFC 6749 §3.3
// (1*( %x21 / %x23-5B / %x5D-7E )) no longer than MaxLength.
func Valid(s string) bool {
	if s == "" || len(s) > MaxLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5C || c > 0x7E {
			return false
		}
	}
	return true
}

// Parse splits a space-delimited scope parameter into sorted, unique tokens.
// An empty parameter gives nil; an invalid token gives an invalid_scope
// *oautherr.Error.
func Parse(param string) ([]string, error) {
	if param == "" {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(param, " ") {
		if !Valid(s) {
			return nil, oautherr.InvalidScope(fmt.Sprintf("scope %q is not a valid scope token", truncate.String(s, 40)))
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Narrow returns the scopes a token gets when requested (parsed) is asked
// for and allowed is what the principal may have: all of allowed when nothing
// is requested, else requested, which must be a subset of allowed (an
// invalid_scope *oautherr.Error otherwise).
func Narrow(requested, allowed []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.Sorted(slices.Values(allowed)), nil
	}
	for _, s := range requested {
		if !slices.Contains(allowed, s) {
			return nil, oautherr.InvalidScope(fmt.Sprintf("scope %q is not allowed for this client", s))
		}
	}
	return requested, nil
}

// Union returns the sorted, unique scopes of a and b.
func Union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// Format joins scopes with spaces.
func Format(scopes []string) string { return strings.Join(scopes, " ") }
