package clients

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/partnerapi/partner-api/shared/auth"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/store"
)

// Operations are the group's operations by registry name. They expect
// auth.Require in front (the caller in the context, its access checked by
// the registry's route) and the common middleware around.
func Operations(svc *Service) endpoint.Operations {
	h := &handler{svc: svc}
	return endpoint.Operations{
		"listClients": h.list, "createClient": h.create, "getClient": h.get, "replaceClient": h.replace,
		"patchClient": h.patch, "deleteClient": h.delete, "rotateClientSecret": h.rotate,
		"getClientMe": h.getMe, "rotateClientMeSecret": h.rotateMe,
	}
}

type handler struct {
	svc *Service
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	r, c, err := h.caller(r)
	if err != nil {
		return err
	}
	paging, err := endpoint.PagingOnly(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.svc.List(r.Context(), c, r.PathValue("id"), paging)
	if err != nil {
		return err
	}
	endpoint.WriteList(w, page, representation)
	return nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	r, c, req, err := h.writeRequest(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	created, err := h.svc.Create(r.Context(), c, r.PathValue("id"), req.Body)
	if err != nil {
		return err
	}
	endpoint.SetLocation(w, r, "/v1/clients/"+created.Client.ID)
	etag.Set(w, etag.FromVersion(created.Client.Version))
	jsonbody.Write(w, http.StatusCreated, createdJSON{clientJSON: representation(created.Client), Secret: created.Secret})
	return nil
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	r, c, err := h.caller(r)
	if err != nil {
		return err
	}
	return h.writeGet(w, r, c, r.PathValue("id"))
}

func (h *handler) getMe(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return err
	}
	return h.writeGet(w, r, c, c.ClientID)
}

func (h *handler) writeGet(w http.ResponseWriter, r *http.Request, c auth.Caller, id string) error {
	cl, err := h.svc.Get(r.Context(), c, id)
	if err != nil {
		return err
	}
	writeClient(w, http.StatusOK, cl)
	return nil
}

func (h *handler) replace(w http.ResponseWriter, r *http.Request) error {
	r, c, req, err := h.writeRequest(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	cl, err := h.svc.Replace(r.Context(), c, r.PathValue("id"), req.Cond, req.Body)
	if err != nil {
		return err
	}
	writeClient(w, http.StatusOK, cl)
	return nil
}

func (h *handler) patch(w http.ResponseWriter, r *http.Request) error {
	r, c, req, err := h.writeRequest(r, jsonbody.MergePatchMediaType, jsonbody.MediaType)
	if err != nil {
		return err
	}
	cl, err := h.svc.Patch(r.Context(), c, r.PathValue("id"), req.Cond, req.Body)
	if err != nil {
		return err
	}
	writeClient(w, http.StatusOK, cl)
	return nil
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	r, c, req, err := h.writeRequest(r)
	if err != nil {
		return err
	}
	if err := h.svc.Delete(r.Context(), c, r.PathValue("id"), req.Cond); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) rotate(w http.ResponseWriter, r *http.Request) error {
	r, c, err := h.caller(r)
	if err != nil {
		return err
	}
	return h.writeRotation(w, r, c, r.PathValue("id"))
}

func (h *handler) rotateMe(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return err
	}
	return h.writeRotation(w, r, c, c.ClientID)
}

func (h *handler) writeRotation(w http.ResponseWriter, r *http.Request, c auth.Caller, id string) error {
	req, err := endpoint.ReadOptionalWrite(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	rotated, err := h.svc.RotateSecret(r.Context(), c, id, req.Cond, req.Body)
	if err != nil {
		return err
	}
	body := rotationJSON{ClientID: rotated.Client.ID, Secret: rotated.Secret}
	if rotated.Client.PreviousSecretHash != "" {
		body.PreviousSecretExpiresAt = timestamp(rotated.Client.PreviousSecretExpiresAt)
	}
	etag.Set(w, etag.FromVersion(rotated.Client.Version))
	jsonbody.Write(w, http.StatusOK, body)
	return nil
}

// caller returns the caller of a request on clients by id or by
// organisation. The registry's route let in a partner whose token carries
// the route's scope, or an organisation's client whose token carries
// clients:manage; such a client must still hold it, which lets it read and
// write the clients of its own organisation (the service keeps it there).
//
// It returns r with the managing client as read now in its context, so
// the service need not read it again.
func (h *handler) caller(r *http.Request) (*http.Request, auth.Caller, error) {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return r, auth.Caller{}, err
	}
	if !c.IsPartner() {
		ctx, err := h.svc.RequireManager(r.Context(), c)
		if err != nil {
			return r, auth.Caller{}, err
		}
		r = r.WithContext(ctx)
	}
	return r, c, nil
}

// writeRequest checks that the caller may still manage clients (returning
// r as caller does) and reads the If-Match header and, when mediaTypes are
// given, the JSON body sent as one of them.
func (h *handler) writeRequest(r *http.Request, mediaTypes ...string) (*http.Request, auth.Caller, endpoint.Write, error) {
	r, c, err := h.caller(r)
	if err != nil {
		return r, auth.Caller{}, endpoint.Write{}, err
	}
	req, err := endpoint.ReadWrite(r, mediaTypes...)
	return r, c, req, err
}

// clientJSON is the representation of a client. It has no secret: only
// createdJSON and rotationJSON carry one.
type clientJSON struct {
	ID                    string          `json:"id"`
	OrganisationID        string          `json:"organisation_id"`
	Name                  string          `json:"name"`
	TokenSigningAlgorithm string          `json:"token_signing_algorithm"`
	AdditionalScopes      []string        `json:"additional_scopes"`
	RequiredScopes        []string        `json:"required_scopes"`
	ReturnURLs            []string        `json:"return_urls"`
	IsProduction          bool            `json:"is_production"`
	SelectedProduct       *string         `json:"selected_product"`
	AllowedProviderGroups []string        `json:"allowed_provider_groups"`
	AccessTokenLifetime   int64           `json:"access_token_lifetime"`
	Enabled               bool            `json:"enabled"`
	ExtraData             json.RawMessage `json:"extra_data"`
	grantsJSON
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// createdJSON is the 201 body of a create: the client and its secret.
type createdJSON struct {
	clientJSON
	Secret string `json:"secret"`
}

// rotationJSON is the 200 body of a rotation.
type rotationJSON struct {
	ClientID                string `json:"client_id"`
	Secret                  string `json:"secret"`
	PreviousSecretExpiresAt string `json:"previous_secret_expires_at,omitempty"`
}

func representation(c store.Client) clientJSON {
	r := clientJSON{
		ID: c.ID, OrganisationID: c.OrganisationID, Name: c.Name, TokenSigningAlgorithm: c.Algorithm,
		AdditionalScopes: nonNil(c.AdditionalScopes), RequiredScopes: nonNil(c.RequiredScopes),
		ReturnURLs: nonNil(c.ReturnURLs), IsProduction: c.IsProduction,
		AllowedProviderGroups: nonNil(c.AllowedProviderGroups), AccessTokenLifetime: c.TokenLifetime,
		Enabled: c.Enabled, CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt),
	}
	if c.SelectedProduct != "" {
		r.SelectedProduct = &c.SelectedProduct
	}
	r.grantsJSON = grantsRepresentation(c)
	r.ExtraData = json.RawMessage("{}")
	if c.ExtraData != "" {
		r.ExtraData = json.RawMessage(c.ExtraData)
	}
	return r
}

func writeClient(w http.ResponseWriter, status int, c store.Client) {
	etag.Set(w, etag.FromVersion(c.Version))
	jsonbody.Write(w, status, representation(c))
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
