// Package admin is the ops function's logic: create, read, disable, enable
// and rotate partner accounts, and rotate the JWT signing key ring. It has no HTTP route; ops invoke the admin
// Lambda directly with a Request (samples in events/admin/).
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/keyring"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
)

// The actions of a Request.
const (
	ActionCreate  = "create_partner"
	ActionGet     = "get_partner"
	ActionDisable = "disable_partner"
	ActionEnable  = "enable_partner"
	ActionRotate  = "rotate_partner_secret"
	// ActionRotateSigningKeys adds the next key of each algorithm to the
	// signing key ring and records every key's status (wrapped signing
	// mode): what the stack's schedule invokes.
	ActionRotateSigningKeys = "rotate_signing_keys"
)

// KeyRing rotates the signing key ring (satisfied by *keyring.Ring).
// Errors are the store's and KMS's.
type KeyRing interface {
	Rotate(ctx context.Context) (keyring.Report, error)
}

// MaxSecretOverlap bounds previous_secret_expires_in (7 days).
const MaxSecretOverlap = credential.MaxOverlap

// Request is the payload of a direct invocation.
type Request struct {
	Action    string `json:"action"`
	PartnerID string `json:"partner_id,omitempty"`
	Name      string `json:"name,omitempty"`
	// PreviousSecretExpiresIn keeps the old secret working this many seconds
	// after a rotation (0: it stops at once).
	PreviousSecretExpiresIn int64 `json:"previous_secret_expires_in,omitempty"`
}

// Response describes the partner account after the action. ClientSecret is
// set only by create_partner and rotate_partner_secret: it is shown once.
type Response struct {
	PartnerID               string   `json:"partner_id"`
	Name                    string   `json:"name"`
	Enabled                 bool     `json:"enabled"`
	Scopes                  []string `json:"scopes"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	PreviousSecretExpiresAt string   `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               string   `json:"created_at"`
	UpdatedAt               string   `json:"updated_at"`
}

// Store is the storage the service needs (satisfied by *store.Table).
// GetPrincipal and ReplacePrincipal return errors wrapping store.ErrNotFound
// for an unknown id; CreatePrincipal a *store.ConflictError with
// store.ConflictIDTaken for a taken id; ReplacePrincipal a
// *store.VersionError when the version moved; any of them
// store.ErrUnavailable when DynamoDB throttles. storeError turns them into
// problem kinds.
type Store interface {
	GetPrincipal(ctx context.Context, clientID string) (store.Principal, error)
	CreatePrincipal(ctx context.Context, p store.Principal) error
	ReplacePrincipal(ctx context.Context, before, p store.Principal) (store.Principal, error)
}

// Service carries out admin requests.
type Service struct {
	store  Store
	logger *slog.Logger
	now    func() time.Time
	ring   KeyRing
}

// WithKeyRing returns the service rotating ring on rotate_signing_keys
// (without one that action is refused).
func (s *Service) WithKeyRing(ring KeyRing) *Service {
	c := *s
	c.ring = ring
	return &c
}

// RotateSigningKeys rotates the signing key ring and logs the keys it
// added.
func (s *Service) RotateSigningKeys(ctx context.Context) (keyring.Report, error) {
	if s.ring == nil {
		return keyring.Report{}, problem.New(problem.ErrInvalid, "%s: this deployment signs with KMS keys (SIGNING_MODE=kms), it has no key ring", ActionRotateSigningKeys)
	}
	rep, err := s.ring.Rotate(ctx)
	if err != nil {
		s.logger.LogAttrs(ctx, slog.LevelError, "admin action", slog.String("action", ActionRotateSigningKeys), slog.String("err", err.Error()))
		return keyring.Report{}, fmt.Errorf("%s: %w", ActionRotateSigningKeys, err)
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "admin action", slog.String("action", ActionRotateSigningKeys), slog.Any("created", rep.Created))
	return rep, nil
}

// Invoke is what the Lambda function runs: rotate_signing_keys answers the
// key ring's Report, every other action Handle's Response.
func (s *Service) Invoke(ctx context.Context, req Request) (any, error) {
	if req.Action == ActionRotateSigningKeys {
		if req != (Request{Action: req.Action}) {
			return nil, problem.New(problem.ErrInvalid, "%s takes no other field", ActionRotateSigningKeys)
		}
		return s.RotateSigningKeys(ctx)
	}
	return s.Handle(ctx, req)
}

// New returns the admin service. It logs every action (never a secret) to
// logger; now is the clock (time.Now when nil).
func New(s Store, logger *slog.Logger, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, logger: logger, now: now}
}

// Handle carries out req and logs the outcome. Errors wrap the problem
// kinds, and their messages never contain a secret.
func (s *Service) Handle(ctx context.Context, req Request) (resp Response, err error) {
	defer func() {
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelWarn
		}
		id := resp.PartnerID
		if id == "" {
			id = req.PartnerID
		}
		attrs := []slog.Attr{slog.String("action", req.Action), slog.String("partner_id", id)}
		if err != nil {
			attrs = append(attrs, slog.String("err", err.Error()))
		} else {
			attrs = append(attrs, slog.Bool("enabled", resp.Enabled))
		}
		s.logger.LogAttrs(ctx, level, "admin action", attrs...)
	}()
	return s.handle(withOrigin(ctx), req)
}

// AdminActorID is the actor id of the audit records of admin actions: the
// ops function is invoked by operators with IAM permission on it, not by an
// API principal.
const AdminActorID = "ops"

// withOrigin marks ctx's writes as the admin's, in the Lambda request when
// there is one.
func withOrigin(ctx context.Context) context.Context {
	id := uuid.NewString()
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		id = lc.AwsRequestID
	}
	return store.WithOrigin(ctx, store.Origin{Actor: store.Actor{Type: store.ActorAdmin, ID: AdminActorID}, RequestID: id})
}

func (s *Service) handle(ctx context.Context, req Request) (Response, error) {
	if err := validate(req); err != nil {
		return Response{}, err
	}
	switch req.Action {
	case ActionCreate:
		return s.create(ctx, req)
	case ActionGet:
		p, err := s.partner(ctx, req.PartnerID)
		if err != nil {
			return Response{}, err
		}
		return response(p, ""), nil
	case ActionDisable, ActionEnable:
		return s.update(ctx, req.PartnerID, func(p *store.Principal) string {
			p.Enabled = req.Action == ActionEnable
			return ""
		})
	case ActionRotate:
		return s.update(ctx, req.PartnerID, func(p *store.Principal) string {
			return credential.Rotate(p, s.now(), time.Duration(req.PreviousSecretExpiresIn)*time.Second)
		})
	}
	return Response{}, fmt.Errorf("unreachable action %q", req.Action)
}

func validate(req Request) error {
	v := &problem.ValidationError{}
	switch req.Action {
	case ActionCreate:
		if req.PartnerID != "" && !credential.ValidID(req.PartnerID) {
			v.Add("partner_id", credential.IDRule)
		}
		if n := strings.TrimSpace(req.Name); n == "" || len(n) > 255 || strings.ContainsAny(n, "<>") {
			v.Add("name", "is required: 1 to 255 characters without '<' or '>'")
		}
	case ActionGet, ActionDisable, ActionEnable, ActionRotate:
		if req.PartnerID == "" {
			v.Add("partner_id", "is required")
		}
	default:
		v.Add("action", "must be one of %s", strings.Join([]string{ActionCreate, ActionGet, ActionDisable, ActionEnable, ActionRotate, ActionRotateSigningKeys}, ", "))
	}
	if credential.CheckOverlap(v, "previous_secret_expires_in", req.PreviousSecretExpiresIn) &&
		req.PreviousSecretExpiresIn != 0 && req.Action != ActionRotate {
		v.Add("previous_secret_expires_in", "is only for %s", ActionRotate)
	}
	return v.Err()
}

func (s *Service) create(ctx context.Context, req Request) (Response, error) {
	id := req.PartnerID
	if id == "" {
		id = credential.NewID()
	}
	sec := credential.NewSecret()
	p := s.newPartner(id, strings.TrimSpace(req.Name), credential.HashGenerated(sec))
	if err := s.store.CreatePrincipal(ctx, p); err != nil {
		return Response{}, fmt.Errorf("create partner %q: %w", id, storeError(err))
	}
	return response(p, sec), nil
}

// newPartner is a new partner account whose secret's stored form is hash.
func (s *Service) newPartner(id, name, hash string) store.Principal {
	now := s.now().UTC()
	return store.Principal{
		ID: id, Kind: store.KindPartner, PartnerID: id, Name: name, Enabled: true,
		SecretHash: hash, Scopes: scope.Partner(), CreatedAt: now, UpdatedAt: now, Version: 1,
	}
}

// update applies change (which returns a new secret, if it made one) to the
// partner with a version-conditional write, retrying if another write won.
func (s *Service) update(ctx context.Context, id string, change func(*store.Principal) string) (Response, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.partner(ctx, id)
		if err != nil {
			return Response{}, err
		}
		p := cur
		p.Scopes = slices.Clone(cur.Scopes)
		sec := change(&p)
		p.UpdatedAt = s.now().UTC()
		p, err = s.store.ReplacePrincipal(ctx, cur, p)
		if errors.Is(err, store.ErrVersionMismatch) && attempt < 3 {
			continue
		}
		if err != nil {
			return Response{}, fmt.Errorf("update partner %q: %w", id, storeError(err))
		}
		return response(p, sec), nil
	}
}

// partner returns the partner account id; an organisation client's id is
// not found here.
func (s *Service) partner(ctx context.Context, id string) (store.Principal, error) {
	p, err := s.store.GetPrincipal(ctx, id)
	if err == nil && p.Kind != store.KindPartner {
		err = store.ErrNotFound
	}
	if err != nil {
		err = storeError(err)
		return store.Principal{}, fmt.Errorf("partner %q: %w", id, err)
	}
	return p, nil
}

// EnsurePartner makes the partner id exist, enabled, with the secret sec
// (for the local server's LOCAL_PARTNERS). It reports whether it created it.
func (s *Service) EnsurePartner(ctx context.Context, id, sec string) (bool, error) {
	if !credential.ValidID(id) {
		return false, problem.Invalid("partner_id", credential.IDRule)
	}
	if sec == "" {
		return false, problem.Invalid("client_secret", "is required")
	}
	err := s.store.CreatePrincipal(ctx, s.newPartner(id, id, credential.Hash(sec)))
	if !store.IsConflict(err, store.ConflictIDTaken) {
		return err == nil, storeError(err)
	}
	_, err = s.update(ctx, id, func(p *store.Principal) string {
		p.Enabled, p.SecretHash, p.PreviousSecretHash, p.PreviousSecretExpiresAt = true, credential.Hash(sec), "", time.Time{}
		return ""
	})
	return false, err
}

// storeError translates the store's errors into problem kinds: a taken id
// with its detail, the rest by endpoint.StoreError.
func storeError(err error) error {
	if ce := store.Conflict(err); ce != nil && ce.Reason == store.ConflictIDTaken {
		return endpoint.Translated(err, problem.ErrConflict, "client id %q is taken", ce.ID)
	}
	return endpoint.StoreError(err)
}

func response(p store.Principal, sec string) Response {
	r := Response{
		PartnerID: p.ID, Name: p.Name, Enabled: p.Enabled, Scopes: p.Scopes, ClientSecret: sec,
		CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339),
	}
	if p.PreviousSecretHash != "" {
		r.PreviousSecretExpiresAt = p.PreviousSecretExpiresAt.UTC().Format(time.RFC3339)
	}
	return r
}

// LambdaHandler is the handler the admin function starts: it decodes the
// payload strictly (unknown fields are an error) and calls Handle.
func (s *Service) LambdaHandler() lambda.Handler {
	return lambda.NewHandlerWithOptions(s.Invoke, lambda.WithDisallowUnknownFields(true))
}
