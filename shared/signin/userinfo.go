package signin

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
)

// userinfo is OpenID Connect Core §5.3: the claims of the granted scopes
// for the access token of a sign-in with openid, sent as a Bearer header
// or, on POST, as the access_token form parameter (RFC 6750 §2.1, §2.2).
// It is routed for GET and POST only (endpoint.Mux answers 405).
func (h *handler) userinfo(w http.ResponseWriter, r *http.Request) {
	raw, code, msg := bearerToken(r)
	if code != "" || raw == "" {
		status := http.StatusBadRequest
		if raw == "" && code == "" {
			status = http.StatusUnauthorized
		}
		bearerError(w, status, code, msg)
		return
	}
	ctx := r.Context()
	c, err := h.Verifier.Verify(ctx, raw)
	if invalid, ok := errors.AsType[*oautherr.Error](err); ok && invalid.Code == oautherr.CodeInvalidToken {
		bearerError(w, http.StatusUnauthorized, invalid.Code, invalid.Description)
		return
	}
	if err != nil {
		h.unavailableJSON(w, r, err)
		return
	}
	if !c.EndUser() {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is not from a sign-in")
		return
	}
	scopes, _ := scope.Parse(c.Scope)
	if !slices.Contains(scopes, grants.ScopeOpenID) {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "the access token was not granted openid")
		return
	}
	all := map[string]any{}
	sc, err := h.Store.GetSubjectClaims(ctx, c.PartnerID, c.OrganisationID, c.Subject)
	switch {
	case errors.Is(err, store.ErrGone):
	case err != nil:
		h.unavailableJSON(w, r, err)
		return
	case sc.Claims != "":
		if err := json.Unmarshal([]byte(sc.Claims), &all); err != nil {
			h.unavailableJSON(w, r, err)
			return
		}
	}
	jsonbody.Write(w, http.StatusOK, Released(c.Subject, all, scopes))
}

// bearerToken finds the access token of a userinfo request: code is an
// RFC 6750 error when it is sent more than one way or malformed.
func bearerToken(r *http.Request) (raw, code, msg string) {
	var found []string
	if authz := r.Header.Get("Authorization"); authz != "" {
		tok, ok := auth.Bearer(authz)
		if !ok {
			return "", "invalid_request", "the Authorization header must be Bearer <access_token>"
		}
		found = append(found, tok)
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err != nil {
			return "", "invalid_request", "the form body could not be read"
		}
		if vs := r.PostForm["access_token"]; len(vs) > 0 {
			found = append(found, vs...)
		}
	}
	if r.URL.Query().Has("access_token") {
		return "", "invalid_request", "send the access token in the Authorization header or the form body, not the URL"
	}
	switch len(found) {
	case 0:
		return "", "", "an access token is required"
	case 1:
		return found[0], "", ""
	}
	return "", "invalid_request", "send the access token one way only"
}

// bearerError answers an RFC 6750 §3 error: a WWW-Authenticate challenge
// and a JSON body.
func bearerError(w http.ResponseWriter, status int, code, desc string) {
	ch := `Bearer realm="partner-api"`
	if code != "" {
		ch += `, error="` + code + `", error_description="` + strings.ReplaceAll(desc, `"`, "'") + `"`
	}
	if code == "insufficient_scope" {
		ch += `, scope="openid"`
	}
	w.Header().Set("WWW-Authenticate", ch)
	body := map[string]string{"error_description": desc}
	if code != "" {
		body["error"] = code
	} else {
		body["error"] = "invalid_token"
	}
	jsonbody.Write(w, status, body)
}

func (h *handler) unavailableJSON(w http.ResponseWriter, r *http.Request, err error) {
	h.unavailableLog(r, err)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"try again later"}`))
}
