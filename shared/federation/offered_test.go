package federation_test

import (
	"slices"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/federation"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestOffered(t *testing.T) {
	usable := store.Discovery{Issuer: "https://a", AuthorizationEndpoint: "https://a/auth", TokenEndpoint: "https://a/token", JWKSURI: "https://a/jwks"}
	server := func(id string, change func(*store.AuthServer)) store.AuthServer {
		s := store.AuthServer{ID: id, Status: "Active", SupportsRedirect: true, Discovery: usable, FederationClientID: "c"}
		if change != nil {
			change(&s)
		}
		return s
	}
	servers := []store.AuthServer{
		server("retail", func(s *store.AuthServer) { s.ProviderGroups = []string{"retail"} }),
		server("business", func(s *store.AuthServer) { s.ProviderGroups = []string{"business", "sandbox"} }),
		server("nogroup", nil),
		server("inactive", func(s *store.AuthServer) { s.Status = "Inactive" }),
		server("noredirect", func(s *store.AuthServer) { s.SupportsRedirect = false }),
		server("retired", func(s *store.AuthServer) { s.RetirementDate = "2026-11-28" }),
		server("retiring-today", func(s *store.AuthServer) { s.RetirementDate = "2026-11-29" }),
		server("undiscovered", func(s *store.AuthServer) { s.Discovery = store.Discovery{Error: "x"} }),
		server("unregistered", func(s *store.AuthServer) { s.FederationClientID = "" }),
	}
	today := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		org, client []string
		want        []string
	}{
		{"no groups anywhere: every usable server", nil, nil, []string{"retail", "business", "nogroup", "retiring-today"}},
		{"organisation's groups", []string{"retail", "business"}, nil, []string{"retail", "business"}},
		{"intersection", []string{"retail", "business"}, []string{"business"}, []string{"business"}},
		{"client's group outside the organisation's", []string{"retail"}, []string{"business"}, nil},
		{"client's groups when the organisation names none", nil, []string{"sandbox"}, []string{"business"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := federation.Offered(store.Organisation{AllowedProviderGroups: tc.org}, store.Client{AllowedProviderGroups: tc.client}, servers, today)
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
}
