package fakestore

import (
	"context"
	"fmt"
	"slices"

	"github.com/partnerapi/partner-api/shared/store"
)

// serverKey is an authorisation server of a partner's organisation.
type serverKey struct{ partnerID, orgID, id string }

// GetAuthServer returns the server id of the partner's organisation orgID,
// or an error wrapping store.ErrNotFound.
func (s *Store) GetAuthServer(ctx context.Context, partnerID, orgID, id string) (store.AuthServer, error) {
	if err := s.enter(ctx, "GetAuthServer"); err != nil {
		return store.AuthServer{}, err
	}
	defer s.mu.Unlock()
	a, ok := s.servers[serverKey{partnerID, orgID, id}]
	if !ok {
		return store.AuthServer{}, notFound("get authorisation server " + id)
	}
	return a, nil
}

// ListAuthServers returns up to limit servers of the partner's
// organisation orgID in id order after the id after.
func (s *Store) ListAuthServers(ctx context.Context, partnerID, orgID, after string, limit int) ([]store.AuthServer, bool, error) {
	if err := s.enter(ctx, "ListAuthServers"); err != nil {
		return nil, false, err
	}
	defer s.mu.Unlock()
	var all []store.AuthServer
	for k, a := range s.servers {
		if k.partnerID == partnerID && k.orgID == orgID && a.ID > after {
			all = append(all, a)
		}
	}
	list, more := page(all, func(a store.AuthServer) string { return a.ID }, limit)
	return list, more, nil
}

// ReferencingAuthServers returns the sorted ids of the servers of a's
// organisation that reference a.
func (s *Store) ReferencingAuthServers(ctx context.Context, a store.AuthServer) ([]string, error) {
	if err := s.enter(ctx, "ReferencingAuthServers"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return s.referencing(a), nil
}

func (s *Store) referencing(a store.AuthServer) []string {
	var ids []string
	for k, other := range s.servers {
		if k.partnerID == a.PartnerID && k.orgID == a.OrganisationID && slices.Contains(other.References(), a.ID) {
			ids = append(ids, other.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// CreateAuthServer stores a at version 1, as store.Table.CreateAuthServer
// does, with its errors.
func (s *Store) CreateAuthServer(ctx context.Context, a store.AuthServer) (store.AuthServer, error) {
	if err := s.enter(ctx, "CreateAuthServer"); err != nil {
		return store.AuthServer{}, err
	}
	defer s.mu.Unlock()
	op := "create authorisation server " + a.ID
	org, ok := s.orgs[key{a.PartnerID, a.OrganisationID}]
	if !ok {
		return store.AuthServer{}, notFound(op)
	}
	k := serverKey{a.PartnerID, a.OrganisationID, a.ID}
	if _, ok := s.servers[k]; ok {
		return store.AuthServer{}, conflict(op, store.ConflictIDTaken, store.EntityAuthServer, a.ID)
	}
	if err := s.checkReferences(a, nil); err != nil {
		return store.AuthServer{}, fmt.Errorf("%s: %w", op, err)
	}
	org.AuthServerCount++
	s.orgs[key{a.PartnerID, a.OrganisationID}] = org
	s.countRefs(a, a.References(), 1)
	a.Version, a.RefCount = 1, 0
	s.servers[k] = a
	return a, nil
}

// checkReferences checks that the servers next references, and before did
// not, exist.
func (s *Store) checkReferences(next store.AuthServer, before []string) error {
	for _, id := range next.References() {
		if _, ok := s.servers[serverKey{next.PartnerID, next.OrganisationID, id}]; !ok && !slices.Contains(before, id) {
			return &store.ConflictError{Reason: store.ConflictReferenceGone, Entity: store.EntityAuthServer, ID: id}
		}
	}
	return nil
}

// UpdateAuthServer writes next over the stored server at next.Version, as
// store.Table.UpdateAuthServer does, with its errors.
func (s *Store) UpdateAuthServer(ctx context.Context, cur, next store.AuthServer) (store.AuthServer, error) {
	if err := s.enter(ctx, "UpdateAuthServer"); err != nil {
		return store.AuthServer{}, err
	}
	defer s.mu.Unlock()
	op := "update authorisation server " + next.ID
	k := serverKey{next.PartnerID, next.OrganisationID, next.ID}
	stored, err := s.serverAt(next)
	if err != nil {
		return store.AuthServer{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.checkReferences(next, cur.References()); err != nil {
		return store.AuthServer{}, fmt.Errorf("%s: %w", op, err)
	}
	s.countRefs(next, stored.References(), -1)
	s.countRefs(next, next.References(), 1)
	next.Version++
	next.RefCount, next.CreatedAt = s.servers[k].RefCount, stored.CreatedAt
	s.servers[k] = next
	return next, nil
}

// DeleteAuthServer deletes a if it is at a.Version and no server
// references it, as store.Table.DeleteAuthServer does, with its errors.
func (s *Store) DeleteAuthServer(ctx context.Context, a store.AuthServer) error {
	if err := s.enter(ctx, "DeleteAuthServer"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	op := "delete authorisation server " + a.ID
	k := serverKey{a.PartnerID, a.OrganisationID, a.ID}
	stored, err := s.serverAt(a)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if ids := s.referencing(a); len(ids) > 0 {
		return fmt.Errorf("%s: %w", op, &store.ConflictError{Reason: store.ConflictReferenced, Entity: store.EntityAuthServer, ID: a.ID, IDs: ids})
	}
	s.countRefs(stored, stored.References(), -1)
	orgKey := key{a.PartnerID, a.OrganisationID}
	org := s.orgs[orgKey]
	org.AuthServerCount--
	s.orgs[orgKey] = org
	delete(s.servers, k)
	return nil
}

// serverAt returns the stored a, checking that it is at a.Version.
func (s *Store) serverAt(a store.AuthServer) (store.AuthServer, error) {
	stored, ok := s.servers[serverKey{a.PartnerID, a.OrganisationID, a.ID}]
	switch {
	case !ok:
		return store.AuthServer{}, store.ErrNotFound
	case stored.Version != a.Version:
		return store.AuthServer{}, &store.VersionError{Entity: store.EntityAuthServer, ID: a.ID, Current: stored.Version}
	}
	return stored, nil
}

// countRefs adds delta to the reference count of each server of a's
// organisation that ids names.
func (s *Store) countRefs(a store.AuthServer, ids []string, delta int64) {
	for _, id := range ids {
		k := serverKey{a.PartnerID, a.OrganisationID, id}
		if ref, ok := s.servers[k]; ok {
			ref.RefCount += delta
			s.servers[k] = ref
		}
	}
}
