package signin

import (
	"context"
	"fmt"
	"maps"

	"github.com/partnerapi/partner-api/shared/store"
)

// Sandbox offers the fixed test personas to non-production clients only:
// a production client never sees them, and a forged choice of one for it
// is refused.
type Sandbox struct{}

// SandboxProvider is the provider name of the personas.
const SandboxProvider = "sandbox"

// Persona is one sandbox test identity.
type Persona struct {
	ID     string
	Label  string
	Hint   string
	Claims map[string]any
}

// Personas are the sandbox identities, the same for every organisation
// (their sub differs per organisation; see Subject). Names, addresses,
// phone numbers (Ofcom/NANP drama ranges) and mail domains (example.*)
// are reserved for fiction and tests.
var Personas = []Persona{
	{ID: "alice", Label: "Alice Smith", Hint: "verified email and phone, London", Claims: map[string]any{
		"name": "Alice Smith", "given_name": "Alice", "family_name": "Smith", "preferred_username": "alice",
		"birthdate": "1990-04-12", "gender": "female", "locale": "en-GB", "zoneinfo": "Europe/London",
		"email": "alice.smith@example.com", "email_verified": true,
		"phone_number": "+44 20 7946 0958", "phone_number_verified": true,
		"address": map[string]any{
			"formatted": "1 Example Street\nLondon\nSW1A 1AA\nUnited Kingdom", "street_address": "1 Example Street",
			"locality": "London", "postal_code": "SW1A 1AA", "country": "GB",
		},
		"updated_at": int64(1767225600),
	}},
	{ID: "bob", Label: "Bob Jones", Hint: "unverified email, Manchester", Claims: map[string]any{
		"name": "Bob Jones", "given_name": "Bob", "family_name": "Jones", "preferred_username": "bobj",
		"birthdate": "1985-11-30", "gender": "male", "locale": "en-GB", "zoneinfo": "Europe/London",
		"email": "bob.jones@example.org", "email_verified": false,
		"phone_number": "+44 161 496 0123", "phone_number_verified": false,
		"address": map[string]any{
			"formatted": "22 Sample Road\nManchester\nM1 1AE\nUnited Kingdom", "street_address": "22 Sample Road",
			"locality": "Manchester", "postal_code": "M1 1AE", "country": "GB",
		},
		"updated_at": int64(1767225600),
	}},
	{ID: "chloe", Label: "Chloé Martin", Hint: "non-ASCII name, Paris", Claims: map[string]any{
		"name": "Chloé Martin", "given_name": "Chloé", "family_name": "Martin", "preferred_username": "chloe",
		"birthdate": "2001-02-03", "gender": "female", "locale": "fr-FR", "zoneinfo": "Europe/Paris",
		"email": "chloe.martin@example.net", "email_verified": true,
		"phone_number": "+33 1 99 00 12 34", "phone_number_verified": true,
		"address": map[string]any{
			"formatted": "5 rue d'Exemple\n75001 Paris\nFrance", "street_address": "5 rue d'Exemple",
			"locality": "Paris", "postal_code": "75001", "country": "FR",
		},
		"updated_at": int64(1767225600),
	}},
	{ID: "dev", Label: "Dev Patel", Hint: "no phone, New York", Claims: map[string]any{
		"name": "Dev Patel", "given_name": "Dev", "family_name": "Patel", "preferred_username": "devp",
		"birthdate": "1978-07-21", "locale": "en-US", "zoneinfo": "America/New_York",
		"email": "dev.patel@example.com", "email_verified": true,
		"address": map[string]any{
			"formatted": "100 Test Avenue\nNew York, NY 10001\nUnited States", "street_address": "100 Test Avenue",
			"locality": "New York", "region": "NY", "postal_code": "10001", "country": "US",
		},
		"updated_at": int64(1767225600),
	}},
}

// Name implements IdentityProvider.
func (Sandbox) Name() string { return SandboxProvider }

// Options implements IdentityProvider: every persona, for a non-production
// client only.
func (Sandbox) Options(_ context.Context, c store.Client) []Option {
	if c.IsProduction {
		return nil
	}
	out := make([]Option, len(Personas))
	for i, p := range Personas {
		out[i] = Option{Value: SandboxProvider + ":" + p.ID, Label: p.Label, Hint: p.Hint}
	}
	return out
}

// Identify implements IdentityProvider.
func (Sandbox) Identify(_ context.Context, c store.Client, id string) (Identity, error) {
	if c.IsProduction {
		return Identity{}, fmt.Errorf("sandbox persona for production client %s: %w", c.ID, ErrNotOffered)
	}
	for _, p := range Personas {
		if p.ID == id {
			return Identity{Provider: SandboxProvider, ID: p.ID, Claims: maps.Clone(p.Claims)}, nil
		}
	}
	return Identity{}, fmt.Errorf("no sandbox persona %q: %w", id, ErrNotOffered)
}

// ScopeClaims are the claims each OpenID Connect scope releases (Core §5.4).
var ScopeClaims = map[string][]string{
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	"email":   {"email", "email_verified"},
	"address": {"address"},
	"phone":   {"phone_number", "phone_number_verified"},
}

// Released returns the claims of all that scopes release, and sub.
func Released(sub string, all map[string]any, scopes []string) map[string]any {
	out := map[string]any{"sub": sub}
	for _, s := range scopes {
		for _, name := range ScopeClaims[s] {
			if v, ok := all[name]; ok {
				out[name] = v
			}
		}
	}
	return out
}
