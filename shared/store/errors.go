package store

import (
	"errors"
	"fmt"
)

// The store's error contract. Every exported method says in its doc comment
// which of these it returns (wrapped, with the operation); callers test them
// with errors.Is and errors.As and choose their own wording: the store never
// speaks to the API's callers.
var (
	// ErrNotFound: the item read or written does not exist (or belongs to
	// another partner).
	ErrNotFound = errors.New("store: item not found")
	// ErrVersionMismatch: the stored item is not at the version the write
	// was conditional on. The error is a *VersionError, which says the
	// current version when the store knows it.
	ErrVersionMismatch = errors.New("store: version mismatch")
	// ErrConflict: a guard of a write failed (an id taken, children left, a
	// concurrent change of another item). The error is a *ConflictError
	// saying why.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable: DynamoDB throttled the request or a transaction kept
	// being cancelled by concurrent ones; nothing was written and the
	// request may be retried later.
	ErrUnavailable = errors.New("store: unavailable (throttled or over capacity)")
)

// Entity names the kind of item an error is about.
type Entity int

// The entities of the table.
const (
	EntityOrganisation Entity = iota + 1
	EntityUIConfig
	EntityClient
	EntityAuthServer
	EntityPrincipal
	EntitySigningKey
	EntityAPIResource
	EntityCertification
)

func (e Entity) String() string {
	switch e {
	case EntityOrganisation:
		return "organisation"
	case EntityUIConfig:
		return "ui-config"
	case EntityClient:
		return "client"
	case EntityAuthServer:
		return "authorisation server"
	case EntityPrincipal:
		return "principal"
	case EntitySigningKey:
		return "signing key"
	case EntityAPIResource:
		return "API resource"
	case EntityCertification:
		return "certification"
	}
	return fmt.Sprintf("entity(%d)", int(e))
}

// VersionError is an ErrVersionMismatch: the item ID (of kind Entity, the
// organisation's id for a UI config) is stored at Current, not at the
// version the write expected. Current is 0 when the store does not know it.
type VersionError struct {
	Entity  Entity
	ID      string
	Current int64
}

func (e *VersionError) Error() string {
	if e.Current == 0 {
		return fmt.Sprintf("%v: %s %s", ErrVersionMismatch, e.Entity, e.ID)
	}
	return fmt.Sprintf("%v: %s %s is at version %d", ErrVersionMismatch, e.Entity, e.ID, e.Current)
}

// Is makes errors.Is(err, ErrVersionMismatch) true.
func (e *VersionError) Is(target error) bool { return target == ErrVersionMismatch }

// ConflictReason says which guard of a write failed.
type ConflictReason int

// The reasons of a ConflictError. ID is the item each one names.
const (
	// ConflictIDTaken: the id of the item to create (ID) is taken; for a
	// principal or client, by a partner account or a client.
	ConflictIDTaken ConflictReason = iota + 1
	// ConflictChildrenRemain: the organisation ID still has Children child
	// organisations and Clients clients.
	ConflictChildrenRemain
	// ConflictServersRemain: the organisation ID still has Servers
	// authorisation servers.
	ConflictServersRemain
	// ConflictChildrenChanged: a child or client of the organisation ID was
	// added, moved or changed since the write's checks read them.
	ConflictChildrenChanged
	// ConflictParentChanged: the parent organisation ID was changed or
	// deleted since the write's checks read it.
	ConflictParentChanged
	// ConflictOrganisationChanged: the organisation ID the item belongs to
	// changed since the write's checks read it (a client's or a server's
	// organisation).
	ConflictOrganisationChanged
	// ConflictChanged: the item ID itself changed in a way the other
	// reasons do not explain (a concurrent write won); retry.
	ConflictChanged
	// ConflictLogoSet: the UI config of the organisation ID has a logo_url.
	ConflictLogoSet
	// ConflictCustomLogoOff: the organisation ID no longer allows custom
	// logos.
	ConflictCustomLogoOff
	// ConflictReferenced: the authorisation server ID is still referenced,
	// by the servers IDs (sorted; empty when they could not be named).
	ConflictReferenced
	// ConflictReferenceGone: the authorisation server ID that the write
	// references was deleted meanwhile.
	ConflictReferenceGone
	// ConflictResourcesRemain: the authorisation server ID still has API
	// resources or certifications (Servers counts them).
	ConflictResourcesRemain
)

var conflictReasons = map[ConflictReason]string{
	ConflictIDTaken: "id taken", ConflictChildrenRemain: "children remain", ConflictServersRemain: "servers remain",
	ConflictChildrenChanged: "children changed", ConflictParentChanged: "parent changed",
	ConflictOrganisationChanged: "organisation changed", ConflictChanged: "changed", ConflictLogoSet: "logo set",
	ConflictCustomLogoOff: "custom logo off", ConflictReferenced: "referenced", ConflictReferenceGone: "reference gone",
	ConflictResourcesRemain: "resources remain",
}

func (r ConflictReason) String() string {
	if s, ok := conflictReasons[r]; ok {
		return s
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// ConflictError is an ErrConflict: the guard Reason failed for item ID (of
// kind Entity), with the data the reason needs to be explained.
type ConflictError struct {
	Reason ConflictReason
	Entity Entity
	ID     string
	// Children, Clients and Servers count what remains under an
	// organisation (ConflictChildrenRemain, ConflictServersRemain).
	Children, Clients, Servers int64
	// IDs names the items involved (ConflictReferenced: the referencing
	// servers).
	IDs []string
}

func (e *ConflictError) Error() string {
	s := fmt.Sprintf("%v: %s %s: %s", ErrConflict, e.Entity, e.ID, e.Reason)
	switch e.Reason {
	case ConflictChildrenRemain:
		s += fmt.Sprintf(" (%d children, %d clients)", e.Children, e.Clients)
	case ConflictServersRemain:
		s += fmt.Sprintf(" (%d servers)", e.Servers)
	case ConflictReferenced:
		s += fmt.Sprintf(" (by %v)", e.IDs)
	}
	return s
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Conflict returns the *ConflictError in err's chain, or nil.
func Conflict(err error) *ConflictError {
	var ce *ConflictError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// IsConflict reports whether err is a *ConflictError with reason r.
func IsConflict(err error, r ConflictReason) bool {
	ce := Conflict(err)
	return ce != nil && ce.Reason == r
}
