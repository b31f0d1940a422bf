package authservers

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/partnerapi/partner-api/shared/federation"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/validate"
)

// Limits and values of authorisation server attributes.
const (
	// MaxURILength bounds every URI but a data:image logo, in characters.
	MaxURILength = 255
	// MaxIDLength bounds the ids of referenced servers and of flags.
	MaxIDLength = 40
	// MaxFlags bounds flags.
	MaxFlags = 50
	// MaxLogoBytes bounds the decoded image of a data:image logo (64 KiB).
	MaxLogoBytes = validate.MaxImageBytes
	// StatusActive and StatusInactive are the values of status.
	StatusActive   = "Active"
	StatusInactive = "Inactive"
	// WebhookPending is the notification_webhook_status of a webhook not
	// yet confirmed (seed 004 also has Confirmed and Deactivated).
	WebhookPending = "Pending"
)

// Input is the body of POST /v1/organisations/{id}/authorisation-servers and
// PUT .../authorisation-servers/{as_id}, and what a PATCH gives once merged
// into the current server: the attributes a partner sets. Absent (or null)
// optional attributes take their defaults; see Resolve.
type Input struct {
	AutoRegistrationSupported           *bool    `json:"auto_registration_supported"`
	AutoRegistrationNotificationWebhook *string  `json:"auto_registration_notification_webhook"`
	CustomerFriendlyDescription         string   `json:"customer_friendly_description"`
	CustomerFriendlyLogoURI             *string  `json:"customer_friendly_logo_uri"`
	CustomerFriendlyName                string   `json:"customer_friendly_name"`
	DeveloperPortalURI                  *string  `json:"developer_portal_uri"`
	TermsOfServiceURI                   *string  `json:"terms_of_service_uri"`
	NotificationWebhook                 *string  `json:"notification_webhook"`
	OpenIDDiscoveryDocument             *string  `json:"openid_discovery_document"`
	PayloadSigningCertLocationURI       *string  `json:"payload_signing_cert_location_uri"`
	ParentAuthorisationServerID         *string  `json:"parent_authorisation_server_id"`
	DeprecatedDate                      *string  `json:"deprecated_date"`
	RetirementDate                      *string  `json:"retirement_date"`
	SupersededByAuthorisationServerID   *string  `json:"superseded_by_authorisation_server_id"`
	FederationID                        *string  `json:"federation_id"`
	FederationEndpoint                  *string  `json:"federation_endpoint"`
	Flags                               []string `json:"flags"`
	Status                              *string  `json:"status"`
	SupportsCIBA                        *bool    `json:"supports_ciba"`
	SupportsDCR                         *bool    `json:"supports_dcr"`
	SupportsRedirect                    *bool    `json:"supports_redirect"`
	ProviderGroups                      []string `json:"provider_groups"`
	FederationClientID                  *string  `json:"federation_client_id"`
	FederationAuthMethod                *string  `json:"federation_token_endpoint_auth_method"`
	// FederationClientSecret is write-only: never returned, and absent or
	// null keeps the stored one.
	FederationClientSecret *string `json:"federation_client_secret"`
}

// inputOptions refuses the generated attributes of the representation.
var inputOptions = jsonbody.Options{ReadOnly: []string{
	"id", "organisation_id", "created_at", "updated_at", "issuer", "discovery", "federation_client_secret_set", "operation_warnings",
	"notification_webhook_status", "notification_webhook_added_date",
}}

// Limits of the federation attributes.
const (
	// MaxProviderGroups bounds provider_groups.
	MaxProviderGroups = 50
	// MaxFederationClientID and MaxFederationSecret bound the federation
	// client id and secret, in characters.
	MaxFederationClientID = 255
	MaxFederationSecret   = 1024
)

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Resolve checks every attribute of in on its own, adding each violation to
// v with its JSON path, and returns the attributes to store (no ids, times
// or version), defaults applied:
//
//   - auto_registration_supported: required boolean.
//   - customer_friendly_name, customer_friendly_description: required, 1 to
//     255 characters without '<', '>' or control characters.
//   - auto_registration_notification_webhook, developer_portal_uri,
//     terms_of_service_uri, notification_webhook, openid_discovery_document,
//     payload_signing_cert_location_uri: absolute http:// or https:// URLs
//     with a host, at most 255 characters; federation_endpoint the same but
//     https:// only.
//   - customer_friendly_logo_uri: an http(s) URL as above whose path ends in
//     .svg, .png, .jpg or .jpeg, or a data:image/png, data:image/jpeg or
//     data:image/svg+xml base64 URI of at most 64 KiB decoded, holding an
//     image of that type. A data:image URI of seed 004's form whose image
//     is not usable (another format, too large, bad base64, not the declared
//     image) is not an error: the placeholder (no logo) is stored and the
//     answer's operation_warnings say why (logoWarning).
//   - parent_authorisation_server_id, superseded_by_authorisation_server_id:
//     1 to 40 characters without '<' or '>' (that the server exists in the
//     organisation and is not the server itself is the service's check).
//   - deprecated_date, retirement_date: YYYY-MM-DD calendar dates; the
//     retirement not before the deprecation.
//   - federation_id: a UUID.
//   - flags: at most 50, each 1 to 40 characters without '<' or '>', none
//     repeated; default [].
//   - status: Active or Inactive; default Active.
//   - supports_ciba, supports_dcr, supports_redirect: default false.
//   - provider_groups: at most 50, each 1 to 40 characters without '<' or
//     '>', none repeated; default [].
//   - federation_client_id: 1 to 255 characters without '<', '>' or
//     control characters.
//   - federation_client_secret: 1 to 1024 characters without control
//     characters, and only with a federation_client_id.
//   - federation_token_endpoint_auth_method: client_secret_basic,
//     client_secret_post (both need a secret, stored or given),
//     private_key_jwt or none; absent or null: automatic.
func Resolve(v *problem.ValidationError, in Input) store.AuthServer {
	a := store.AuthServer{
		CustomerFriendlyName: in.CustomerFriendlyName, CustomerFriendlyDescription: in.CustomerFriendlyDescription,
		Status: StatusActive, Flags: nonNil(in.Flags),
	}
	if in.AutoRegistrationSupported == nil {
		v.Add("auto_registration_supported", "is required: true or false")
	} else {
		a.AutoRegistrationSupported = *in.AutoRegistrationSupported
	}
	validate.Text(v, "customer_friendly_name", in.CustomerFriendlyName, "is required")
	validate.Text(v, "customer_friendly_description", in.CustomerFriendlyDescription, "is required")
	for _, u := range []struct {
		name      string
		in        *string
		out       *string
		httpsOnly bool
	}{
		{"auto_registration_notification_webhook", in.AutoRegistrationNotificationWebhook, &a.AutoRegistrationNotificationWebhook, false},
		{"developer_portal_uri", in.DeveloperPortalURI, &a.DeveloperPortalURI, false},
		{"terms_of_service_uri", in.TermsOfServiceURI, &a.TermsOfServiceURI, false},
		{"notification_webhook", in.NotificationWebhook, &a.NotificationWebhook, false},
		{"openid_discovery_document", in.OpenIDDiscoveryDocument, &a.OpenIDDiscoveryDocument, false},
		{"payload_signing_cert_location_uri", in.PayloadSigningCertLocationURI, &a.PayloadSigningCertLocationURI, false},
		{"federation_endpoint", in.FederationEndpoint, &a.FederationEndpoint, true},
	} {
		if u.in == nil {
			continue
		}
		if msg := uriRule(*u.in, u.httpsOnly); msg != "" {
			v.Add(u.name, "%s", msg)
		}
		*u.out = *u.in
	}
	if in.CustomerFriendlyLogoURI != nil {
		a.CustomerFriendlyLogoURI = *in.CustomerFriendlyLogoURI
		if w := logoWarning(a.CustomerFriendlyLogoURI); w != "" {
			a.CustomerFriendlyLogoURI, a.LogoWarning = "", w
		} else if msg := logoRule(a.CustomerFriendlyLogoURI); msg != "" {
			v.Add("customer_friendly_logo_uri", "%s", msg)
		}
	}
	if in.ParentAuthorisationServerID != nil {
		a.ParentID = *in.ParentAuthorisationServerID
		checkID(v, "parent_authorisation_server_id", a.ParentID)
	}
	if in.SupersededByAuthorisationServerID != nil {
		a.SupersededByID = *in.SupersededByAuthorisationServerID
		checkID(v, "superseded_by_authorisation_server_id", a.SupersededByID)
	}
	deprecated, okD := checkDate(v, "deprecated_date", in.DeprecatedDate, &a.DeprecatedDate)
	retirement, okR := checkDate(v, "retirement_date", in.RetirementDate, &a.RetirementDate)
	if okD && okR && retirement.Before(deprecated) {
		v.Add("retirement_date", "must not be before deprecated_date (%s)", a.DeprecatedDate)
	}
	if in.FederationID != nil {
		a.FederationID = *in.FederationID
		if !middleware.IsUUID(a.FederationID) {
			v.Add("federation_id", "must be a UUID")
		}
	}
	validate.List(v, "flags", a.Flags, MaxFlags, func(s string) string {
		if utf8.RuneCountInString(s) > MaxIDLength {
			return fmt.Sprintf("must be at most %d characters", MaxIDLength)
		}
		return ""
	})
	if in.Status != nil {
		a.Status = *in.Status
		if a.Status != StatusActive && a.Status != StatusInactive {
			v.Add("status", "must be %s or %s", StatusActive, StatusInactive)
		}
	}
	for _, b := range []struct {
		in  *bool
		out *bool
	}{{in.SupportsCIBA, &a.SupportsCIBA}, {in.SupportsDCR, &a.SupportsDCR}, {in.SupportsRedirect, &a.SupportsRedirect}} {
		if b.in != nil {
			*b.out = *b.in
		}
	}
	a.ProviderGroups = nonNil(in.ProviderGroups)
	validate.List(v, "provider_groups", a.ProviderGroups, MaxProviderGroups, func(s string) string {
		if utf8.RuneCountInString(s) > MaxIDLength {
			return fmt.Sprintf("must be at most %d characters", MaxIDLength)
		}
		return ""
	})
	if in.FederationClientID != nil {
		a.FederationClientID = *in.FederationClientID
		validate.Text(v, "federation_client_id", a.FederationClientID, "must not be empty; leave it out (or null) for none")
		if utf8.RuneCountInString(a.FederationClientID) > MaxFederationClientID {
			v.Add("federation_client_id", "must be at most %d characters", MaxFederationClientID)
		}
	}
	if m := in.FederationAuthMethod; m != nil {
		a.FederationAuthMethod = *m
		switch {
		case !slices.Contains(federation.AuthMethods, *m):
			v.Add("federation_token_endpoint_auth_method", "must be one of %s", strings.Join(federation.AuthMethods, ", "))
		case in.FederationClientID == nil:
			v.Add("federation_token_endpoint_auth_method", "needs federation_client_id")
		}
	}
	if sec := in.FederationClientSecret; sec != nil {
		switch {
		case in.FederationClientID == nil:
			v.Add("federation_client_secret", "needs federation_client_id")
		case *sec == "" || utf8.RuneCountInString(*sec) > MaxFederationSecret || strings.ContainsFunc(*sec, unicode.IsControl):
			v.Add("federation_client_secret", "must be 1 to %d characters without control characters", MaxFederationSecret)
		}
	}
	return a
}

// checkID checks the id of a referenced server (see idRule).
func checkID(v *problem.ValidationError, field, id string) {
	if msg := idRule(id); msg != "" {
		v.Add(field, "%s", msg)
	}
}

// idRule returns what is wrong with the form of a referenced server's id,
// "" when nothing is.
func idRule(id string) string {
	v := &problem.ValidationError{}
	validate.Text(v, "id", id, "must not be empty; leave it out (or null) for none")
	switch {
	case len(v.Errors) > 0:
		return v.Errors[0].Message
	case utf8.RuneCountInString(id) > MaxIDLength:
		return fmt.Sprintf("must be at most %d characters", MaxIDLength)
	}
	return ""
}

// checkDate checks an optional date and stores it in out; it returns the
// date and whether one was given and valid.
func checkDate(v *problem.ValidationError, field string, in *string, out *string) (time.Time, bool) {
	if in == nil {
		return time.Time{}, false
	}
	*out = *in
	d, err := time.Parse(time.DateOnly, *in)
	if !datePattern.MatchString(*in) || err != nil {
		v.Add(field, "must be a calendar date as YYYY-MM-DD")
		return time.Time{}, false
	}
	return d, true
}

// uriRule returns what is wrong with a URI attribute, "" when nothing is.
func uriRule(s string, httpsOnly bool) string {
	rule := "must be an absolute http:// or https:// URL with a host, without spaces or user info"
	if httpsOnly {
		rule = "must be an absolute https:// URL with a host, without spaces or user info"
	}
	if utf8.RuneCountInString(s) > MaxURILength {
		return fmt.Sprintf("must be at most %d characters", MaxURILength)
	}
	scheme, ok := webScheme(s)
	if !ok || httpsOnly && scheme != "https" {
		return rule
	}
	return ""
}

// webScheme parses s as an absolute http(s) URL with a host and no user
// info, spaces, control characters, '<', '>' or '"', and returns its
// scheme.
func webScheme(s string) (string, bool) {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return "", false
	}
	if strings.ContainsAny(s, "<>\"\\ ") || strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return u.Scheme, true
}

// The operation warnings of a data:image logo whose image cannot be used
// (seed 004's OperationWarning values): the logo is replaced by the
// placeholder (none) and the write goes ahead.
const (
	WarnLogoBadEncoding = "IMAGE_VALIDATION_FAILURE_BAD_DATA_ENCODING_PLACEHOLDER_USED"
	WarnLogoUnsupported = "IMAGE_VALIDATION_FAILURE_UNSUPPORTED_IMAGE_FORMAT_PLACEHOLDER_USED"
	WarnLogoContent     = "IMAGE_VALIDATION_CONTENT_FAILURE_PLACEHOLDER_USED"
	WarnLogoTooLarge    = "IMAGE_VALIDATION_MAX_SIZE_FAILURE_PLACEHOLDER_USED"
)

// dataLogoPattern is seed 004's pattern of a data: logo; one that does not
// match is refused (400), one that matches but holds no usable image is a
// warning.
var dataLogoPattern = regexp.MustCompile(`^data:image/[a-zA-Z0-9;+=-]+,[A-Za-z0-9+/]*={0,2}$`)

// logoWarning is the operation warning of a data: logo that matches seed
// 004's pattern but whose image is not usable ("" otherwise).
func logoWarning(s string) string {
	if !dataLogoPattern.MatchString(s) {
		return ""
	}
	switch validate.DataImageProblem(s) {
	case validate.ImageUnsupported:
		return WarnLogoUnsupported
	case validate.ImageTooLarge:
		return WarnLogoTooLarge
	case validate.ImageBadEncoding:
		return WarnLogoBadEncoding
	case validate.ImageWrongContent:
		return WarnLogoContent
	}
	return ""
}

// logoRule returns what is wrong with a logo URI, "" when nothing is.
func logoRule(s string) string {
	if strings.HasPrefix(s, "data:") {
		return validate.DataImage(s)
	}
	const rule = "must be an http:// or https:// URL of an .svg, .png, .jpg or .jpeg image, or a data:image/png, data:image/jpeg or data:image/svg+xml base64 URI"
	if utf8.RuneCountInString(s) > MaxURILength {
		return fmt.Sprintf("must be at most %d characters long, or a data:image URI", MaxURILength)
	}
	if _, ok := webScheme(s); !ok {
		return rule
	}
	u, _ := url.Parse(s)
	if validate.ImagePath(u.Path) {
		return ""
	}
	return rule
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
