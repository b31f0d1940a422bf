// Package signin is the sign-in endpoint group: the OpenID Connect
// authorization endpoint (GET and POST /v1/authorize) with its hosted
// sign-in page (POST /v1/authorize/login), the callback of upstream
// identity providers (GET /v1/authorize/callback; see Upstream), userinfo
// (GET and POST /v1/userinfo), the discovery document (/.well-known/openid-configuration,
// also at its RFC 8414 §3.1 path-inserted location) and the partner's mint
// endpoint (POST /v1/clients/{id}/tokens). The token endpoint's
// authorization_code and refresh_token grants are package grants', served
// by the token group.
//
// The browser's session: a cookie __Host-partner-api-session (Path=/,
// Secure, HttpOnly, SameSite=Lax) holds only the AES-GCM sealed, expiring id
// of a session item in DynamoDB (TTL). A browser gets one (not yet signed
// in) when the sign-in page is first shown; signing in replaces it with a
// new one (no session fixation) that remembers who signed in, when, and
// for which partner, for SessionLifetime. Every POST of the page carries a
// CSRF token, an HMAC of the session id, and the pending authorization
// request, sealed and bound to the session id, so that no server-side state
// is kept for a page that is never submitted.
//
// Secure is set even on an http://localhost issuer: browsers and Go's
// cookie jar treat loopback as a secure origin, and a __Host- cookie
// without Secure is refused by browsers.
package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/discovery"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/grants"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/token"
)

// Session and page lifetimes.
const (
	// SessionLifetime: a browser stays signed in this long.
	SessionLifetime = 8 * time.Hour
	// PendingLifetime bounds a session nobody signed in to yet, and the
	// sealed request of a shown sign-in page.
	PendingLifetime = 30 * time.Minute
	// CookieName is the session cookie.
	CookieName = "__Host-partner-api-session"
)

// Store is what the group reads and writes (satisfied by *store.Table).
// Errors wrap store.ErrNotFound for a missing client, organisation or
// ui-config and store.ErrGone for a missing or expired session or subject.
type Store interface {
	GetClient(ctx context.Context, clientID string) (store.Client, error)
	ClientChainActive(ctx context.Context, partnerID, orgID string) (bool, error)
	GetOrganisation(ctx context.Context, partnerID, orgID string) (store.Organisation, error)
	GetUIConfig(ctx context.Context, partnerID, orgID string) (store.UIConfig, error)
	PutSession(ctx context.Context, s store.Session) error
	GetSession(ctx context.Context, id string) (store.Session, error)
	DeleteSession(ctx context.Context, id string) error
	GetSubjectClaims(ctx context.Context, partnerID, orgID, sub string) (store.SubjectClaims, error)
	RecordMint(ctx context.Context, partnerID, clientID string) error
	PutFlow(ctx context.Context, hash string, f store.Flow) error
	ClaimFlow(ctx context.Context, hash string) (store.Flow, error)
}

var _ Store = (*store.Table)(nil)

// Verifier checks access tokens (satisfied by *token.Verifier).
type Verifier interface {
	Verify(ctx context.Context, raw string) (token.Claims, error)
}

// TokenMeter counts minted tokens (satisfied by *usage.Meter).
type TokenMeter interface {
	Token(ctx context.Context, partnerID, organisationID, clientID string) (done func(issued bool))
}

// Deps are what the group needs.
type Deps struct {
	Store    Store
	Grants   *grants.Service
	Verifier Verifier
	Meter    TokenMeter
	// Providers are the ways to sign in, in page order.
	Providers []IdentityProvider
	IssuerURL string
	// Algorithms are the signing algorithms (discovery).
	Algorithms []signer.Algorithm
	// SealKey is the master key of cookies and CSRF tokens (CURSOR_KEY).
	SealKey []byte
	Now     func() time.Time
}

type handler struct {
	Deps
	seal *sealer
}

// Operations are the group's operations by registry name (without
// middleware). Authorize, the sign-in form and userinfo write their own
// answers (HTML pages, redirects, RFC 6750 errors); discovery is a static
// document; mint returns problem errors and expects auth.Require in front
// of it.
func Operations(d Deps) (endpoint.Operations, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	s, err := newSealer(d.SealKey)
	if err != nil {
		return nil, fmt.Errorf("signin: %w", err)
	}
	md, err := json.Marshal(discovery.Document(d.IssuerURL, d.Algorithms))
	if err != nil {
		return nil, fmt.Errorf("signin: encode metadata: %w", err)
	}
	h := &handler{Deps: d, seal: s}
	discoveryDoc := endpoint.Static(md, "application/json", 5*time.Minute)
	m := &minter{Deps: d}
	return endpoint.Operations{
		"authorize": endpoint.Writes(h.authorize), "authorizeByPost": endpoint.Writes(h.authorize),
		"signInChoice": endpoint.Writes(h.login), "authorizeCallback": endpoint.Writes(h.callback),
		"getUserInfo": endpoint.Writes(h.userinfo), "postUserInfo": endpoint.Writes(h.userinfo),
		"getOpenIDConfiguration":             discoveryDoc,
		"getOpenIDConfigurationPathInserted": endpoint.PathInserted(discovery.IssuerPath(d.IssuerURL), discoveryDoc),
		"mintTokens":                         m.mint,
	}, nil
}

// authorize is the authorization endpoint, by GET (query) or POST (form).
func (h *handler) authorize(w http.ResponseWriter, r *http.Request) {
	params, ok := h.params(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cl, found, err := h.client(ctx, params.Get("client_id"))
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if e := CheckClient(params, cl, found); e != nil {
		errorPage(w, r, e.Status, "This sign-in link is not valid", e.Description+". The application that sent you here is misconfigured.", Theme{})
		return
	}
	req, e := Parse(params, cl)
	if e == nil {
		e, err = h.chainError(ctx, cl)
		if err != nil {
			h.unavailable(w, r, err)
			return
		}
	}
	if e != nil {
		h.redirectError(w, r, req, e)
		return
	}
	sess, hasSession, err := h.session(r)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if hasSession && sess.Authenticated() && sess.PartnerID == cl.PartnerID && !h.mustLogin(req, sess) {
		id, err := h.resume(ctx, cl, sess)
		if err == nil {
			h.complete(w, r, cl, req, id, sess.AuthTime)
			return
		}
	}
	if slices.Contains(req.Prompt, "none") {
		h.redirectError(w, r, req, redirectError("login_required", "the end user is not signed in"))
		return
	}
	if !hasSession {
		if sess, err = h.newSession(w, r, store.Session{}); err != nil {
			h.unavailable(w, r, err)
			return
		}
	}
	h.showPage(w, r, cl, req, sess)
}

// mustLogin reports whether req asks for a new authentication although
// sess is signed in: prompt=login, max_age=0, or an older auth_time than
// max_age allows.
func (h *handler) mustLogin(req AuthRequest, sess store.Session) bool {
	if slices.Contains(req.Prompt, "login") {
		return true
	}
	if req.MaxAge < 0 {
		return false
	}
	return req.MaxAge == 0 || h.Now().Sub(sess.AuthTime) > time.Duration(req.MaxAge)*time.Second
}

// showPage renders the sign-in page of req.
func (h *handler) showPage(w http.ResponseWriter, r *http.Request, cl store.Client, req AuthRequest, sess store.Session) {
	ctx := r.Context()
	theme, err := h.theme(ctx, cl)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	body, err := json.Marshal(req)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	p := page{
		Title: "Sign in to " + theme.Name, Theme: theme, ClientName: cl.Name,
		Action:  strings.TrimSuffix(h.IssuerURL, "/") + "/v1/authorize/login",
		Request: h.seal.seal(requestPurpose(sess.ID), body, h.Now().Add(PendingLifetime)),
		CSRF:    h.seal.csrf(sess.ID), LoginHint: req.LoginHint,
	}
	targets := []string{req.RedirectURI}
	for _, prov := range h.Providers {
		opts := prov.Options(ctx, cl)
		if len(opts) == 0 {
			continue
		}
		g := optionGroup{Title: "Choose an identity", Options: opts}
		switch prov.Name() {
		case SandboxProvider:
			g.Title, g.Note = "Sandbox test identities", "This application is in test mode: choose a test identity. No real person is signed in."
		case UpstreamProvider:
			g.Title = "Sign in with"
		}
		for _, o := range opts {
			if o.Target != "" {
				targets = append(targets, o.Target)
			}
		}
		p.Groups = append(p.Groups, g)
	}
	render(w, r, http.StatusOK, "signin.html", p, targets...)
}

// login is the sign-in page's form: a choice of identity for the pending
// request. It is routed for POST only (endpoint.Mux answers 405).
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	form, ok := h.form(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	sess, hasSession, err := h.session(r)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if !hasSession || !h.seal.csrfValid(sess.ID, form.Get("csrf_token")) {
		errorPage(w, r, http.StatusForbidden, "Your sign-in could not be verified",
			"The form expired or did not come from this page (its security token is missing or wrong). Start again from the application.", Theme{})
		return
	}
	body, err := h.seal.open(requestPurpose(sess.ID), form.Get("request"), h.Now())
	var req AuthRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		errorPage(w, r, http.StatusBadRequest, "This sign-in has expired", "Start again from the application.", Theme{})
		return
	}
	cl, ok := h.requestClient(w, r, req)
	if !ok {
		return
	}
	if !h.mayStillSignIn(w, r, cl, req) {
		return
	}
	provider, id, _ := splitChoice(form.Get("choice"))
	if rp, ok := h.redirecting(provider); ok {
		h.startFlow(w, r, cl, req, sess, rp, id)
		return
	}
	identity, err := h.identify(ctx, cl, provider, id)
	if err != nil {
		logging.FromContext(ctx, nil).InfoContext(ctx, "sign-in choice refused", slog.String("client_id", cl.ID), slog.String("provider", provider))
		theme, _ := h.theme(ctx, cl)
		errorPage(w, r, http.StatusForbidden, "This sign-in option is not available", "Choose one of the options the sign-in page offers.", theme)
		return
	}
	h.signedIn(w, r, cl, req, sess, identity)
}

// signedIn replaces the browser's session sess with one signed in as
// identity (no session fixation) and completes req.
func (h *handler) signedIn(w http.ResponseWriter, r *http.Request, cl store.Client, req AuthRequest, sess store.Session, identity Identity) {
	ctx := r.Context()
	now := h.Now().UTC().Truncate(time.Second)
	next := store.Session{PartnerID: cl.PartnerID, Provider: identity.Provider, IdentityID: identity.ID, AuthTime: now}
	if h.resumer(identity.Provider) != nil {
		claims, err := store.ClaimsJSON(identity.Claims)
		if err != nil {
			h.unavailable(w, r, err)
			return
		}
		next.Claims = claims
	}
	if _, err := h.newSession(w, r, next); err != nil {
		h.unavailable(w, r, err)
		return
	}
	if err := h.Store.DeleteSession(ctx, sess.ID); err != nil {
		logging.FromContext(ctx, nil).WarnContext(ctx, "delete replaced session", slog.Any("err", err))
	}
	h.complete(w, r, cl, req, identity, now)
}

// complete issues a code for identity and sends the browser back to the
// client.
func (h *handler) complete(w http.ResponseWriter, r *http.Request, cl store.Client, req AuthRequest, id Identity, authTime time.Time) {
	claims, err := store.ClaimsJSON(id.Claims)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	code, err := h.Grants.IssueCode(r.Context(), store.Grant{
		ClientID: cl.ID, PartnerID: cl.PartnerID, OrganisationID: cl.OrganisationID,
		RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge, Nonce: req.Nonce, Scopes: req.Scopes,
		AuthTime: authTime.UTC().Truncate(time.Second), MaxAgeAsked: req.MaxAge >= 0,
		Subject: Subject(cl.PartnerID, cl.OrganisationID, id), Provider: id.Provider, Claims: claims,
	})
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	logging.FromContext(r.Context(), nil).InfoContext(r.Context(), "sign-in completed",
		slog.String("client_id", cl.ID), slog.String("provider", id.Provider))
	redirect(w, CodeRedirect(req.RedirectURI, h.IssuerURL, req.State, code))
}

func (h *handler) redirectError(w http.ResponseWriter, r *http.Request, req AuthRequest, e *AuthError) {
	logging.FromContext(r.Context(), nil).InfoContext(r.Context(), "authorization error", slog.String("error", e.Code), slog.String("client_id", req.ClientID))
	redirect(w, ErrorRedirect(req.RedirectURI, h.IssuerURL, req.State, e))
}

func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}

// requestClient returns the client of req, a request checked before (the
// sealed request of the page, or a federation flow's): an error page, and
// false, when the client or its redirect URI is gone since.
func (h *handler) requestClient(w http.ResponseWriter, r *http.Request, req AuthRequest) (store.Client, bool) {
	cl, found, err := h.client(r.Context(), req.ClientID)
	if err != nil {
		h.unavailable(w, r, err)
		return store.Client{}, false
	}
	if e := CheckClient(url.Values{"client_id": {req.ClientID}, "redirect_uri": {req.RedirectURI}}, cl, found); e != nil {
		errorPage(w, r, e.Status, "This sign-in is no longer valid", e.Description+".", Theme{})
		return store.Client{}, false
	}
	return cl, true
}

// mayStillSignIn answers req with unauthorized_client, and reports false,
// when client cl may no longer sign users in (disabled, without the
// authorization_code grant, or its organisation chain or partner
// disabled) since the request was checked.
func (h *handler) mayStillSignIn(w http.ResponseWriter, r *http.Request, cl store.Client, req AuthRequest) bool {
	e, err := h.chainError(r.Context(), cl)
	if err != nil {
		h.unavailable(w, r, err)
		return false
	}
	if e == nil && (!cl.Enabled || !cl.HasGrant(store.GrantAuthorizationCode)) {
		e = redirectError("unauthorized_client", "the client may no longer sign users in")
	}
	if e != nil {
		h.redirectError(w, r, req, e)
		return false
	}
	return true
}

// chainError is unauthorized_client when the client's organisation, an
// ancestor or its partner account is disabled.
func (h *handler) chainError(ctx context.Context, cl store.Client) (*AuthError, error) {
	active, err := h.Store.ClientChainActive(ctx, cl.PartnerID, cl.OrganisationID)
	if err != nil {
		return nil, err
	}
	if !active {
		return redirectError("unauthorized_client", "the client's organisation or partner account is disabled"), nil
	}
	return nil, nil
}

// resume is the identity sess signed in, for client cl: from the session
// itself for a Resumer's identity, else from its provider.
func (h *handler) resume(ctx context.Context, cl store.Client, sess store.Session) (Identity, error) {
	p := h.resumer(sess.Provider)
	if p == nil {
		return h.identify(ctx, cl, sess.Provider, sess.IdentityID)
	}
	var claims map[string]any
	if sess.Claims != "" {
		if err := json.Unmarshal([]byte(sess.Claims), &claims); err != nil {
			return Identity{}, fmt.Errorf("session claims: %w", err)
		}
	}
	return p.Resume(ctx, cl, sess.IdentityID, claims)
}

func (h *handler) resumer(provider string) Resumer {
	for _, p := range h.Providers {
		if r, ok := p.(Resumer); ok && p.Name() == provider {
			return r
		}
	}
	return nil
}

func (h *handler) identify(ctx context.Context, cl store.Client, provider, id string) (Identity, error) {
	for _, p := range h.Providers {
		if p.Name() == provider {
			return p.Identify(ctx, cl, id)
		}
	}
	return Identity{}, fmt.Errorf("provider %q: %w", provider, ErrNotOffered)
}

// client reads client id; found is false when there is none (or it is a
// partner account).
func (h *handler) client(ctx context.Context, id string) (store.Client, bool, error) {
	if id == "" || len(id) > 255 {
		return store.Client{}, false, nil
	}
	cl, err := h.Store.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, false, nil
	}
	if err != nil {
		return store.Client{}, false, err
	}
	return cl, true, nil
}

func (h *handler) theme(ctx context.Context, cl store.Client) (Theme, error) {
	org, err := h.Store.GetOrganisation(ctx, cl.PartnerID, cl.OrganisationID)
	if err != nil {
		return Theme{}, err
	}
	cfg, err := h.Store.GetUIConfig(ctx, cl.PartnerID, cl.OrganisationID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Theme{}, err
	}
	if !org.EnableCustomLogo {
		cfg.LogoURL = ""
	}
	return ThemeOf(cfg, org.Name), nil
}

// params are the authorization request's parameters: the query of a GET,
// the form body of a POST. The authorization endpoint is routed for GET
// and POST only (endpoint.Mux answers 405, HEAD included).
func (h *handler) params(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if r.Method == http.MethodPost {
		return h.form(w, r)
	}
	return r.URL.Query(), true
}

// form parses a form-encoded POST body (and only the body).
func (h *handler) form(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		errorPage(w, r, http.StatusUnsupportedMediaType, "Unsupported request", "The form must be sent as application/x-www-form-urlencoded.", Theme{})
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		errorPage(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.", Theme{})
		return nil, false
	}
	return r.PostForm, true
}

// session returns the browser's session from its cookie; ok is false when
// it has none that is valid.
func (h *handler) session(r *http.Request) (store.Session, bool, error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return store.Session{}, false, nil
	}
	id, err := h.seal.open(cookiePurpose, c.Value, h.Now())
	if err != nil {
		return store.Session{}, false, nil
	}
	s, err := h.Store.GetSession(r.Context(), string(id))
	if errors.Is(err, store.ErrGone) {
		return store.Session{}, false, nil
	}
	if err != nil {
		return store.Session{}, false, err
	}
	return s, true, nil
}

// newSession stores s under a new id and sets the browser's cookie to it;
// signed in, it lives SessionLifetime, else PendingLifetime.
func (h *handler) newSession(w http.ResponseWriter, r *http.Request, s store.Session) (store.Session, error) {
	now := h.Now().UTC()
	life := PendingLifetime
	if s.Authenticated() {
		life = SessionLifetime
	}
	s.ID, s.CreatedAt, s.ExpiresAt = randomID(), now, now.Add(life)
	if err := h.Store.PutSession(r.Context(), s); err != nil {
		return store.Session{}, err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: h.seal.seal(cookiePurpose, []byte(s.ID), s.ExpiresAt),
		Path: "/", MaxAge: int(life / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return s, nil
}

const cookiePurpose = "session-cookie"

func requestPurpose(sessionID string) string { return "authorization-request\x00" + sessionID }

func (h *handler) unavailableLog(r *http.Request, err error) {
	logging.FromContext(r.Context(), nil).ErrorContext(r.Context(), "sign-in failed", slog.Any("err", err))
}

func (h *handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.unavailableLog(r, err)
	errorPage(w, r, http.StatusServiceUnavailable, "Sign-in is unavailable", "Something went wrong on our side. Try again in a moment.", Theme{})
}
