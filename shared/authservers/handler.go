package authservers

import (
	"net/http"
	"time"

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
		"listAuthorisationServers": h.list, "createAuthorisationServer": h.create, "getAuthorisationServer": h.get,
		"replaceAuthorisationServer": h.replace, "patchAuthorisationServer": h.patch, "deleteAuthorisationServer": h.delete,
		"refreshAuthorisationServer": h.refresh,
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
	paging, err := endpoint.PagingOnly(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.svc.List(r.Context(), c.PartnerID, r.PathValue("id"), paging)
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
	a, err := h.svc.Create(r.Context(), req.PartnerID, r.PathValue("id"), req.Body)
	if err != nil {
		return err
	}
	endpoint.SetLocation(w, r, "/v1/organisations/"+a.OrganisationID+"/authorisation-servers/"+a.ID)
	writeAuthServer(w, http.StatusCreated, a)
	return nil
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return err
	}
	a, err := h.svc.Get(r.Context(), c.PartnerID, r.PathValue("id"), r.PathValue("as_id"))
	if err != nil {
		return err
	}
	writeAuthServer(w, http.StatusOK, a)
	return nil
}

func (h *handler) replace(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r, jsonbody.MediaType)
	if err != nil {
		return err
	}
	a, err := h.svc.Replace(r.Context(), req.PartnerID, r.PathValue("id"), r.PathValue("as_id"), req.Cond, req.Body)
	if err != nil {
		return err
	}
	writeAuthServer(w, http.StatusOK, a)
	return nil
}

func (h *handler) patch(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r, jsonbody.MergePatchMediaType, jsonbody.MediaType)
	if err != nil {
		return err
	}
	a, err := h.svc.Patch(r.Context(), req.PartnerID, r.PathValue("id"), r.PathValue("as_id"), req.Cond, req.Body)
	if err != nil {
		return err
	}
	writeAuthServer(w, http.StatusOK, a)
	return nil
}

func (h *handler) refresh(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r)
	if err != nil {
		return err
	}
	a, err := h.svc.Refresh(r.Context(), req.PartnerID, r.PathValue("id"), r.PathValue("as_id"), req.Cond)
	if err != nil {
		return err
	}
	writeAuthServer(w, http.StatusOK, a)
	return nil
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) error {
	req, err := endpoint.ReadPartnerWrite(r)
	if err != nil {
		return err
	}
	if err := h.svc.Delete(r.Context(), req.PartnerID, r.PathValue("id"), r.PathValue("as_id"), req.Cond); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// authServerJSON is the representation of an authorisation server: unset
// optional attributes are null.
type authServerJSON struct {
	ID                                  string   `json:"id"`
	OrganisationID                      string   `json:"organisation_id"`
	AutoRegistrationSupported           bool     `json:"auto_registration_supported"`
	AutoRegistrationNotificationWebhook *string  `json:"auto_registration_notification_webhook"`
	CustomerFriendlyDescription         string   `json:"customer_friendly_description"`
	CustomerFriendlyLogoURI             *string  `json:"customer_friendly_logo_uri"`
	CustomerFriendlyName                string   `json:"customer_friendly_name"`
	DeveloperPortalURI                  *string  `json:"developer_portal_uri"`
	TermsOfServiceURI                   *string  `json:"terms_of_service_uri"`
	NotificationWebhook                 *string  `json:"notification_webhook"`
	NotificationWebhookStatus           *string  `json:"notification_webhook_status"`
	NotificationWebhookAddedDate        *string  `json:"notification_webhook_added_date"`
	OpenIDDiscoveryDocument             *string  `json:"openid_discovery_document"`
	PayloadSigningCertLocationURI       *string  `json:"payload_signing_cert_location_uri"`
	ParentAuthorisationServerID         *string  `json:"parent_authorisation_server_id"`
	DeprecatedDate                      *string  `json:"deprecated_date"`
	RetirementDate                      *string  `json:"retirement_date"`
	SupersededByAuthorisationServerID   *string  `json:"superseded_by_authorisation_server_id"`
	FederationID                        *string  `json:"federation_id"`
	FederationEndpoint                  *string  `json:"federation_endpoint"`
	Flags                               []string `json:"flags"`
	Status                              string   `json:"status"`
	SupportsCIBA                        bool     `json:"supports_ciba"`
	SupportsDCR                         bool     `json:"supports_dcr"`
	SupportsRedirect                    bool     `json:"supports_redirect"`
	ProviderGroups                      []string `json:"provider_groups"`
	FederationClientID                  *string  `json:"federation_client_id"`
	FederationAuthMethod                *string  `json:"federation_token_endpoint_auth_method"`
	FederationClientSecretSet           bool     `json:"federation_client_secret_set"`
	// Issuer is seed 004's Issuer, pulled from the discovery document.
	Issuer    *string        `json:"issuer"`
	Discovery *discoveryJSON `json:"discovery"`
	// OperationWarnings are seed 004's: here the discovery document's
	// problem, while it lasts.
	OperationWarnings []string `json:"operation_warnings"`
	CreatedAt         string   `json:"created_at"`
	UpdatedAt         string   `json:"updated_at"`
}

func representation(a store.AuthServer) authServerJSON {
	in := inputOf(a)
	out := authServerJSON{
		ID: a.ID, OrganisationID: a.OrganisationID,
		AutoRegistrationSupported:           a.AutoRegistrationSupported,
		AutoRegistrationNotificationWebhook: in.AutoRegistrationNotificationWebhook,
		CustomerFriendlyDescription:         a.CustomerFriendlyDescription,
		CustomerFriendlyLogoURI:             in.CustomerFriendlyLogoURI,
		CustomerFriendlyName:                a.CustomerFriendlyName,
		DeveloperPortalURI:                  in.DeveloperPortalURI,
		TermsOfServiceURI:                   in.TermsOfServiceURI,
		NotificationWebhook:                 in.NotificationWebhook,
		NotificationWebhookStatus:           optional(a.NotificationWebhookStatus),
		NotificationWebhookAddedDate:        optional(a.NotificationWebhookAddedDate),
		OpenIDDiscoveryDocument:             in.OpenIDDiscoveryDocument,
		PayloadSigningCertLocationURI:       in.PayloadSigningCertLocationURI,
		ParentAuthorisationServerID:         in.ParentAuthorisationServerID,
		DeprecatedDate:                      in.DeprecatedDate,
		RetirementDate:                      in.RetirementDate,
		SupersededByAuthorisationServerID:   in.SupersededByAuthorisationServerID,
		FederationID:                        in.FederationID,
		FederationEndpoint:                  in.FederationEndpoint,
		Flags:                               in.Flags,
		Status:                              a.Status,
		SupportsCIBA:                        a.SupportsCIBA,
		SupportsDCR:                         a.SupportsDCR,
		SupportsRedirect:                    a.SupportsRedirect,
		ProviderGroups:                      in.ProviderGroups,
		FederationClientID:                  in.FederationClientID,
		FederationAuthMethod:                in.FederationAuthMethod,
		FederationClientSecretSet:           len(a.FederationSecret) > 0,
		Issuer:                              optional(a.Discovery.Issuer),
		Discovery:                           discoveryOf(a.Discovery),
		OperationWarnings:                   []string{},
		CreatedAt:                           timestamp(a.CreatedAt),
		UpdatedAt:                           timestamp(a.UpdatedAt),
	}
	for _, w := range []string{a.LogoWarning, a.Discovery.Warning} {
		if w != "" {
			out.OperationWarnings = append(out.OperationWarnings, w)
		}
	}
	return out
}

// discoveryJSON is what the server's discovery document said when last
// fetched, and the last fetch's problem.
type discoveryJSON struct {
	Issuer                string   `json:"issuer,omitempty"`
	AuthorizationEndpoint string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint         string   `json:"token_endpoint,omitempty"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI               string   `json:"jwks_uri,omitempty"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported,omitempty"`
	FetchedAt             string   `json:"fetched_at,omitempty"`
	Error                 string   `json:"error,omitempty"`
}

func discoveryOf(d store.Discovery) *discoveryJSON {
	if d.FetchedAt == "" && d.Error == "" {
		return nil
	}
	return &discoveryJSON{
		Issuer: d.Issuer, AuthorizationEndpoint: d.AuthorizationEndpoint, TokenEndpoint: d.TokenEndpoint,
		UserinfoEndpoint: d.UserinfoEndpoint, JWKSURI: d.JWKSURI, SigningAlgs: d.SigningAlgs, FetchedAt: d.FetchedAt, Error: d.Error,
	}
}

func writeAuthServer(w http.ResponseWriter, status int, a store.AuthServer) {
	etag.Set(w, etag.FromVersion(a.Version))
	jsonbody.Write(w, status, representation(a))
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
