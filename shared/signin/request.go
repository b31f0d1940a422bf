package signin

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/truncate"
)

// MaxParamLength bounds state, nonce and the other free-text parameters.
const MaxParamLength = 1024

// AuthRequest is a checked authorization request (OIDC Core §3.1.2.1).
type AuthRequest struct {
	ClientID      string   `json:"client_id"`
	RedirectURI   string   `json:"redirect_uri"`
	Scopes        []string `json:"scopes"`
	State         string   `json:"state,omitempty"`
	Nonce         string   `json:"nonce,omitempty"`
	CodeChallenge string   `json:"code_challenge"`
	Prompt        []string `json:"prompt,omitempty"`
	// MaxAge is max_age in seconds, -1 when absent.
	MaxAge    int64  `json:"max_age"`
	LoginHint string `json:"login_hint,omitempty"`
	UILocales string `json:"ui_locales,omitempty"`
}

// AuthError is an authorization error: with Redirect, it goes back to the
// client's redirect URI (Core §3.1.2.6); without, it is an error page.
type AuthError struct {
	Code        string
	Description string
	Redirect    bool
	Status      int
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Description }

func pageError(status int, format string, args ...any) *AuthError {
	return &AuthError{Code: "invalid_request", Description: fmt.Sprintf(format, args...), Status: status}
}

// redirectError is an error for the client's redirect URI, its
// description in the characters RFC 6749 §4.1.2.1 allows.
func redirectError(code, format string, args ...any) *AuthError {
	return &AuthError{Code: code, Description: oautherr.Description(fmt.Sprintf(format, args...)), Redirect: true}
}

// CheckClient checks the client_id and redirect_uri of params against c
// (found is false when no client has the id): an unknown client or an
// unregistered redirect URI is an error page, never a redirect.
func CheckClient(params url.Values, c store.Client, found bool) *AuthError {
	if params.Get("client_id") == "" {
		return pageError(400, "client_id is missing")
	}
	if !found {
		return pageError(400, "unknown client_id")
	}
	redirect := params.Get("redirect_uri")
	if redirect == "" {
		return pageError(400, "redirect_uri is missing")
	}
	if len(params["redirect_uri"]) > 1 || !slices.Contains(c.ReturnURLs, redirect) {
		return pageError(400, "redirect_uri is not one of the client's registered return URLs")
	}
	return nil
}

// Parse checks the rest of an authorization request of client c, whose
// client_id and redirect_uri CheckClient accepted. Unknown parameters are
// ignored; id_token_hint, acr_values, display and claims_locales are
// accepted and not used.
func Parse(params url.Values, c store.Client) (AuthRequest, *AuthError) {
	r := AuthRequest{ClientID: c.ID, RedirectURI: params.Get("redirect_uri"), MaxAge: -1}
	for k, vs := range params {
		if len(vs) > 1 {
			return r, redirectError("invalid_request", "parameter %s is repeated", truncate.String(k, 40))
		}
	}
	r.State = params.Get("state")
	switch {
	case params.Has("request"):
		return r, redirectError("request_not_supported", "request objects are not supported")
	case params.Has("request_uri"):
		return r, redirectError("request_uri_not_supported", "request_uri is not supported")
	case params.Get("response_type") == "":
		return r, redirectError("invalid_request", "response_type is missing")
	case params.Get("response_type") != "code":
		return r, redirectError("unsupported_response_type", "only response_type=code is supported")
	case params.Has("response_mode") && params.Get("response_mode") != "query":
		return r, redirectError("invalid_request", "only response_mode=query is supported")
	}
	for _, k := range []string{"state", "nonce", "login_hint", "ui_locales", "scope", "code_challenge"} {
		if len(params.Get(k)) > MaxParamLength {
			return r, redirectError("invalid_request", "%s is longer than %d characters", k, MaxParamLength)
		}
	}
	if !c.Enabled {
		return r, redirectError("unauthorized_client", "the client is disabled")
	}
	if !c.HasGrant(store.GrantAuthorizationCode) {
		return r, redirectError("unauthorized_client", "the client may not use the authorization code grant")
	}
	r.CodeChallenge = params.Get("code_challenge")
	method := params.Get("code_challenge_method")
	switch {
	case r.CodeChallenge == "":
		return r, redirectError("invalid_request", "code_challenge is required (PKCE with S256)")
	case method != "S256":
		return r, redirectError("invalid_request", "code_challenge_method must be S256")
	case !grants.ValidChallenge(r.CodeChallenge):
		return r, redirectError("invalid_request", "code_challenge must be the 43-character base64url SHA-256 of the code_verifier")
	}
	requested, err := scope.Parse(params.Get("scope"))
	if oe, ok := errors.AsType[*oautherr.Error](err); ok {
		return r, redirectError(oe.Code, "%s", oe.Description)
	} else if err != nil {
		return r, redirectError("invalid_scope", "the scope parameter is not valid")
	}
	r.Scopes = grants.Granted(requested, c.Principal)
	r.Nonce = params.Get("nonce")
	if p := params.Get("prompt"); p != "" {
		r.Prompt = strings.Fields(p)
		for _, v := range r.Prompt {
			if !slices.Contains([]string{"none", "login", "consent", "select_account"}, v) {
				return r, redirectError("invalid_request", "prompt %q is not supported", truncate.String(v, 40))
			}
		}
		if slices.Contains(r.Prompt, "none") && len(r.Prompt) > 1 {
			return r, redirectError("invalid_request", "prompt=none cannot be combined with other values")
		}
	}
	if v := params.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return r, redirectError("invalid_request", "max_age must be a whole number of seconds")
		}
		r.MaxAge = n
	}
	r.LoginHint, r.UILocales = params.Get("login_hint"), params.Get("ui_locales")
	return r, nil
}

// ErrorRedirect is the redirect URI of an error response: the registered
// URI's own query kept, error, error_description, state and iss added.
func ErrorRedirect(redirectURI, issuer, state string, e *AuthError) string {
	q := url.Values{"error": {e.Code}, "error_description": {e.Description}, "iss": {issuer}}
	if state != "" {
		q.Set("state", state)
	}
	return withQuery(redirectURI, q)
}

// CodeRedirect is the redirect URI of a success: code, state and iss added
// (RFC 9207).
func CodeRedirect(redirectURI, issuer, state, code string) string {
	q := url.Values{"code": {code}, "iss": {issuer}}
	if state != "" {
		q.Set("state", state)
	}
	return withQuery(redirectURI, q)
}

func withQuery(raw string, add url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + add.Encode()
	} else {
		u.RawQuery = add.Encode()
	}
	return u.String()
}
