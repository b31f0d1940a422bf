package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/partnerapi/partner-api/shared/app"
)

// EndpointGroup describes one Lambda function: the API routes it serves and
// the least it needs from the table and the signing keys.
type EndpointGroup struct {
	// Name is the folder under functions/ and dist/.
	Name string
	// Routes are the API Gateway resource paths the group serves (every
	// method: the handler answers 405 itself, the same way the local
	// server's mux does). None: the function has no HTTP route.
	Routes []string
	// TableActions are allowed on the table, IndexActions on GSI1.
	TableActions []string
	IndexActions []string
	// KMS is what the group does with the signing keys.
	KMS KMSAccess
	// CursorKey: the group lists things and needs CURSOR_KEY.
	CursorKey bool
	// MemoryMB and TimeoutSeconds size the function (see Catalog).
	MemoryMB       float64
	TimeoutSeconds float64
}

// KMSAccess is what a group may do with the signing keys.
type KMSAccess int

const (
	// KMSNone: no key access and no key configuration (admin).
	KMSNone KMSAccess = iota
	// KMSVerify: kms:GetPublicKey on every published key, called once per
	// cold start, so bearer tokens are verified without a KMS call each.
	KMSVerify
	// KMSSign: KMSVerify plus kms:Sign on the active key of each algorithm.
	KMSSign
)

// The DynamoDB actions of the groups. TransactWriteItems needs no IAM action
// of its own: DynamoDB authorises each Put, Update, Delete and ConditionCheck
// inside it as that action (there is no dynamodb:TransactWriteItems permission).
var (
	// token: principals, failure and usage counters (Get/Put/UpdateItem),
	// revocations (PutItem), and the token state introspection reads
	// (revocation and principal in one BatchGetItem); the sign-in grants
	// consume codes (conditional DeleteItem) and write used-code markers,
	// refresh families and tokens (Put/UpdateItem in transactions).
	tokenTableActions = []string{"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	// signin: clients, chains and ui-config (Get/BatchGetItem), sessions
	// (Put/Get/DeleteItem), codes and mint's refresh families and audit
	// records (PutItem), usage counters (UpdateItem). No Query, no index.
	signinTableActions = []string{"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	manageTableActions = []string{
		"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
	}
	readTableActions  = []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"}
	adminTableActions = []string{"dynamodb:GetItem", "dynamodb:PutItem"}
	indexQuery        = []string{"dynamodb:Query"}
)

// Catalog is every endpoint group the service has or will have. The routes
// of a group the service has come from app.Routes, the one list the local
// server's mux mounts too; the routes written here are those of API.md for
// groups still to come, and are replaced by app.Routes' when a group lands
// there (TestCatalogMatchesApp fails for an app group the Catalog lacks).
// Which of them a synth deploys is decided by DiscoverGroups: a group is
// deployed once functions/<name>/main.go exists.
//
// Why data-driven rather than all six always: a group without code has no
// dist/<name>/bootstrap, so deploying it would either fail the asset step or
// need a placeholder function answering 5xx on routes that look live. Routes
// appear in API Gateway in the same change that brings their code, and the
// test TestCatalogCoversFunctions fails when a functions/ folder lands that
// the catalog does not know, so a group cannot be forgotten silently.
//
// Sizing: the HTTP groups are I/O-bound Go (DynamoDB and KMS round trips),
// but CPU is allotted in proportion to memory (1,769 MB = 1 vCPU), and the
// CPU work that remains, TLS handshakes at cold start and ES384/ES512/PS256
// verification (0.9-3.4 ms per token on a full core), grows about 3.5x at
// 512 MB and 7x at 256 MB. 512 MB keeps verification in single-digit
// milliseconds at a negligible price on arm64. Timeout 10 s: well below API
// Gateway's 29 s integration limit, so a stuck call ends as a Lambda timeout
// (logged, metered, alarmed) rather than an anonymous 504, and long enough for
// the SDK's retries of a throttled DynamoDB or KMS call. Admin is run by hand
// and does a few item writes: 256 MB, 30 s.
var Catalog = withAppRoutes([]EndpointGroup{
	{
		Name:         "token",
		Routes:       []string{"/v1/token", "/v1/token/introspect", "/v1/token/revoke", "/.well-known/jwks.json", "/.well-known/oauth-authorization-server"},
		TableActions: tokenTableActions,
		KMS:          KMSSign,
		MemoryMB:     512, TimeoutSeconds: 10,
	},
	{
		Name:         "organisations",
		Routes:       []string{"/v1/organisations", "/v1/organisations/{id}", "/v1/organisations/{id}/ui-config"},
		TableActions: manageTableActions, IndexActions: indexQuery,
		KMS: KMSVerify, CursorKey: true,
		MemoryMB: 512, TimeoutSeconds: 10,
	},
	{
		Name: "clients",
		Routes: []string{
			"/v1/organisations/{id}/clients", "/v1/clients/{id}", "/v1/clients/{id}/secret",
			"/v1/clients/me", "/v1/clients/me/secret",
		},
		TableActions: manageTableActions, IndexActions: indexQuery,
		KMS: KMSVerify, CursorKey: true,
		MemoryMB: 512, TimeoutSeconds: 10,
	},
	{
		Name: "authservers",
		Routes: []string{
			"/v1/organisations/{id}/authorisation-servers",
			"/v1/organisations/{id}/authorisation-servers/{as_id}",
		},
		TableActions: manageTableActions, IndexActions: indexQuery,
		KMS: KMSVerify, CursorKey: true,
		MemoryMB: 512, TimeoutSeconds: 10,
	},
	{
		// Usage and audit reports are read-only: usage counters are written
		// by the token function, audit records by the group that makes the
		// change, in the same transaction.
		Name:         "usage",
		Routes:       []string{"/v1/usage", "/v1/audit-events"},
		TableActions: readTableActions, IndexActions: indexQuery,
		KMS: KMSVerify, CursorKey: true,
		MemoryMB: 512, TimeoutSeconds: 10,
	},
	{
		// Sign-in: the authorization endpoint, hosted page, userinfo,
		// discovery and mint. Mint signs tokens: KMSSign. CURSOR_KEY is
		// the master key of its session cookies and CSRF tokens.
		Name:         "signin",
		TableActions: signinTableActions,
		KMS:          KMSSign, CursorKey: true,
		MemoryMB: 512, TimeoutSeconds: 10,
	},
	{
		// Direct invocation only (aws lambda invoke), no HTTP route.
		Name:         "admin",
		TableActions: adminTableActions,
		KMS:          KMSNone,
		MemoryMB:     256, TimeoutSeconds: 30,
	},
})

// withAppRoutes gives each group the paths app.Routes lists for it.
func withAppRoutes(groups []EndpointGroup) []EndpointGroup {
	for _, r := range app.Routes() {
		for i := range groups {
			if groups[i].Name == r.Name {
				groups[i].Routes = slices.Clone(r.Paths)
			}
		}
	}
	return groups
}

// HTTP reports whether the group has API routes.
func (g EndpointGroup) HTTP() bool { return len(g.Routes) > 0 }

// CatalogGroup returns the catalog entry called name.
func CatalogGroup(name string) (EndpointGroup, bool) {
	i := slices.IndexFunc(Catalog, func(g EndpointGroup) bool { return g.Name == name })
	if i < 0 {
		return EndpointGroup{}, false
	}
	return Catalog[i], true
}

// DiscoverGroups returns the names of the catalog groups that have code, a
// functions/<name>/main.go under functionsDir, in catalog order. A folder
// under functionsDir that the catalog does not know is an error: its routes
// and permissions must be added to Catalog first.
func DiscoverGroups(functionsDir string) ([]string, error) {
	entries, err := os.ReadDir(functionsDir)
	if err != nil {
		return nil, fmt.Errorf("discover endpoint groups: %w", err)
	}
	present := map[string]bool{}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(functionsDir, e.Name(), "main.go")); err != nil {
			continue
		}
		if _, ok := CatalogGroup(e.Name()); !ok {
			errs = append(errs, fmt.Errorf("functions/%s: not in the infra Catalog (infra/groups.go): add its routes and permissions", e.Name()))
			continue
		}
		present[e.Name()] = true
	}
	var names []string
	for _, g := range Catalog {
		if present[g.Name] {
			names = append(names, g.Name)
		}
	}
	if len(names) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("discover endpoint groups: no functions/<group>/main.go under %s", functionsDir))
	}
	return names, errors.Join(errs...)
}
