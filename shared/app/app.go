// Package app is the composition root: it builds the store, the signer, the
// token issuer and verifier from the configuration, and from them each
// endpoint group's http.Handler with its middleware. Lambda mains, the local
// server and tests all build their handlers here, so they run the same code.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/audit"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/authservers"
	"github.com/partnerapi/partner-api/shared/clientid"
	"github.com/partnerapi/partner-api/shared/clients"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/organisations"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/signin"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
	"github.com/partnerapi/partner-api/shared/tokenapi"
	"github.com/partnerapi/partner-api/shared/usage"
)

// MaxJSONBodyBytes bounds management request bodies.
const MaxJSONBodyBytes = 128 << 10

// App holds the service's parts.
type App struct {
	Config   config.Config
	Logger   *slog.Logger
	Store    *store.Table
	Signer   *signer.Signer
	Issuer   *token.Issuer
	Verifier *token.Verifier
	// Meter counts tokens issued and management API calls.
	Meter *usage.Meter
	Now   func() time.Time
}

// New builds the App: it loads the signing keys' public keys from KMS once.
func New(ctx context.Context, cfg config.Config, awsCfg aws.Config, logger *slog.Logger) (*App, error) {
	s, err := signer.New(ctx, kms.NewFromConfig(awsCfg), cfg.SigningKeys, cfg.RetiredKeys)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	return NewWith(cfg, dynamodb.NewFromConfig(awsCfg), s, logger, time.Now), nil
}

// NewWith builds the App from parts already made (tests inject a clock).
func NewWith(cfg config.Config, db store.DynamoDB, s *signer.Signer, logger *slog.Logger, now func() time.Time) *App {
	st := store.New(db, cfg.TableName, now, store.WithAuditRetention(cfg.AuditRetention))
	return &App{
		Config: cfg, Logger: logger, Store: st, Signer: s, Now: now,
		Issuer:   token.NewIssuer(s, cfg.IssuerURL, cfg.Audience, now),
		Verifier: token.NewVerifier(s, st, cfg.IssuerURL, cfg.Audience, now),
		Meter:    usage.NewMeter(st, logger, now),
	}
}

// Token is the token endpoint group behind its middleware.
func (a *App) Token() (http.Handler, error) {
	g := a.grants()
	h, err := tokenapi.New(tokenapi.Deps{
		Principals: a.Store, Revoker: a.Store, Keys: a.Signer, Meter: a.Meter,
		Issuer: a.Issuer, Verifier: a.Verifier,
		IssuerURL: a.Config.IssuerURL, PartnerAlgorithm: a.Config.PartnerAlgorithm, Now: a.Now,
		Grants: g, Refresh: g,
	})
	if err != nil {
		return nil, err
	}
	return middleware.Wrap(h, middleware.Options{
		Logger: a.Logger, MaxBodyBytes: tokenapi.MaxBodyBytes, WriteError: tokenapi.WriteError,
	}), nil
}

// grants issues the tokens of sign-ins (code and refresh exchanges, mint).
func (a *App) grants() *grants.Service {
	return grants.New(a.Store, a.Issuer, a.Signer, a.Meter, a.Config.IssuerURL, a.Now)
}

// SignIn is the sign-in endpoint group: the authorization endpoint and its
// hosted page, userinfo and the discovery document behind the common
// middleware, and the mint endpoint behind bearer authentication (metered
// as tokens, not as a management call).
func (a *App) SignIn() (http.Handler, error) {
	d := signin.Deps{
		Store: a.Store, Grants: a.grants(), Verifier: a.Verifier, Meter: a.Meter,
		Providers: []signin.IdentityProvider{signin.Sandbox{}},
		IssuerURL: a.Config.IssuerURL, Algorithms: a.Signer.Algorithms(), SealKey: a.Config.CursorKey, Now: a.Now,
	}
	h, err := signin.New(d)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(signin.MintRoute, a.authenticated(signin.NewMint(d)))
	mux.Handle("/", middleware.Wrap(h, middleware.Options{
		Logger: a.Logger, MaxBodyBytes: signin.MaxBodyBytes, WriteError: problem.Write,
	}))
	return mux, nil
}

// Organisations is the organisations endpoint group behind bearer
// authentication and the management middleware.
func (a *App) Organisations() (http.Handler, error) {
	cursors, err := cursor.New(a.Config.CursorKey)
	if err != nil {
		return nil, fmt.Errorf("organisations: %w", err)
	}
	svc := organisations.NewService(a.Store, cursors, a.Now, uuid.NewString)
	return a.management(organisations.NewHandler(svc)), nil
}

// Clients is the clients endpoint group behind bearer authentication and
// the management middleware.
func (a *App) Clients() (http.Handler, error) {
	cursors, err := cursor.New(a.Config.CursorKey)
	if err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	svc := clients.NewService(a.Store, cursors, a.Now, clientid.Generate)
	return a.management(clients.NewHandler(svc)), nil
}

// AuthServers is the authorisation servers endpoint group behind bearer
// authentication and the management middleware.
func (a *App) AuthServers() (http.Handler, error) {
	cursors, err := cursor.New(a.Config.CursorKey)
	if err != nil {
		return nil, fmt.Errorf("authservers: %w", err)
	}
	svc := authservers.NewService(a.Store, cursors, a.Now, uuid.NewString)
	return a.management(authservers.NewHandler(svc)), nil
}

// Usage is the usage and billing endpoint group behind bearer
// authentication and the management middleware. Its own calls are not
// metered: reading the bill is free, and its function may only read the
// table.
//
// It also serves the audit log (GET /v1/audit-events), read-only as well.
func (a *App) Usage() (http.Handler, error) {
	cursors, err := cursor.New(a.Config.CursorKey)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(audit.Routes[0], audit.NewHandler(a.Store, cursors))
	mux.Handle("/", usage.NewHandler(usage.NewService(a.Store)))
	return a.authenticated(mux), nil
}

// management wraps a management group's handler: the bearer token is
// checked inside the common middleware, each authenticated call is metered
// for its caller, and every error is problem+json.
func (a *App) management(h http.Handler) http.Handler {
	return a.authenticated(a.Meter.API(h))
}

// authenticated puts h behind bearer authentication inside the common
// middleware, with every error as problem+json.
func (a *App) authenticated(h http.Handler) http.Handler {
	return middleware.Wrap(auth.Require(a.Verifier, withOrigin(h)), middleware.Options{
		Logger: a.Logger, MaxBodyBytes: MaxJSONBodyBytes, WriteError: problem.Write,
	})
}

// withOrigin puts the audit origin of the request in its context: the
// authenticated caller, the Lambda request id (the interaction id when not
// on Lambda) and the interaction id.
func withOrigin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		o := store.Origin{InteractionID: middleware.InteractionID(ctx)}
		o.RequestID = o.InteractionID
		if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
			o.RequestID = lc.AwsRequestID
		}
		if c, ok := auth.FromContext(ctx); ok {
			o.Actor = store.Actor{Type: store.ActorClient, ID: c.ClientID}
			if c.IsPartner() {
				o.Actor = store.Actor{Type: store.ActorPartner, ID: c.PartnerID}
			}
		}
		h.ServeHTTP(w, r.WithContext(store.WithOrigin(ctx, o)))
	})
}

// Admin is the ops function's service.
func (a *App) Admin() *admin.Service { return admin.New(a.Store, a.Logger, a.Now) }

// Group is an endpoint group: its handler and the paths API Gateway routes
// to it (a path ending in "/" routes everything below it; {name} is a path
// parameter, as in API Gateway and net/http patterns).
type Group struct {
	Name    string
	Handler http.Handler
	Paths   []string
}

// Groups builds every endpoint group, with the paths Routes gives it.
func (a *App) Groups() ([]Group, error) {
	tok, err := a.Token()
	if err != nil {
		return nil, err
	}
	orgs, err := a.Organisations()
	if err != nil {
		return nil, err
	}
	cls, err := a.Clients()
	if err != nil {
		return nil, err
	}
	ass, err := a.AuthServers()
	if err != nil {
		return nil, err
	}
	use, err := a.Usage()
	if err != nil {
		return nil, err
	}
	sig, err := a.SignIn()
	if err != nil {
		return nil, err
	}
	handlers := map[string]http.Handler{"token": tok, "organisations": orgs, "clients": cls, "authservers": ass, "usage": use, "signin": sig}
	var groups []Group
	for _, r := range Routes() {
		h, ok := handlers[r.Name]
		if !ok {
			return nil, fmt.Errorf("endpoint group %q has no handler", r.Name)
		}
		groups = append(groups, Group{Name: r.Name, Handler: h, Paths: r.Paths})
	}
	return groups, nil
}

// Mux mounts every group on one mux with the routes API Gateway has, for the
// local server and end-to-end tests. Unknown paths get a 404 problem.
func (a *App) Mux() (http.Handler, error) {
	groups, err := a.Groups()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, g := range groups {
		for _, p := range g.Paths {
			mux.Handle(p, g.Handler)
		}
	}
	mux.Handle("/", middleware.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(problem.ErrNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}), middleware.Options{Logger: a.Logger, MaxBodyBytes: MaxJSONBodyBytes, WriteError: problem.Write}))
	return mux, nil
}

// LoadConfig reads the configuration through getenv and the AWS SDK's
// default configuration (credentials, region, AWS_ENDPOINT_URL*).
func LoadConfig(ctx context.Context, getenv func(string) string) (config.Config, aws.Config, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return config.Config{}, aws.Config{}, fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return config.Config{}, aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, awsCfg, nil
}

// FromEnv loads the configuration (LoadConfig) and builds the App.
func FromEnv(ctx context.Context, getenv func(string) string, logger *slog.Logger) (*App, error) {
	cfg, awsCfg, err := LoadConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg, awsCfg, logger)
}
