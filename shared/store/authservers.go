package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeAuthServer = "authorisation_server"

// AuthServer is an authorisation server an organisation runs, as a trust
// directory registers it. Optional strings are "" when unset.
//
// RefCount is kept by the store in the same transaction as the change it
// counts: how many references (parent or superseded-by, from other servers
// of the organisation) point at this server. It must be zero to delete it.
type AuthServer struct {
	ID                                  string   `dynamodbav:"authorisation_server_id"`
	PartnerID                           string   `dynamodbav:"partner_id"`
	OrganisationID                      string   `dynamodbav:"organisation_id"`
	AutoRegistrationSupported           bool     `dynamodbav:"auto_registration_supported"`
	AutoRegistrationNotificationWebhook string   `dynamodbav:"auto_registration_notification_webhook,omitempty"`
	CustomerFriendlyDescription         string   `dynamodbav:"customer_friendly_description"`
	CustomerFriendlyLogoURI             string   `dynamodbav:"customer_friendly_logo_uri,omitempty"`
	CustomerFriendlyName                string   `dynamodbav:"customer_friendly_name"`
	DeveloperPortalURI                  string   `dynamodbav:"developer_portal_uri,omitempty"`
	TermsOfServiceURI                   string   `dynamodbav:"terms_of_service_uri,omitempty"`
	NotificationWebhook                 string   `dynamodbav:"notification_webhook,omitempty"`
	OpenIDDiscoveryDocument             string   `dynamodbav:"openid_discovery_document,omitempty"`
	PayloadSigningCertLocationURI       string   `dynamodbav:"payload_signing_cert_location_uri,omitempty"`
	ParentID                            string   `dynamodbav:"parent_authorisation_server_id,omitempty"`
	DeprecatedDate                      string   `dynamodbav:"deprecated_date,omitempty"`
	RetirementDate                      string   `dynamodbav:"retirement_date,omitempty"`
	SupersededByID                      string   `dynamodbav:"superseded_by_authorisation_server_id,omitempty"`
	FederationID                        string   `dynamodbav:"federation_id,omitempty"`
	FederationEndpoint                  string   `dynamodbav:"federation_endpoint,omitempty"`
	Flags                               []string `dynamodbav:"flags"`
	Status                              string   `dynamodbav:"status"`
	SupportsCIBA                        bool     `dynamodbav:"supports_ciba"`
	SupportsDCR                         bool     `dynamodbav:"supports_dcr"`
	SupportsRedirect                    bool     `dynamodbav:"supports_redirect"`
	// NotificationWebhookStatus is seed 004's: Pending from the day
	// notification_webhook is set or changed (NotificationWebhookAddedDate,
	// YYYY-MM-DD) until the webhook is confirmed; "" without a webhook.
	NotificationWebhookStatus    string `dynamodbav:"notification_webhook_status,omitempty"`
	NotificationWebhookAddedDate string `dynamodbav:"notification_webhook_added_date,omitempty"`
	// LogoWarning is seed 004's operation warning of the last write when it
	// replaced an unusable data:image logo by the placeholder (no logo).
	LogoWarning string `dynamodbav:"logo_warning,omitempty"`
	// ProviderGroups are the provider groups the server belongs to: the
	// sign-in page offers it to a client whose organisation's (and own)
	// allowed_provider_groups name one of them.
	ProviderGroups []string `dynamodbav:"provider_groups,omitempty"`
	// Discovery is what the server's OpenID discovery document said when
	// last fetched (empty when never fetched successfully).
	Discovery Discovery `dynamodbav:"discovery,omitempty"`
	// FederationClientID is the client id the service is registered
	// under at the server; FederationSecret the client secret, encrypted
	// with KMS (never decrypted but to sign a user in).
	FederationClientID string `dynamodbav:"federation_client_id,omitempty"`
	// FederationAuthMethod is how the service authenticates at the
	// server's token endpoint ("" automatic: see federation.RelyingParty).
	FederationAuthMethod string    `dynamodbav:"federation_token_endpoint_auth_method,omitempty"`
	FederationSecret     []byte    `dynamodbav:"federation_client_secret_ciphertext,omitempty"`
	RefCount             int64     `dynamodbav:"ref_count"`
	CreatedAt            time.Time `dynamodbav:"created_at"`
	UpdatedAt            time.Time `dynamodbav:"updated_at"`
	Version              int64     `dynamodbav:"version"`
}

// Discovery is the part of an OpenID Provider's discovery document the
// service relies on, and the outcome of the last fetch.
type Discovery struct {
	Issuer                   string   `dynamodbav:"issuer,omitempty"`
	AuthorizationEndpoint    string   `dynamodbav:"authorization_endpoint,omitempty"`
	TokenEndpoint            string   `dynamodbav:"token_endpoint,omitempty"`
	UserinfoEndpoint         string   `dynamodbav:"userinfo_endpoint,omitempty"`
	JWKSURI                  string   `dynamodbav:"jwks_uri,omitempty"`
	SigningAlgs              []string `dynamodbav:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethods []string `dynamodbav:"token_endpoint_auth_methods_supported,omitempty"`
	ScopesSupported          []string `dynamodbav:"scopes_supported,omitempty"`
	FetchedAt                string   `dynamodbav:"fetched_at,omitempty"` // RFC 3339
	// Warning is the operation warning code of the last fetch's problem
	// and Error the problem described ("" when it had none).
	Warning string `dynamodbav:"warning,omitempty"`
	Error   string `dynamodbav:"error,omitempty"`
}

// Usable reports whether d holds what a sign-in at the server needs.
func (d Discovery) Usable() bool {
	return d.Issuer != "" && d.AuthorizationEndpoint != "" && d.TokenEndpoint != "" && d.JWKSURI != ""
}

// References lists the ids of the servers a references (parent, then
// superseded-by), without empty ones; an id named twice is listed twice.
func (a AuthServer) References() []string {
	var out []string
	for _, id := range []string{a.ParentID, a.SupersededByID} {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

type authServerItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	AuthServer
}

// Key builders: the only places authorisation server keys are spelled out.

func authServerPrefix(orgID string) string { return "AS#" + orgID + "#" }

func authServerSK(orgID, id string) string { return authServerPrefix(orgID) + id }

func authServerKey(partnerID, orgID, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: orgPK(partnerID)},
		AttrSK: &types.AttributeValueMemberS{Value: authServerSK(orgID, id)},
	}
}

// authServerMutable are the attributes UpdateAuthServer rewrites. Keys,
// ref_count and created_at are never touched by an update.
var authServerMutable = []string{
	"auto_registration_supported", "auto_registration_notification_webhook", "customer_friendly_description",
	"customer_friendly_logo_uri", "customer_friendly_name", "developer_portal_uri", "terms_of_service_uri",
	"notification_webhook", "openid_discovery_document", "payload_signing_cert_location_uri",
	"parent_authorisation_server_id", "deprecated_date", "retirement_date", "superseded_by_authorisation_server_id",
	"federation_id", "federation_endpoint", "flags", "status", "supports_ciba", "supports_dcr", "supports_redirect",
	"notification_webhook_status", "notification_webhook_added_date", "logo_warning", "provider_groups", "discovery", "federation_client_id", "federation_token_endpoint_auth_method", "federation_client_secret_ciphertext", "updated_at",
}

// GetAuthServer returns the authorisation server id of the partner's
// organisation orgID, read consistently (pattern 15), or an error wrapping
// ErrNotFound. Another partner's or organisation's server is never
// found: both are part of the key.
func (t *Table) GetAuthServer(ctx context.Context, partnerID, orgID, id string) (AuthServer, error) {
	var it authServerItem
	if err := t.getItem(ctx, authServerKey(partnerID, orgID, id), &it); err != nil {
		return AuthServer{}, fmt.Errorf("get authorisation server %s: %w", id, err)
	}
	return it.AuthServer, nil
}

// ListAuthServers returns up to limit authorisation servers of the
// partner's organisation orgID in id order, starting after the server id
// after ("" for the first page), and whether more follow (pattern 16, read
// consistently).
//
// Errors: ErrUnavailable when DynamoDB throttles; an organisation without servers (or none at all) gives an empty page.
func (t *Table) ListAuthServers(ctx context.Context, partnerID, orgID, after string, limit int) ([]AuthServer, bool, error) {
	var start map[string]types.AttributeValue
	if after != "" {
		start = authServerKey(partnerID, orgID, after)
	}
	items, more, err := t.queryPage(ctx, t.authServersQuery(partnerID, orgID), start, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list authorisation servers of %s: %w", orgID, err)
	}
	list, err := decodeAuthServers(items)
	if err != nil {
		return nil, false, fmt.Errorf("list authorisation servers of %s: %w", orgID, err)
	}
	return list, more, nil
}

// OrganisationAuthServers returns every authorisation server of the
// partner's organisation orgID, read consistently (pattern 16, all pages).
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) OrganisationAuthServers(ctx context.Context, partnerID, orgID string) ([]AuthServer, error) {
	var items []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(t.db, t.authServersQuery(partnerID, orgID))
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("authorisation servers of %s: %w", orgID, unavailable(err))
		}
		items = append(items, page.Items...)
	}
	list, err := decodeAuthServers(items)
	if err != nil {
		return nil, fmt.Errorf("authorisation servers of %s: %w", orgID, err)
	}
	return list, nil
}

func (t *Table) authServersQuery(partnerID, orgID string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              aws.String(t.name),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: orgPK(partnerID)},
			":prefix": &types.AttributeValueMemberS{Value: authServerPrefix(orgID)},
		},
		ConsistentRead: aws.Bool(true),
	}
}

// CreateAuthServer stores a as a new authorisation server at version 1 with
// no references to it. The same transaction counts it on its organisation
// (auth_server_count, which DeleteOrganisation requires to be zero) on
// condition that the organisation exists, and counts a reference on each
// server a references on condition that it exists.
//
// Errors: ErrNotFound when the organisation is missing; a *ConflictError
// with ConflictIDTaken when a.ID exists, ConflictOrganisationChanged when
// the organisation changed meanwhile, ConflictReferenceGone (naming it) when
// a referenced server was deleted meanwhile; ErrUnavailable when DynamoDB
// throttles.
func (t *Table) CreateAuthServer(ctx context.Context, a AuthServer) (AuthServer, error) {
	a.Version, a.RefCount = 1, 0
	item, err := authServerItemMap(a)
	if err != nil {
		return AuthServer{}, fmt.Errorf("create authorisation server %s: %w", a.ID, err)
	}
	x := &txn{}
	x.add(t.txPut(item, "attribute_not_exists(pk)", nil, nil), func() error {
		return &ConflictError{Reason: ConflictIDTaken, Entity: EntityAuthServer, ID: a.ID}
	})
	x.addExplained(t.authServerCountChange(a.PartnerID, a.OrganisationID, 1), authServerOrgGone(a))
	t.addRefChanges(x, a, refDeltas(nil, a.References()))
	if err := t.audit(ctx, x, a.PartnerID, authServerResource(a.ID), ActionCreate, changedFields(nil, item)); err != nil {
		return AuthServer{}, fmt.Errorf("create authorisation server %s: %w", a.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return AuthServer{}, fmt.Errorf("create authorisation server %s: %w", a.ID, err)
	}
	return a, nil
}

// UpdateAuthServer writes the mutable attributes of next over the stored
// server if it is at next.Version (cur.Version), and increments the version.
// cur is the server as read: the references that next drops are uncounted and those it
// adds counted, on condition that their servers exist, in the same
// transaction.
//
// Errors: ErrNotFound when the server is missing; a *VersionError (with the
// current version) when it is not at next.Version; a *ConflictError with
// ConflictReferenceGone (naming it) when a newly referenced server was
// deleted meanwhile, ConflictChanged otherwise; ErrUnavailable when
// DynamoDB throttles.
func (t *Table) UpdateAuthServer(ctx context.Context, cur, next AuthServer) (AuthServer, error) {
	expected := next.Version
	next.Version++
	next.RefCount = cur.RefCount
	item, err := authServerItemMap(next)
	if err != nil {
		return AuthServer{}, fmt.Errorf("update authorisation server %s: %w", next.ID, err)
	}
	x := &txn{}
	x.addExplained(x.built(t.txUpdateBuilt(authServerKey(next.PartnerID, next.OrganisationID, next.ID),
		setOrRemove(item, authServerMutable, next.Version), exists().And(atVersion(expected)))), authServerChanged(cur))
	t.addRefChanges(x, next, refDeltas(cur.References(), next.References()))
	prev, err := authServerItemMap(cur)
	if err != nil {
		return AuthServer{}, fmt.Errorf("update authorisation server %s: %w", next.ID, err)
	}
	if err := t.auditUpdate(ctx, x, next.PartnerID, authServerResource(next.ID), prev, item); err != nil {
		return AuthServer{}, fmt.Errorf("update authorisation server %s: %w", next.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return AuthServer{}, fmt.Errorf("update authorisation server %s: %w", next.ID, err)
	}
	return next, nil
}

// DeleteAuthServer deletes a, uncounts it from its organisation and
// uncounts its references, on condition that it is still at a.Version and
// no other server references it.
//
// Errors: ErrNotFound when the server or its organisation is missing; a
// *VersionError (with the current version) when it is not at a.Version; a
// *ConflictError with ConflictResourcesRemain while it has API resources or
// certifications, ConflictReferenced when other servers still reference
// it (IDs names them, read after the failure; empty when none is left by
// then), ConflictOrganisationChanged when the organisation changed
// meanwhile; ErrUnavailable when DynamoDB throttles.
func (t *Table) DeleteAuthServer(ctx context.Context, a AuthServer) error {
	x := &txn{}
	x.addExplained(t.txDelete(authServerKey(a.PartnerID, a.OrganisationID, a.ID),
		"attribute_exists(pk) AND #version = :expected AND (attribute_not_exists(ref_count) OR ref_count = :zero)"+
			" AND (attribute_not_exists(#children) OR #children = :zero)",
		map[string]string{"#version": "version", "#children": serverChildCountAttr},
		map[string]types.AttributeValue{":expected": numberValue(a.Version), ":zero": numberValue(0)},
	), func(old map[string]types.AttributeValue) error {
		if err := authServerChanged(a)(old); !IsConflict(err, ConflictChanged) {
			return err
		}
		if n := counter(old, serverChildCountAttr); n > 0 {
			return &ConflictError{Reason: ConflictResourcesRemain, Entity: EntityAuthServer, ID: a.ID, Servers: n}
		}
		// Still at its version, so the reference count failed the
		// condition: name the servers that reference it.
		ids, err := t.ReferencingAuthServers(ctx, a)
		if err != nil {
			return err
		}
		return &ConflictError{Reason: ConflictReferenced, Entity: EntityAuthServer, ID: a.ID, IDs: ids}
	})
	x.addExplained(t.authServerCountChange(a.PartnerID, a.OrganisationID, -1), authServerOrgGone(a))
	t.addRefChanges(x, a, refDeltas(a.References(), nil))
	if err := t.audit(ctx, x, a.PartnerID, authServerResource(a.ID), ActionDelete, nil); err != nil {
		return fmt.Errorf("delete authorisation server %s: %w", a.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return fmt.Errorf("delete authorisation server %s: %w", a.ID, err)
	}
	return nil
}

// ReferencingAuthServers returns the ids, sorted, of the servers of a's
// organisation that reference a as parent or superseded-by, read
// consistently.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) ReferencingAuthServers(ctx context.Context, a AuthServer) ([]string, error) {
	all, err := t.OrganisationAuthServers(ctx, a.PartnerID, a.OrganisationID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range all {
		if slices.Contains(s.References(), a.ID) {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// refDeltas is the change of reference count of each server id when the
// references before become after (zero changes left out).
func refDeltas(before, after []string) map[string]int64 {
	d := map[string]int64{}
	for _, id := range before {
		d[id]--
	}
	for _, id := range after {
		d[id]++
	}
	maps.DeleteFunc(d, func(_ string, n int64) bool { return n == 0 })
	return d
}

// addRefChanges adds to x the reference count changes of the servers of a's
// organisation, in id order, each on condition that its server exists (an
// ADD on a missing key would create a stray item). A server cannot be
// deleted while counted, so only a grown count can meet a missing server.
func (t *Table) addRefChanges(x *txn, a AuthServer, deltas map[string]int64) {
	for _, id := range slices.Sorted(maps.Keys(deltas)) {
		x.add(t.txUpdate(authServerKey(a.PartnerID, a.OrganisationID, id), "ADD ref_count :d", "attribute_exists(pk)", nil,
			map[string]types.AttributeValue{":d": numberValue(deltas[id])}), func() error {
			return &ConflictError{Reason: ConflictReferenceGone, Entity: EntityAuthServer, ID: id}
		})
	}
}

// authServerCountChange is the item of a server's create (delta 1) or
// delete (delta -1) that keeps its organisation's auth_server_count, on
// condition that the organisation exists.
func (t *Table) authServerCountChange(partnerID, orgID string, delta int64) types.TransactWriteItem {
	return t.txUpdate(orgKey(partnerID, orgID), "ADD auth_server_count :d", "attribute_exists(pk)", nil,
		map[string]types.AttributeValue{":d": numberValue(delta)})
}

// authServerOrgGone explains a failed condition on a's organisation from
// old, the organisation then: gone (ErrNotFound) or changed
// (ConflictOrganisationChanged).
func authServerOrgGone(a AuthServer) explainFunc {
	return func(old map[string]types.AttributeValue) error {
		if old == nil {
			return ErrNotFound
		}
		return &ConflictError{Reason: ConflictOrganisationChanged, Entity: EntityOrganisation, ID: a.OrganisationID}
	}
}

// authServerChanged explains a failed condition on the stored a from old,
// the item then: gone (ErrNotFound), another version (*VersionError), or
// else ConflictChanged.
func authServerChanged(a AuthServer) explainFunc {
	return func(old map[string]types.AttributeValue) error {
		var cur authServerItem
		if err := decodeOld(old, &cur); err != nil {
			return err
		}
		if cur.Version != a.Version {
			return &VersionError{Entity: EntityAuthServer, ID: a.ID, Current: cur.Version}
		}
		return &ConflictError{Reason: ConflictChanged, Entity: EntityAuthServer, ID: a.ID}
	}
}

func authServerResource(id string) Resource { return Resource{Type: ResourceAuthServer, ID: id} }

func authServerItemMap(a AuthServer) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(authServerItem{
		PK: orgPK(a.PartnerID), SK: authServerSK(a.OrganisationID, a.ID), Type: typeAuthServer, AuthServer: a,
	})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return item, nil
}

func decodeAuthServers(items []map[string]types.AttributeValue) ([]AuthServer, error) {
	list := make([]AuthServer, 0, len(items))
	for _, item := range items {
		var it authServerItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if it.Type != typeAuthServer {
			return nil, errors.New("decode: not an authorisation server item")
		}
		list = append(list, it.AuthServer)
	}
	return list, nil
}
