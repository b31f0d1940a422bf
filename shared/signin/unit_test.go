package signin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
)

// TestPathInsertedDiscovery: with an issuer path (an API Gateway stage)
// the document is also at /.well-known/openid-configuration/<path>.
func TestPathInsertedDiscovery(t *testing.T) {
	ops, err := Operations(Deps{IssuerURL: "https://api.example/dev", SealKey: make([]byte, 32), Algorithms: []signer.Algorithm{signer.ES384}})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := registry.Lookup("signin")
	h, err := endpoint.Mux(g, ops, problem.Write, func(h http.Handler) http.Handler { return h })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		status int
	}{
		{"/.well-known/openid-configuration", 200},
		{"/.well-known/openid-configuration/dev", 200},
		{"/.well-known/openid-configuration/prod", 404},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("got %d, want %d", w.Code, tc.status)
			}
			if tc.status == 200 && !strings.Contains(w.Body.String(), `"issuer":"https://api.example/dev"`) {
				t.Errorf("got %s", w.Body)
			}
		})
	}
}

// TestThemeContrast: text on the primary colour is black on light colours
// and white on dark ones; an unreadable text colour is replaced.
func TestThemeContrast(t *testing.T) {
	tests := []struct {
		name                  string
		cfg                   store.UIConfig
		wantOnPrimary, wantTx string
	}{
		{"yellow primary", store.UIConfig{PrimaryColour: "#FFD500", BackgroundColour: "#FFFFFF", TextColour: "#111111"}, "#000000", "#111111"},
		{"dark blue primary", store.UIConfig{PrimaryColour: "#0B2F8F", BackgroundColour: "#FFFFFF", TextColour: "#111111"}, "#FFFFFF", "#111111"},
		{"grey on grey text", store.UIConfig{PrimaryColour: "#000000", BackgroundColour: "#777777", TextColour: "#888888"}, "#FFFFFF", "#000000"},
		{"invalid colours use defaults", store.UIConfig{PrimaryColour: "red"}, "#FFFFFF", "#1A1A1A"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			th := ThemeOf(tc.cfg, "Org")
			if th.OnPrimary != tc.wantOnPrimary || th.Text != tc.wantTx {
				t.Errorf("got on-primary %s text %s, want %s %s", th.OnPrimary, th.Text, tc.wantOnPrimary, tc.wantTx)
			}
			if c := contrast(luminance(th.OnPrimary), luminance(th.Primary)); c < 4.5 {
				t.Errorf("contrast on primary %.2f < 4.5", c)
			}
		})
	}
}

// TestSubject: stable, per organisation, 43 ASCII characters.
func TestSubject(t *testing.T) {
	id := Identity{Provider: SandboxProvider, ID: "alice"}
	a, b := Subject("p1", "o1", id), Subject("p1", "o1", id)
	if a != b || len(a) != 43 {
		t.Errorf("got %q and %q, want the same 43 characters", a, b)
	}
	if Subject("p1", "o2", id) == a || Subject("p1", "o1", Identity{Provider: SandboxProvider, ID: "bob"}) == a {
		t.Error("sub does not differ across organisations or users")
	}
}

// TestSeal: sealed values open only for their purpose, untampered and
// before expiry.
func TestSeal(t *testing.T) {
	s, err := newSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v := s.seal("a", []byte("x"), now.Add(time.Minute))
	if got, err := s.open("a", v, now); err != nil || string(got) != "x" {
		t.Errorf("got %q %v", got, err)
	}
	for name, open := range map[string]func() error{
		"other purpose": func() error { _, err := s.open("b", v, now); return err },
		"expired":       func() error { _, err := s.open("a", v, now.Add(2*time.Minute)); return err },
		"tampered":      func() error { _, err := s.open("a", v[:len(v)-2]+"AA", now); return err },
	} {
		if open() == nil {
			t.Errorf("%s: opened", name)
		}
	}
}
