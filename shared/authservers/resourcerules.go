package authservers

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/validate"
)

// Values and limits of API resources and certifications (seed 004).
const (
	// CertificationAwaiting is the default certification_status.
	CertificationAwaiting = "Awaiting Certification"
	// MaxFamilyType bounds api_family_type; MaxCertificationURI the
	// certification URIs; MaxDiscoveryEndpoints api_discovery_endpoints;
	// MaxMetadataBytes api_metadata, encoded.
	MaxFamilyType         = 128
	MaxCertificationURI   = 500
	MaxDiscoveryEndpoints = 50
	MaxMetadataBytes      = 4 << 10
)

// CertificationStatuses are seed 004's CertificationStatusEnum.
var CertificationStatuses = []string{"Awaiting Certification", "Certified", "Deprecated", "Rejected", "Warning", "Self-Certified"}

var (
	apiVersionPattern = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+)$|^([0-9]+)$`)
	// startDatePattern is seed 004's CertificationStartDate: DD/MM/2YYY.
	startDatePattern = regexp.MustCompile(`^[0-3][0-9]/[0-1][0-9]/2([0-9]{3})$`)
)

// APIResourceInput is the body of POST .../api-resources and PUT
// .../api-resources/{resource_id}, and what a PATCH gives once merged.
type APIResourceInput struct {
	APIFamilyType               string                `json:"api_family_type"`
	APIVersion                  string                `json:"api_version"`
	FamilyComplete              *bool                 `json:"family_complete"`
	APICertificationURI         *string               `json:"api_certification_uri"`
	CertificationStatus         *string               `json:"certification_status"`
	CertificationStartDate      *string               `json:"certification_start_date"`
	CertificationExpirationDate *string               `json:"certification_expiration_date"`
	Status                      *string               `json:"status"`
	APIDiscoveryEndpoints       []DiscoveryEndpointIn `json:"api_discovery_endpoints"`
	APIMetadata                 json.RawMessage       `json:"api_metadata"`
}

// DiscoveryEndpointIn is one API discovery endpoint as given: its id is
// generated when absent.
type DiscoveryEndpointIn struct {
	APIDiscoveryID *string `json:"api_discovery_id"`
	APIEndpoint    string  `json:"api_endpoint"`
}

// ResolveAPIResource checks in (every violation at once, with its path):
//
//   - api_family_type: required, 1 to 128 characters without '<' or '>'.
//   - api_version: required, N.N.N or N.
//   - family_complete: default false.
//   - api_certification_uri: an https:// URL with a host, at most 500.
//   - certification_status: one of CertificationStatuses, default
//     Awaiting Certification.
//   - certification_start_date: DD/MM/YYYY (a real date, year 2000-2999);
//     certification_expiration_date: at most 40 characters without '<' or
//     '>' (seed 004 gives no more), not before the start when both are
//     DD/MM/YYYY dates.
//   - status: Active or Inactive, default Active.
//   - api_discovery_endpoints: at most 50, each api_endpoint an http(s) URL
//     of at most 255 characters; api_discovery_id at most 40 characters
//     without '<' or '>', unique, generated (a UUID) when absent.
//   - api_metadata: a JSON object of at most 4 KiB, or null.
func ResolveAPIResource(v *problem.ValidationError, in APIResourceInput) store.APIResource {
	r := store.APIResource{
		APIFamilyType: in.APIFamilyType, APIVersion: in.APIVersion, CertificationStatus: CertificationAwaiting,
		Status: StatusActive, DiscoveryEndpoints: []store.APIDiscoveryEndpoint{},
	}
	validate.Text(v, "api_family_type", in.APIFamilyType, "is required")
	if utf8.RuneCountInString(in.APIFamilyType) > MaxFamilyType {
		v.Add("api_family_type", "must be at most %d characters", MaxFamilyType)
	}
	if !apiVersionPattern.MatchString(in.APIVersion) {
		v.Add("api_version", "is required: a version N.N.N or N")
	}
	if in.FamilyComplete != nil {
		r.FamilyComplete = *in.FamilyComplete
	}
	certification(v, in.APICertificationURI, "api_certification_uri", &r.APICertificationURI)
	status(v, in.CertificationStatus, in.Status, &r.CertificationStatus, &r.Status)
	dates(v, in.CertificationStartDate, in.CertificationExpirationDate, &r.CertificationStartDate, &r.CertificationExpirationDate)
	if len(in.APIDiscoveryEndpoints) > MaxDiscoveryEndpoints {
		v.Add("api_discovery_endpoints", "must have at most %d endpoints", MaxDiscoveryEndpoints)
	}
	var ids []string
	for i, e := range in.APIDiscoveryEndpoints {
		field := fmt.Sprintf("api_discovery_endpoints[%d]", i)
		out := store.APIDiscoveryEndpoint{ID: uuid.NewString(), Endpoint: e.APIEndpoint}
		if e.APIDiscoveryID != nil {
			out.ID = *e.APIDiscoveryID
			if msg := idRule(out.ID); msg != "" {
				v.Add(field+".api_discovery_id", "%s", msg)
			} else if slices.Contains(ids, out.ID) {
				v.Add(field+".api_discovery_id", "is given twice")
			}
		}
		ids = append(ids, out.ID)
		if msg := uriRule(e.APIEndpoint, false); msg != "" {
			v.Add(field+".api_endpoint", "%s", msg)
		}
		r.DiscoveryEndpoints = append(r.DiscoveryEndpoints, out)
	}
	if m := strings.TrimSpace(string(in.APIMetadata)); m != "" && m != "null" {
		var obj map[string]any
		switch {
		case json.Unmarshal(in.APIMetadata, &obj) != nil || obj == nil:
			v.Add("api_metadata", "must be a JSON object")
		case len(m) > MaxMetadataBytes:
			v.Add("api_metadata", "must be at most %d bytes of JSON", MaxMetadataBytes)
		default:
			compact, _ := json.Marshal(obj)
			r.Metadata = string(compact)
		}
	}
	return r
}

// CertificationInput is the body of POST .../certifications and PUT
// .../certifications/{certification_id}, and what a PATCH gives once merged.
type CertificationInput struct {
	ProfileType                 *string  `json:"profile_type"`
	ProfileVariant              *string  `json:"profile_variant"`
	ProfileVersion              *float64 `json:"profile_version"`
	CertificationURI            *string  `json:"certification_uri"`
	CertificationStatus         *string  `json:"certification_status"`
	CertificationStartDate      *string  `json:"certification_start_date"`
	CertificationExpirationDate *string  `json:"certification_expiration_date"`
	Status                      *string  `json:"status"`
}

// ResolveCertification checks in: profile_type and profile_variant at most
// 255 characters without '<' or '>'; profile_version a number;
// certification_uri an https:// URL of at most 500 characters; the status,
// certification status and dates as ResolveAPIResource says. Seed 004
// requires none of them.
func ResolveCertification(v *problem.ValidationError, in CertificationInput) store.Certification {
	c := store.Certification{CertificationStatus: CertificationAwaiting, Status: StatusActive, ProfileVersion: in.ProfileVersion}
	for _, f := range []struct {
		name string
		in   *string
		out  *string
	}{{"profile_type", in.ProfileType, &c.ProfileType}, {"profile_variant", in.ProfileVariant, &c.ProfileVariant}} {
		if f.in != nil {
			*f.out = *f.in
			validate.Text(v, f.name, *f.in, "must not be empty; leave it out (or null) for none")
		}
	}
	certification(v, in.CertificationURI, "certification_uri", &c.CertificationURI)
	status(v, in.CertificationStatus, in.Status, &c.CertificationStatus, &c.Status)
	dates(v, in.CertificationStartDate, in.CertificationExpirationDate, &c.StartDate, &c.ExpirationDate)
	return c
}

func certification(v *problem.ValidationError, in *string, field string, out *string) {
	if in == nil {
		return
	}
	*out = *in
	switch scheme, ok := webScheme(*in); {
	case utf8.RuneCountInString(*in) > MaxCertificationURI:
		v.Add(field, "must be at most %d characters", MaxCertificationURI)
	case !ok || scheme != "https":
		v.Add(field, "must be an absolute https:// URL with a host, without spaces or user info")
	}
}

func status(v *problem.ValidationError, certIn, statusIn *string, certOut, statusOut *string) {
	if certIn != nil {
		*certOut = *certIn
		if !slices.Contains(CertificationStatuses, *certIn) {
			v.Add("certification_status", "must be one of %s", strings.Join(CertificationStatuses, ", "))
		}
	}
	if statusIn != nil {
		*statusOut = *statusIn
		if *statusIn != StatusActive && *statusIn != StatusInactive {
			v.Add("status", "must be %s or %s", StatusActive, StatusInactive)
		}
	}
}

// dates checks the certification dates (see ResolveAPIResource).
func dates(v *problem.ValidationError, startIn, endIn *string, startOut, endOut *string) {
	var start, end time.Time
	if startIn != nil {
		*startOut = *startIn
		d, err := time.Parse("02/01/2006", *startIn)
		if !startDatePattern.MatchString(*startIn) || err != nil {
			v.Add("certification_start_date", "must be a calendar date as DD/MM/YYYY (year 2000 to 2999)")
		} else {
			start = d
		}
	}
	if endIn != nil {
		*endOut = *endIn
		switch {
		case strings.TrimSpace(*endIn) == "":
			v.Add("certification_expiration_date", "must not be empty; leave it out (or null) for none")
		case utf8.RuneCountInString(*endIn) > MaxIDLength || strings.ContainsAny(*endIn, "<>"):
			v.Add("certification_expiration_date", "must be at most %d characters without '<' or '>'", MaxIDLength)
		default:
			if d, err := time.Parse("02/01/2006", *endIn); err == nil {
				end = d
			}
		}
	}
	if !start.IsZero() && !end.IsZero() && end.Before(start) {
		v.Add("certification_expiration_date", "must not be before certification_start_date (%s)", *startIn)
	}
}

func placeAPIResource(next *store.APIResource, a store.AuthServer, id string, now time.Time, cur *store.APIResource) {
	next.ID, next.PartnerID, next.OrganisationID, next.AuthServerID = id, a.PartnerID, a.OrganisationID, a.ID
	next.CreatedAt, next.UpdatedAt = now, now
	if cur != nil {
		next.CreatedAt, next.Version = cur.CreatedAt, cur.Version
	}
}

func placeCertification(next *store.Certification, a store.AuthServer, id string, now time.Time, cur *store.Certification) {
	next.ID, next.PartnerID, next.OrganisationID, next.AuthServerID = id, a.PartnerID, a.OrganisationID, a.ID
	next.CreatedAt, next.UpdatedAt = now, now
	if cur != nil {
		next.CreatedAt, next.Version = cur.CreatedAt, cur.Version
	}
}

// apiResourceInputOf is the input that would recreate r (PATCH merges into
// it); discovery endpoints keep their ids.
func apiResourceInputOf(r store.APIResource) APIResourceInput {
	in := APIResourceInput{
		APIFamilyType: r.APIFamilyType, APIVersion: r.APIVersion, FamilyComplete: &r.FamilyComplete,
		APICertificationURI: optional(r.APICertificationURI), CertificationStatus: &r.CertificationStatus,
		CertificationStartDate: optional(r.CertificationStartDate), CertificationExpirationDate: optional(r.CertificationExpirationDate),
		Status: &r.Status, APIDiscoveryEndpoints: []DiscoveryEndpointIn{},
	}
	for _, e := range r.DiscoveryEndpoints {
		in.APIDiscoveryEndpoints = append(in.APIDiscoveryEndpoints, DiscoveryEndpointIn{APIDiscoveryID: &e.ID, APIEndpoint: e.Endpoint})
	}
	if r.Metadata != "" {
		in.APIMetadata = json.RawMessage(r.Metadata)
	}
	return in
}

func certificationInputOf(c store.Certification) CertificationInput {
	return CertificationInput{
		ProfileType: optional(c.ProfileType), ProfileVariant: optional(c.ProfileVariant), ProfileVersion: c.ProfileVersion,
		CertificationURI: optional(c.CertificationURI), CertificationStatus: &c.CertificationStatus,
		CertificationStartDate: optional(c.StartDate), CertificationExpirationDate: optional(c.ExpirationDate), Status: &c.Status,
	}
}

// apiResourceJSON is an API resource's representation: unset optional
// attributes are null.
type apiResourceJSON struct {
	APIResourceID               string                       `json:"api_resource_id"`
	AuthorisationServerID       string                       `json:"authorisation_server_id"`
	APIFamilyType               string                       `json:"api_family_type"`
	APIVersion                  string                       `json:"api_version"`
	FamilyComplete              bool                         `json:"family_complete"`
	APICertificationURI         *string                      `json:"api_certification_uri"`
	CertificationStatus         string                       `json:"certification_status"`
	CertificationStartDate      *string                      `json:"certification_start_date"`
	CertificationExpirationDate *string                      `json:"certification_expiration_date"`
	Status                      string                       `json:"status"`
	APIDiscoveryEndpoints       []store.APIDiscoveryEndpoint `json:"api_discovery_endpoints"`
	APIMetadata                 json.RawMessage              `json:"api_metadata"`
	CreatedAt                   string                       `json:"created_at"`
	UpdatedAt                   string                       `json:"updated_at"`
}

func apiResourceRepresentation(r store.APIResource) any {
	meta := json.RawMessage("null")
	if r.Metadata != "" {
		meta = json.RawMessage(r.Metadata)
	}
	return apiResourceJSON{
		APIResourceID: r.ID, AuthorisationServerID: r.AuthServerID, APIFamilyType: r.APIFamilyType, APIVersion: r.APIVersion,
		FamilyComplete: r.FamilyComplete, APICertificationURI: optional(r.APICertificationURI), CertificationStatus: r.CertificationStatus,
		CertificationStartDate: optional(r.CertificationStartDate), CertificationExpirationDate: optional(r.CertificationExpirationDate),
		Status: r.Status, APIDiscoveryEndpoints: r.DiscoveryEndpoints, APIMetadata: meta,
		CreatedAt: timestamp(r.CreatedAt), UpdatedAt: timestamp(r.UpdatedAt),
	}
}

// certificationJSON is a certification's representation.
type certificationJSON struct {
	CertificationID             string   `json:"certification_id"`
	AuthorisationServerID       string   `json:"authorisation_server_id"`
	ProfileType                 *string  `json:"profile_type"`
	ProfileVariant              *string  `json:"profile_variant"`
	ProfileVersion              *float64 `json:"profile_version"`
	CertificationURI            *string  `json:"certification_uri"`
	CertificationStatus         string   `json:"certification_status"`
	CertificationStartDate      *string  `json:"certification_start_date"`
	CertificationExpirationDate *string  `json:"certification_expiration_date"`
	Status                      string   `json:"status"`
	CreatedAt                   string   `json:"created_at"`
	UpdatedAt                   string   `json:"updated_at"`
}

func certificationRepresentation(c store.Certification) any {
	return certificationJSON{
		CertificationID: c.ID, AuthorisationServerID: c.AuthServerID, ProfileType: optional(c.ProfileType),
		ProfileVariant: optional(c.ProfileVariant), ProfileVersion: c.ProfileVersion, CertificationURI: optional(c.CertificationURI),
		CertificationStatus: c.CertificationStatus, CertificationStartDate: optional(c.StartDate),
		CertificationExpirationDate: optional(c.ExpirationDate), Status: c.Status,
		CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt),
	}
}
