// Package authservers is the authorisation servers endpoint group: the
// authorisation servers a partner's organisation runs, registered as a trust
// directory registers them (GET and POST
// /v1/organisations/{id}/authorisation-servers; GET, PUT, PATCH and DELETE
// /v1/organisations/{id}/authorisation-servers/{as_id}; POST
// .../{as_id}/refresh).
//
// The rules are a plain function (Resolve); Service decodes request bodies
// strictly and applies the rules and the checks that need the store; the
// handlers only check the caller's scope, read the request, call Service and
// encode the result.
//
// Who may do what: a partner, for the servers of its own organisations,
// with organisations:read to read and organisations:write for everything
// else (authorisation servers belong to organisations). An organisation's
// client gets 403. Another partner's organisation or server, or an unknown
// one, is 404.
//
// Decisions where the contract leaves a choice:
//
//   - federation_endpoint (the trust directory's FederationEndpoint) is the
//     one https-only URI; every other URI may be http or https.
//   - parent_authorisation_server_id and
//     superseded_by_authorisation_server_id must name another server of the
//     same organisation (never the server itself); the same server may be
//     both. Only direct self-reference is refused: longer chains (A's parent
//     B, B's parent A) are the partner's to keep sensible.
//   - A server that another server names as parent or superseding server
//     cannot be deleted: 409 naming the servers that reference it. The store
//     counts references in the same transactions, so no reference is ever
//     left dangling under concurrency.
//   - An organisation with authorisation servers cannot be deleted (409,
//     like one with clients); delete its servers first.
//   - An optional attribute is unset by leaving it out or sending null; ""
//     is refused, as it is not a URI, date or id.
//   - Without If-Match, a write that loses a race with another write of the
//     server gets 409 (retry); with If-Match it gets 412.
//   - Every violation is reported at once: those found decoding the body
//     (unknown, read-only, repeated, mistyped members) with those of the
//     rules and of the references.
//   - Federation (README "Federation"): with openid_discovery_document, a
//     write fetches and checks the document (Discoverer, SSRF-safe) before
//     it stores the server; a problem is an operation warning, never an
//     error. POST .../{as_id}/refresh fetches it again. provider_groups
//     place the server in the groups that organisations' and clients'
//     allowed_provider_groups name. federation_client_secret is write-only,
//     encrypted with KMS for the partner and server (Sealer).
package authservers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/federation"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
	"github.com/partnerapi/partner-api/shared/validate"
)

// Store is the storage the service needs (satisfied by *store.Table). Its
// errors are the store's: store.ErrNotFound for a missing organisation or
// server, a *store.VersionError when the stored version is not the expected
// one, a *store.ConflictError when a referenced server was deleted meanwhile
// or a server to delete is still referenced, store.ErrUnavailable when
// DynamoDB throttles. storeError turns them into the API's answers.
type Store interface {
	GetOrganisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error)
	GetAuthServer(ctx context.Context, partnerID, orgID, id string) (store.AuthServer, error)
	ListAuthServers(ctx context.Context, partnerID, orgID, after string, limit int) ([]store.AuthServer, bool, error)
	ReferencingAuthServers(ctx context.Context, a store.AuthServer) ([]string, error)
	CreateAuthServer(ctx context.Context, a store.AuthServer) (store.AuthServer, error)
	UpdateAuthServer(ctx context.Context, cur, next store.AuthServer) (store.AuthServer, error)
	DeleteAuthServer(ctx context.Context, a store.AuthServer) error
}

var _ Store = (*store.Table)(nil)

// listKind names authorisation server lists in their cursors.
const listKind = "authorisation-servers"

// Discoverer fetches and checks an OpenID discovery document (satisfied by
// *federation.Fetcher); a problem with the document is a
// *federation.DiscoveryError, reported as an operation warning.
type Discoverer interface {
	Discover(ctx context.Context, docURL string, now time.Time) (store.Discovery, error)
}

// Sealer encrypts a federation client secret for a partner's server
// (satisfied by *federation.Secrets).
type Sealer interface {
	Seal(ctx context.Context, partnerID, serverID, secret string) ([]byte, error)
}

// Service carries out the authorisation server requests of partners.
type Service struct {
	endpoint.Service[Store]
	// Discoverer fetches discovery documents (nil: never fetched, the
	// stored discovery data is kept as it is).
	Discoverer Discoverer
	// Sealer encrypts federation client secrets (nil: a secret is refused
	// with 503).
	Sealer Sealer
}

// NewService returns the service. now is the clock and newID generates
// server ids (UUID v4 in production).
func NewService(s Store, cursors *cursor.Codec, now func() time.Time, newID func() string) *Service {
	return &Service{Service: endpoint.Service[Store]{Store: s, Cursors: cursors, Now: now, NewID: newID}}
}

// Page is one page of a list.
type Page = endpoint.List[store.AuthServer]

// List returns a page of the servers of the partner's organisation orgID,
// in id order. A cursor not issued to this partner for this organisation's
// list is refused with a field error naming "cursor".
func (s *Service) List(ctx context.Context, partnerID, orgID string, p endpoint.Paging) (Page, error) {
	org, err := s.organisation(ctx, partnerID, orgID)
	if err != nil {
		return Page{}, err
	}
	b := cursor.Binding{PartnerID: partnerID, List: listKind, Filter: "organisation_id=" + org.ID}
	return endpoint.ListPage(s.Cursors, b, p, func(a store.AuthServer) string { return a.ID },
		func(after string, limit int) ([]store.AuthServer, bool, error) {
			list, more, err := s.Store.ListAuthServers(ctx, partnerID, org.ID, after, limit)
			return list, more, storeError(err)
		})
}

// Get returns the server id of the partner's organisation orgID (an error
// wrapping problem.ErrNotFound when there is none).
func (s *Service) Get(ctx context.Context, partnerID, orgID, id string) (store.AuthServer, error) {
	org, okOrg := validate.CanonicalUUID(orgID)
	sid, okID := validate.CanonicalUUID(id)
	if !okOrg || !okID {
		return store.AuthServer{}, notFound(orgID, id)
	}
	a, err := s.Store.GetAuthServer(ctx, partnerID, org, sid)
	if errors.Is(err, store.ErrNotFound) {
		return store.AuthServer{}, notFound(orgID, id)
	}
	return a, storeError(err)
}

// Create checks body (an Input as JSON) and stores it as a new server of
// the partner's organisation orgID.
func (s *Service) Create(ctx context.Context, partnerID, orgID string, body []byte) (store.AuthServer, error) {
	org, err := s.organisation(ctx, partnerID, orgID)
	if err != nil {
		return store.AuthServer{}, err
	}
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Decode(v, body, &in, inputOptions); err != nil {
		return store.AuthServer{}, err
	}
	now := s.Now().UTC()
	next, err := s.resolve(ctx, v, in, store.AuthServer{ID: s.NewID(), PartnerID: partnerID, OrganisationID: org.ID})
	if err != nil {
		return store.AuthServer{}, err
	}
	next.CreatedAt, next.UpdatedAt = now, now
	created, err := s.Store.CreateAuthServer(ctx, next)
	return created, storeError(err)
}

// Replace sets every mutable attribute of server id from body, an Input as
// JSON (PUT): absent optional attributes take their defaults.
func (s *Service) Replace(ctx context.Context, partnerID, orgID, id string, cond etag.Condition, body []byte) (store.AuthServer, error) {
	cur, err := s.current(ctx, partnerID, orgID, id, cond)
	if err != nil {
		return store.AuthServer{}, err
	}
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Decode(v, body, &in, inputOptions); err != nil {
		return store.AuthServer{}, err
	}
	return s.update(ctx, cur, cond, v, in)
}

// Patch applies the RFC 7396 merge patch patch to server id: members it
// names replace the current attributes, null resets one to its default (or
// unsets it), and the result is checked like a PUT.
func (s *Service) Patch(ctx context.Context, partnerID, orgID, id string, cond etag.Condition, patch []byte) (store.AuthServer, error) {
	cur, err := s.current(ctx, partnerID, orgID, id, cond)
	if err != nil {
		return store.AuthServer{}, err
	}
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Patch(v, inputOf(cur), patch, &in, inputOptions); err != nil {
		return store.AuthServer{}, err
	}
	return s.update(ctx, cur, cond, v, in)
}

// Delete deletes server id. It is refused with 409, naming them, while
// other servers reference it as parent or superseding server.
func (s *Service) Delete(ctx context.Context, partnerID, orgID, id string, cond etag.Condition) error {
	cur, err := s.current(ctx, partnerID, orgID, id, cond)
	if err != nil {
		return err
	}
	if cur.RefCount > 0 {
		ids, err := s.Store.ReferencingAuthServers(ctx, cur)
		if err != nil {
			return storeError(err)
		}
		if len(ids) > 0 {
			return referencedError(cur.ID, ids)
		}
	}
	return endpoint.Raced(storeError(s.Store.DeleteAuthServer(ctx, cur)), cond)
}

// current returns the server a write applies to, after checking the
// request's If-Match against it.
func (s *Service) current(ctx context.Context, partnerID, orgID, id string, cond etag.Condition) (store.AuthServer, error) {
	cur, err := s.Get(ctx, partnerID, orgID, id)
	if err != nil {
		return store.AuthServer{}, err
	}
	if err := cond.Check(etag.FromVersion(cur.Version)); err != nil {
		return store.AuthServer{}, err
	}
	return cur, nil
}

// update checks in as the new state of cur and writes it. v holds the
// violations found decoding in.
func (s *Service) update(ctx context.Context, cur store.AuthServer, cond etag.Condition, v *problem.ValidationError, in Input) (store.AuthServer, error) {
	next, err := s.resolve(ctx, v, in, cur)
	if err != nil {
		return store.AuthServer{}, err
	}
	next.CreatedAt, next.UpdatedAt, next.Version = cur.CreatedAt, s.Now().UTC(), cur.Version
	updated, err := s.Store.UpdateAuthServer(ctx, cur, next)
	return updated, endpoint.Raced(storeError(err), cond)
}

// resolve applies Resolve and the reference checks to in as the state of
// self (whose ids it keeps) and returns the violations of v, if any: those
// of decoding (v, the first of them) and the rules'.
func (s *Service) resolve(ctx context.Context, v *problem.ValidationError, in Input, self store.AuthServer) (store.AuthServer, error) {
	decoded := len(v.Errors)
	next := Resolve(v, in)
	next.ID, next.PartnerID, next.OrganisationID = self.ID, self.PartnerID, self.OrganisationID
	next.Discovery, next.FederationSecret = self.Discovery, self.FederationSecret
	s.webhookStatus(self, &next)
	for _, ref := range []struct {
		field string
		id    *string
	}{
		{"parent_authorisation_server_id", &next.ParentID},
		{"superseded_by_authorisation_server_id", &next.SupersededByID},
	} {
		if err := s.checkReference(ctx, v, ref.field, ref.id, self); err != nil {
			return store.AuthServer{}, err
		}
	}
	if err := validate.Settled(v, decoded); err != nil {
		return store.AuthServer{}, err
	}
	if err := s.federation(ctx, in, self, &next); err != nil {
		return store.AuthServer{}, err
	}
	return next, nil
}

// webhookStatus sets next's notification_webhook_status: none without a
// webhook, Pending (added today) for a new or changed one, else as it was.
// Confirmation is not built: a webhook stays Pending.
func (s *Service) webhookStatus(self store.AuthServer, next *store.AuthServer) {
	switch {
	case next.NotificationWebhook == "":
		next.NotificationWebhookStatus, next.NotificationWebhookAddedDate = "", ""
	case next.NotificationWebhook != self.NotificationWebhook:
		next.NotificationWebhookStatus, next.NotificationWebhookAddedDate = WebhookPending, s.Now().UTC().Format(time.DateOnly)
	default:
		next.NotificationWebhookStatus, next.NotificationWebhookAddedDate = self.NotificationWebhookStatus, self.NotificationWebhookAddedDate
	}
}

// federation applies the federation credentials of in to next (self as it
// was) and fetches next's discovery document: a secret given is encrypted
// for this partner and server; none keeps the stored one; a server without
// a federation client id keeps no secret.
func (s *Service) federation(ctx context.Context, in Input, self store.AuthServer, next *store.AuthServer) error {
	switch {
	case next.FederationClientID == "":
		next.FederationSecret, next.FederationAuthMethod = nil, ""
	case in.FederationClientSecret != nil:
		if s.Sealer == nil {
			return problem.New(problem.ErrUnavailable, "federation client secrets cannot be stored at the moment")
		}
		sealed, err := s.Sealer.Seal(ctx, next.PartnerID, next.ID, *in.FederationClientSecret)
		if err != nil {
			return fmt.Errorf("seal federation secret: %w", err)
		}
		next.FederationSecret = sealed
	}
	if m := next.FederationAuthMethod; (m == federation.AuthSecretBasic || m == federation.AuthSecretPost) && len(next.FederationSecret) == 0 {
		return problem.Invalid("federation_client_secret", "is required with federation_token_endpoint_auth_method %s", m)
	}
	s.discover(ctx, self, next)
	return nil
}

// discover fetches next's discovery document into next.Discovery. A problem
// is kept as the discovery's Warning (an operation warning of the answer)
// and Error; the endpoints last fetched from the same document stay, so a
// failed refresh does not stop sign-ins.
func (s *Service) discover(ctx context.Context, self store.AuthServer, next *store.AuthServer) {
	if s.Discoverer == nil {
		return
	}
	if next.OpenIDDiscoveryDocument == "" {
		next.Discovery = store.Discovery{}
		return
	}
	d, err := s.Discoverer.Discover(ctx, next.OpenIDDiscoveryDocument, s.Now())
	if err != nil {
		var de *federation.DiscoveryError
		if !errors.As(err, &de) {
			de = &federation.DiscoveryError{Code: federation.WarnFetchFailed, Detail: "the document could not be fetched"}
		}
		d = store.Discovery{}
		if self.OpenIDDiscoveryDocument == next.OpenIDDiscoveryDocument {
			d = self.Discovery
		}
		d.Warning, d.Error = de.Code, de.Detail
	}
	next.Discovery = d
}

// Refresh fetches server id's discovery document again and stores what it
// says (or the problem, as the answer's operation warning).
func (s *Service) Refresh(ctx context.Context, partnerID, orgID, id string, cond etag.Condition) (store.AuthServer, error) {
	cur, err := s.current(ctx, partnerID, orgID, id, cond)
	if err != nil {
		return store.AuthServer{}, err
	}
	if cur.OpenIDDiscoveryDocument == "" {
		return store.AuthServer{}, problem.Invalid("openid_discovery_document", "is not set: there is no discovery document to fetch")
	}
	next := cur
	s.discover(ctx, cur, &next)
	next.UpdatedAt = s.Now().UTC()
	updated, err := s.Store.UpdateAuthServer(ctx, cur, next)
	return updated, endpoint.Raced(storeError(err), cond)
}

// checkReference checks that *id, when set and well formed, names another
// server of self's organisation, and sets it to its canonical form.
func (s *Service) checkReference(ctx context.Context, v *problem.ValidationError, field string, id *string, self store.AuthServer) error {
	if *id == "" || idRule(*id) != "" {
		return nil // Resolve reports a malformed id.
	}
	canonical, ok := validate.CanonicalUUID(*id)
	switch {
	case ok && canonical == self.ID:
		v.Add(field, "must name another authorisation server, not this one")
		return nil
	case !ok:
		v.Add(field, "no authorisation server %q in this organisation", *id)
		return nil
	}
	_, err := s.Store.GetAuthServer(ctx, self.PartnerID, self.OrganisationID, canonical)
	if errors.Is(err, store.ErrNotFound) {
		v.Add(field, "no authorisation server %q in this organisation", *id)
		return nil
	}
	*id = canonical
	return storeError(err)
}

// organisation returns the partner's organisation orgID, or a 404 error.
func (s *Service) organisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error) {
	id, ok := validate.CanonicalUUID(orgID)
	if !ok {
		return store.Organisation{}, orgNotFound(orgID)
	}
	org, err := s.Store.GetOrganisation(ctx, partnerID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Organisation{}, orgNotFound(orgID)
	}
	return org, storeError(err)
}

// inputOf is the Input that would recreate a: the document a PATCH merges
// into. Flags are explicit (never null), so a PATCH leaves them as they are
// unless it names them.
func inputOf(a store.AuthServer) Input {
	return Input{
		AutoRegistrationSupported:           &a.AutoRegistrationSupported,
		AutoRegistrationNotificationWebhook: optional(a.AutoRegistrationNotificationWebhook),
		CustomerFriendlyDescription:         a.CustomerFriendlyDescription,
		CustomerFriendlyLogoURI:             optional(a.CustomerFriendlyLogoURI),
		CustomerFriendlyName:                a.CustomerFriendlyName,
		DeveloperPortalURI:                  optional(a.DeveloperPortalURI),
		TermsOfServiceURI:                   optional(a.TermsOfServiceURI),
		NotificationWebhook:                 optional(a.NotificationWebhook),
		OpenIDDiscoveryDocument:             optional(a.OpenIDDiscoveryDocument),
		PayloadSigningCertLocationURI:       optional(a.PayloadSigningCertLocationURI),
		ParentAuthorisationServerID:         optional(a.ParentID),
		DeprecatedDate:                      optional(a.DeprecatedDate),
		RetirementDate:                      optional(a.RetirementDate),
		SupersededByAuthorisationServerID:   optional(a.SupersededByID),
		FederationID:                        optional(a.FederationID),
		FederationEndpoint:                  optional(a.FederationEndpoint),
		Flags:                               nonNil(a.Flags),
		Status:                              &a.Status,
		SupportsCIBA:                        &a.SupportsCIBA,
		SupportsDCR:                         &a.SupportsDCR,
		SupportsRedirect:                    &a.SupportsRedirect,
		ProviderGroups:                      nonNil(a.ProviderGroups),
		FederationClientID:                  optional(a.FederationClientID),
		FederationAuthMethod:                optional(a.FederationAuthMethod),
	}
}

// optional is s as an optional attribute: nil when unset ("").
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// storeError translates the store's errors into the API's answers: the
// problem kind and the caller-facing detail of each guard of the server
// writes, then endpoint.StoreError for the rest (503 when DynamoDB
// throttles; 500 without the cause for an unknown error).
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ve *store.VersionError
	if errors.As(err, &ve) && slices.Contains([]store.Entity{store.EntityAuthServer, store.EntityAPIResource, store.EntityCertification}, ve.Entity) {
		return endpoint.Translated(err, problem.ErrPrecondition,
			"%s %s was changed by another request (now at version %d)", ve.Entity, ve.ID, ve.Current)
	}
	ce := store.Conflict(err)
	if ce == nil {
		return endpoint.StoreError(err)
	}
	switch ce.Reason {
	case store.ConflictIDTaken:
		return endpoint.Translated(err, problem.ErrConflict, "%s %s exists", ce.Entity, ce.ID)
	case store.ConflictResourcesRemain:
		return endpoint.Translated(err, problem.ErrConflict,
			"authorisation server %s still has API resources or certifications; delete them first", ce.ID)
	case store.ConflictReferenced:
		return fmt.Errorf("%w (%w)", referencedError(ce.ID, ce.IDs), err)
	case store.ConflictReferenceGone:
		return endpoint.Translated(err, problem.ErrConflict, "the referenced authorisation server %s was deleted while the request ran", ce.ID)
	case store.ConflictOrganisationChanged:
		return endpoint.Translated(err, problem.ErrConflict, "organisation %s changed while the request ran; retry", ce.ID)
	case store.ConflictChanged:
		return endpoint.Translated(err, problem.ErrConflict, "authorisation server %s changed while the request ran; retry", ce.ID)
	}
	return endpoint.StoreError(err)
}

// referencedError is the 409 of a delete of authorisation server id while
// the servers ids reference it (named, at most 20 of them).
func referencedError(id string, ids []string) error {
	const max = 20
	more := ""
	if len(ids) > max {
		more = fmt.Sprintf(" and %d more", len(ids)-max)
		ids = ids[:max]
	}
	if len(ids) == 0 {
		return problem.New(problem.ErrConflict, "authorisation server %s is referenced by another server of the organisation; retry", id)
	}
	return problem.New(problem.ErrConflict,
		"authorisation server %s is the parent or superseding server of %s%s; change or delete them first", id, strings.Join(ids, ", "), more)
}

func notFound(orgID, id string) error {
	return problem.New(problem.ErrNotFound, "no authorisation server %q in organisation %q", truncate.String(id, 64), truncate.String(orgID, 64))
}

func orgNotFound(id string) error {
	return problem.New(problem.ErrNotFound, "no organisation %q", truncate.String(id, 64))
}
