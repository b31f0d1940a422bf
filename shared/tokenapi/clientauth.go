package tokenapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/secret"
	"github.com/partnerapi/partner-api/shared/store"
)

// authenticate checks the client credentials of a token, introspection or
// revocation request: client_secret_basic or client_secret_post, exactly one.
func (h *handler) authenticate(r *http.Request, form url.Values) (store.Principal, error) {
	id, sec, err := credentials(r, form)
	if err != nil {
		return store.Principal{}, err
	}
	p, err := h.Principals.GetPrincipal(r.Context(), id)
	if errors.Is(err, problem.ErrNotFound) {
		secret.DummyVerify(sec) // An unknown id costs what a wrong secret costs.
		return store.Principal{}, oautherr.InvalidClient("client authentication failed")
	}
	if err != nil {
		return store.Principal{}, oautherr.TemporarilyUnavailable(err)
	}
	ok, err := h.secretMatches(p, sec)
	if err != nil {
		return store.Principal{}, oautherr.ServerError(err)
	}
	if !ok {
		return store.Principal{}, oautherr.InvalidClient("client authentication failed")
	}
	if !p.Enabled {
		return store.Principal{}, oautherr.InvalidClient("client is disabled")
	}
	return p, nil
}

// secretMatches compares sec with the current secret and, during a rotation
// overlap, the previous one. Both comparisons always run.
func (h *handler) secretMatches(p store.Principal, sec string) (bool, error) {
	current, err := secret.Verify(sec, p.SecretHash)
	if err != nil {
		return false, err
	}
	previous := false
	if p.PreviousSecretHash != "" && h.Now().Before(p.PreviousSecretExpiresAt) {
		if previous, err = secret.Verify(sec, p.PreviousSecretHash); err != nil {
			return false, err
		}
	}
	return current || previous, nil
}

// credentials returns the client id and secret of the request. Both methods
// at once, or a malformed Basic header, is invalid_request; no credentials,
// or another scheme, is invalid_client.
func credentials(r *http.Request, form url.Values) (id, sec string, err error) {
	authz := r.Header.Get("Authorization")
	inForm := form.Has("client_id") || form.Has("client_secret")
	if authz == "" {
		if !inForm {
			return "", "", oautherr.InvalidClient("client authentication is required (HTTP Basic or client_id and client_secret in the body)")
		}
		id, sec = form.Get("client_id"), form.Get("client_secret")
		if id == "" || sec == "" {
			return "", "", oautherr.InvalidClient("both client_id and client_secret are required")
		}
		return id, sec, nil
	}
	scheme, payload, _ := strings.Cut(authz, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", oautherr.InvalidClient("unsupported authentication scheme; use HTTP Basic")
	}
	if inForm {
		return "", "", oautherr.InvalidRequest("use one client authentication method: HTTP Basic or client_id and client_secret in the body, not both")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
	if err != nil {
		return "", "", oautherr.InvalidRequest("the Basic credentials are not valid base64")
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", oautherr.InvalidRequest("the Basic credentials must be client_id:client_secret")
	}
	// RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
	id, err1 := url.QueryUnescape(encID)
	sec, err2 := url.QueryUnescape(encSecret)
	if err1 != nil || err2 != nil {
		return "", "", oautherr.InvalidRequest("the Basic credentials are not valid form-urlencoded values")
	}
	if id == "" || sec == "" {
		return "", "", oautherr.InvalidClient("both client_id and client_secret are required")
	}
	return id, sec, nil
}
