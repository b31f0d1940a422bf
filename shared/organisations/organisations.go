// Package organisations is the organisations endpoint group: a partner's
// tree of organisations (GET and POST /v1/organisations; GET, PUT, PATCH and
// DELETE /v1/organisations/{id}) and the hosted-page configuration of each
// (GET and PUT /v1/organisations/{id}/ui-config).
//
// The rules are plain functions (Resolve, Wider, Cyclic, ResolveUIConfig);
// Service decodes request bodies strictly and applies the rules with the
// store; the handlers only check the caller, read the request, call Service
// and encode the result.
//
// Decisions where the contract leaves a choice:
//
//   - Narrowing: a PUT or PATCH that would leave a child wider than its
//     parent (an allowed_* item the child has and the parent would lose, or
//     production access) is refused with 409 naming the children; so is one
//     that would leave a client outside the organisation (a scope, the
//     selected product or a provider group it would lose, or is_production
//     without production access), naming the clients (see
//     fit.ClientOutside). Nothing cascades: partners narrow the children and
//     clients first.
//   - Moving: parent_id may change with PUT or PATCH when the organisation
//     has no children and fits inside the new parent; moving an organisation
//     that has children is refused with 409 (move or delete them first).
//   - Turning enable_custom_logo off while the ui-config has a logo_url is
//     refused with 409 (remove the logo first).
//   - An empty allowed_* list means unrestricted; a child's absent list
//     inherits its parent's (see Resolve).
//   - An organisation that never stored a ui-config has the defaults
//     (DefaultUIConfig, ETag "0"); id, created_at, updated_at (and
//     organisation_id of a ui-config) are refused in request bodies as
//     read-only.
//   - Without If-Match, a write that loses a race with another one gets 409
//     (retry); with If-Match it gets 412.
//   - Every violation is reported at once: those found decoding the body
//     (unknown, read-only, repeated, mistyped members) with those of the
//     rules.
//
// Concurrency: every write is conditional on the versions it was checked
// against (see the store's doc for the guards), so concurrent requests can
// never leave a child under a deleted parent or wider than its parent.
package organisations

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
	"github.com/partnerapi/partner-api/shared/fit"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
	"github.com/partnerapi/partner-api/shared/validate"
)

// Store is the storage the service needs (satisfied by *store.Table). Its
// errors are the store's: store.ErrNotFound for a missing organisation or
// UI config, a *store.VersionError when the stored version is not the
// expected one, a *store.ConflictError when a guard failed or a concurrent
// change interfered, store.ErrUnavailable when DynamoDB throttles (see each
// method of store.Table). storeError turns them into the API's answers.
type Store interface {
	GetOrganisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error)
	ListOrganisations(ctx context.Context, partnerID, parentID, after string, limit int) ([]store.Organisation, bool, error)
	OrganisationChildren(ctx context.Context, partnerID, parentID string) ([]store.Organisation, error)
	OrganisationClients(ctx context.Context, partnerID, orgID string) ([]store.Client, error)
	CreateOrganisation(ctx context.Context, o store.Organisation, parentVersion int64) (store.Organisation, error)
	UpdateOrganisation(ctx context.Context, u store.OrganisationUpdate) (store.Organisation, error)
	DeleteOrganisation(ctx context.Context, o store.Organisation) error
	GetUIConfig(ctx context.Context, partnerID, orgID string) (store.UIConfig, error)
	PutUIConfig(ctx context.Context, before, c store.UIConfig) (store.UIConfig, error)
}

var _ Store = (*store.Table)(nil)

// listKind names organisation lists in their cursors.
const listKind = "organisations"

// maxNamedChildren bounds the children (or clients) a 409 lists by id.
const maxNamedChildren = 20

// Service carries out the organisation requests of partners.
type Service struct {
	endpoint.Service[Store]
}

// NewService returns the service. now is the clock and newID generates
// organisation ids (UUID v4 in production).
func NewService(s Store, cursors *cursor.Codec, now func() time.Time, newID func() string) *Service {
	return &Service{endpoint.Service[Store]{Store: s, Cursors: cursors, Now: now, NewID: newID}}
}

// Get returns the partner's organisation id (an error wrapping
// problem.ErrNotFound when the partner has none by that id).
func (s *Service) Get(ctx context.Context, partnerID, id string) (store.Organisation, error) {
	id, ok := validate.CanonicalUUID(id)
	if !ok {
		return store.Organisation{}, notFound(id)
	}
	o, err := s.Store.GetOrganisation(ctx, partnerID, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Organisation{}, notFound(id)
	}
	return o, storeError(err)
}

// ListQuery selects a page of a partner's organisations.
type ListQuery struct {
	endpoint.Paging
	// ParentID keeps the children of that organisation only ("" for all).
	ParentID string
}

// Page is one page of a list.
type Page = endpoint.List[store.Organisation]

// List returns a page of the partner's organisations, in id order. A cursor
// not issued to this partner for this list (same filter) is refused with a
// field error naming "cursor".
func (s *Service) List(ctx context.Context, partnerID string, q ListQuery) (Page, error) {
	parentID := strings.ToLower(q.ParentID)
	b := cursor.Binding{PartnerID: partnerID, List: listKind, Filter: "parent_id=" + parentID}
	return endpoint.ListPage(s.Cursors, b, q.Paging, func(o store.Organisation) string { return o.ID },
		func(after string, limit int) ([]store.Organisation, bool, error) {
			orgs, more, err := s.Store.ListOrganisations(ctx, partnerID, parentID, after, limit)
			return orgs, more, storeError(err)
		})
}

// Create checks body (an Input as JSON) and stores it as a new organisation
// of the partner.
func (s *Service) Create(ctx context.Context, partnerID string, body []byte) (store.Organisation, error) {
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Decode(v, body, &in, inputOptions); err != nil {
		return store.Organisation{}, err
	}
	decoded := len(v.Errors)
	parent, err := s.parent(ctx, v, partnerID, in.ParentID)
	if err != nil {
		return store.Organisation{}, err
	}
	o := Resolve(v, in, parent)
	if err := validate.Settled(v, decoded); err != nil {
		return store.Organisation{}, err
	}
	now := s.Now().UTC()
	o.ID, o.PartnerID, o.CreatedAt, o.UpdatedAt = s.NewID(), partnerID, now, now
	var parentVersion int64
	if parent != nil {
		parentVersion = parent.Version
	}
	created, err := s.Store.CreateOrganisation(ctx, o, parentVersion)
	return created, storeError(err)
}

// Replace sets every mutable attribute of the partner's organisation id
// from body, an Input as JSON (PUT): absent optional attributes take their
// defaults.
func (s *Service) Replace(ctx context.Context, partnerID, id string, cond etag.Condition, body []byte) (store.Organisation, error) {
	cur, err := s.current(ctx, partnerID, id, cond)
	if err != nil {
		return store.Organisation{}, err
	}
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Decode(v, body, &in, inputOptions); err != nil {
		return store.Organisation{}, err
	}
	return s.update(ctx, cur, cond, v, in)
}

// Patch applies the RFC 7396 merge patch patch to the partner's organisation
// id: members it names replace the current attributes, null resets one to
// its default, and the result is checked like a PUT.
func (s *Service) Patch(ctx context.Context, partnerID, id string, cond etag.Condition, patch []byte) (store.Organisation, error) {
	cur, err := s.current(ctx, partnerID, id, cond)
	if err != nil {
		return store.Organisation{}, err
	}
	v := &problem.ValidationError{}
	var in Input
	if err := validate.Patch(v, inputOf(cur), patch, &in, inputOptions); err != nil {
		return store.Organisation{}, err
	}
	return s.update(ctx, cur, cond, v, in)
}

// Delete deletes the partner's organisation id with its ui-config. It is
// refused with 409 while the organisation has children or clients.
func (s *Service) Delete(ctx context.Context, partnerID, id string, cond etag.Condition) error {
	cur, err := s.current(ctx, partnerID, id, cond)
	if err != nil {
		return err
	}
	return endpoint.Raced(storeError(s.Store.DeleteOrganisation(ctx, cur)), cond)
}

// current returns the organisation a write applies to, after checking the
// request's If-Match against it.
func (s *Service) current(ctx context.Context, partnerID, id string, cond etag.Condition) (store.Organisation, error) {
	cur, err := s.Get(ctx, partnerID, id)
	if err != nil {
		return store.Organisation{}, err
	}
	if err := cond.Check(etag.FromVersion(cur.Version)); err != nil {
		return store.Organisation{}, err
	}
	return cur, nil
}

// update checks in as the new state of cur and writes it with the guards
// the hierarchy needs. v holds the violations found decoding in.
func (s *Service) update(ctx context.Context, cur store.Organisation, cond etag.Condition, v *problem.ValidationError, in Input) (store.Organisation, error) {
	decoded := len(v.Errors)
	parent, err := s.parent(ctx, v, cur.PartnerID, in.ParentID)
	if err != nil {
		return store.Organisation{}, err
	}
	if parent != nil && Cyclic(cur.ID, *parent) {
		v.Add("parent_id", "would make the organisation its own ancestor")
		parent = nil
	}
	next := Resolve(v, in, parent)
	if err := validate.Settled(v, decoded); err != nil {
		return store.Organisation{}, err
	}
	next.ID, next.PartnerID, next.CreatedAt, next.UpdatedAt = cur.ID, cur.PartnerID, cur.CreatedAt, s.Now().UTC()
	next.Version, next.ChildCount, next.ClientCount, next.ChildSeq = cur.Version, cur.ChildCount, cur.ClientCount, cur.ChildSeq

	u := store.OrganisationUpdate{Org: next, Before: cur, PreviousParentID: cur.ParentID}
	moved, changed := next.ParentID != cur.ParentID, fit.RestrictionsChanged(cur, next)
	if moved && cur.ChildCount > 0 {
		return store.Organisation{}, problem.New(problem.ErrConflict,
			"organisation %s has %d child organisation(s); moving an organisation with children is not supported: move or delete its children first", cur.ID, cur.ChildCount)
	}
	if moved || changed {
		// No child may appear or change unchecked meanwhile.
		seq := cur.ChildSeq
		u.ChildSeq = &seq
		if parent != nil {
			u.ParentVersion = parent.Version
		}
	}
	if changed && cur.ChildCount > 0 {
		if err := s.checkChildren(ctx, next); err != nil {
			return store.Organisation{}, err
		}
	}
	if changed && cur.ClientCount > 0 {
		if err := s.checkClients(ctx, next); err != nil {
			return store.Organisation{}, err
		}
	}
	if cur.EnableCustomLogo && !next.EnableCustomLogo {
		if err := s.checkNoLogo(ctx, cur); err != nil {
			return store.Organisation{}, err
		}
		u.NoLogo = true
	}
	updated, err := s.Store.UpdateOrganisation(ctx, u)
	return updated, endpoint.Raced(storeError(err), cond)
}

// checkChildren refuses, with 409 naming them, a change of o that would
// leave any of its children wider than o.
func (s *Service) checkChildren(ctx context.Context, o store.Organisation) error {
	children, err := s.Store.OrganisationChildren(ctx, o.PartnerID, o.ID)
	if err != nil {
		return storeError(err)
	}
	var wider []string
	for _, c := range children {
		if fields := fit.ChildWider(c, o); len(fields) > 0 {
			wider = append(wider, named(c.ID, fields))
		}
	}
	return refuse(wider, "the change would leave child organisations wider than their parent; narrow or move them first")
}

// checkClients refuses, with 409 naming them, a change of o that would
// leave any of its clients outside it.
func (s *Service) checkClients(ctx context.Context, o store.Organisation) error {
	list, err := s.Store.OrganisationClients(ctx, o.PartnerID, o.ID)
	if err != nil {
		return storeError(err)
	}
	var outside []string
	for _, c := range list {
		if fields := fit.ClientOutside(c, o); len(fields) > 0 {
			outside = append(outside, named(c.ID, fields))
		}
	}
	return refuse(outside, "the change would leave clients of the organisation outside it; change or delete them first")
}

// named describes an item that would not fit: its id and the attributes.
func named(id string, fields []string) string {
	return fmt.Sprintf("%s (%s)", id, strings.Join(fields, ", "))
}

// refuse returns a 409 saying why and naming the items (at most
// maxNamedChildren of them, in order), or nil when there are none.
func refuse(items []string, why string) error {
	if len(items) == 0 {
		return nil
	}
	slices.Sort(items)
	more := ""
	if len(items) > maxNamedChildren {
		more = fmt.Sprintf(" and %d more", len(items)-maxNamedChildren)
		items = items[:maxNamedChildren]
	}
	return problem.New(problem.ErrConflict, "%s: %s%s", why, strings.Join(items, "; "), more)
}

// checkNoLogo refuses to turn custom logos off while the ui-config has one.
func (s *Service) checkNoLogo(ctx context.Context, o store.Organisation) error {
	c, err := s.Store.GetUIConfig(ctx, o.PartnerID, o.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return storeError(err)
	case c.LogoURL != "":
		return problem.New(problem.ErrConflict,
			"the organisation's ui-config has a logo_url; remove it (PUT /v1/organisations/%s/ui-config) before turning enable_custom_logo off", o.ID)
	}
	return nil
}

// parent returns the organisation parentID names (nil for a root), adding
// "no such organisation" to v when the partner has none by that id. Another
// partner's organisation is not found either.
func (s *Service) parent(ctx context.Context, v *problem.ValidationError, partnerID string, parentID *string) (*store.Organisation, error) {
	if parentID == nil {
		return nil, nil
	}
	id, ok := validate.CanonicalUUID(*parentID)
	if !ok {
		return nil, nil // Resolve reports the malformed id.
	}
	p, err := s.Store.GetOrganisation(ctx, partnerID, id)
	if errors.Is(err, store.ErrNotFound) {
		v.Add("parent_id", "no such organisation")
		return nil, nil
	}
	if err != nil {
		return nil, storeError(err)
	}
	return &p, nil
}

// inputOf is the Input that would recreate o: the document a PATCH merges
// into. Lists are explicit (never null), so a PATCH leaves them as they are
// unless it names them.
func inputOf(o store.Organisation) Input {
	in := Input{
		Name:                  o.Name,
		EnableCustomLogo:      &o.EnableCustomLogo,
		AllowedScopes:         nonNil(o.AllowedScopes),
		AllowedProducts:       nonNil(o.AllowedProducts),
		AllowedProviderGroups: nonNil(o.AllowedProviderGroups),
		HasProductionAccess:   &o.HasProductionAccess,
		Enabled:               &o.Enabled,
	}
	if o.ParentID != "" {
		in.ParentID = &o.ParentID
	}
	return in
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// storeError translates the store's errors into the API's answers: the
// problem kind and the caller-facing detail of each guard of the
// organisation writes, then endpoint.StoreError for the rest (503 when
// DynamoDB throttles; 500 without the cause for an unknown error).
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ve *store.VersionError
	if errors.As(err, &ve) {
		switch ve.Entity {
		case store.EntityOrganisation:
			return endpoint.Translated(err, problem.ErrPrecondition,
				"organisation %s was changed by another request (now at version %d)", ve.ID, ve.Current)
		case store.EntityUIConfig:
			return endpoint.Translated(err, problem.ErrPrecondition, "the ui-config of organisation %s was changed by another request", ve.ID)
		}
	}
	ce := store.Conflict(err)
	if ce == nil {
		return endpoint.StoreError(err)
	}
	switch ce.Reason {
	case store.ConflictIDTaken:
		return endpoint.Translated(err, problem.ErrConflict, "organisation id %s is taken", ce.ID)
	case store.ConflictChildrenChanged:
		return endpoint.Translated(err, problem.ErrConflict, "the child organisations of %s changed while the request ran; retry", ce.ID)
	case store.ConflictParentChanged:
		return endpoint.Translated(err, problem.ErrConflict, "the parent organisation %s was changed or deleted while the request ran; retry", ce.ID)
	case store.ConflictLogoSet:
		return endpoint.Translated(err, problem.ErrConflict,
			"a logo_url was set in the organisation's ui-config while the request ran; remove it before turning enable_custom_logo off")
	case store.ConflictCustomLogoOff:
		return endpoint.Translated(err, problem.ErrConflict, "enable_custom_logo of organisation %s was turned off while the request ran", ce.ID)
	case store.ConflictChildrenRemain:
		return endpoint.Translated(err, problem.ErrConflict, "organisation %s still has %d child organisation(s) and %d client(s); delete them first",
			ce.ID, ce.Children, ce.Clients)
	case store.ConflictServersRemain:
		return endpoint.Translated(err, problem.ErrConflict, "organisation %s still has %d authorisation server(s); delete them first",
			ce.ID, ce.Servers)
	case store.ConflictChanged:
		return endpoint.Translated(err, problem.ErrConflict, "organisation %s changed while the request ran; retry", ce.ID)
	}
	return endpoint.StoreError(err)
}

func notFound(id string) error {
	return problem.New(problem.ErrNotFound, "no organisation %q", truncate.String(id, 64))
}
