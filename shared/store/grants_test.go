package store

import (
	"slices"
	"testing"
	"time"
)

// TestPrincipalGrants: a client stored before grant types existed, and any
// partner, reads as client_credentials only; refresh lifetimes default.
func TestPrincipalGrants(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
		want []string
	}{
		{"old client", Principal{Kind: KindClient}, []string{GrantClientCredentials}},
		{"partner", Principal{Kind: KindPartner, GrantTypes: []string{GrantAuthorizationCode}}, []string{GrantClientCredentials}},
		{"sign-in client", Principal{Kind: KindClient, GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}}, []string{GrantAuthorizationCode, GrantRefreshToken}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Grants(); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	abs, idle := Principal{}.RefreshLifetimes()
	if abs != 30*24*time.Hour || idle != 7*24*time.Hour {
		t.Errorf("got defaults %v, %v", abs, idle)
	}
	abs, idle = Principal{RefreshTokenAbsoluteLifetime: 3600}.RefreshLifetimes()
	if abs != time.Hour || idle != time.Hour {
		t.Errorf("got %v, %v; want the idle lifetime capped at the absolute", abs, idle)
	}
}
