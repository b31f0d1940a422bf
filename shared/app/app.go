// Package app is the composition root: it builds the store, the signer, the
// token issuer and verifier from the configuration, and from them each
// endpoint group's http.Handler with its middleware. Lambda mains, the local
// server and tests all build their handlers here, so they run the same code.
//
// The operations of each group are bound in a package of their own
// (shared/app/groups/<group>, all of them in shared/app/groups), so that a
// function links, and initialises at its cold start, only its own group's
// code: app imports no group's domain package.
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
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/keyring"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
	"github.com/partnerapi/partner-api/shared/tokenapi"
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
	// Ring is the signing key ring in wrapped mode when the App signs (nil
	// otherwise).
	Ring *keyring.Ring
	// AWS is the AWS configuration Build was given (nil for NewWith's App):
	// a group that uses an AWS client of its own (the federation client
	// secrets' KMS key) builds it from this, so that no other function
	// builds it at its cold start.
	AWS *aws.Config
	// Groups binds the endpoint groups the App serves (Handler) to the
	// constructors of their operations.
	Groups map[string]Operations
	Now    func() time.Time
}

// Operations builds an endpoint group's operations from the App's parts
// (shared/app/groups/<group>.Operations).
type Operations func(*App) (endpoint.Operations, error)

// Options change what Build makes.
type Options struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// VerifyOnly: the function verifies tokens but never signs (in wrapped
	// mode no private key is decrypted and KMS is never called).
	VerifyOnly bool
	// Groups are the endpoint groups the App serves (App.Groups): a
	// function's own group, or every group (groups.All) for the local
	// server and tests.
	Groups map[string]Operations
}

// Build builds the App: the AWS clients once, the store, and the signer of
// the configured mode. In KMS mode it loads the public keys from KMS once;
// in wrapped mode it reads the key ring from the table and, unless
// VerifyOnly, decrypts each key that signs now or next (one KMS Decrypt per
// key, once per process).
func Build(ctx context.Context, cfg config.Config, awsCfg aws.Config, logger *slog.Logger, opts Options) (*App, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	db := NewDynamoDB(awsCfg)
	s, ring, err := NewSigner(ctx, cfg, awsCfg, NewStore(cfg, db, now), logger, now, opts.VerifyOnly)
	if err != nil {
		return nil, err
	}
	a := NewWith(cfg, db, s, logger, now)
	a.Ring = ring
	a.AWS = &awsCfg
	a.Groups = opts.Groups
	return a, nil
}

// NewSigner is the signer of cfg's signing mode (see Build) and, in
// wrapped mode when it signs, the key ring it loads from.
func NewSigner(ctx context.Context, cfg config.Config, awsCfg aws.Config, st *store.Table, logger *slog.Logger, now func() time.Time, verifyOnly bool) (*signer.Signer, *keyring.Ring, error) {
	if cfg.SigningMode == config.SigningKMS {
		s, err := signer.New(ctx, kms.NewFromConfig(awsCfg), cfg.SigningKeys, cfg.RetiredKeys)
		if err != nil {
			return nil, nil, fmt.Errorf("load signing keys: %w", err)
		}
		return s, nil, nil
	}
	var k keyring.KMS
	if !verifyOnly {
		k = kms.NewFromConfig(awsCfg)
	}
	ring := Ring(cfg, st, k, now)
	s, err := signer.NewRing(ctx, ring.Source(!verifyOnly), signer.RingOptions{
		Now: now, RefreshInterval: ring.Policy().RefreshInterval, Logger: logger,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("load signing key ring: %w", err)
	}
	if verifyOnly {
		ring = nil
	}
	return s, ring, nil
}

// JWKSMaxAge is the Cache-Control max-age of the JWKS in cfg's mode: the
// JWKS cache lifetime key rotation assumes (wrapped), or the token group's
// default, five minutes (kms, whose rotation is a deployment:
// infra/README.md).
func JWKSMaxAge(cfg config.Config) time.Duration {
	if cfg.SigningMode == config.SigningKMS {
		return tokenapi.DefaultJWKSMaxAge
	}
	return keyring.DefaultPolicy.JWKSCacheLifetime
}

// Ring is the signing key ring of cfg (wrapped mode), rotating with k.
func Ring(cfg config.Config, st *store.Table, k keyring.KMS, now func() time.Time) *keyring.Ring {
	return keyring.New(st, k, cfg.WrappingKey, keyring.DefaultPolicy, now)
}

// NewWith builds the App from parts already made (tests inject a clock).
func NewWith(cfg config.Config, db store.DynamoDB, s *signer.Signer, logger *slog.Logger, now func() time.Time) *App {
	st := NewStore(cfg, db, now)
	return &App{
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

// Admin is the ops function's service; with a Ring it also rotates the
// signing keys.
func (a *App) Admin() *admin.Service {
	svc := admin.New(a.Store, a.Logger, a.Now)
	if a.Ring != nil {
		svc = svc.WithKeyRing(a.Ring)
	}
	return svc
}

// Grants issues the tokens of sign-ins (code and refresh exchanges, mint).
func (a *App) Grants() *grants.Service {
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
