package signin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/credential"
	"github.com/partnerapi/partner-api/shared/federation"
	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/store"
)

// FlowLifetime bounds a sign-in at an upstream provider: the callback must
// come back within it.
const FlowLifetime = 10 * time.Minute

// CallbackPath is the service's redirect URI at upstream providers (each
// authorisation server registers ISSUER_URL + CallbackPath for the
// federation client id).
const CallbackPath = "/v1/authorize/callback"

// redirecting returns the redirecting provider called name.
func (h *handler) redirecting(name string) (RedirectingProvider, bool) {
	for _, p := range h.Providers {
		if rp, ok := p.(RedirectingProvider); ok && p.Name() == name {
			return rp, true
		}
	}
	return nil, false
}

func (h *handler) callbackURL() string { return strings.TrimSuffix(h.IssuerURL, "/") + CallbackPath }

// startFlow sends the browser to upstream choice id of rp for req: a new
// state (256 bits; its SHA-256 keys the stored flow, bound to the browser's
// session), nonce and PKCE verifier (43 characters each, within RFC 7636's
// 43 to 128 for the verifier).
func (h *handler) startFlow(w http.ResponseWriter, r *http.Request, cl store.Client, req AuthRequest, sess store.Session, rp RedirectingProvider, id string) {
	ctx := r.Context()
	up := federation.Request{
		State: credential.NewSecret(), Nonce: credential.NewSecret(), Verifier: credential.NewSecret(), RedirectURI: h.callbackURL(),
		ForceLogin: slices.Contains(req.Prompt, "login") || req.MaxAge >= 0,
	}
	loc, err := rp.Start(ctx, cl, id, up)
	if errors.Is(err, ErrNotOffered) {
		logging.FromContext(ctx, nil).InfoContext(ctx, "sign-in choice refused", slog.String("client_id", cl.ID), slog.String("provider", rp.Name()))
		theme, _ := h.theme(ctx, cl)
		errorPage(w, r, http.StatusForbidden, "This sign-in option is not available", "Choose one of the options the sign-in page offers.", theme)
		return
	}
	if err != nil {
		h.upstreamError(w, r, req, err)
		return
	}
	body, err := json.Marshal(req)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if err := h.Store.PutFlow(ctx, grants.Hash(up.State), store.Flow{
		SessionID: sess.ID, ClientID: cl.ID, PartnerID: cl.PartnerID, OrganisationID: cl.OrganisationID, ServerID: id,
		Request: string(body), Nonce: up.Nonce, Verifier: up.Verifier, ExpiresAt: h.Now().Add(FlowLifetime),
	}); err != nil {
		h.unavailable(w, r, err)
		return
	}
	logging.FromContext(ctx, nil).InfoContext(ctx, "upstream sign-in started", slog.String("client_id", cl.ID), slog.String("authorisation_server_id", id))
	redirect(w, loc)
}

// callback is GET /v1/authorize/callback: an upstream provider's answer.
// The state is claimed once (a replay is refused); once its flow is known,
// every outcome goes back to the partner's client: a code, or an error
// redirect. Only an unknown or expired state (no client to tell) is a page.
// It is routed for GET only, deliberately not HEAD (endpoint.Mux answers
// 405): a probe must not use up the state.
func (h *handler) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || len(state) > 256 {
		errorPage(w, r, http.StatusBadRequest, "This sign-in could not be completed", "The identity provider's answer is missing its state. Start again from the application.", Theme{})
		return
	}
	flow, err := h.Store.ClaimFlow(ctx, grants.Hash(state))
	replayed := errors.Is(err, store.ErrUsed)
	switch {
	case errors.Is(err, store.ErrGone):
		errorPage(w, r, http.StatusBadRequest, "This sign-in has expired", "The identity provider's answer is unknown or too old. Start again from the application.", Theme{})
		return
	case err != nil && !replayed:
		h.unavailable(w, r, err)
		return
	}
	var req AuthRequest
	if err := json.Unmarshal([]byte(flow.Request), &req); err != nil {
		h.unavailable(w, r, err)
		return
	}
	cl, ok := h.requestClient(w, r, req)
	if !ok {
		return
	}
	if replayed {
		h.redirectError(w, r, req, redirectError("access_denied", "the identity provider's answer was already used (replayed state)"))
		return
	}
	sess, hasSession, err := h.session(r)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if !hasSession || sess.ID != flow.SessionID {
		h.redirectError(w, r, req, redirectError("access_denied", "the sign-in was not started in this browser"))
		return
	}
	if !h.mayStillSignIn(w, r, cl, req) {
		return
	}
	if upErr := q.Get("error"); upErr != "" {
		h.redirectError(w, r, req, upstreamRefusal(upErr))
		return
	}
	provider, _ := h.redirecting(UpstreamProvider)
	if provider == nil {
		h.redirectError(w, r, req, redirectError("server_error", "sign-in at identity providers is not available"))
		return
	}
	identity, err := provider.Finish(ctx, cl, flow, q, federation.Request{
		State: state, Nonce: flow.Nonce, Verifier: flow.Verifier, RedirectURI: h.callbackURL(),
	})
	if err != nil {
		h.upstreamError(w, r, req, err)
		return
	}
	h.signedIn(w, r, cl, req, sess, identity)
}

// upstreamError answers the client for a failed upstream sign-in: a
// *federation.Error says what to tell it; any other error (the store) is
// temporarily_unavailable. The cause goes to the log only.
func (h *handler) upstreamError(w http.ResponseWriter, r *http.Request, req AuthRequest, err error) {
	ctx := r.Context()
	var fe *federation.Error
	if errors.As(err, &fe) {
		logging.FromContext(ctx, nil).WarnContext(ctx, "upstream sign-in failed", slog.String("error", fe.Code), slog.Any("err", err))
		h.redirectError(w, r, req, redirectError(fe.Code, "%s", fe.Description))
		return
	}
	h.unavailableLog(r, err)
	h.redirectError(w, r, req, redirectError("temporarily_unavailable", "the sign-in could not be completed; try again"))
}

// upstreamRefusal is the error the client gets when the upstream provider
// answered error code: the codes a client knows from the authorization
// endpoint pass through, any other is access_denied; the provider's own
// description is not passed on.
func upstreamRefusal(code string) *AuthError {
	switch code {
	case "access_denied", "login_required", "consent_required", "interaction_required",
		"account_selection_required", "temporarily_unavailable":
		return redirectError(code, "the identity provider did not sign the user in (%s)", code)
	}
	return redirectError("access_denied", "the identity provider did not sign the user in (%s)", federationPrintable(code))
}

func federationPrintable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			break
		}
		if r >= 0x21 && r < 0x7f && r != '"' && r != '\\' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
