package tokenapi

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/secret"
	"github.com/partnerapi/partner-api/shared/store"
)

// Brute-force resistance: failed secret attempts are counted per client id
// and source address in fixed windows. Past FailureThreshold failures in a
// window, that source's attempts on that client id are refused without
// checking the secret until the window ends (with Retry-After). A real
// client calling from another address is never locked out by an attacker,
// and no lock outlives its window.
const (
	FailureThreshold = 10
	FailureWindow    = 15 * time.Minute
)

// Principals finds who authenticates and keeps the failure counts
// (satisfied by *store.Table). Errors mean the store could not answer.
type Principals interface {
	GetCredential(ctx context.Context, clientID, source string, window time.Time) (store.Credential, error)
	RecordFailure(ctx context.Context, clientID, source string, window, expires time.Time) error
	ClientChainActive(ctx context.Context, partnerID, orgID string) (bool, error)
}

// authenticate checks the client credentials of a token, introspection or
// revocation request: client_secret_basic or client_secret_post, exactly one.
// A client whose organisation (or an ancestor) or partner account is
// disabled fails too.
func (h *handler) authenticate(r *http.Request, form url.Values) (store.Principal, error) {
	id, sec, err := credentials(r, form)
	if err != nil {
		return store.Principal{}, err
	}
	ctx := r.Context()
	now := h.Now()
	source := sourceAddress(r)
	window := now.Truncate(FailureWindow)
	cred, err := h.Principals.GetCredential(ctx, id, source, window)
	if err != nil {
		return store.Principal{}, oautherr.TemporarilyUnavailable(err)
	}
	if cred.Failures >= FailureThreshold {
		retry := int(window.Add(FailureWindow).Sub(now).Seconds()) + 1
		return store.Principal{}, oautherr.InvalidClient("too many failed authentication attempts; retry after "+strconv.Itoa(retry)+" seconds").
			WithHeader("Retry-After", strconv.Itoa(retry))
	}
	failed := func() error {
		if err := h.Principals.RecordFailure(ctx, id, source, window, window.Add(2*FailureWindow)); err != nil {
			// Counting must not turn a 401 into a 5xx; the log shows it.
			logging.FromContext(ctx, nil).WarnContext(ctx, "failed attempt not counted", slog.String("err", err.Error()))
		}
		return oautherr.InvalidClient("client authentication failed")
	}
	if !cred.Found {
		secret.DummyVerify(sec) // An unknown id costs what a wrong secret costs.
		return store.Principal{}, failed()
	}
	p := cred.Principal
	ok, err := h.secretMatches(p, sec)
	if err != nil {
		return store.Principal{}, oautherr.ServerError(err)
	}
	if !ok {
		return store.Principal{}, failed()
	}
	if !p.Enabled {
		return store.Principal{}, oautherr.InvalidClient("client is disabled")
	}
	if p.Kind == store.KindClient {
		active, err := h.Principals.ClientChainActive(ctx, p.PartnerID, p.OrganisationID)
		if err != nil {
			return store.Principal{}, oautherr.TemporarilyUnavailable(err)
		}
		if !active {
			return store.Principal{}, oautherr.InvalidClient("the client's organisation or partner account is disabled")
		}
	}
	return p, nil
}

// sourceAddress is the caller's IP address: API Gateway's
// requestContext.identity.sourceIp on Lambda (the adapter sets RemoteAddr
// from it), the TCP peer locally.
func sourceAddress(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	if r.RemoteAddr != "" {
		return r.RemoteAddr
	}
	return "unknown"
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
		return checkLengths(form.Get("client_id"), form.Get("client_secret"))
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
	return checkLengths(id, sec)
}

// maxCredentialLength bounds a client id or secret before any lookup.
const maxCredentialLength = 512

func checkLengths(id, sec string) (string, string, error) {
	if id == "" || sec == "" {
		return "", "", oautherr.InvalidClient("both client_id and client_secret are required")
	}
	if len(id) > maxCredentialLength || len(sec) > maxCredentialLength {
		return "", "", oautherr.InvalidClient("client authentication failed")
	}
	return id, sec, nil
}
