package organisations

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/etag"
	"github.com/partnerapi/partner-api/shared/jsonbody"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/validate"
)

// The colours of hosted pages whose organisation set none: a neutral
// light theme with an accessible blue.
const (
	DefaultPrimaryColour    = "#0B5FFF"
	DefaultSecondaryColour  = "#5C6670"
	DefaultBackgroundColour = "#FFFFFF"
	DefaultTextColour       = "#1F2328"
)

// Limits of a logo.
const (
	// MaxLogoURLLength bounds an https logo URL.
	MaxLogoURLLength = 2048
	// MaxLogoBytes bounds the decoded image of a data:image logo (64 KiB).
	MaxLogoBytes = validate.MaxImageBytes
)

// UIConfigInput is the body of PUT /v1/organisations/{id}/ui-config: the
// whole configuration, absent (or null) attributes taking their defaults.
type UIConfigInput struct {
	DisplayName      *string `json:"display_name"`
	LogoURL          *string `json:"logo_url"`
	PrimaryColour    *string `json:"primary_colour"`
	SecondaryColour  *string `json:"secondary_colour"`
	BackgroundColour *string `json:"background_colour"`
	TextColour       *string `json:"text_colour"`
}

// uiConfigOptions refuses the generated attributes of the representation.
var uiConfigOptions = jsonbody.Options{ReadOnly: []string{"organisation_id", "created_at", "updated_at"}}

var colourPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// DefaultUIConfig is the configuration of an organisation that stored none
// (version 0): its own name, the default logo and the default colours.
func DefaultUIConfig(partnerID, orgID string) store.UIConfig {
	return store.UIConfig{
		PartnerID: partnerID, OrganisationID: orgID,
		PrimaryColour: DefaultPrimaryColour, SecondaryColour: DefaultSecondaryColour,
		BackgroundColour: DefaultBackgroundColour, TextColour: DefaultTextColour,
	}
}

// ResolveUIConfig checks every attribute of in for org, adding each
// violation to v, and returns the configuration to store (without ids,
// times or version), defaults applied:
//
//   - display_name: 1 to 255 characters without '<' or '>'; absent shows the
//     organisation's name.
//   - logo_url: an https URL whose path ends in .svg, .png, .jpg or .jpeg, or
//     a data:image/png, data:image/jpeg or data:image/svg+xml base64 URI of
//     at most 64 KiB decoded, holding an image of that type; allowed only
//     when the organisation's enable_custom_logo is true. Absent shows the
//     default logo.
//   - primary_colour, secondary_colour, background_colour, text_colour:
//     #RRGGBB; absent takes the default.
func ResolveUIConfig(v *problem.ValidationError, in UIConfigInput, org store.Organisation) store.UIConfig {
	c := DefaultUIConfig("", "")
	if in.DisplayName != nil {
		validate.Text(v, "display_name", *in.DisplayName, "must not be empty; leave it out to show the organisation's name")
		c.DisplayName = *in.DisplayName
	}
	if in.LogoURL != nil {
		if msg := logoRule(*in.LogoURL); msg != "" {
			v.Add("logo_url", "%s", msg)
		} else if !org.EnableCustomLogo {
			v.Add("logo_url", "is allowed only when the organisation's enable_custom_logo is true")
		}
		c.LogoURL = *in.LogoURL
	}
	for _, col := range []struct {
		name string
		in   *string
		out  *string
	}{
		{"primary_colour", in.PrimaryColour, &c.PrimaryColour},
		{"secondary_colour", in.SecondaryColour, &c.SecondaryColour},
		{"background_colour", in.BackgroundColour, &c.BackgroundColour},
		{"text_colour", in.TextColour, &c.TextColour},
	} {
		if col.in == nil {
			continue
		}
		if !colourPattern.MatchString(*col.in) {
			v.Add(col.name, "must be a colour as #RRGGBB, e.g. #0B5FFF")
		}
		*col.out = *col.in
	}
	return c
}

// logoRule returns what is wrong with a logo URL, "" when nothing is.
func logoRule(s string) string {
	if strings.HasPrefix(s, "data:") {
		return validate.DataImage(s)
	}
	const rule = "must be an https URL of an .svg, .png, .jpg or .jpeg image, or a data:image/png, data:image/jpeg or data:image/svg+xml base64 URI"
	if len(s) > MaxLogoURLLength {
		return "must be at most 2048 characters long, or a data:image URI"
	}
	if strings.ContainsAny(s, "<>\"'\\ ") || strings.ContainsFunc(s, unicode.IsControl) {
		return rule
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		return rule
	}
	if validate.ImagePath(u.Path) {
		return ""
	}
	return rule
}

// UIConfig returns the hosted-page configuration of the partner's
// organisation id: DefaultUIConfig (version 0) until one is stored.
func (s *Service) UIConfig(ctx context.Context, partnerID, id string) (store.UIConfig, error) {
	_, c, err := s.uiConfig(ctx, partnerID, id)
	return c, err
}

// PutUIConfig replaces the hosted-page configuration of the partner's
// organisation id with body, a UIConfigInput as JSON.
func (s *Service) PutUIConfig(ctx context.Context, partnerID, id string, cond etag.Condition, body []byte) (store.UIConfig, error) {
	org, cur, err := s.uiConfig(ctx, partnerID, id)
	if err != nil {
		return store.UIConfig{}, err
	}
	if err := cond.Check(etag.FromVersion(cur.Version)); err != nil {
		return store.UIConfig{}, err
	}
	v := &problem.ValidationError{}
	var in UIConfigInput
	if err := validate.Decode(v, body, &in, uiConfigOptions); err != nil {
		return store.UIConfig{}, err
	}
	decoded := len(v.Errors)
	next := ResolveUIConfig(v, in, org)
	if err := validate.Settled(v, decoded); err != nil {
		return store.UIConfig{}, err
	}
	now := s.Now().UTC()
	next.PartnerID, next.OrganisationID, next.Version = cur.PartnerID, cur.OrganisationID, cur.Version
	next.CreatedAt, next.UpdatedAt = cur.CreatedAt, now
	if cur.Version == 0 {
		next.CreatedAt = now
	}
	saved, err := s.Store.PutUIConfig(ctx, cur, next)
	return saved, endpoint.Raced(storeError(err), cond)
}

// uiConfig returns the organisation id and its configuration.
func (s *Service) uiConfig(ctx context.Context, partnerID, id string) (store.Organisation, store.UIConfig, error) {
	org, err := s.Get(ctx, partnerID, id)
	if err != nil {
		return store.Organisation{}, store.UIConfig{}, err
	}
	c, err := s.Store.GetUIConfig(ctx, partnerID, org.ID)
	if errors.Is(err, store.ErrNotFound) {
		return org, DefaultUIConfig(partnerID, org.ID), nil
	}
	return org, c, storeError(err)
}
