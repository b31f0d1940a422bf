// Package clients is the clients endpoint group: the OAuth 2.0 clients of a
// partner's organisations (GET and POST /v1/organisations/{id}/clients;
// GET, PUT, PATCH and DELETE /v1/clients/{id}; POST /v1/clients/{id}/secret)
// and a client's view of itself (GET /v1/clients/me, POST
// /v1/clients/me/secret).
//
// The rules are plain functions (Resolve, Outside); Service decodes request
// bodies strictly and applies the rules and the callers' rights with the
// store; the handlers only check the caller's scope, read the request, call
// Service and encode the result.
//
// Who may do what:
//
//   - A partner manages the clients of all its organisations: clients:read
//     to read, clients:write for everything else.
//   - An organisation's client whose token carries clients:manage (a
//     "primary" client) may use the same endpoints for the clients of its
//     own organisation; any other client or organisation is not found (404).
//     It must still hold the scope: each request reads it again, so a
//     partner's removal of clients:manage takes effect at once.
//     It may not create a client with clients:manage, nor add or remove
//     clients:manage on any client (only a partner grants it), nor widen
//     itself: its own scopes, allowed_provider_groups and
//     access_token_lifetime may only narrow and is_production may not turn
//     on; nor delete itself. Each of these is 403.
//   - Any client, with or without clients:manage, reads itself at GET
//     /v1/clients/me and rotates its own secret at POST
//     /v1/clients/me/secret.
//
// Decisions where the contract leaves a choice:
//
//   - Secrets: generated secrets are 256 bits from crypto/rand (43
//     characters of base64url). A caller may choose client_secret on create
//     and on rotation (chosen.Check: 8 to 512 characters, not
//     guessable; below 32 characters stored with argon2id, else with the
//     fast keyed hash). Only hashes are stored. The secret in force is
//     returned by the create response (caller-chosen or not) and by rotation,
//     never by GET, PUT, PATCH or lists, and never logged.
//   - Rotation: POST .../secret takes an optional
//     {"previous_secret_expires_in": seconds, "client_secret": "..."}:
//     the old secret keeps working that long (0 to 604800, default 0: it
//     stops at once); the new one is client_secret when given (seed 002's
//     "Reset OAuth Client Password" and "Update Own Password"), else
//     generated. Tokens
//     already issued stay valid until they expire; disabling or deleting the
//     client stops them at once.
//   - client_id and client_secret are accepted on create only; PUT and PATCH
//     refuse them (use rotation for a new secret).
//   - extra_data: the caller's own JSON object (package extradata), stored
//     as sent and returned on every read ({} when none); PUT replaces it
//     (absent: none), PATCH merges into it with RFC 7396 (null removes a
//     member, or all of it). Organisations have none: seed 000 and the
//     contract give them no such data, and a partner keys its own records
//     by the organisation's id.
//   - Without If-Match, a write that loses a race with another write of the
//     client gets 409 (retry); with If-Match it gets 412. A write that races
//     a change of the client's organisation is checked again against the
//     organisation as it now is, a few times, before giving up with 409.
package clients

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/credential/chosen"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
	"github.com/partnerapi/partner-api/shared/validate"
)

// Store is the storage the service needs (satisfied by *store.Table). Its
// errors are the store's: store.ErrNotFound for a missing client or
// organisation, a *store.ConflictError with store.ConflictIDTaken for a
// taken client id or store.ConflictOrganisationChanged when the
// organisation moved on while a client was written, a *store.VersionError
// when the stored version is not the expected one, store.ErrUnavailable
// when DynamoDB throttles. storeError turns them into the API's answers.
type Store interface {
	GetOrganisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error)
	GetClient(ctx context.Context, clientID string) (store.Client, error)
	ListClients(ctx context.Context, partnerID, orgID, after string, limit int) ([]store.Client, bool, error)
	CreateClient(ctx context.Context, c store.Client, orgVersion int64) (store.Client, error)
	UpdateClient(ctx context.Context, before, c store.Client, orgVersion int64) (store.Client, error)
	DeleteClient(ctx context.Context, c store.Client) error
}

var _ Store = (*store.Table)(nil)

// listKind names client lists in their cursors.
const listKind = "clients"

// attempts bounds the tries of a write that keeps racing changes of its
// organisation (or, for a rotation without If-Match, of the client).
const attempts = 3

// Service carries out the client requests of partners and clients.
type Service struct {
	endpoint.Service[Store]
}

// NewService returns the service. now is the clock and newID generates
// client ids (credential.NewID in production).
func NewService(s Store, cursors *cursor.Codec, now func() time.Time, newID func() string) *Service {
	return &Service{endpoint.Service[Store]{Store: s, Cursors: cursors, Now: now, NewID: newID}}
}

// Issued is a client with the secret just issued to it by a create or a
// rotation: the only time the secret is shown.
type Issued struct {
	Client store.Client
	Secret string
}

// Get returns the client id if the caller may see it; otherwise an error
// wrapping problem.ErrNotFound.
func (s *Service) Get(ctx context.Context, c auth.Caller, id string) (store.Client, error) {
	if !credential.ValidID(id) {
		return store.Client{}, notFound(id)
	}
	cl, err := s.Store.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !visible(c, cl.PartnerID, cl.OrganisationID) {
		return store.Client{}, notFound(id)
	}
	return cl, storeError(err)
}

// RequireManager returns a 403 error unless the client c (a caller that is
// not a partner) still holds clients:manage. Its token carried the scope
// when it was issued; reading the client again makes the partner's removal
// of the scope take effect at once rather than when the token expires.
//
// It returns ctx carrying the client as read, which withinManager uses
// instead of reading it again.
func (s *Service) RequireManager(ctx context.Context, c auth.Caller) (context.Context, error) {
	self, err := s.Store.GetClient(ctx, c.ClientID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !slices.Contains(self.AdditionalScopes, scope.ClientsManage) {
		return ctx, problem.New(problem.ErrForbidden, "the client no longer holds %s", scope.ClientsManage)
	}
	if err != nil {
		return ctx, storeError(err)
	}
	return context.WithValue(ctx, managerKey{}, self), nil
}

type managerKey struct{}

// Page is one page of a list.
type Page = endpoint.List[store.Client]

// List returns a page of the clients of organisation orgID, in id order. A
// cursor not issued to this partner for this organisation's list is refused
// with a field error naming "cursor".
func (s *Service) List(ctx context.Context, c auth.Caller, orgID string, p endpoint.Paging) (Page, error) {
	org, err := s.organisation(ctx, c, orgID)
	if err != nil {
		return Page{}, err
	}
	b := cursor.Binding{PartnerID: c.PartnerID, List: listKind, Filter: "organisation_id=" + org.ID}
	return endpoint.ListPage(s.Cursors, b, p, func(cl store.Client) string { return cl.ID },
		func(after string, limit int) ([]store.Client, bool, error) {
			list, more, err := s.Store.ListClients(ctx, c.PartnerID, org.ID, after, limit)
			return list, more, storeError(err)
		})
}

// Create checks body (an Input as JSON) and stores it as a new client of
// organisation orgID, with the caller's client_id and client_secret or
// generated ones.
func (s *Service) Create(ctx context.Context, c auth.Caller, orgID string, body []byte) (Issued, error) {
	in := Input{}
	v := &problem.ValidationError{}
	if err := validate.Decode(v, body, &in, inputOptions); err != nil {
		return Issued{}, err
	}
	id, sec := s.NewID(), credential.NewSecret()
	if in.ClientID != nil {
		if id = *in.ClientID; !credential.ValidID(id) {
			v.Add("client_id", "%s", credential.IDRule)
		}
	}
	hash, stored := credential.HashGenerated, ""
	if in.ClientSecret != nil {
		sec, hash = *in.ClientSecret, credential.HashChosen
		chosen.Check(v, "client_secret", sec, id, in.Name)
	}
	for attempt := 1; ; attempt++ {
		org, err := s.organisation(ctx, c, orgID)
		if err != nil {
			return Issued{}, err
		}
		next, err := s.resolve(&problem.ValidationError{Errors: slices.Clone(v.Errors)}, in, org)
		if err != nil {
			return Issued{}, err
		}
		if !c.IsPartner() && slices.Contains(next.AdditionalScopes, scope.ClientsManage) {
			return Issued{}, problem.New(problem.ErrForbidden, "only the partner may grant %s", scope.ClientsManage)
		}
		if err := s.withinManager(ctx, c, next); err != nil {
			return Issued{}, err
		}
		now := s.Now().UTC()
		next.ID, next.Kind, next.PartnerID, next.OrganisationID = id, store.KindClient, c.PartnerID, org.ID
		if stored == "" { // once, after the checks: argon2id is not cheap
			stored = hash(sec)
		}
		next.SecretHash, next.CreatedAt, next.UpdatedAt = stored, now, now
		created, err := s.Store.CreateClient(ctx, next, org.Version)
		if store.IsConflict(err, store.ConflictOrganisationChanged) && attempt < attempts {
			continue
		}
		if err != nil {
			return Issued{}, storeError(err)
		}
		return Issued{Client: created, Secret: sec}, nil
	}
}

// Replace sets every mutable attribute of client id from body, an Input as
// JSON (PUT): absent optional attributes take their defaults.
func (s *Service) Replace(ctx context.Context, c auth.Caller, id string, cond etag.Condition, body []byte) (store.Client, error) {
	cur, err := s.current(ctx, c, id, cond)
	if err != nil {
		return store.Client{}, err
	}
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Decode(v, body, &in, inputOptions); err != nil {
		return store.Client{}, err
	}
	return s.update(ctx, c, cur, cond, v, in)
}

// Patch applies the RFC 7396 merge patch patch to client id: members it
// names replace the current attributes, null resets one to its default, and
// the result is checked like a PUT.
func (s *Service) Patch(ctx context.Context, c auth.Caller, id string, cond etag.Condition, patch []byte) (store.Client, error) {
	cur, err := s.current(ctx, c, id, cond)
	if err != nil {
		return store.Client{}, err
	}
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Patch(v, inputOf(cur), patch, &in, inputOptions); err != nil {
		return store.Client{}, err
	}
	return s.update(ctx, c, cur, cond, v, in)
}

// Delete deletes client id; its tokens stop at once. A client may not
// delete itself.
func (s *Service) Delete(ctx context.Context, c auth.Caller, id string, cond etag.Condition) error {
	cur, err := s.current(ctx, c, id, cond)
	if err != nil {
		return err
	}
	if cur.ID == c.ClientID {
		return problem.New(problem.ErrForbidden, "a client cannot delete itself; the partner can")
	}
	return endpoint.Raced(storeError(s.Store.DeleteClient(ctx, cur)), cond)
}

// rotation is the optional body of a secret rotation.
type rotation struct {
	PreviousSecretExpiresIn *int64  `json:"previous_secret_expires_in"`
	ClientSecret            *string `json:"client_secret"`
}

// RotateSecret gives client id a new secret: generated, or the caller's
// client_secret (the rules of a create's). body (nil when the request had
// none) may set previous_secret_expires_in, the seconds the old secret keeps
// working (0 to 7 days, default 0: it stops at once). A chosen secret moves
// the client to the hash its length calls for (argon2id below 32
// characters), a generated one back to the fast hash.
func (s *Service) RotateSecret(ctx context.Context, c auth.Caller, id string, cond etag.Condition, body []byte) (Issued, error) {
	var in rotation
	if body != nil {
		if err := jsonbody.Unmarshal(body, &in, jsonbody.Options{}); err != nil {
			return Issued{}, err
		}
	}
	v := &problem.ValidationError{}
	var overlap time.Duration
	if in.PreviousSecretExpiresIn != nil && credential.CheckOverlap(v, "previous_secret_expires_in", *in.PreviousSecretExpiresIn) {
		overlap = time.Duration(*in.PreviousSecretExpiresIn) * time.Second
	}
	if err := v.Err(); err != nil {
		return Issued{}, err
	}
	sec, hash := credential.NewSecret(), ""
	for attempt := 1; ; attempt++ {
		cur, err := s.current(ctx, c, id, cond)
		if err != nil {
			return Issued{}, err
		}
		// Receiving the secret of a client is holding its rights.
		if err := s.withinManager(ctx, c, cur); err != nil {
			return Issued{}, err
		}
		switch { // once, after the access checks: argon2id is not cheap
		case hash != "":
		case in.ClientSecret == nil:
			hash = credential.HashGenerated(sec)
		default:
			sec = *in.ClientSecret
			chosen.Check(v, "client_secret", sec, cur.ID, cur.Name)
			if err := v.Err(); err != nil {
				return Issued{}, err
			}
			hash = credential.HashChosen(sec)
		}
		now := s.Now().UTC()
		next := cur
		credential.Replace(&next.Principal, now, overlap, hash)
		next.UpdatedAt = now
		// Only the credential changes: no new check against the organisation.
		rotated, err := s.Store.UpdateClient(ctx, cur, next, 0)
		if errors.Is(err, store.ErrVersionMismatch) && !cond.Present() && attempt < attempts {
			continue
		}
		if err != nil {
			return Issued{}, endpoint.Raced(storeError(err), cond)
		}
		return Issued{Client: rotated, Secret: sec}, nil
	}
}

// current returns the client a write applies to, after checking the
// request's If-Match against it. A client caller may not write another
// client holding clients:manage: rotating its secret would hand over its
// credentials, and with them any scope it has that the caller lacks.
func (s *Service) current(ctx context.Context, c auth.Caller, id string, cond etag.Condition) (store.Client, error) {
	cur, err := s.Get(ctx, c, id)
	if err != nil {
		return store.Client{}, err
	}
	if !c.IsPartner() && cur.ID != c.ClientID && slices.Contains(cur.AdditionalScopes, scope.ClientsManage) {
		return store.Client{}, problem.New(problem.ErrForbidden,
			"only the partner may change, rotate or delete another client holding %s", scope.ClientsManage)
	}
	if err := cond.Check(etag.FromVersion(cur.Version)); err != nil {
		return store.Client{}, err
	}
	return cur, nil
}

// update checks in as the new state of cur and writes it, checked against
// the organisation when the client's fit in it may change. v holds the
// violations found decoding in.
func (s *Service) update(ctx context.Context, c auth.Caller, cur store.Client, cond etag.Condition, v *problem.ValidationError, in Input) (store.Client, error) {
	if in.ClientID != nil {
		v.Add("client_id", "cannot be changed: a client keeps the id it was created with")
	}
	if in.ClientSecret != nil {
		v.Add("client_secret", "cannot be set here: rotate the secret with POST /v1/clients/%s/secret", cur.ID)
	}
	for attempt := 1; ; attempt++ {
		org, err := s.Store.GetOrganisation(ctx, cur.PartnerID, cur.OrganisationID)
		if err != nil {
			return store.Client{}, storeError(err)
		}
		next, err := s.resolve(&problem.ValidationError{Errors: slices.Clone(v.Errors)}, in, org)
		if err != nil {
			return store.Client{}, err
		}
		if err := delegated(c, cur, next); err != nil {
			return store.Client{}, err
		}
		if err := s.withinManager(ctx, c, next); err != nil {
			return store.Client{}, err
		}
		next.ID, next.Kind, next.PartnerID, next.OrganisationID = cur.ID, cur.Kind, cur.PartnerID, cur.OrganisationID
		next.SecretHash, next.PreviousSecretHash, next.PreviousSecretExpiresAt = cur.SecretHash, cur.PreviousSecretHash, cur.PreviousSecretExpiresAt
		next.CreatedAt, next.UpdatedAt, next.Version = cur.CreatedAt, s.Now().UTC(), cur.Version
		var orgVersion int64
		if fitChanged(cur, next) {
			orgVersion = org.Version
		}
		updated, err := s.Store.UpdateClient(ctx, cur, next, orgVersion)
		if store.IsConflict(err, store.ConflictOrganisationChanged) && attempt < attempts {
			continue
		}
		return updated, endpoint.Raced(storeError(err), cond)
	}
}

// resolve applies Resolve and returns the violations of v, if any: the
// members that failed to decode (the first decoded of them) and the rules'.
func (s *Service) resolve(v *problem.ValidationError, in Input, org store.Organisation) (store.Client, error) {
	decoded := len(v.Errors)
	next := Resolve(v, in, org)
	return next, validate.Settled(v, decoded)
}

// organisation returns the organisation orgID if the caller may manage its
// clients: a partner's own, or a client's own organisation.
func (s *Service) organisation(ctx context.Context, c auth.Caller, orgID string) (store.Organisation, error) {
	id := strings.ToLower(orgID)
	if !middleware.IsUUID(orgID) || !visible(c, c.PartnerID, id) {
		return store.Organisation{}, orgNotFound(orgID)
	}
	org, err := s.Store.GetOrganisation(ctx, c.PartnerID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Organisation{}, orgNotFound(orgID)
	}
	return org, storeError(err)
}

// delegated refuses, with 403, what a client caller may not do to cur
// (becoming next): change who holds clients:manage.
func delegated(c auth.Caller, cur, next store.Client) error {
	if !c.IsPartner() && slices.Contains(cur.AdditionalScopes, scope.ClientsManage) != slices.Contains(next.AdditionalScopes, scope.ClientsManage) {
		return problem.New(problem.ErrForbidden, "only the partner may grant or remove %s", scope.ClientsManage)
	}
	return nil
}

// withinManager refuses, with 403, a client caller's create, change or
// rotation of target when target would hold a right the caller does not:
// a manager hands out only what it holds itself (seed 002's secondary
// clients "require a smaller access scope"), and cannot widen itself. The
// caller's rights are those it has now: as RequireManager read it in this
// request, else read here.
func (s *Service) withinManager(ctx context.Context, c auth.Caller, target store.Client) error {
	if c.IsPartner() {
		return nil
	}
	self, read := ctx.Value(managerKey{}).(store.Client) // RequireManager's read
	if !read || self.ID != c.ClientID {
		var err error
		self, err = s.Store.GetClient(ctx, c.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			return problem.New(problem.ErrForbidden, "the calling client no longer exists")
		}
		if err != nil {
			return storeError(err)
		}
	}
	wider := Beyond(target, self)
	switch {
	case len(wider) == 0:
		return nil
	case target.ID == c.ClientID:
		return problem.New(problem.ErrForbidden, "a client cannot widen its own %s; the partner can", strings.Join(wider, ", "))
	}
	return problem.New(problem.ErrForbidden,
		"a client may create, change or rotate only clients within its own rights; %s would exceed them (the partner can)", strings.Join(wider, ", "))
}

// Beyond names the rights of target that m does not hold, none when target
// is within m: its scopes (additional and required), production, a longer
// access token lifetime, provider groups beyond m's (m's empty list means
// all of the organisation's), grant types and longer refresh lifetimes.
func Beyond(target, m store.Client) []string {
	var wider []string
	if !subset(target.Scopes, m.Scopes) {
		wider = append(wider, "scopes (additional_scopes, required_scopes)")
	}
	if target.IsProduction && !m.IsProduction {
		wider = append(wider, "is_production")
	}
	if len(m.AllowedProviderGroups) > 0 && (len(target.AllowedProviderGroups) == 0 || !subset(target.AllowedProviderGroups, m.AllowedProviderGroups)) {
		wider = append(wider, "allowed_provider_groups")
	}
	if target.TokenLifetime > m.TokenLifetime {
		wider = append(wider, "access_token_lifetime")
	}
	return append(wider, widerGrants(m, target)...)
}

// fitChanged reports whether next uses its organisation differently from
// cur: other scopes, product, provider groups or production.
func fitChanged(cur, next store.Client) bool {
	return !sameSet(cur.Scopes, next.Scopes) || cur.SelectedProduct != next.SelectedProduct ||
		!sameSet(cur.AllowedProviderGroups, next.AllowedProviderGroups) || cur.IsProduction != next.IsProduction
}

func subset(a, b []string) bool {
	return !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}

func sameSet(a, b []string) bool { return subset(a, b) && subset(b, a) }

// visible reports whether the caller may see a client of the partner's
// organisation orgID: a partner sees its own, a client its organisation's.
func visible(c auth.Caller, partnerID, orgID string) bool {
	return partnerID == c.PartnerID && (c.IsPartner() || orgID == c.OrganisationID)
}

// inputOf is the Input that would recreate c: the document a PATCH merges
// into. Lists are explicit (never null), so a PATCH leaves them as they are
// unless it names them.
func inputOf(c store.Client) Input {
	in := Input{
		Name: c.Name, TokenSigningAlgorithm: &c.Algorithm,
		AdditionalScopes: nonNil(c.AdditionalScopes), RequiredScopes: nonNil(c.RequiredScopes),
		ReturnURLs: nonNil(c.ReturnURLs), IsProduction: &c.IsProduction,
		AllowedProviderGroups: nonNil(c.AllowedProviderGroups), AccessTokenLifetime: &c.TokenLifetime, Enabled: &c.Enabled,
	}
	grantsInput(c, &in)
	if c.SelectedProduct != "" {
		in.SelectedProduct = &c.SelectedProduct
	}
	if c.ExtraData != "" {
		in.ExtraData = json.RawMessage(c.ExtraData)
	}
	return in
}

// storeError translates the store's errors into the API's answers: the
// problem kind and the caller-facing detail of each guard of the client
// writes, then endpoint.StoreError for the rest (503 when DynamoDB
// throttles; 500 without the cause for an unknown error).
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ve *store.VersionError
	if errors.As(err, &ve) && ve.Entity == store.EntityClient {
		return endpoint.Translated(err, problem.ErrPrecondition, "client %s was changed by another request (now at version %d)", ve.ID, ve.Current)
	}
	switch ce := store.Conflict(err); {
	case ce == nil:
	case ce.Reason == store.ConflictIDTaken:
		return endpoint.Translated(err, problem.ErrConflict, "client_id %q is taken", ce.ID)
	case ce.Reason == store.ConflictOrganisationChanged:
		return endpoint.Translated(err, problem.ErrConflict, "the client's organisation was changed by another request while this one ran; retry")
	}
	return endpoint.StoreError(err)
}

func notFound(id string) error {
	return problem.New(problem.ErrNotFound, "no client %q", truncate.String(id, 64))
}

func orgNotFound(id string) error {
	return problem.New(problem.ErrNotFound, "no organisation %q", truncate.String(id, 64))
}
