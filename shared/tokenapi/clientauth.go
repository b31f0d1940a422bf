package tokenapi

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/store"
)

// Brute-force resistance: secret attempts are counted per client id and
// source address in fixed windows (store pattern 9). Each wrong attempt,
// and each right one whose secret could be guessed, is counted by one
// conditional write that holds only while the window's failures are below
// FailureThreshold. So however many attempts race, at most
// FailureThreshold wrong secrets are answered as wrong per window, and a
// right guessable secret is accepted only if fewer failures were counted
// before it;
// past the threshold, that source's attempts on that client id are refused
// as locked, right secret or not, until the window ends, with Retry-After.
// A real client calling from another address is never locked out by an
// attacker, and no lock outlives its window.
//
// Two ways to count, by the cost of the check:
//   - A fast check (a generated or long secret: a keyed hash; an unknown id:
//     a dummy of the same cost) runs first, then its attempt is counted, as
//     a failure or as a success, by the same conditional write on the same
//     item: which attempts are counted does not depend on which secret was
//     right, and a right secret costs one write, not two. A right secret
//     that the service generated (256 random bits: credential.Guessable)
//     is not counted at all: no number of guesses, however parallel, finds
//     it, so the count would protect nothing, and the token costs one write
//     fewer.
//   - An argon2id check (a short chosen secret) is admitted before it runs:
//     one write counts it as in flight and decides (failures and attempts
//     in flight at most FailureThreshold), a second ends it, so guesses can
//     never make the service run more than FailureThreshold argon2id checks
//     per window and address. An attempt that meets too many others in
//     flight (a legitimate burst) waits for them, up to AdmissionWait, then
//     gets temporarily_unavailable with Retry-After.
const (
	FailureThreshold = 10
	FailureWindow    = 15 * time.Minute
	// AdmissionWait bounds how long an attempt waits for others in flight
	// from its address to finish.
	AdmissionWait = 5 * time.Second
)

// Principals finds who authenticates and keeps the attempt counts
// (satisfied by *store.Table). Errors mean the store could not answer.
type Principals interface {
	GetCredential(ctx context.Context, clientID, source string, window time.Time) (store.Credential, error)
	CountAttempt(ctx context.Context, clientID, source string, window, expires time.Time, limit int64, failed bool) (bool, error)
	ReserveAttempt(ctx context.Context, clientID, source string, window, expires time.Time, limit int64) (store.Reservation, error)
	FinishAttempt(ctx context.Context, clientID, source string, window time.Time, failed bool) error
	Attempts(ctx context.Context, clientID, source string, window time.Time) (failures, pending int64, err error)
	ClientChainActive(ctx context.Context, partnerID, orgID string) (bool, error)
}

// authenticate checks the client credentials of a token, introspection or
// revocation request: client_secret_basic or client_secret_post, exactly one.
// A client whose organisation (or an ancestor) or partner account is
// disabled fails too.
//
// Timing: an unknown client id costs a fast dummy check, as a wrong secret
// of a client with a fast (generated or long) secret does; a wrong secret of
// a client with a short chosen secret costs argon2id (tens of milliseconds).
// So response time tells an attacker that an id exists and has a short
// secret, at most FailureThreshold times per window and address; that an id
// exists is already told by a taken client_id on create.
func (h *handler) authenticate(r *http.Request, form url.Values) (store.Principal, error) {
	id, secrets, err := credentials(r, form)
	if err != nil {
		return store.Principal{}, err
	}
	ctx := r.Context()
	now := h.Now()
	source := sourceAddress(r)
	window := now.Truncate(FailureWindow)
	locked := func() error {
		retry := int(window.Add(FailureWindow).Sub(now).Seconds()) + 1
		return oautherr.InvalidClient("too many failed authentication attempts; retry after "+strconv.Itoa(retry)+" seconds").
			WithHeader("Retry-After", strconv.Itoa(retry))
	}
	cred, err := h.Principals.GetCredential(ctx, id, source, window)
	if err != nil {
		return store.Principal{}, oautherr.TemporarilyUnavailable(err)
	}
	if cred.Failures >= FailureThreshold {
		return store.Principal{}, locked() // no write for a source already locked out
	}
	p := cred.Principal
	var ok bool
	if cred.Found && h.slow(p) {
		ok, err = h.checkAdmitted(ctx, p, secrets, source, window, locked)
	} else {
		ok, err = h.checkThenCount(ctx, id, cred, secrets, source, window, locked)
	}
	if err != nil {
		return store.Principal{}, err
	}
	if !ok {
		return store.Principal{}, oautherr.InvalidClient("client authentication failed")
	}
	if !p.Enabled {
		return store.Principal{}, oautherr.InvalidClient("client is disabled")
	}
	if p.Kind == store.KindClient {
		active := cred.ChainActive
		if !cred.ChainChecked { // the process's first sight of the client
			if active, err = h.Principals.ClientChainActive(ctx, p.PartnerID, p.OrganisationID); err != nil {
				return store.Principal{}, oautherr.TemporarilyUnavailable(err)
			}
		}
		if !active {
			return store.Principal{}, oautherr.InvalidClient("the client's organisation or partner account is disabled")
		}
	}
	return p, nil
}

// checkThenCount checks the secrets of a fast-hashed principal (or, for an
// unknown id, a dummy of the same cost) and then counts the attempt. It
// returns locked() when the attempt could not be counted.
func (h *handler) checkThenCount(ctx context.Context, id string, cred store.Credential, secrets []string, source string, window time.Time, locked func() error) (bool, error) {
	ok := false
	if cred.Found {
		var err error
		if ok, err = h.secretMatches(cred.Principal, secrets); err != nil {
			return false, oautherr.ServerError(err)
		}
	} else {
		for _, sec := range secrets {
			credential.DummyVerify(sec) // An unknown id costs what a wrong fast secret costs, never argon2id.
		}
	}
	if ok && !h.guessable(cred.Principal) {
		return true, nil // a generated secret: no number of guesses finds it, so a right one needs no count
	}
	counted, err := h.Principals.CountAttempt(ctx, id, source, window, window.Add(2*FailureWindow), FailureThreshold, !ok)
	switch {
	case err != nil:
		return false, oautherr.TemporarilyUnavailable(err)
	case !counted:
		return false, locked()
	}
	return ok, nil
}

// checkAdmitted checks the secrets of an argon2id-hashed principal once
// the check is admitted, and ends the attempt.
func (h *handler) checkAdmitted(ctx context.Context, p store.Principal, secrets []string, source string, window time.Time, locked func() error) (bool, error) {
	if err := h.admit(ctx, p.ID, source, window, locked); err != nil {
		return false, err
	}
	ok, err := h.secretMatches(p, secrets)
	if err := h.Principals.FinishAttempt(ctx, p.ID, source, window, err == nil && !ok); err != nil {
		// It stays counted as in flight (the safe side) until the window
		// ends; the answer stands. The log shows it.
		logging.FromContext(ctx, nil).WarnContext(ctx, "attempt not finished", slog.String("err", err.Error()))
	}
	if err != nil {
		return false, oautherr.ServerError(err)
	}
	return ok, nil
}

// guessable reports whether one of p's accepted secrets may be guessed
// (credential.Guessable): its current one, or its previous one while that
// is still accepted.
func (h *handler) guessable(p store.Principal) bool {
	return h.anySecret(p, credential.Guessable)
}

// anySecret reports whether is holds for p's current secret hash, or its
// previous one while that is still accepted.
func (h *handler) anySecret(p store.Principal, is func(hash string) bool) bool {
	return is(p.SecretHash) || p.PreviousSecretHash != "" && h.Now().Before(p.PreviousSecretExpiresAt) && is(p.PreviousSecretHash)
}

// slow reports whether checking p's secrets runs argon2id: its current
// secret, or its previous one while that is still accepted, is a short
// chosen secret.
func (h *handler) slow(p store.Principal) bool { return h.anySecret(p, credential.Slow) }

// admit reserves a secret check for an attempt on id from source. While
// too many others are in flight it polls the counts (reads, with jittered
// backoff) and tries again when there is room, up to AdmissionWait. It
// returns locked() once the window's failures reach the threshold.
func (h *handler) admit(ctx context.Context, id, source string, window time.Time, locked func() error) error {
	start, delay := time.Now(), 10*time.Millisecond
	for {
		res, err := h.Principals.ReserveAttempt(ctx, id, source, window, window.Add(2*FailureWindow), FailureThreshold)
		switch {
		case err != nil:
			return oautherr.TemporarilyUnavailable(err)
		case res.Admitted:
			return nil
		case res.Failures >= FailureThreshold:
			return locked()
		}
		for room := false; !room; {
			if time.Since(start)+delay > AdmissionWait {
				return oautherr.TemporarilyUnavailable(errors.New("too many authentication attempts in flight from one address")).
					WithHeader("Retry-After", "1")
			}
			select {
			case <-ctx.Done():
				return oautherr.TemporarilyUnavailable(ctx.Err())
			case <-time.After(delay/2 + rand.N(delay)):
			}
			delay = min(2*delay, 100*time.Millisecond)
			failures, pending, err := h.Principals.Attempts(ctx, id, source, window)
			switch {
			case err != nil:
				return oautherr.TemporarilyUnavailable(err)
			case failures >= FailureThreshold:
				return locked()
			}
			room = failures+pending < FailureThreshold
		}
	}
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

// secretMatches compares each candidate secret with the current secret and,
// during a rotation overlap, the previous one. Every comparison runs.
func (h *handler) secretMatches(p store.Principal, candidates []string) (bool, error) {
	hashes := []string{p.SecretHash}
	if p.PreviousSecretHash != "" && h.Now().Before(p.PreviousSecretExpiresAt) {
		hashes = append(hashes, p.PreviousSecretHash)
	}
	match := false
	for _, sec := range candidates {
		for _, hash := range hashes {
			ok, err := h.VerifySecret(sec, hash)
			if err != nil {
				return false, err
			}
			match = match || ok
		}
	}
	return match, nil
}

// credentials returns the client id of the request and the secret, as
// candidates to compare. Both methods at once, or a malformed Basic header,
// is invalid_request; no credentials, or another scheme, is invalid_client.
//
// RFC 6749 §2.3.1 wants the Basic id and secret form-urlencoded before
// base64, but many clients (curl -u among them) send them as they are; a
// secret with '+' or '%' would then fail. So the secret is tried both
// decoded and as sent (when they differ); both are the caller's own string,
// so this widens nothing.
func credentials(r *http.Request, form url.Values) (id string, secrets []string, err error) {
	authz := r.Header.Get("Authorization")
	inForm := form.Has("client_id") || form.Has("client_secret")
	if authz == "" {
		if !inForm {
			return "", nil, oautherr.InvalidClient("client authentication is required (HTTP Basic or client_id and client_secret in the body)")
		}
		return checkLengths(form.Get("client_id"), form.Get("client_secret"))
	}
	scheme, payload, _ := strings.Cut(authz, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", nil, oautherr.InvalidClient("unsupported authentication scheme; use HTTP Basic")
	}
	if inForm {
		return "", nil, oautherr.InvalidRequest("use one client authentication method: HTTP Basic or client_id and client_secret in the body, not both")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
	if err != nil {
		return "", nil, oautherr.InvalidRequest("the Basic credentials are not valid base64")
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", nil, oautherr.InvalidRequest("the Basic credentials must be client_id:client_secret")
	}
	if decoded, err := url.QueryUnescape(encID); err == nil {
		encID = decoded
	}
	id, secrets, err = checkLengths(encID, encSecret)
	if err != nil {
		return "", nil, err
	}
	if decoded, err := url.QueryUnescape(encSecret); err == nil && decoded != encSecret && decoded != "" {
		secrets = append(secrets, decoded)
	}
	return id, secrets, nil
}

// maxCredentialLength bounds a client id or secret before any lookup.
const maxCredentialLength = 512

func checkLengths(id, sec string) (string, []string, error) {
	if id == "" || sec == "" {
		return "", nil, oautherr.InvalidClient("both client_id and client_secret are required")
	}
	if len(id) > maxCredentialLength || len(sec) > maxCredentialLength {
		return "", nil, oautherr.InvalidClient("client authentication failed")
	}
	return id, []string{sec}, nil
}
