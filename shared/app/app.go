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

	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/federation"
	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
	"github.com/partnerapi/partner-api/shared/usage"
)

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
	// Fetcher makes the outbound federation requests (SSRF-safe); RP signs
	// users in at upstream providers (its JWKS cache lives as long as the
	// App); Secrets encrypts and decrypts federation client secrets (nil
	// until New gives it a KMS client).
	Fetcher *federation.Fetcher
	RP      *federation.RelyingParty
	Secrets *federation.Secrets
	Now     func() time.Time
}

// New builds the App: it loads the signing keys' public keys from KMS once.
func New(ctx context.Context, cfg config.Config, awsCfg aws.Config, logger *slog.Logger) (*App, error) {
	s, err := signer.New(ctx, kms.NewFromConfig(awsCfg), cfg.SigningKeys, cfg.RetiredKeys)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	a := NewWith(cfg, dynamodb.NewFromConfig(awsCfg), s, logger, time.Now)
	a.Secrets = &federation.Secrets{KMS: kms.NewFromConfig(awsCfg), KeyID: cfg.FederationKey}
	return a, nil
}

// NewWith builds the App from parts already made (tests inject a clock).
func NewWith(cfg config.Config, db store.DynamoDB, s *signer.Signer, logger *slog.Logger, now func() time.Time) *App {
	st := NewStore(cfg, db, now)
	fetcher := federation.NewFetcher(federation.Policy{AllowLoopback: cfg.FederationAllowLoopback})
	rp := federation.NewRelyingParty(fetcher, now)
	rp.Assert = func(ctx context.Context, claims map[string]any) (string, error) {
		return s.SignJWT(ctx, cfg.PartnerAlgorithm, "JWT", claims) // private_key_jwt: the service's JWKS has the key
	}
	return &App{
		Fetcher: fetcher, RP: rp,
		Config: cfg, Logger: logger, Store: st, Signer: s, Now: now,
		Issuer:   token.NewIssuer(s, cfg.IssuerURL, cfg.Audience, now),
		Verifier: token.NewVerifier(s, st, cfg.IssuerURL, cfg.Audience, now),
		Meter:    usage.NewMeter(st, logger, now),
	}
}

// NewStore is the table as the configuration describes it (name, audit
// retention): every function, the admin one included, builds it here.
func NewStore(cfg config.Config, db store.DynamoDB, now func() time.Time) *store.Table {
	return store.New(db, cfg.TableName, now, store.WithAuditRetention(cfg.AuditRetention))
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

// grants issues the tokens of sign-ins (code and refresh exchanges, mint).
func (a *App) grants() *grants.Service {
	return grants.New(a.Store, a.Issuer, a.Signer, a.Meter, a.Config.IssuerURL, a.Now)
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
