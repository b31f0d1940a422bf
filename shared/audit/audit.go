// Package audit serves GET /v1/audit-events: a partner's audit records,
// newest first, filtered by time range and resource. The records themselves
// are written by the store in the transaction of each change they record.
package audit

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/partnerapi/partner-api/shared/cursor"
	"github.com/partnerapi/partner-api/shared/endpoint"
	"github.com/partnerapi/partner-api/shared/problem"
	"github.com/partnerapi/partner-api/shared/store"
)

// listKind names audit lists in their cursors.
const listKind = "audit-events"

// Store reads audit records (satisfied by *store.Table). ListAuditEvents
// returns the partner's records newest first after the sort key after, and
// whether more follow; errors wrap store.ErrUnavailable when DynamoDB
// fails.
type Store interface {
	ListAuditEvents(ctx context.Context, partnerID string, f store.AuditFilter, after string, limit int) ([]store.AuditEvent, bool, error)
}

var _ Store = (*store.Table)(nil)

// Operations are the audit log's operations by registry name. They expect
// auth.Require in front (the caller in the context, its access checked by
// the registry's route) and the common middleware around.
func Operations(s Store, cursors *cursor.Codec) endpoint.Operations {
	h := &handler{store: s, cursors: cursors}
	return endpoint.Operations{"listAuditEvents": h.list}
}

type handler struct {
	store   Store
	cursors *cursor.Codec
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	c, err := endpoint.Caller(r.Context())
	if err != nil {
		return err
	}
	f, p, err := parseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	b := cursor.Binding{
		PartnerID: c.PartnerID, List: listKind,
		Filter: url.Values{"from": {stamp(f.From)}, "to": {stamp(f.To)}, "resource_id": {f.ResourceID}}.Encode(),
	}
	page, err := endpoint.ListPage(h.cursors, b, p, store.AuditCursor,
		func(after string, limit int) ([]store.AuditEvent, bool, error) {
			events, more, err := h.store.ListAuditEvents(r.Context(), c.PartnerID, f, after, limit)
			return events, more, endpoint.StoreError(err)
		})
	if err != nil {
		return err
	}
	endpoint.WriteList(w, page, representation)
	return nil
}

// parseQuery reads from, to (RFC 3339, optional, from not after to),
// resource_id and the paging parameters, reporting every violation at once.
func parseQuery(q url.Values) (store.AuditFilter, endpoint.Paging, error) {
	v := &problem.ValidationError{}
	p := endpoint.ListParams(v, q, "from", "to", "resource_id")
	var f store.AuditFilter
	for _, b := range []struct {
		name string
		at   *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		raw := q.Get(b.name)
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			v.Add(b.name, "must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z")
			continue
		}
		*b.at = t.UTC()
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		v.Add("from", "must not be after to")
	}
	f.ResourceID = q.Get("resource_id")
	if len(f.ResourceID) > 255 {
		v.Add("resource_id", "must be at most 255 characters")
	}
	return f, p, v.Err()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

type eventJSON struct {
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

func representation(e store.AuditEvent) eventJSON {
	fields := e.ChangedFields
	if fields == nil {
		fields = []string{}
	}
	return eventJSON{
		EventID: e.EventID, Time: e.Time.UTC().Format(time.RFC3339Nano), Actor: e.Actor, PartnerID: e.PartnerID,
		Resource: e.Resource, Action: e.Action, ChangedFields: fields, RequestID: e.RequestID,
		InteractionID: e.InteractionID, ExpiresAt: e.ExpiresAt.UTC().Format(time.RFC3339),
	}
}
