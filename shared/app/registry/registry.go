// Package registry is the one description of the service's endpoint groups:
// for each group (one Lambda function) its routes (method, path, the
// operation that serves it, who may call it with which scope), how its
// function is sized and what it may do with the table and the signing keys.
//
// The local server's mux, every group's handler (shared/app), the API
// Gateway resources and IAM grants of the CDK stack (infra) and the OpenAPI
// route test all read Groups. It holds data only and imports nothing of the
// service but the scope names, so the CDK app reads it without compiling
// the service.
package registry

import (
	"slices"

	"github.com/partnerapi/partner-api/shared/scope"
)

// Op names the operation that serves a route: the operationId of the route
// in openapi/openapi.yaml, and the key under which a group's package
// provides its handler.
type Op string

// Access is who may call a route.
type Access int

const (
	// Public routes take no bearer token: the handler authenticates the
	// caller itself (the OAuth endpoints) or serves anyone (discovery).
	Public Access = iota
	// Partner routes need a partner's access token carrying the route's
	// Scope; an organisation client's token gets 403 with NotForClients.
	Partner
	// PartnerOrManager routes need a partner's token carrying Scope, or an
	// organisation client's token carrying clients:manage (delegated
	// management; the handler checks that the client still holds it).
	PartnerOrManager
	// Client routes need an organisation client's token, any scope (the
	// calling client itself: /v1/clients/me); a partner's token gets 403
	// with NotForPartners.
	Client
)

// Route is one method of one path.
type Route struct {
	// Method is the HTTP method (HEAD only when listed).
	Method string
	// Path is the OpenAPI path template, also the API Gateway resource and
	// the net/http pattern ({name} is a path parameter).
	Path string
	// Op is the operation serving the route.
	Op Op
	// Access and Scope say who may call it.
	Access Access
	Scope  string
	// NotForClients is the 403 detail an organisation client's token gets
	// on a Partner route; NotForPartners a partner's token on a Client
	// route.
	NotForClients  string
	NotForPartners string
}

// KMSAccess is what a group's function may do with the signing keys.
type KMSAccess int

const (
	// KMSNone: no key access and no key configuration (admin).
	KMSNone KMSAccess = iota
	// KMSVerify: the published keys, loaded once per cold start (kms mode:
	// kms:GetPublicKey on each; wrapped mode: the key ring in the table), so
	// bearer tokens are verified without a KMS call each.
	KMSVerify
	// KMSSign: KMSVerify plus signing: kms:Sign on the active key of each
	// algorithm (kms mode), or kms:Decrypt of the key ring's wrapped keys
	// (wrapped mode).
	KMSSign
	// KMSRotate: no verification or signing; in wrapped mode it adds keys
	// to the ring (kms:Encrypt under the wrapping key): the admin function.
	KMSRotate
)

// FederationKeyAccess is what a group's function may do with the KMS key
// encrypting the authorisation servers' federation client secrets; the
// grants require the secrets' encryption context (purpose, partner id and
// server id).
type FederationKeyAccess int

const (
	// FederationNone: no access, no FEDERATION_KEY.
	FederationNone FederationKeyAccess = iota
	// FederationEncrypt: kms:Encrypt (authservers stores secrets).
	FederationEncrypt
	// FederationDecrypt: kms:Decrypt (signin uses them upstream).
	FederationDecrypt
)

// Errors is how a group writes its errors.
type Errors int

const (
	// Problems: RFC 9457 problem+json (the management endpoints).
	Problems Errors = iota
	// OAuth: RFC 6749 §5.2 error bodies (the token endpoints).
	OAuth
)

// Group is one endpoint group: one Lambda function, functions/<Name>.
type Group struct {
	// Name is the folder under functions/ and dist/.
	Name string
	// Routes are the group's routes; none: the function is invoked
	// directly (admin).
	Routes []Route
	// Errors is the error format of the group's responses.
	Errors Errors
	// MaxBodyBytes bounds request bodies (0: 16 KiB for OAuth groups,
	// 128 KiB for the others).
	MaxBodyBytes int64
	// Metered groups count every authenticated call as usage (kind api).
	Metered bool
	// TableActions are allowed on the table, IndexActions on GSI1.
	TableActions []string
	IndexActions []string
	// KMS is what the group does with the signing keys.
	KMS KMSAccess
	// CursorKey: the group lists things and needs CURSOR_KEY.
	CursorKey bool
	// FederationKey is what the group does with the symmetric KMS key of
	// the federation client secrets (FEDERATION_KEY).
	FederationKey FederationKeyAccess
	// MemoryMB and TimeoutSeconds size the function (see Groups).
	MemoryMB       float64
	TimeoutSeconds float64
}

// HTTP reports whether the group has API routes.
func (g Group) HTTP() bool { return len(g.Routes) > 0 }

// Paths are the group's distinct paths in the order of Routes.
func (g Group) Paths() []string {
	var paths []string
	for _, r := range g.Routes {
		if !slices.Contains(paths, r.Path) {
			paths = append(paths, r.Path)
		}
	}
	return paths
}

// Lookup returns the group called name.
func Lookup(name string) (Group, bool) {
	groups := Groups()
	i := slices.IndexFunc(groups, func(g Group) bool { return g.Name == name })
	if i < 0 {
		return Group{}, false
	}
	return groups[i], true
}

// The DynamoDB actions of the groups. TransactWriteItems needs no IAM action
// of its own: DynamoDB authorises each Put, Update, Delete and ConditionCheck
// inside it as that action (there is no dynamodb:TransactWriteItems permission).
var (
	// token: principals, failure and usage counters (Get/Put/UpdateItem),
	// revocations (PutItem), the token state introspection reads
	// (revocation and principal in one BatchGetItem); sign-in grants
	// consume codes (conditional DeleteItem) and write used-code markers,
	// refresh families and tokens (Put/UpdateItem in transactions).
	// Query: the signing key ring (wrapped mode).
	tokenTableActions = []string{"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	// signin: clients, chains and ui-config (Get/BatchGetItem), sessions
	// (Put/Get/DeleteItem), codes and mint's refresh families and audit
	// records (PutItem), usage counters (UpdateItem), federation flows
	// (Put, conditional UpdateItem); Query: the signing key ring (mint
	// signs in wrapped mode) and the organisation's authorisation servers
	// offered on the page (pattern 16). No index.
	signinTableActions = []string{"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	manageTableActions = []string{
		"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
		"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
	}
	readTableActions = []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"}
	// Query and PutItem: the signing key ring's rotation (wrapped mode).
	adminTableActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}
	indexQuery        = []string{"dynamodb:Query"}
)

// The paths of an authorisation server's API resources and certifications.
const (
	apiResources   = "/v1/organisations/{id}/authorisation-servers/{as_id}/api-resources"
	apiResource    = apiResources + "/{resource_id}"
	certifications = "/v1/organisations/{id}/authorisation-servers/{as_id}/certifications"
	certification  = certifications + "/{certification_id}"
)

// The 403 details of tokens of the wrong kind.
const (
	orgsNotForClients    = "organisations are managed with a partner's access token, not an organisation client's"
	serversNotForClients = "authorisation servers are managed with a partner's access token, not an organisation client's"
	usageNotForClients   = "usage is reported to the partner, not to an organisation's client"
	auditNotForClients   = "audit events are shown to the partner, not to an organisation's client"
	meNotForPartners     = "/v1/clients/me is the calling organisation client; a partner's token has none"
)

// Groups lists every endpoint group.
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
//
// The token function gets 1,024 MB (about 0.58 vCPU): a client with a short
// caller-chosen secret costs one argon2id check per token (12 MiB, 17-25 ms
// on a full core here, so about 35 ms there rather than 70 ms at 512 MB),
// and the 12 MiB it holds per check fits many times over. Measured with
// BenchmarkTokenEndpoint (cpu-ms/op): such a token costs 21-23 ms of the
// function's CPU against 2.3-2.8 ms with a generated secret, so one vCPU
// sustains about 45 tokens a second for them (about 400 otherwise). Only
// admitted attempts run it (at most 10 failures per client id, address and
// 15 minutes) and unknown client ids never do, so the CPU an attacker can
// spend is bounded by the addresses it has; the function's concurrency
// scales with the traffic of such clients, never with guesses at unknown ids.
func Groups() []Group {
	return []Group{
		{
			Name:   "token",
			Errors: OAuth,
			Routes: []Route{
				{Method: "POST", Path: "/v1/token", Op: "createToken"},
				{Method: "POST", Path: "/v1/token/introspect", Op: "introspectToken"},
				{Method: "POST", Path: "/v1/token/revoke", Op: "revokeToken"},
				{Method: "GET", Path: "/.well-known/jwks.json", Op: "getJWKS"},
				{Method: "HEAD", Path: "/.well-known/jwks.json", Op: "getJWKS"},
				{Method: "GET", Path: "/.well-known/oauth-authorization-server", Op: "getServerMetadata"},
				{Method: "HEAD", Path: "/.well-known/oauth-authorization-server", Op: "getServerMetadata"},
				// RFC 8414 §3.1: where the document is when the issuer has a path.
				{Method: "GET", Path: "/.well-known/oauth-authorization-server/{issuer_path}", Op: "getServerMetadataPathInserted"},
				{Method: "HEAD", Path: "/.well-known/oauth-authorization-server/{issuer_path}", Op: "getServerMetadataPathInserted"},
			},
			TableActions: tokenTableActions,
			KMS:          KMSSign,
			MemoryMB:     1024, TimeoutSeconds: 10,
		},
		{
			Name:    "organisations",
			Metered: true,
			Routes: []Route{
				partner("GET", "/v1/organisations", "listOrganisations", scope.OrganisationsRead, orgsNotForClients),
				partner("POST", "/v1/organisations", "createOrganisation", scope.OrganisationsWrite, orgsNotForClients),
				partner("GET", "/v1/organisations/{id}", "getOrganisation", scope.OrganisationsRead, orgsNotForClients),
				partner("PUT", "/v1/organisations/{id}", "replaceOrganisation", scope.OrganisationsWrite, orgsNotForClients),
				partner("PATCH", "/v1/organisations/{id}", "patchOrganisation", scope.OrganisationsWrite, orgsNotForClients),
				partner("DELETE", "/v1/organisations/{id}", "deleteOrganisation", scope.OrganisationsWrite, orgsNotForClients),
				partner("GET", "/v1/organisations/{id}/ui-config", "getOrganisationUIConfig", scope.OrganisationsRead, orgsNotForClients),
				partner("PUT", "/v1/organisations/{id}/ui-config", "replaceOrganisationUIConfig", scope.OrganisationsWrite, orgsNotForClients),
			},
			TableActions: manageTableActions, IndexActions: indexQuery,
			KMS: KMSVerify, CursorKey: true,
			MemoryMB: 512, TimeoutSeconds: 10,
		},
		{
			Name:    "clients",
			Metered: true,
			// The literal "me" is the calling client, never a client id
			// (which is at least 5 characters).
			Routes: []Route{
				manager("GET", "/v1/organisations/{id}/clients", "listClients", scope.ClientsRead),
				manager("POST", "/v1/organisations/{id}/clients", "createClient", scope.ClientsWrite),
				manager("GET", "/v1/clients/{id}", "getClient", scope.ClientsRead),
				manager("PUT", "/v1/clients/{id}", "replaceClient", scope.ClientsWrite),
				manager("PATCH", "/v1/clients/{id}", "patchClient", scope.ClientsWrite),
				manager("DELETE", "/v1/clients/{id}", "deleteClient", scope.ClientsWrite),
				manager("POST", "/v1/clients/{id}/secret", "rotateClientSecret", scope.ClientsWrite),
				{Method: "GET", Path: "/v1/clients/me", Op: "getClientMe", Access: Client, NotForPartners: meNotForPartners},
				{Method: "POST", Path: "/v1/clients/me/secret", Op: "rotateClientMeSecret", Access: Client, NotForPartners: meNotForPartners},
			},
			TableActions: manageTableActions, IndexActions: indexQuery,
			KMS: KMSVerify, CursorKey: true,
			MemoryMB: 512, TimeoutSeconds: 10,
		},
		{
			Name:    "authservers",
			Metered: true,
			Routes: []Route{
				partner("GET", "/v1/organisations/{id}/authorisation-servers", "listAuthorisationServers", scope.OrganisationsRead, serversNotForClients),
				partner("POST", "/v1/organisations/{id}/authorisation-servers", "createAuthorisationServer", scope.OrganisationsWrite, serversNotForClients),
				partner("GET", "/v1/organisations/{id}/authorisation-servers/{as_id}", "getAuthorisationServer", scope.OrganisationsRead, serversNotForClients),
				partner("PUT", "/v1/organisations/{id}/authorisation-servers/{as_id}", "replaceAuthorisationServer", scope.OrganisationsWrite, serversNotForClients),
				partner("PATCH", "/v1/organisations/{id}/authorisation-servers/{as_id}", "patchAuthorisationServer", scope.OrganisationsWrite, serversNotForClients),
				partner("DELETE", "/v1/organisations/{id}/authorisation-servers/{as_id}", "deleteAuthorisationServer", scope.OrganisationsWrite, serversNotForClients),
				partner("POST", "/v1/organisations/{id}/authorisation-servers/{as_id}/refresh", "refreshAuthorisationServer", scope.OrganisationsWrite, serversNotForClients),
				partner("GET", apiResources, "listAPIResources", scope.OrganisationsRead, serversNotForClients),
				partner("POST", apiResources, "createAPIResource", scope.OrganisationsWrite, serversNotForClients),
				partner("GET", apiResource, "getAPIResource", scope.OrganisationsRead, serversNotForClients),
				partner("PUT", apiResource, "replaceAPIResource", scope.OrganisationsWrite, serversNotForClients),
				partner("PATCH", apiResource, "patchAPIResource", scope.OrganisationsWrite, serversNotForClients),
				partner("DELETE", apiResource, "deleteAPIResource", scope.OrganisationsWrite, serversNotForClients),
				partner("GET", certifications, "listAuthorisationServerCertifications", scope.OrganisationsRead, serversNotForClients),
				partner("POST", certifications, "createAuthorisationServerCertification", scope.OrganisationsWrite, serversNotForClients),
				partner("GET", certification, "getAuthorisationServerCertification", scope.OrganisationsRead, serversNotForClients),
				partner("PUT", certification, "replaceAuthorisationServerCertification", scope.OrganisationsWrite, serversNotForClients),
				partner("PATCH", certification, "patchAuthorisationServerCertification", scope.OrganisationsWrite, serversNotForClients),
				partner("DELETE", certification, "deleteAuthorisationServerCertification", scope.OrganisationsWrite, serversNotForClients),
			},
			TableActions: manageTableActions, IndexActions: indexQuery,
			KMS: KMSVerify, CursorKey: true, FederationKey: FederationEncrypt,
			MemoryMB: 512, TimeoutSeconds: 10,
		},
		{
			// Usage and audit reports are read-only and not metered (reading
			// the bill is free): usage counters are written by the groups
			// that count, audit records by the group that makes the change,
			// in the same transaction.
			Name: "usage",
			Routes: []Route{
				partner("GET", "/v1/usage", "getUsage", scope.UsageRead, usageNotForClients),
				partner("GET", "/v1/audit-events", "listAuditEvents", scope.AuditRead, auditNotForClients),
			},
			TableActions: readTableActions, IndexActions: indexQuery,
			KMS: KMSVerify, CursorKey: true,
			MemoryMB: 512, TimeoutSeconds: 10,
		},
		{
			// Sign-in (OpenID Connect): the authorization endpoint and its
			// hosted page, userinfo and discovery answer anyone (each checks
			// what it needs); minting tokens for a subject is the partner's
			// (metered as tokens by the handler, not as a management call).
			// It signs minted tokens, hence KMSSign.
			Name:         "signin",
			MaxBodyBytes: 64 << 10,
			Routes: []Route{
				{Method: "GET", Path: "/v1/authorize", Op: "authorize"},
				{Method: "POST", Path: "/v1/authorize", Op: "authorizeByPost"},
				{Method: "POST", Path: "/v1/authorize/login", Op: "signInChoice"},
				// The service's redirect URI at upstream providers.
				{Method: "GET", Path: "/v1/authorize/callback", Op: "authorizeCallback"},
				{Method: "GET", Path: "/v1/userinfo", Op: "getUserInfo"},
				{Method: "POST", Path: "/v1/userinfo", Op: "postUserInfo"},
				{Method: "GET", Path: "/.well-known/openid-configuration", Op: "getOpenIDConfiguration"},
				{Method: "HEAD", Path: "/.well-known/openid-configuration", Op: "getOpenIDConfiguration"},
				{Method: "GET", Path: "/.well-known/openid-configuration/{issuer_path}", Op: "getOpenIDConfigurationPathInserted"},
				{Method: "HEAD", Path: "/.well-known/openid-configuration/{issuer_path}", Op: "getOpenIDConfigurationPathInserted"},
				partner("POST", "/v1/clients/{id}/tokens", "mintTokens", scope.TokensMint, "only the partner may mint tokens"),
			},
			TableActions: signinTableActions,
			KMS:          KMSSign, CursorKey: true, FederationKey: FederationDecrypt,
			MemoryMB: 512, TimeoutSeconds: 10,
		},
		{
			// Direct invocation only (aws lambda invoke), no HTTP route.
			Name:         "admin",
			TableActions: adminTableActions,
			KMS:          KMSRotate,
			MemoryMB:     256, TimeoutSeconds: 30,
		},
	}
}

func partner(method, path string, op Op, s, notForClients string) Route {
	return Route{Method: method, Path: path, Op: op, Access: Partner, Scope: s, NotForClients: notForClients}
}

func manager(method, path string, op Op, s string) Route {
	return Route{Method: method, Path: path, Op: op, Access: PartnerOrManager, Scope: s}
}

// GCPercent is the garbage collector's target every function (GOGC, set by
// the stack from the process's start) and the local server (app.TuneGC) run
// with: a request allocates ~120 KB, mostly in the SDK, and the live heap
// is a few MB, so collecting at 4x the live heap instead of 2x saves about
// a tenth of a token's CPU (make loadtest) for a few tens of MB of a 512 MB
// function, and the clients function's password dictionaries (~10 MB
// allocated at package initialisation) cost ~70 ms less CPU at its cold
// start under qemu.
const GCPercent = 400
