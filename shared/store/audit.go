// Audit records: one is written in the transaction of every change it
// records (pattern 12), and listed newest first per partner (pattern 13) or
// per resource (pattern 14).

package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// Actor types of audit records. ActorSystem marks a write made outside any
// request (local set-up, tests).
const (
	ActorPartner = "partner"
	ActorClient  = "client"
	ActorAdmin   = "admin"
	ActorSystem  = "system"
)

// Actions of audit records.
const (
	ActionCreate       = "create"
	ActionUpdate       = "update"
	ActionDelete       = "delete"
	ActionRotateSecret = "rotate_secret"
	ActionEnable       = "enable"
	ActionDisable      = "disable"
)

// Resource types of audit records.
const (
	ResourceOrganisation = "organisation"
	ResourceUIConfig     = "ui_config"
	ResourceClient       = "client"
	ResourceAuthServer   = "authorisation_server"
	ResourcePartner      = "partner"
)

// DefaultAuditRetention is how long audit records live unless
// WithAuditRetention says otherwise.
const DefaultAuditRetention = 400 * 24 * time.Hour

// SecretField is the changed-field name of any change of a credential: the
// hashes themselves are never named, let alone recorded.
const SecretField = "client_secret"

const typeAudit = "audit"

// Actor is who made a change.
type Actor struct {
	Type string `dynamodbav:"type" json:"type"`
	ID   string `dynamodbav:"id" json:"id"`
}

// Origin is who makes the changes of a request and which request it is. The
// request's middleware puts it in the context (WithOrigin); every write of
// the store records it.
type Origin struct {
	Actor         Actor
	RequestID     string
	InteractionID string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin in ctx; outside a request, the system actor.
func OriginFrom(ctx context.Context) Origin {
	if o, ok := ctx.Value(originKey{}).(Origin); ok {
		return o
	}
	return Origin{Actor: Actor{Type: ActorSystem}}
}

// Resource is what a change was made to.
type Resource struct {
	Type string `dynamodbav:"type" json:"type"`
	ID   string `dynamodbav:"id" json:"id"`
}

// AuditEvent is one audit record. ChangedFields names the fields a change
// set, never their values.
type AuditEvent struct {
	EventID       string    `dynamodbav:"event_id"`
	Time          time.Time `dynamodbav:"time"`
	Actor         Actor     `dynamodbav:"actor"`
	PartnerID     string    `dynamodbav:"partner_id"`
	Resource      Resource  `dynamodbav:"resource"`
	Action        string    `dynamodbav:"action"`
	ChangedFields []string  `dynamodbav:"changed_fields"`
	RequestID     string    `dynamodbav:"request_id"`
	InteractionID string    `dynamodbav:"interaction_id"`
	ExpiresAt     time.Time `dynamodbav:"expires_at,unixtime"`
}

type auditItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	GSI1PK  string `dynamodbav:"gsi1pk"`
	GSI1SK  string `dynamodbav:"gsi1sk"`
	Type    string `dynamodbav:"type"`
	Version int64  `dynamodbav:"version"`
	AuditEvent
}

// auditTimeLayout is RFC 3339 at fixed width, so sort keys order by time.
const auditTimeLayout = "2006-01-02T15:04:05.000000000Z"

func auditPK(partnerID string) string { return "AUDIT#" + partnerID }

func auditResourcePK(partnerID, resourceID string) string {
	return auditPK(partnerID) + "#" + resourceID
}

func auditSK(at time.Time, eventID string) string {
	return at.UTC().Format(auditTimeLayout) + "#" + eventID
}

// AuditFilter narrows a list of audit records: From and To (inclusive; zero
// for no bound) and one resource id ("" for all).
type AuditFilter struct {
	From, To   time.Time
	ResourceID string
}

// ListAuditEvents returns up to limit of the partner's audit records
// matching f, newest first, starting after the record whose sort key is
// after ("" for the first page), and whether more follow. The resource
// filter reads GSI1 and is eventually consistent.
//
// Errors: ErrUnavailable when DynamoDB throttles; no records is an empty page, not an error.
func (t *Table) ListAuditEvents(ctx context.Context, partnerID string, f AuditFilter, after string, limit int) ([]AuditEvent, bool, error) {
	lo, hi := "0", "~"
	if !f.From.IsZero() {
		lo = f.From.UTC().Format(auditTimeLayout)
	}
	if !f.To.IsZero() {
		hi = f.To.UTC().Format(auditTimeLayout) + "~"
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(t.name),
		KeyConditionExpression:    aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(auditPK(partnerID)), ":lo": s(lo), ":hi": s(hi)},
		ScanIndexForward:          aws.Bool(false),
	}
	var start map[string]types.AttributeValue
	if after != "" {
		start = map[string]types.AttributeValue{AttrPK: s(auditPK(partnerID)), AttrSK: s(after)}
	}
	if f.ResourceID != "" {
		in.IndexName = aws.String(IndexGSI1)
		in.KeyConditionExpression = aws.String("gsi1pk = :pk AND gsi1sk BETWEEN :lo AND :hi")
		in.ExpressionAttributeValues[":pk"] = s(auditResourcePK(partnerID, f.ResourceID))
		if start != nil {
			start[AttrGSI1PK], start[AttrGSI1SK] = s(auditResourcePK(partnerID, f.ResourceID)), s(after)
		}
	}
	items, more, err := t.queryPage(ctx, in, start, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list audit events: %w", err)
	}
	out := make([]AuditEvent, 0, len(items))
	for _, item := range items {
		var a auditItem
		if err := attributevalue.UnmarshalMap(item, &a); err != nil {
			return nil, false, fmt.Errorf("list audit events: decode: %w", err)
		}
		out = append(out, a.AuditEvent)
	}
	return out, more, nil
}

// AuditCursor is the sort key of e, the after of the next page.
func AuditCursor(e AuditEvent) string { return auditSK(e.Time, e.EventID) }

// audit adds to x the record of a change by ctx's origin: action on res of
// partnerID, setting fields.
func (t *Table) audit(ctx context.Context, x *txn, partnerID string, res Resource, action string, fields []string) error {
	o := OriginFrom(ctx)
	now := t.now().UTC()
	e := AuditEvent{
		EventID: uuid.NewString(), Time: now, Actor: o.Actor, PartnerID: partnerID, Resource: res,
		Action: action, ChangedFields: apiFields(res.Type, fields), RequestID: o.RequestID, InteractionID: o.InteractionID,
		ExpiresAt: now.Add(t.auditRetention).Truncate(time.Second),
	}
	if e.ChangedFields == nil {
		e.ChangedFields = []string{}
	}
	sk := auditSK(now, e.EventID)
	item, err := attributevalue.MarshalMap(auditItem{
		PK: auditPK(partnerID), SK: sk, GSI1PK: auditResourcePK(partnerID, res.ID), GSI1SK: sk,
		Type: typeAudit, Version: 1, AuditEvent: e,
	})
	if err != nil {
		return fmt.Errorf("encode audit record: %w", err)
	}
	x.add(t.txPut(item, "attribute_not_exists(pk)", nil, nil), nil)
	return nil
}

// auditUpdate adds to x the record of a write of res turning the item
// before into after: an update naming the fields that differ, or, for a
// credential, a rotation; turning a partner on or off is its own action.
func (t *Table) auditUpdate(ctx context.Context, x *txn, partnerID string, res Resource, before, after map[string]types.AttributeValue) error {
	fields := changedFields(before, after)
	action := ActionUpdate
	switch {
	case slices.Contains(fields, SecretField):
		action = ActionRotateSecret
	case res.Type == ResourcePartner && slices.Equal(fields, []string{"enabled"}):
		action = ActionDisable
		if v, ok := after["enabled"].(*types.AttributeValueMemberBOOL); ok && v.Value {
			action = ActionEnable
		}
	}
	return t.audit(ctx, x, partnerID, res, action, fields)
}

// unaudited are the attributes the store keeps for itself: keys, counters
// and bookkeeping, never named as changed.
var unaudited = map[string]bool{
	AttrPK: true, AttrSK: true, AttrGSI1PK: true, AttrGSI1SK: true, "type": true, "version": true,
	"created_at": true, "updated_at": true, "child_count": true, "client_count": true,
	"auth_server_count": true, "child_seq": true, "ref_count": true, "child_resource_count": true, "path": true, "kind": true,
}

// FederationSecretField is the changed-field name of an authorisation
// server's federation client secret (its ciphertext is never named).
const FederationSecretField = "federation_client_secret"

const federationSecretAttr = "federation_client_secret_ciphertext"

// secretAttrs are the secret attributes and the changed-field name of
// each: a client's credentials are SecretField, an authorisation server's
// federation secret FederationSecretField.
var secretAttrs = map[string]string{
	"secret_hash": SecretField, "previous_secret_hash": SecretField, "previous_secret_expires_at": SecretField,
	federationSecretAttr: FederationSecretField,
}

// idAttrs are the stored id attribute of each resource type.
var idAttrs = map[string]string{
	ResourceOrganisation: "organisation_id", ResourceAuthServer: "authorisation_server_id",
	ResourceClient: "client_id", ResourcePartner: "client_id",
}

// apiFields names the changed attributes of a resource of type resType as
// the API names its fields: the stored id attribute is the resource's "id",
// token_lifetime is access_token_lifetime, and the owner (partner_id) and
// derived attributes (scopes, the union of additional_scopes and
// required_scopes, which are named themselves) are left out. Sorted.
func apiFields(resType string, attrs []string) []string {
	idAttr := idAttrs[resType]
	out := make([]string, 0, len(attrs))
	for _, a := range attrs {
		switch {
		case a == "partner_id" || a == "scopes":
			continue
		case a == idAttr:
			a = "id"
		case a == "token_lifetime":
			a = "access_token_lifetime"
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// changedFields names, sorted, the attributes that differ between before
// and after (nil before: every attribute after sets).
func changedFields(before, after map[string]types.AttributeValue) []string {
	var out []string
	seen := func(name string) {
		if unaudited[name] {
			return
		}
		if field, ok := secretAttrs[name]; ok {
			name = field
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for name, v := range after {
		if !sameValue(v, before[name]) {
			seen(name)
		}
	}
	for name, v := range before {
		if _, ok := after[name]; !ok && !sameValue(v, nil) {
			seen(name)
		}
	}
	slices.Sort(out)
	return out
}

// sameValue reports whether a and b are the same value, an absent
// attribute, NULL and an empty list, set or map being the same (no value).
func sameValue(a, b types.AttributeValue) bool {
	if empty(a) || empty(b) {
		return empty(a) && empty(b)
	}
	return reflect.DeepEqual(a, b)
}

func empty(v types.AttributeValue) bool {
	switch v := v.(type) {
	case nil, *types.AttributeValueMemberNULL:
		return true
	case *types.AttributeValueMemberL:
		return len(v.Value) == 0
	case *types.AttributeValueMemberSS:
		return len(v.Value) == 0
	case *types.AttributeValueMemberM:
		return len(v.Value) == 0
	case *types.AttributeValueMemberS:
		return v.Value == ""
	}
	return false
}
