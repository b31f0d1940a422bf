package signin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/store"
)

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Theme is the organisation's ui-config as the page uses it, with text
// colours chosen for contrast.
type Theme struct {
	Name       string
	Logo       string
	Primary    string
	OnPrimary  string
	Secondary  string
	Background string
	Text       string
}

// ThemeOf turns ui-config c (of an organisation named orgName) into a
// Theme: the text on the primary colour is black or white, whichever
// contrasts more (WCAG 2.x relative luminance), and the configured text
// colour is replaced the same way when it contrasts less than 4.5:1 with
// the background.
func ThemeOf(c store.UIConfig, orgName string) Theme {
	t := Theme{
		Name: orgName, Logo: c.LogoURL,
		Primary: colour(c.PrimaryColour, "#0B5FFF"), Secondary: colour(c.SecondaryColour, "#5F6B7A"),
		Background: colour(c.BackgroundColour, "#FFFFFF"), Text: colour(c.TextColour, "#1A1A1A"),
	}
	if c.DisplayName != "" {
		t.Name = c.DisplayName
	}
	t.OnPrimary = readableOn(t.Primary)
	if contrast(luminance(t.Text), luminance(t.Background)) < 4.5 {
		t.Text = readableOn(t.Background)
	}
	return t
}

// colour returns c when it is #RRGGBB, else def.
func colour(c, def string) string {
	if len(c) == 7 && c[0] == '#' {
		if _, err := strconv.ParseUint(c[1:], 16, 32); err == nil {
			return c
		}
	}
	return def
}

func readableOn(bg string) string {
	l := luminance(bg)
	if contrast(l, 0) >= contrast(l, 1) {
		return "#000000"
	}
	return "#FFFFFF"
}

// luminance is the WCAG relative luminance of #RRGGBB.
func luminance(hex string) float64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	ch := func(shift uint) float64 {
		c := float64((v>>shift)&0xff) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(16) + 0.7152*ch(8) + 0.0722*ch(0)
}

func contrast(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}

// page is what every template gets.
type page struct {
	Lang, Title, Nonce string
	Theme              Theme
	// sign-in page
	ClientName, Action, Request, CSRF, LoginHint string
	Groups                                       []optionGroup
	// error page
	Message, Reference string
}

type optionGroup struct {
	Title, Note string
	Options     []Option
}

// render writes template name with the security headers of every page:
// a strict CSP (no script at all; the one inline style carries a
// per-response nonce; forms post only to this origin and, since the
// answer to the sign-in form is a redirect to them, to formTargets'
// origins: the client's redirect URI, and the upstream providers offered),
// no framing, no referrer, no caching, no sniffing.
func render(w http.ResponseWriter, r *http.Request, status int, name string, p page, formTargets ...string) {
	p.Nonce = randomID()
	if p.Lang == "" {
		p.Lang = "en"
	}
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, p); err != nil {
		logging.FromContext(r.Context(), nil).ErrorContext(r.Context(), "render page", slog.String("template", name), slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	formAction := "'self'"
	var seen []string
	for _, t := range formTargets {
		if o := origin(t); o != "" && !slices.Contains(seen, o) {
			seen = append(seen, o)
			formAction += " " + o
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", fmt.Sprintf("default-src 'none'; style-src 'nonce-%s'; img-src 'self' data: https:; form-action %s; frame-ancestors 'none'; base-uri 'none'", p.Nonce, formAction))
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// origin is scheme://host[:port] of u, "" when it has none.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" || p.Host == "" || strings.ContainsAny(p.Host, "; '") {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// errorPage renders the HTML error page: status, a title and a message
// safe to show, and the interaction id to quote.
func errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string, theme Theme) {
	if theme.Name == "" {
		theme = ThemeOf(store.UIConfig{}, "Sign in")
	}
	render(w, r, status, "error.html", page{
		Title: title, Theme: theme, Message: message, Reference: middleware.InteractionID(r.Context()),
	})
}
