// Package fakestore is an in-memory stand-in for the store, for tests of the
// domain services that need no DynamoDB: the rules, and how each error of
// the store becomes an answer of the API. It is test-only (nothing in
// shared/ or functions/ imports it).
//
// Store implements the narrow storage interfaces of organisations.Service,
// clients.Service and authservers.Service with the store's error contract (store.ErrNotFound,
// *store.VersionError, *store.ConflictError with its reasons), its
// versions and its counters, but not its concurrency: every method runs
// under one lock. Tests that need a failure the fake would not produce on
// its own inject it: FailNext makes the next call of a method return an
// error; Hook runs a function (a delay, a check of the context, a change of
// the data behind the caller's back) before each call of a method.
//
// Integration tests of the store itself, and of the API end to end, run
// against DynamoDB Local; this fake is no substitute for them. The store's
// TestFakeKeepsTheContract runs the same refused writes on both and checks
// they fail with the same typed errors.
package fakestore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/partnerapi/partner-api/shared/store"
)

// Store is an in-memory store. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	orgs    map[key]store.Organisation
	configs map[key]store.UIConfig
	clients map[string]store.Client
	servers map[serverKey]store.AuthServer
	hooks   map[string][]func(ctx context.Context) error
	calls   map[string]int
}

// key is a partner's item id.
type key struct{ partnerID, id string }

// New returns an empty store.
func New() *Store {
	return &Store{
		orgs: map[key]store.Organisation{}, configs: map[key]store.UIConfig{}, clients: map[string]store.Client{},
		servers: map[serverKey]store.AuthServer{}, hooks: map[string][]func(context.Context) error{}, calls: map[string]int{},
	}
}

// Hook makes every later call of method (e.g. "UpdateOrganisation") run f
// first, outside the store's lock; when f returns an error, the call
// returns it and changes nothing.
func (s *Store) Hook(method string, f func(ctx context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks[method] = append(s.hooks[method], f)
}

// FailNext makes the next call of method return err (wrapped as the store
// wraps its errors, with the operation) and change nothing. Calls after it
// behave normally.
func (s *Store) FailNext(method string, err error) {
	var once sync.Once
	s.Hook(method, func(context.Context) error {
		var out error
		once.Do(func() { out = fmt.Errorf("%s (injected): %w", method, err) })
		return out
	})
}

// Delay makes every call of method wait d first, or until the caller's
// context ends (then the call returns the context's error).
func (s *Store) Delay(method string, d time.Duration) {
	s.Hook(method, func(ctx context.Context) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// Calls reports how many times method was called.
func (s *Store) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// enter counts a call of method and runs its hooks; on success it returns
// with the lock held (release it with s.mu.Unlock).
func (s *Store) enter(ctx context.Context, method string) error {
	s.mu.Lock()
	s.calls[method]++
	hooks := slices.Clone(s.hooks[method])
	s.mu.Unlock()
	for _, h := range hooks {
		if err := h(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	return nil
}

// PutOrganisation stores o as it is (counters and version included), for
// setting up a test; it is not part of the store's interface.
func (s *Store) PutOrganisation(o store.Organisation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs[key{o.PartnerID, o.ID}] = o
}

// PutClient stores c as it is, for setting up a test.
func (s *Store) PutClient(c store.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

func notFound(op string) error { return fmt.Errorf("%s: %w", op, store.ErrNotFound) }

func conflict(op string, r store.ConflictReason, e store.Entity, id string) error {
	return fmt.Errorf("%s: %w", op, &store.ConflictError{Reason: r, Entity: e, ID: id})
}

// GetOrganisation returns the partner's organisation orgID, or an error
// wrapping store.ErrNotFound.
func (s *Store) GetOrganisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error) {
	if err := s.enter(ctx, "GetOrganisation"); err != nil {
		return store.Organisation{}, err
	}
	defer s.mu.Unlock()
	o, ok := s.orgs[key{partnerID, orgID}]
	if !ok {
		return store.Organisation{}, notFound("get organisation " + orgID)
	}
	return o, nil
}

// ListOrganisations returns up to limit of the partner's organisations (the
// children of parentID when it is set) in id order after the id after.
func (s *Store) ListOrganisations(ctx context.Context, partnerID, parentID, after string, limit int) ([]store.Organisation, bool, error) {
	if err := s.enter(ctx, "ListOrganisations"); err != nil {
		return nil, false, err
	}
	defer s.mu.Unlock()
	var all []store.Organisation
	for k, o := range s.orgs {
		if k.partnerID == partnerID && (parentID == "" || o.ParentID == parentID) && o.ID > after {
			all = append(all, o)
		}
	}
	list, more := page(all, func(o store.Organisation) string { return o.ID }, limit)
	return list, more, nil
}

// page sorts items by id and returns the first limit of them, and whether
// more follow.
func page[T any](items []T, id func(T) string, limit int) ([]T, bool) {
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}

// OrganisationChildren returns the children of the partner's organisation
// parentID.
func (s *Store) OrganisationChildren(ctx context.Context, partnerID, parentID string) ([]store.Organisation, error) {
	if err := s.enter(ctx, "OrganisationChildren"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []store.Organisation
	for k, o := range s.orgs {
		if k.partnerID == partnerID && o.ParentID == parentID {
			out = append(out, o)
		}
	}
	return out, nil
}

// OrganisationClients returns the clients of the partner's organisation
// orgID.
func (s *Store) OrganisationClients(ctx context.Context, partnerID, orgID string) ([]store.Client, error) {
	if err := s.enter(ctx, "OrganisationClients"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []store.Client
	for _, c := range s.clients {
		if c.PartnerID == partnerID && c.OrganisationID == orgID {
			out = append(out, c)
		}
	}
	return out, nil
}

// CreateOrganisation stores o at version 1 and counts it on its parent, as
// store.Table.CreateOrganisation does, with its errors.
func (s *Store) CreateOrganisation(ctx context.Context, o store.Organisation, parentVersion int64) (store.Organisation, error) {
	if err := s.enter(ctx, "CreateOrganisation"); err != nil {
		return store.Organisation{}, err
	}
	defer s.mu.Unlock()
	const op = "create organisation"
	k := key{o.PartnerID, o.ID}
	if _, ok := s.orgs[k]; ok {
		return store.Organisation{}, conflict(op, store.ConflictIDTaken, store.EntityOrganisation, o.ID)
	}
	o.Version, o.ChildCount, o.ClientCount, o.AuthServerCount, o.ChildSeq = 1, 0, 0, 0, 0
	if o.ParentID != "" {
		if err := s.countChild(o.PartnerID, o.ParentID, 1, parentVersion); err != nil {
			return store.Organisation{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	s.orgs[k] = o
	return o, nil
}

// countChild adds delta to the child count of the parent and bumps its
// ChildSeq, if it exists at parentVersion (any version when 0).
func (s *Store) countChild(partnerID, parentID string, delta, parentVersion int64) error {
	k := key{partnerID, parentID}
	p, ok := s.orgs[k]
	if !ok || parentVersion != 0 && p.Version != parentVersion {
		return &store.ConflictError{Reason: store.ConflictParentChanged, Entity: store.EntityOrganisation, ID: parentID}
	}
	p.ChildCount += delta
	p.ChildSeq++
	s.orgs[k] = p
	return nil
}

// UpdateOrganisation applies u as store.Table.UpdateOrganisation does: the
// mutable attributes change, the counters stay, the version goes up.
func (s *Store) UpdateOrganisation(ctx context.Context, u store.OrganisationUpdate) (store.Organisation, error) {
	if err := s.enter(ctx, "UpdateOrganisation"); err != nil {
		return store.Organisation{}, err
	}
	defer s.mu.Unlock()
	o := u.Org
	op := "update organisation " + o.ID
	k := key{o.PartnerID, o.ID}
	cur, ok := s.orgs[k]
	switch {
	case !ok:
		return store.Organisation{}, notFound(op)
	case cur.Version != o.Version:
		return store.Organisation{}, fmt.Errorf("%s: %w", op, &store.VersionError{Entity: store.EntityOrganisation, ID: o.ID, Current: cur.Version})
	case u.ChildSeq != nil && cur.ChildSeq != *u.ChildSeq:
		return store.Organisation{}, conflict(op, store.ConflictChildrenChanged, store.EntityOrganisation, o.ID)
	}
	if u.NoLogo && s.configs[k].LogoURL != "" {
		return store.Organisation{}, conflict(op, store.ConflictLogoSet, store.EntityOrganisation, o.ID)
	}
	// Check the parents before changing anything: the store's transaction
	// changes all or nothing.
	moved := u.PreviousParentID != o.ParentID
	for _, p := range []struct {
		id      string
		version int64
		check   bool
	}{
		{u.PreviousParentID, 0, moved && u.PreviousParentID != ""},
		{o.ParentID, u.ParentVersion, o.ParentID != "" && (moved || u.ParentVersion != 0)},
	} {
		parent, ok := s.orgs[key{o.PartnerID, p.id}]
		if p.check && (!ok || p.version != 0 && parent.Version != p.version) {
			return store.Organisation{}, conflict(op, store.ConflictParentChanged, store.EntityOrganisation, p.id)
		}
	}
	switch {
	case moved:
		if u.PreviousParentID != "" {
			_ = s.countChild(o.PartnerID, u.PreviousParentID, -1, 0)
		}
		if o.ParentID != "" {
			_ = s.countChild(o.PartnerID, o.ParentID, 1, 0)
		}
	case u.ParentVersion != 0 && o.ParentID != "":
		_ = s.countChild(o.PartnerID, o.ParentID, 0, 0)
	}
	o.ChildCount, o.ClientCount, o.AuthServerCount, o.ChildSeq = cur.ChildCount, cur.ClientCount, cur.AuthServerCount, cur.ChildSeq
	o.CreatedAt = cur.CreatedAt
	o.Version = cur.Version + 1
	s.orgs[k] = o
	return o, nil
}

// DeleteOrganisation deletes o with its UI config, as
// store.Table.DeleteOrganisation does, with its errors.
func (s *Store) DeleteOrganisation(ctx context.Context, o store.Organisation) error {
	if err := s.enter(ctx, "DeleteOrganisation"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	op := "delete organisation " + o.ID
	k := key{o.PartnerID, o.ID}
	cur, ok := s.orgs[k]
	switch {
	case !ok:
		return notFound(op)
	case cur.Version != o.Version:
		return fmt.Errorf("%s: %w", op, &store.VersionError{Entity: store.EntityOrganisation, ID: o.ID, Current: cur.Version})
	case cur.ChildCount > 0 || cur.ClientCount > 0:
		return fmt.Errorf("%s: %w", op, &store.ConflictError{Reason: store.ConflictChildrenRemain, Entity: store.EntityOrganisation,
			ID: o.ID, Children: cur.ChildCount, Clients: cur.ClientCount})
	case cur.AuthServerCount > 0:
		return fmt.Errorf("%s: %w", op, &store.ConflictError{Reason: store.ConflictServersRemain, Entity: store.EntityOrganisation,
			ID: o.ID, Servers: cur.AuthServerCount})
	}
	if cur.ParentID != "" {
		if err := s.countChild(o.PartnerID, cur.ParentID, -1, 0); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	delete(s.orgs, k)
	delete(s.configs, k)
	return nil
}

// GetUIConfig returns the stored UI config of the partner's organisation
// orgID, or an error wrapping store.ErrNotFound.
func (s *Store) GetUIConfig(ctx context.Context, partnerID, orgID string) (store.UIConfig, error) {
	if err := s.enter(ctx, "GetUIConfig"); err != nil {
		return store.UIConfig{}, err
	}
	defer s.mu.Unlock()
	c, ok := s.configs[key{partnerID, orgID}]
	if !ok {
		return store.UIConfig{}, notFound("get ui config of " + orgID)
	}
	return c, nil
}

// PutUIConfig stores c in place of the config at c.Version, as
// store.Table.PutUIConfig does, with its errors.
func (s *Store) PutUIConfig(ctx context.Context, _, c store.UIConfig) (store.UIConfig, error) {
	if err := s.enter(ctx, "PutUIConfig"); err != nil {
		return store.UIConfig{}, err
	}
	defer s.mu.Unlock()
	op := "put ui config of " + c.OrganisationID
	k := key{c.PartnerID, c.OrganisationID}
	org, ok := s.orgs[k]
	switch {
	case !ok:
		return store.UIConfig{}, notFound(op)
	case c.LogoURL != "" && !org.EnableCustomLogo:
		return store.UIConfig{}, conflict(op, store.ConflictCustomLogoOff, store.EntityOrganisation, c.OrganisationID)
	case s.configs[k].Version != c.Version:
		return store.UIConfig{}, fmt.Errorf("%s: %w", op, &store.VersionError{Entity: store.EntityUIConfig, ID: c.OrganisationID, Current: s.configs[k].Version})
	}
	c.Version++
	s.configs[k] = c
	return c, nil
}

// GetClient returns the client clientID, or an error wrapping
// store.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, clientID string) (store.Client, error) {
	if err := s.enter(ctx, "GetClient"); err != nil {
		return store.Client{}, err
	}
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return store.Client{}, notFound("get client " + clientID)
	}
	return c, nil
}

// ListClients returns up to limit clients of the partner's organisation
// orgID in id order after the id after.
func (s *Store) ListClients(ctx context.Context, partnerID, orgID, after string, limit int) ([]store.Client, bool, error) {
	if err := s.enter(ctx, "ListClients"); err != nil {
		return nil, false, err
	}
	defer s.mu.Unlock()
	var all []store.Client
	for _, c := range s.clients {
		if c.PartnerID == partnerID && c.OrganisationID == orgID && c.ID > after {
			all = append(all, c)
		}
	}
	list, more := page(all, func(c store.Client) string { return c.ID }, limit)
	return list, more, nil
}

// CreateClient stores c at version 1 and counts it on its organisation, as
// store.Table.CreateClient does, with its errors.
func (s *Store) CreateClient(ctx context.Context, c store.Client, orgVersion int64) (store.Client, error) {
	if err := s.enter(ctx, "CreateClient"); err != nil {
		return store.Client{}, err
	}
	defer s.mu.Unlock()
	op := "create client " + c.ID
	if _, ok := s.clients[c.ID]; ok {
		return store.Client{}, conflict(op, store.ConflictIDTaken, store.EntityClient, c.ID)
	}
	if err := s.countClient(c, 1, orgVersion); err != nil {
		return store.Client{}, fmt.Errorf("%s: %w", op, err)
	}
	c.Kind, c.Version = store.KindClient, 1
	s.clients[c.ID] = c
	return c, nil
}

// countClient adds delta to the client count of c's organisation, if it
// exists and, when orgVersion is not 0, is at orgVersion (then its ChildSeq
// goes up too).
func (s *Store) countClient(c store.Client, delta, orgVersion int64) error {
	k := key{c.PartnerID, c.OrganisationID}
	org, ok := s.orgs[k]
	switch {
	case !ok:
		return store.ErrNotFound
	case orgVersion != 0 && org.Version != orgVersion:
		return &store.ConflictError{Reason: store.ConflictOrganisationChanged, Entity: store.EntityOrganisation, ID: c.OrganisationID}
	}
	org.ClientCount += delta
	if orgVersion != 0 {
		org.ChildSeq++
	}
	s.orgs[k] = org
	return nil
}

// UpdateClient writes c if the stored client is at c.Version, as
// store.Table.UpdateClient does, with its errors.
func (s *Store) UpdateClient(ctx context.Context, _, c store.Client, orgVersion int64) (store.Client, error) {
	if err := s.enter(ctx, "UpdateClient"); err != nil {
		return store.Client{}, err
	}
	defer s.mu.Unlock()
	op := "update client " + c.ID
	if err := s.clientAt(c); err != nil {
		return store.Client{}, fmt.Errorf("%s: %w", op, err)
	}
	if orgVersion != 0 {
		if err := s.countClient(c, 0, orgVersion); err != nil {
			return store.Client{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	c.Kind = store.KindClient
	c.Version++
	s.clients[c.ID] = c
	return c, nil
}

// DeleteClient deletes c if it is at c.Version, as store.Table.DeleteClient
// does, with its errors.
func (s *Store) DeleteClient(ctx context.Context, c store.Client) error {
	if err := s.enter(ctx, "DeleteClient"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	op := "delete client " + c.ID
	if err := s.clientAt(c); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.countClient(c, -1, 0); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	delete(s.clients, c.ID)
	return nil
}

// clientAt checks that c is stored, for its partner, at c.Version.
func (s *Store) clientAt(c store.Client) error {
	cur, ok := s.clients[c.ID]
	switch {
	case !ok || cur.PartnerID != c.PartnerID:
		return store.ErrNotFound
	case cur.Version != c.Version:
		return &store.VersionError{Entity: store.EntityClient, ID: c.ID, Current: cur.Version}
	}
	return nil
}
