package tokenapi

import (
	"errors"
	"net/http"

	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
)

// introspection is the RFC 7662 §2.2 response.
type introspection struct {
	Active         bool     `json:"active"`
	Scope          string   `json:"scope,omitempty"`
	ClientID       string   `json:"client_id,omitempty"`
	TokenType      string   `json:"token_type,omitempty"`
	Exp            int64    `json:"exp,omitempty"`
	Iat            int64    `json:"iat,omitempty"`
	Nbf            int64    `json:"nbf,omitempty"`
	Sub            string   `json:"sub,omitempty"`
	Aud            []string `json:"aud,omitempty"`
	Iss            string   `json:"iss,omitempty"`
	Jti            string   `json:"jti,omitempty"`
	PartnerID      string   `json:"partner_id,omitempty"`
	OrganisationID string   `json:"organisation_id,omitempty"`
}

// introspect answers RFC 7662. A caller may introspect the tokens of its own
// partner account: a partner those of itself and its clients, a client only
// its own. Any other token is reported inactive, revealing nothing.
func (h *handler) introspect(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	p, err := h.authenticate(r, form)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	raw := form.Get("token")
	if raw == "" {
		WriteError(w, r, oautherr.InvalidRequest("token is required"))
		return
	}
	c, err := h.Verifier.Verify(r.Context(), raw)
	if err != nil && !errors.Is(err, token.ErrInvalid) {
		WriteError(w, r, oautherr.TemporarilyUnavailable(err))
		return
	}
	if err != nil && h.Refresh != nil {
		if ok, rerr := h.introspectRefresh(w, r, p, raw); rerr != nil || ok {
			if rerr != nil {
				WriteError(w, r, oautherr.TemporarilyUnavailable(rerr))
			}
			return
		}
	}
	if err != nil || !owns(p, c) {
		writeJSON(w, http.StatusOK, introspection{Active: false})
		return
	}
	writeJSON(w, http.StatusOK, introspection{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, TokenType: "Bearer",
		Exp: c.ExpiresAt.Unix(), Iat: c.IssuedAt.Unix(), Nbf: c.NotBefore.Unix(),
		Sub: c.Subject, Aud: c.Audience, Iss: c.Issuer, Jti: c.ID,
		PartnerID: c.PartnerID, OrganisationID: c.OrganisationID,
	})
}

// revoke answers RFC 7009: the token's id is refused until it expires. An
// invalid, expired or foreign token gets 200 as well (§2.2), revealing nothing.
func (h *handler) revoke(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	p, err := h.authenticate(r, form)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	raw := form.Get("token")
	if raw == "" {
		WriteError(w, r, oautherr.InvalidRequest("token is required"))
		return
	}
	// token_type_hint only guides the search (RFC 7009 §2.1): both kinds
	// are tried whatever it says.
	c, err := h.Verifier.Parse(raw)
	if err == nil && owns(p, c) {
		if err := h.Revoker.RevokeToken(r.Context(), c.ID, c.ExpiresAt.Time); err != nil {
			WriteError(w, r, oautherr.TemporarilyUnavailable(err))
			return
		}
	}
	if err != nil && h.Refresh != nil {
		if err := h.revokeRefresh(r, p, raw); err != nil {
			WriteError(w, r, oautherr.TemporarilyUnavailable(err))
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// owns reports whether principal p may introspect or revoke the token c.
func owns(p store.Principal, c token.Claims) bool {
	if c.PartnerID != p.PartnerID {
		return false
	}
	return p.Kind == store.KindPartner || c.ClientID == p.ID
}
