package organisations

import (
	"net/http"
	"net/url"
	"time"

	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

// Operations are the group's operations by registry name. They expect
// auth.Require in front (the caller in the context, its access checked by
// the registry's route) and the common middleware around.
func Operations(svc *Service) endpoint.Operations {
	h := &handler{svc: svc}
	return endpoint.Operations{
		"listOrganisations": h.list, "createOrganisation": h.create, "getOrganisation": h.get,
		"replaceOrganisation": h.replace, "patchOrganisation": h.patch, "deleteOrganisation": h.delete,
		"getOrganisationUIConfig": h.getUIConfig, "replaceOrganisationUIConfig": h.putUIConfig,
	}
}

type handler struct {
	svc *Service
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
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
	endpoint.WriteList(w, page, representation)
	return nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	o, err := h.svc.Create(r.Context(), req.PartnerID, req.Body)
	if err != nil {
		return err
	}
	endpoint.SetLocation(w, r, "/v1/organisations/"+o.ID)
	writeOrganisation(w, http.StatusCreated, o)
	return nil
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
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
	req, err := endpoint.ReadPartnerWrite(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	o, err := h.svc.Replace(r.Context(), req.PartnerID, r.PathValue("id"), req.Cond, req.Body)
	if err != nil {
		return err
	}
	writeOrganisation(w, http.StatusOK, o)
	return nil
}

func (h *handler) patch(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r, jsonbody.MergePatchMediaType, jsonbody.MediaType)
	if err != nil {
		return err
	}
	o, err := h.svc.Patch(r.Context(), req.PartnerID, r.PathValue("id"), req.Cond, req.Body)
	if err != nil {
		return err
	}
	writeOrganisation(w, http.StatusOK, o)
	return nil
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r)
	if err != nil {
		return err
	}
	if err := h.svc.Delete(r.Context(), req.PartnerID, r.PathValue("id"), req.Cond); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) getUIConfig(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
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
	req, err := endpoint.ReadPartnerWrite(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	cfg, err := h.svc.PutUIConfig(r.Context(), req.PartnerID, r.PathValue("id"), req.Cond, req.Body)
	if err != nil {
		return err
	}
	writeUIConfig(w, cfg)
	return nil
}

// listQuery reads the list's query parameters, refusing unknown and
// repeated ones, with every violation at once.
func listQuery(q url.Values) (ListQuery, error) {
	v := &problem.ValidationError{}
	p := endpoint.ListParams(v, q, "parent_id")
	lq := ListQuery{Paging: p, ParentID: q.Get("parent_id")}
	if lq.ParentID != "" && !middleware.IsUUID(lq.ParentID) {
		v.Add("parent_id", "must be the id (a UUID) of one of your organisations")
	}
	return lq, v.Err()
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
