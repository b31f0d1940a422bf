package tokenapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
)

// Grants serves the sign-in grants of the token endpoint for an
// authenticated client (satisfied by *grants.Service). Its errors are
// *oautherr.Error values.
type Grants interface {
	Exchange(ctx context.Context, p store.Principal, grantType string, form url.Values) (any, error)
}

// RefreshTokens finds and revokes refresh tokens (satisfied by
// *grants.Service). ok is false for anything but an active refresh token.
type RefreshTokens interface {
	LookupRefresh(ctx context.Context, raw string) (f store.Family, expires time.Time, ok bool, err error)
	RevokeFamily(ctx context.Context, f store.Family) error
}

// signInGrant authenticates the client like every grant, then hands the
// request to Grants.
func (h *handler) signInGrant(w http.ResponseWriter, r *http.Request, grantType string, form url.Values) {
	p, err := h.authenticate(r, form)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	resp, err := h.Grants.Exchange(r.Context(), p, grantType, form)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// introspectRefresh answers introspection of raw when it is an active
// refresh token p owns; ok false when it is not one.
func (h *handler) introspectRefresh(w http.ResponseWriter, r *http.Request, p store.Principal, raw string) (bool, error) {
	f, exp, ok, err := h.Refresh.LookupRefresh(r.Context(), raw)
	if err != nil || !ok || !owns(p, token.Claims{ClientID: f.ClientID, PartnerID: f.PartnerID}) {
		return false, err
	}
	writeJSON(w, http.StatusOK, introspection{
		Active: true, Scope: scope.Format(f.Scopes), ClientID: f.ClientID, TokenType: "refresh_token",
		Exp: exp.Unix(), Iat: f.CreatedAt.Unix(), Sub: f.Subject, Iss: h.IssuerURL,
		PartnerID: f.PartnerID, OrganisationID: f.OrganisationID,
	})
	return true, nil
}

// revokeRefresh revokes the family of raw when it is an active refresh
// token p owns.
func (h *handler) revokeRefresh(r *http.Request, p store.Principal, raw string) error {
	f, _, ok, err := h.Refresh.LookupRefresh(r.Context(), raw)
	if err != nil || !ok || !owns(p, token.Claims{ClientID: f.ClientID, PartnerID: f.PartnerID}) {
		return err
	}
	return h.Refresh.RevokeFamily(r.Context(), f)
}
