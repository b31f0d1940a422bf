package organisations

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
)

// Routes are the paths the group serves, as API Gateway routes them ({id}
// is a path parameter).
var Routes = []string{
	"/v1/organisations",
	"/v1/organisations/{id}",
	"/v1/organisations/{id}/ui-config",
}

// listParameters are the query parameters of the list.
var listParameters = []string{"limit", "cursor", "parent_id"}

// NewHandler returns the group's http.Handler. It expects auth.Require in
// front of it (the caller in the context) and the common middleware around.
func NewHandler(svc *Service) http.Handler {
	h := &handler{svc: svc}
	mux := http.NewServeMux()
	mux.Handle(Routes[0], methods{http.MethodGet: h.list, http.MethodPost: h.create})
	mux.Handle(Routes[1], methods{http.MethodGet: h.get, http.MethodPut: h.replace, http.MethodPatch: h.patch, http.MethodDelete: h.delete})
	mux.Handle(Routes[2], methods{http.MethodGet: h.getUIConfig, http.MethodPut: h.putUIConfig})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(problem.ErrNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

type handler struct {
	svc *Service
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	c, err := partner(r.Context(), scope.OrganisationsRead)
	if err != nil {
		return err
	}
	q, err := listQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.svc.List(r.Context(), c.PartnerID, q)
	if err != nil {
		return err
	}
	body := listJSON{Items: make([]organisationJSON, len(page.Items))}
	for i, o := range page.Items {
		body.Items[i] = representation(o)
	}
	if page.NextCursor != "" {
		body.NextCursor = &page.NextCursor
	}
	jsonbody.Write(w, http.StatusOK, body)
	return nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	req, err := writeRequest(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	o, err := h.svc.Create(r.Context(), req.partnerID, req.body)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/organisations/"+o.ID)
	writeOrganisation(w, http.StatusCreated, o)
	return nil
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	c, err := partner(r.Context(), scope.OrganisationsRead)
	if err != nil {
		return err
	}
	o, err := h.svc.Get(r.Context(), c.PartnerID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeOrganisation(w, http.StatusOK, o)
	return nil
}

func (h *handler) replace(w http.ResponseWriter, r *http.Request) error {
	req, err := writeRequest(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	o, err := h.svc.Replace(r.Context(), req.partnerID, r.PathValue("id"), req.cond, req.body)
	if err != nil {
		return err
	}
	writeOrganisation(w, http.StatusOK, o)
	return nil
}

func (h *handler) patch(w http.ResponseWriter, r *http.Request) error {
	req, err := writeRequest(r, jsonbody.MergePatchMediaType, jsonbody.MediaType)
	if err != nil {
		return err
	}
	o, err := h.svc.Patch(r.Context(), req.partnerID, r.PathValue("id"), req.cond, req.body)
	if err != nil {
		return err
	}
	writeOrganisation(w, http.StatusOK, o)
	return nil
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	req, err := writeRequest(r)
	if err != nil {
		return err
	}
	if err := h.svc.Delete(r.Context(), req.partnerID, r.PathValue("id"), req.cond); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) getUIConfig(w http.ResponseWriter, r *http.Request) error {
	c, err := partner(r.Context(), scope.OrganisationsRead)
	if err != nil {
		return err
	}
	cfg, err := h.svc.UIConfig(r.Context(), c.PartnerID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeUIConfig(w, cfg)
	return nil
}

func (h *handler) putUIConfig(w http.ResponseWriter, r *http.Request) error {
	req, err := writeRequest(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	cfg, err := h.svc.PutUIConfig(r.Context(), req.partnerID, r.PathValue("id"), req.cond, req.body)
	if err != nil {
		return err
	}
	writeUIConfig(w, cfg)
	return nil
}

// partner returns the caller, who must be a partner (not an organisation's
// client) whose token carries scope s; otherwise a 403 error.
func partner(ctx context.Context, s string) (auth.Caller, error) {
	c, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Caller{}, problem.New(problem.ErrUnauthenticated, "authentication required")
	}
	if !c.IsPartner() {
		return auth.Caller{}, problem.New(problem.ErrForbidden, "organisations are managed with a partner's access token, not an organisation client's")
	}
	if err := auth.RequireScope(ctx, s); err != nil {
		return auth.Caller{}, err
	}
	return c, nil
}

// write is what a write request brings: its partner, its If-Match
// condition and its body.
type write struct {
	partnerID string
	cond      etag.Condition
	body      []byte
}

// writeRequest checks that the caller may write (a partner with
// organisations:write) and reads the If-Match header and, when mediaTypes
// are given, the JSON body sent as one of them.
func writeRequest(r *http.Request, mediaTypes ...string) (write, error) {
	c, err := partner(r.Context(), scope.OrganisationsWrite)
	if err != nil {
		return write{}, err
	}
	req := write{partnerID: c.PartnerID}
	if req.cond, err = etag.IfMatch(r); err != nil {
		return write{}, err
	}
	if len(mediaTypes) > 0 {
		if req.body, err = jsonbody.Read(r, mediaTypes...); err != nil {
			return write{}, err
		}
	}
	return req, nil
}

// listQuery reads the list's query parameters, refusing unknown and
// repeated ones, with every violation at once.
func listQuery(q url.Values) (ListQuery, error) {
	v := &problem.ValidationError{}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(listParameters, k):
			v.Add(truncate(k), "is not a query parameter of this list (use %s)", strings.Join(listParameters, ", "))
		case len(q[k]) > 1:
			v.Add(k, "is given more than once")
		}
	}
	lq := ListQuery{Cursor: q.Get("cursor"), ParentID: q.Get("parent_id")}
	limit, err := cursor.ParseLimit(q.Get("limit"))
	var fe *problem.ValidationError
	if errors.As(err, &fe) {
		v.Errors = append(v.Errors, fe.Errors...)
	}
	lq.Limit = limit
	if lq.ParentID != "" && !middleware.IsUUID(lq.ParentID) {
		v.Add("parent_id", "must be the id (a UUID) of one of your organisations")
	}
	return lq, v.Err()
}

// methods dispatches a route's requests by method; others get 405 with
// Allow. A method's error is written as problem+json.
type methods map[string]func(w http.ResponseWriter, r *http.Request) error

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := m[r.Method]
	if !ok {
		allow := strings.Join(slices.Sorted(maps.Keys(m)), ", ")
		w.Header().Set("Allow", allow)
		problem.Write(w, r, problem.New(problem.ErrMethodNotAllowed, "use %s", allow))
		return
	}
	if err := f(w, r); err != nil {
		problem.Write(w, r, err)
	}
}

// organisationJSON is the representation of an organisation.
type organisationJSON struct {
	ID                    string   `json:"id"`
	ParentID              *string  `json:"parent_id"`
	Name                  string   `json:"name"`
	EnableCustomLogo      bool     `json:"enable_custom_logo"`
	AllowedScopes         []string `json:"allowed_scopes"`
	AllowedProducts       []string `json:"allowed_products"`
	AllowedProviderGroups []string `json:"allowed_provider_groups"`
	HasProductionAccess   bool     `json:"has_production_access"`
	Enabled               bool     `json:"enabled"`
	CreatedAt             string   `json:"created_at"`
	UpdatedAt             string   `json:"updated_at"`
}

type listJSON struct {
	Items      []organisationJSON `json:"items"`
	NextCursor *string            `json:"next_cursor"`
}

func representation(o store.Organisation) organisationJSON {
	r := organisationJSON{
		ID: o.ID, Name: o.Name, EnableCustomLogo: o.EnableCustomLogo,
		AllowedScopes: nonNil(o.AllowedScopes), AllowedProducts: nonNil(o.AllowedProducts),
		AllowedProviderGroups: nonNil(o.AllowedProviderGroups),
		HasProductionAccess:   o.HasProductionAccess, Enabled: o.Enabled,
		CreatedAt: timestamp(o.CreatedAt), UpdatedAt: timestamp(o.UpdatedAt),
	}
	if o.ParentID != "" {
		r.ParentID = &o.ParentID
	}
	return r
}

func writeOrganisation(w http.ResponseWriter, status int, o store.Organisation) {
	etag.Set(w, etag.FromVersion(o.Version))
	jsonbody.Write(w, status, representation(o))
}

// uiConfigJSON is the representation of a ui-config; the times are null
// until one is stored.
type uiConfigJSON struct {
	OrganisationID   string  `json:"organisation_id"`
	DisplayName      *string `json:"display_name"`
	LogoURL          *string `json:"logo_url"`
	PrimaryColour    string  `json:"primary_colour"`
	SecondaryColour  string  `json:"secondary_colour"`
	BackgroundColour string  `json:"background_colour"`
	TextColour       string  `json:"text_colour"`
	CreatedAt        *string `json:"created_at"`
	UpdatedAt        *string `json:"updated_at"`
}

func writeUIConfig(w http.ResponseWriter, c store.UIConfig) {
	r := uiConfigJSON{
		OrganisationID: c.OrganisationID, PrimaryColour: c.PrimaryColour, SecondaryColour: c.SecondaryColour,
		BackgroundColour: c.BackgroundColour, TextColour: c.TextColour,
		DisplayName: nonEmpty(c.DisplayName), LogoURL: nonEmpty(c.LogoURL),
	}
	if c.Version > 0 {
		r.CreatedAt, r.UpdatedAt = nonEmpty(timestamp(c.CreatedAt)), nonEmpty(timestamp(c.UpdatedAt))
	}
	etag.Set(w, etag.FromVersion(c.Version))
	jsonbody.Write(w, http.StatusOK, r)
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
