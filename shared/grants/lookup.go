package grants

import (
	"context"
	"errors"
	"time"

	"github.com/partnerapi/partner-api/shared/store"
)

// LookupRefresh returns the family of the refresh token raw and when the
// token expires, with ok true only while the token is active: not rotated,
// its family not revoked, within its idle and absolute lifetimes. The
// introspection and revocation endpoints use it.
func (s *Service) LookupRefresh(ctx context.Context, raw string) (f store.Family, expires time.Time, ok bool, err error) {
	if raw == "" || len(raw) > 512 {
		return store.Family{}, time.Time{}, false, nil
	}
	rt, f, err := s.store.GetRefresh(ctx, Hash(raw))
	if errors.Is(err, store.ErrGone) {
		return store.Family{}, time.Time{}, false, nil
	}
	if err != nil {
		return store.Family{}, time.Time{}, false, err
	}
	now := s.now()
	expires = minTime(rt.IdleExpiry, f.AbsoluteExpiry)
	if rt.Rotated || f.Revoked || !now.Before(expires) {
		return store.Family{}, time.Time{}, false, nil
	}
	return f, expires, true, nil
}

// RevokeFamily revokes family f and its last access token (RFC 7009 for a
// refresh token).
func (s *Service) RevokeFamily(ctx context.Context, f store.Family) error {
	if _, err := s.store.RevokeFamily(ctx, f.ID); err != nil && !errors.Is(err, store.ErrGone) {
		return err
	}
	if f.Last.TokenID != "" {
		return s.store.RevokeToken(ctx, f.Last.TokenID, f.Last.TokenExpires)
	}
	return nil
}
