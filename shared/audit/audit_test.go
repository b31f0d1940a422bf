package audit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/internal/apptest"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/scope"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// These tests run the whole service (apptest) against DynamoDB Local: the
// changes are made through the real endpoints and the admin service, and
// their records read back through GET /v1/audit-events.

type event struct {
	EventID       string         `json:"event_id"`
	Time          string         `json:"time"`
	Actor         store.Actor    `json:"actor"`
	PartnerID     string         `json:"partner_id"`
	Resource      store.Resource `json:"resource"`
	Action        string         `json:"action"`
	ChangedFields []string       `json:"changed_fields"`
	RequestID     string         `json:"request_id"`
	InteractionID string         `json:"interaction_id"`
	ExpiresAt     string         `json:"expires_at"`
}

// caller is a partner or client of the service under test, with this
// package's helpers.
type caller struct{ *apptest.Caller }

func newPartner(t *testing.T, e *apptest.Env) *caller {
	t.Helper()
	return &caller{apptest.NewPartner(t, e)}
}

// events lists all of the caller's audit events matching q, newest first.
func (c *caller) events(t *testing.T, q url.Values) []event {
	t.Helper()
	return apptest.ListAll(t, func(path string) apptest.Response {
		return c.Do(t, http.MethodGet, path, nil)
	}, "/v1/audit-events?"+q.Encode(), 100, func(e event) string { return e.EventID })
}

// since returns the events newer than the n known ones, oldest first.
func (c *caller) since(t *testing.T, n int) []event {
	t.Helper()
	all := c.events(t, nil)
	fresh := slices.Clone(all[:len(all)-n])
	slices.Reverse(fresh)
	return fresh
}

// tick moves the service clock on, so every record has its own time.
func tick(e *apptest.Env) { e.Clock.Advance(time.Second) }

// TestEveryChangeIsAudited makes one change of every kind and checks that
// each wrote exactly one record with the right fields, that failed changes
// wrote none, and that no secret appears in any record.
func TestEveryChangeIsAudited(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	seen := len(p.events(t, nil))
	if seen != 1 {
		t.Fatalf("got %d records after the partner's creation, want 1", seen)
	}
	const interaction = "0f9c2b6e-4a8d-4c61-9e2a-7b3d5f1a2c44"
	var secrets []string
	secrets = append(secrets, p.Secret)

	tick(e)
	org := p.Must(t, http.StatusCreated, http.MethodPost, "/v1/organisations", map[string]any{"name": "Org"},
		middleware.InteractionIDHeader, interaction)
	orgID := org["id"].(string)
	tick(e)
	p.Must(t, http.StatusOK, http.MethodPatch, "/v1/organisations/"+orgID, `{"name":"Renamed","enabled":false}`)
	tick(e)
	p.Must(t, http.StatusOK, http.MethodPatch, "/v1/organisations/"+orgID, `{"enabled":true}`)
	tick(e)
	p.Must(t, http.StatusPreconditionFailed, http.MethodPatch, "/v1/organisations/"+orgID, `{"name":"Stale"}`, "If-Match", `"1"`)
	tick(e)
	p.Must(t, http.StatusOK, http.MethodPut, "/v1/organisations/"+orgID+"/ui-config", `{"display_name":"A"}`)
	tick(e)
	p.Must(t, http.StatusOK, http.MethodPut, "/v1/organisations/"+orgID+"/ui-config", `{"display_name":"B"}`)
	tick(e)
	cl := p.Must(t, http.StatusCreated, http.MethodPost, "/v1/organisations/"+orgID+"/clients", map[string]any{"name": "Client"})
	clientID := cl["id"].(string)
	secrets = append(secrets, cl["secret"].(string))
	tick(e)
	rot := p.Must(t, http.StatusOK, http.MethodPost, "/v1/clients/"+clientID+"/secret", nil)
	secrets = append(secrets, rot["secret"].(string))
	tick(e)
	ct := p.Login(t, clientID, rot["secret"].(string))
	me := ct.Must(t, http.StatusOK, http.MethodPost, "/v1/clients/me/secret", nil)
	secrets = append(secrets, me["secret"].(string))
	tick(e)
	p.Must(t, http.StatusOK, http.MethodPatch, "/v1/clients/"+clientID, `{"enabled":false}`)
	tick(e)
	as := p.Must(t, http.StatusCreated, http.MethodPost, "/v1/organisations/"+orgID+"/authorisation-servers", map[string]any{
		"auto_registration_supported": false, "customer_friendly_name": "Acme Bank",
		"customer_friendly_description": "Sign in with Acme Bank",
	})
	asPath := "/v1/organisations/" + orgID + "/authorisation-servers/" + as["id"].(string)
	tick(e)
	p.Must(t, http.StatusOK, http.MethodPatch, asPath, `{"customer_friendly_name":"Acme"}`)
	tick(e)
	p.Must(t, http.StatusConflict, http.MethodDelete, "/v1/organisations/"+orgID, nil)
	tick(e)
	p.Must(t, http.StatusNoContent, http.MethodDelete, asPath, nil)
	tick(e)
	p.Must(t, http.StatusNoContent, http.MethodDelete, "/v1/clients/"+clientID, nil)
	tick(e)
	p.Must(t, http.StatusNoContent, http.MethodDelete, "/v1/organisations/"+orgID, nil)
	for _, action := range []string{admin.ActionDisable, admin.ActionEnable, admin.ActionRotate} {
		tick(e)
		resp, err := e.App.Admin().Handle(context.Background(), admin.Request{Action: action, PartnerID: p.ID})
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if resp.ClientSecret != "" {
			secrets = append(secrets, resp.ClientSecret)
			p.Token = e.Token(t, p.ID, resp.ClientSecret, nil)
		}
	}

	partner := store.Actor{Type: store.ActorPartner, ID: p.ID}
	ops := store.Actor{Type: store.ActorAdmin, ID: admin.AdminActorID}
	orgRes := store.Resource{Type: store.ResourceOrganisation, ID: orgID}
	uiRes := store.Resource{Type: store.ResourceUIConfig, ID: orgID}
	clRes := store.Resource{Type: store.ResourceClient, ID: clientID}
	asRes := store.Resource{Type: store.ResourceAuthServer, ID: as["id"].(string)}
	pRes := store.Resource{Type: store.ResourcePartner, ID: p.ID}
	want := []struct {
		actor  store.Actor
		res    store.Resource
		action string
		fields []string // nil: not checked
	}{
		{partner, orgRes, store.ActionCreate, nil},
		{partner, orgRes, store.ActionUpdate, []string{"enabled", "name"}},
		{partner, orgRes, store.ActionUpdate, []string{"enabled"}},
		{partner, uiRes, store.ActionCreate, nil},
		{partner, uiRes, store.ActionUpdate, []string{"display_name"}},
		{partner, clRes, store.ActionCreate, nil},
		{partner, clRes, store.ActionRotateSecret, []string{store.SecretField}},
		{store.Actor{Type: store.ActorClient, ID: clientID}, clRes, store.ActionRotateSecret, []string{store.SecretField}},
		{partner, clRes, store.ActionUpdate, []string{"enabled"}},
		{partner, asRes, store.ActionCreate, nil},
		{partner, asRes, store.ActionUpdate, []string{"customer_friendly_name"}},
		{partner, asRes, store.ActionDelete, []string{}},
		{partner, clRes, store.ActionDelete, []string{}},
		{partner, orgRes, store.ActionDelete, []string{}},
		{ops, pRes, store.ActionDisable, []string{"enabled"}},
		{ops, pRes, store.ActionEnable, []string{"enabled"}},
		{ops, pRes, store.ActionRotateSecret, []string{store.SecretField}},
	}
	got := p.since(t, seen)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Actor != w.actor || g.Resource != w.res || g.Action != w.action || g.PartnerID != p.ID {
			t.Errorf("record %d: got %+v %+v %s of %s, want %+v %+v %s of %s", i, g.Actor, g.Resource, g.Action, g.PartnerID, w.actor, w.res, w.action, p.ID)
		}
		if w.fields != nil && !slices.Equal(g.ChangedFields, w.fields) {
			t.Errorf("record %d (%s %s): got changed fields %q, want %q", i, g.Action, g.Resource.Type, g.ChangedFields, w.fields)
		}
		at, err := time.Parse(time.RFC3339, g.Time)
		if err != nil || !strings.HasSuffix(g.Time, "Z") {
			t.Errorf("record %d: time %q is not RFC 3339 UTC", i, g.Time)
		}
		exp, err := time.Parse(time.RFC3339, g.ExpiresAt)
		if err != nil || !exp.Equal(at.Add(store.DefaultAuditRetention).Truncate(time.Second)) {
			t.Errorf("record %d: expires_at %q, want time + %v", i, g.ExpiresAt, store.DefaultAuditRetention)
		}
		if g.RequestID == "" || (w.actor != ops && g.InteractionID == "") {
			t.Errorf("record %d: request id %q, interaction id %q, want both", i, g.RequestID, g.InteractionID)
		}
		if i > 0 && g.Time <= got[i-1].Time {
			t.Errorf("record %d: time %s not after %s", i, g.Time, got[i-1].Time)
		}
	}
	if got[0].InteractionID != interaction || got[0].RequestID != interaction {
		t.Errorf("create organisation: got interaction id %q, request id %q, want %q for both", got[0].InteractionID, got[0].RequestID, interaction)
	}
	if !slices.Contains(got[5].ChangedFields, store.SecretField) {
		t.Errorf("client create: got changed fields %q, want them to name %s", got[5].ChangedFields, store.SecretField)
	}
	// Creates name API fields too: each is a member of the representation
	// the create answered with (or the secret's name), never a storage
	// attribute such as client_id, partner_id, token_lifetime or scopes.
	for i, body := range map[int]map[string]any{0: org, 5: cl, 9: as} {
		for _, f := range got[i].ChangedFields {
			if _, ok := body[f]; !ok && f != store.SecretField {
				t.Errorf("record %d (%s create): changed field %q is not a field of the API", i, got[i].Resource.Type, f)
			}
		}
		if len(got[i].ChangedFields) == 0 {
			t.Errorf("record %d (%s create): no changed fields", i, got[i].Resource.Type)
		}
	}

	raw := p.Do(t, http.MethodGet, "/v1/audit-events?limit=100", nil).Body
	for _, s := range secrets {
		if strings.Contains(string(raw), s) {
			t.Errorf("a secret appears in the audit records: %s", raw)
		}
	}
	if strings.Contains(string(raw), "secret_hash") {
		t.Errorf("a secret hash is named in the audit records: %s", raw)
	}
}

// TestListing checks the order, the time range and resource filters, paging
// and the parameters' validation.
func TestListing(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	p := newPartner(t, e)
	start := e.Clock.Now().UTC()
	var orgs []string
	for range 5 {
		tick(e)
		o := p.Must(t, http.StatusCreated, http.MethodPost, "/v1/organisations", map[string]any{"name": "Org"})
		orgs = append(orgs, o["id"].(string))
	}
	tick(e)
	p.Must(t, http.StatusOK, http.MethodPatch, "/v1/organisations/"+orgs[1], `{"name":"Renamed"}`)

	all := p.events(t, nil)
	if len(all) != 7 { // the partner's creation, 5 creates, 1 update
		t.Fatalf("got %d records, want 7", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time >= all[i-1].Time {
			t.Errorf("record %d at %s is not older than record %d at %s", i, all[i].Time, i-1, all[i-1].Time)
		}
	}
	for _, limit := range []int{1, 2, 3} {
		paged := apptest.ListAll(t, func(path string) apptest.Response { return p.Do(t, http.MethodGet, path, nil) },
			"/v1/audit-events", limit, func(e event) string { return e.EventID })
		if !slices.EqualFunc(paged, all, func(a, b event) bool { return a.EventID == b.EventID }) {
			t.Errorf("limit %d: paging gave %d records in another order", limit, len(paged))
		}
	}

	// Time range: the 2nd to 4th organisation's creation, bounds inclusive.
	from, to := start.Add(2*time.Second), start.Add(4*time.Second)
	ranged := p.events(t, url.Values{"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}})
	var ids []string
	for _, ev := range ranged {
		ids = append(ids, ev.Resource.ID)
	}
	if want := []string{orgs[3], orgs[2], orgs[1]}; !slices.Equal(ids, want) {
		t.Errorf("from %s to %s: got %q, want %q", from, to, ids, want)
	}

	// Resource: the creation and the update of orgs[1], newest first.
	byRes := p.events(t, url.Values{"resource_id": {orgs[1]}})
	if len(byRes) != 2 || byRes[0].Action != store.ActionUpdate || byRes[1].Action != store.ActionCreate {
		t.Errorf("resource %s: got %+v, want its update then its create", orgs[1], byRes)
	}
	paged := apptest.ListAll(t, func(path string) apptest.Response { return p.Do(t, http.MethodGet, path, nil) },
		"/v1/audit-events?resource_id="+orgs[1], 1, func(e event) string { return e.EventID })
	if len(paged) != 2 {
		t.Errorf("resource %s by pages of 1: got %d records, want 2", orgs[1], len(paged))
	}

	// A cursor is bound to its filter.
	resp := p.Do(t, http.MethodGet, "/v1/audit-events?limit=1", nil)
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	_ = json.Unmarshal(resp.Body, &page)
	apptest.WantProblem(t, p.Do(t, http.MethodGet, "/v1/audit-events?"+url.Values{"cursor": {page.NextCursor}, "resource_id": {orgs[0]}}.Encode(), nil),
		http.StatusBadRequest, "invalid_request", "cursor")

	tests := []struct {
		name, query string
		fields      []string
	}{
		{"bad from", "from=yesterday", []string{"from"}},
		{"bad to", "to=2026-13-01T00:00:00Z", []string{"to"}},
		{"from after to", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", []string{"from"}},
		{"bad limit", "limit=0", []string{"limit"}},
		{"unknown parameter", "sort=asc", []string{"sort"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			apptest.WantProblem(t, p.Do(t, http.MethodGet, "/v1/audit-events?"+tc.query, nil), http.StatusBadRequest, "invalid_request", tc.fields...)
		})
	}
}

// TestIsolationAndAccess: a partner sees only its own records; clients and
// partner tokens without audit:read are refused, unauthenticated calls get 401.
func TestIsolationAndAccess(t *testing.T) {
	e := apptest.New(t, apptest.Options{})
	a, b := newPartner(t, e), newPartner(t, e)
	o := a.Must(t, http.StatusCreated, http.MethodPost, "/v1/organisations", map[string]any{"name": "A's"})
	orgID := o["id"].(string)
	for _, ev := range b.events(t, nil) {
		if ev.PartnerID != b.ID {
			t.Errorf("partner %s sees a record of %s: %+v", b.ID, ev.PartnerID, ev)
		}
	}
	if got := b.events(t, url.Values{"resource_id": {orgID}}); len(got) != 0 {
		t.Errorf("partner %s sees %d records of %s's organisation, want 0", b.ID, len(got), a.ID)
	}
	if got := a.events(t, url.Values{"resource_id": {orgID}}); len(got) != 1 {
		t.Errorf("partner %s sees %d records of its organisation, want 1", a.ID, len(got))
	}

	cl := a.Must(t, http.StatusCreated, http.MethodPost, "/v1/organisations/"+orgID+"/clients", map[string]any{"name": "C"})
	ct := e.Token(t, cl["id"].(string), cl["secret"].(string), nil)
	apptest.WantProblem(t, e.Request(t, ct, http.MethodGet, "/v1/audit-events", nil), http.StatusForbidden, "forbidden")
	narrow := e.Token(t, a.ID, a.Secret, url.Values{"scope": {scope.UsageRead}})
	apptest.WantProblem(t, e.Request(t, narrow, http.MethodGet, "/v1/audit-events", nil), http.StatusForbidden, "forbidden")
	apptest.WantProblem(t, e.Request(t, "", http.MethodGet, "/v1/audit-events", nil), http.StatusUnauthorized, "unauthorized")
	apptest.WantProblem(t, a.Do(t, http.MethodPost, "/v1/audit-events", nil), http.StatusMethodNotAllowed, "method_not_allowed")
}
