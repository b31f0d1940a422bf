package store

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeClientLink = "client_link"

// Client is an organisation's OAuth 2.0 client. It is stored as its
// principal item (pattern 1), which the token endpoint reads, with the
// attributes only the management API uses on the same item: one item, so a
// client's credential and settings change together.
//
// Principal.Scopes holds the scopes the client's tokens may carry, the union
// of RequiredScopes and AdditionalScopes; the writer keeps it so.
type Client struct {
	Principal
	AdditionalScopes      []string `dynamodbav:"additional_scopes"`
	ReturnURLs            []string `dynamodbav:"return_urls"`
	IsProduction          bool     `dynamodbav:"is_production"`
	SelectedProduct       string   `dynamodbav:"selected_product,omitempty"`
	AllowedProviderGroups []string `dynamodbav:"allowed_provider_groups"`
	// ExtraData is the caller's own JSON object, as extradata.Check stores
	// it ("" for none).
	ExtraData string `dynamodbav:"extra_data,omitempty"`
}

type clientItem struct {
	Type   string `dynamodbav:"type"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	Client
}

// clientLinkItem records that a client belongs to an organisation, in the
// organisation's partition so that its clients can be read consistently
// (OrganisationClients); GSI1 serves the eventually consistent list.
type clientLinkItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	Type           string `dynamodbav:"type"`
	ClientID       string `dynamodbav:"client_id"`
	OrganisationID string `dynamodbav:"organisation_id"`
	Version        int64  `dynamodbav:"version"`
}

// Key builders: the only places client keys are spelled out (the principal
// key is principalKey).

// clientGSI1PK groups the clients of an organisation for the list.
func clientGSI1PK(partnerID, orgID string) string {
	return orgPK(partnerID) + "#ORG#" + orgID + "#CLIENTS"
}

func clientGSI1SK(clientID string) string { return "CLIENT#" + clientID }

func clientLinkPrefix(orgID string) string { return "ORGCLIENT#" + orgID + "#" }

func clientLinkKey(partnerID, orgID, clientID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: orgPK(partnerID)},
		AttrSK: &types.AttributeValueMemberS{Value: clientLinkPrefix(orgID) + clientID},
	}
}

// GetClient returns the organisation client clientID, read consistently. It
// returns an error wrapping ErrNotFound when there is none; a
// partner account is not a client. Callers compare PartnerID and
// OrganisationID with the caller's before showing anything.
func (t *Table) GetClient(ctx context.Context, clientID string) (Client, error) {
	var it clientItem
	err := t.getItem(ctx, principalKey(clientID), &it)
	if err == nil && it.Kind != KindClient {
		err = ErrNotFound
	}
	if err != nil {
		return Client{}, fmt.Errorf("get client %s: %w", clientID, err)
	}
	return it.Client, nil
}

// ListClients returns up to limit clients of the partner's organisation
// orgID in id order, starting after the client id after ("" for the first
// page), and whether more follow (pattern 6: GSI1, eventually consistent).
//
// Errors: ErrUnavailable when DynamoDB throttles; no clients is an empty page.
func (t *Table) ListClients(ctx context.Context, partnerID, orgID, after string, limit int) ([]Client, bool, error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(t.name), IndexName: aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :g"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: clientGSI1PK(partnerID, orgID)}},
	}
	var start map[string]types.AttributeValue
	if after != "" {
		start = principalKey(after)
		start[AttrGSI1PK] = &types.AttributeValueMemberS{Value: clientGSI1PK(partnerID, orgID)}
		start[AttrGSI1SK] = &types.AttributeValueMemberS{Value: clientGSI1SK(after)}
	}
	items, more, err := t.queryPage(ctx, in, start, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list clients of %s: %w", orgID, err)
	}
	clients, err := decodeClients(items)
	if err != nil {
		return nil, false, fmt.Errorf("list clients of %s: %w", orgID, err)
	}
	return clients, more, nil
}

// OrganisationClients returns every client of the partner's organisation
// orgID, read consistently: its links, then the clients with BatchGetItem
// (pattern 20). Narrowing an organisation checks them.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) OrganisationClients(ctx context.Context, partnerID, orgID string) ([]Client, error) {
	items, err := t.linked(ctx, partnerID, clientLinkPrefix(orgID), "client_id", principalKey)
	if err != nil {
		return nil, fmt.Errorf("clients of organisation %s: %w", orgID, err)
	}
	clients, err := decodeClients(items)
	if err != nil {
		return nil, fmt.Errorf("clients of organisation %s: %w", orgID, err)
	}
	return clients, nil
}

// CreateClient stores c as a new client at version 1, with its link and the
// organisation's client count in the same transaction.
//
// Errors: a *ConflictError with ConflictIDTaken when the client id is taken
// (by a partner account or a client); ErrNotFound when the organisation is
// gone; a *ConflictError with ConflictOrganisationChanged when the
// organisation is no longer at orgVersion, the version c was checked
// against (check c again and retry); ErrUnavailable when DynamoDB
// throttles.
func (t *Table) CreateClient(ctx context.Context, c Client, orgVersion int64) (Client, error) {
	c.Kind, c.Version = KindClient, 1
	item, err := clientItemMap(c)
	if err != nil {
		return Client{}, fmt.Errorf("create client %s: %w", c.ID, err)
	}
	link, err := attributevalue.MarshalMap(clientLinkItem{
		Type: typeClientLink, ClientID: c.ID, OrganisationID: c.OrganisationID, Version: 1,
	})
	if err != nil {
		return Client{}, fmt.Errorf("create client %s: encode link: %w", c.ID, err)
	}
	maps.Copy(link, clientLinkKey(c.PartnerID, c.OrganisationID, c.ID))
	x := &txn{}
	x.add(t.txPut(item, "attribute_not_exists(pk)", nil, nil), func() error {
		return &ConflictError{Reason: ConflictIDTaken, Entity: EntityClient, ID: c.ID}
	})
	x.addExplained(x.built(t.orgClientCountChange(c.PartnerID, c.OrganisationID, 1, orgVersion)), organisationChanged(c))
	x.add(t.txPut(link, "", nil, nil), nil)
	if err := t.audit(ctx, x, c.PartnerID, clientResource(c.ID), ActionCreate, changedFields(nil, item)); err != nil {
		return Client{}, fmt.Errorf("create client %s: %w", c.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return Client{}, fmt.Errorf("create client %s: %w", c.ID, err)
	}
	return c, nil
}

// UpdateClient writes c over before, the stored client as read, if the stored version is
// c.Version, and increments the version. When orgVersion is not zero, the
// same transaction requires the organisation to be at orgVersion (c was
// checked against it) and bumps its ChildSeq, so that a concurrent narrowing
// of the organisation fails; pass it whenever c's fit in its organisation
// may have changed.
//
// Errors: ErrNotFound when the client (or its organisation) is missing or
// belongs to another partner; a *VersionError (with the current version)
// when it is not at c.Version; a *ConflictError with
// ConflictOrganisationChanged when the organisation is not at orgVersion;
// ErrUnavailable when DynamoDB throttles.
func (t *Table) UpdateClient(ctx context.Context, before, c Client, orgVersion int64) (Client, error) {
	expected := c.Version
	c.Kind = KindClient
	c.Version++
	item, err := clientItemMap(c)
	if err != nil {
		return Client{}, fmt.Errorf("update client %s: %w", c.ID, err)
	}
	x := &txn{}
	x.addExplained(t.txPut(item, clientCondition, clientNames, clientValues(c.PartnerID, expected)), clientChanged(c.ID, c.PartnerID))
	if orgVersion != 0 {
		x.addExplained(x.built(t.orgClientCountChange(c.PartnerID, c.OrganisationID, 0, orgVersion)), organisationChanged(c))
	}
	var prev map[string]types.AttributeValue
	if before.ID != "" {
		before.Kind = KindClient
		if prev, err = clientItemMap(before); err != nil {
			return Client{}, fmt.Errorf("update client %s: %w", c.ID, err)
		}
	}
	if err := t.auditUpdate(ctx, x, c.PartnerID, clientResource(c.ID), prev, item); err != nil {
		return Client{}, fmt.Errorf("update client %s: %w", c.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return Client{}, fmt.Errorf("update client %s: %w", c.ID, err)
	}
	return c, nil
}

// DeleteClient deletes c and its link, and uncounts it from its
// organisation, on condition that it is still at c.Version. Its tokens stop
// at once: token checks read the principal, which is gone.
//
// Errors: ErrNotFound when the client (or its organisation) is missing or
// belongs to another partner; a *VersionError (with the current version)
// when it is not at c.Version; ErrUnavailable when DynamoDB throttles.
func (t *Table) DeleteClient(ctx context.Context, c Client) error {
	x := &txn{}
	x.addExplained(t.txDelete(principalKey(c.ID), clientCondition, clientNames, clientValues(c.PartnerID, c.Version)), clientChanged(c.ID, c.PartnerID))
	x.add(t.txDelete(clientLinkKey(c.PartnerID, c.OrganisationID, c.ID), "", nil, nil), nil)
	x.addExplained(x.built(t.orgClientCountChange(c.PartnerID, c.OrganisationID, -1, 0)), organisationChanged(c))
	if err := t.audit(ctx, x, c.PartnerID, clientResource(c.ID), ActionDelete, nil); err != nil {
		return fmt.Errorf("delete client %s: %w", c.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return fmt.Errorf("delete client %s: %w", c.ID, err)
	}
	return nil
}

// clientCondition is the condition of a write of a stored client: still a
// client of the same partner, at the expected version.
const clientCondition = "attribute_exists(pk) AND kind = :client AND partner_id = :partner AND #version = :expected"

var clientNames = map[string]string{"#version": "version"}

func clientValues(partnerID string, expected int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":client":   &types.AttributeValueMemberS{Value: KindClient},
		":partner":  &types.AttributeValueMemberS{Value: partnerID},
		":expected": numberValue(expected),
	}
}

// clientChanged explains a failed clientCondition from old, the stored item
// then: gone or not a client of the partner (ErrNotFound), else at another
// version (*VersionError).
func clientChanged(clientID, partnerID string) explainFunc {
	return func(old map[string]types.AttributeValue) error {
		var cur clientItem
		if err := decodeOld(old, &cur); err != nil {
			return err
		}
		if cur.Kind != KindClient || cur.PartnerID != partnerID {
			return ErrNotFound
		}
		return &VersionError{Entity: EntityClient, ID: clientID, Current: cur.Version}
	}
}

// organisationChanged explains a failed condition on c's organisation from
// old, the organisation then: gone (ErrNotFound) or at another version
// (ConflictOrganisationChanged).
func organisationChanged(c Client) explainFunc {
	return func(old map[string]types.AttributeValue) error {
		if old == nil {
			return ErrNotFound
		}
		return &ConflictError{Reason: ConflictOrganisationChanged, Entity: EntityOrganisation, ID: c.OrganisationID}
	}
}

func clientResource(id string) Resource { return Resource{Type: ResourceClient, ID: id} }

func clientItemMap(c Client) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(clientItem{
		Type: typePrincipal, GSI1PK: clientGSI1PK(c.PartnerID, c.OrganisationID), GSI1SK: clientGSI1SK(c.ID), Client: c,
	})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	maps.Copy(item, principalKey(c.ID))
	return item, nil
}

func decodeClients(items []map[string]types.AttributeValue) ([]Client, error) {
	clients := make([]Client, 0, len(items))
	for _, item := range items {
		var it clientItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if it.Type != typePrincipal || it.Kind != KindClient {
			return nil, errors.New("decode: not a client item")
		}
		clients = append(clients, it.Client)
	}
	return clients, nil
}
