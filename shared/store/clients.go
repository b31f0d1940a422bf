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

	"github.com/partnerapi/partner-api/shared/problem"
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
}

// ErrOrganisationChanged is the error (wrapped) of a client write whose
// organisation changed after the client was checked against it: check the
// client again against the organisation as it is now, or give up with 409.
var ErrOrganisationChanged = problem.New(problem.ErrConflict,
	"the client's organisation was changed by another request while this one ran; retry")

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
// returns an error wrapping problem.ErrNotFound when there is none; a
// partner account is not a client. Callers compare PartnerID and
// OrganisationID with the caller's before showing anything.
func (t *Table) GetClient(ctx context.Context, clientID string) (Client, error) {
	var it clientItem
	err := t.getItem(ctx, principalKey(clientID), &it)
	if err == nil && it.Kind != KindClient {
		err = problem.ErrNotFound
	}
	if err != nil {
		return Client{}, fmt.Errorf("get client %s: %w", clientID, err)
	}
	return it.Client, nil
}

// ListClients returns up to limit clients of the partner's organisation
// orgID in id order, starting after the client id after ("" for the first
// page), and whether more follow (pattern 6: GSI1, eventually consistent).
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
// organisation's client count in the same transaction. It fails with an
// error wrapping problem.ErrConflict when the client id is taken (by a
// partner account or a client), problem.ErrNotFound when the organisation
// is gone, and ErrOrganisationChanged when the organisation is no longer at
// orgVersion, the version c was checked against.
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
	x.add(t.txPut(item, "attribute_not_exists(pk)", nil, nil), func(context.Context) error {
		return problem.New(problem.ErrConflict, "client_id %q is taken", c.ID)
	})
	x.add(t.orgClientCountChange(c.PartnerID, c.OrganisationID, 1, orgVersion), t.organisationChanged(c))
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
// may have changed. A missing client gives an error wrapping
// problem.ErrNotFound, a version mismatch problem.ErrPrecondition, a moved
// organisation ErrOrganisationChanged.
func (t *Table) UpdateClient(ctx context.Context, before, c Client, orgVersion int64) (Client, error) {
	expected := c.Version
	c.Kind = KindClient
	c.Version++
	item, err := clientItemMap(c)
	if err != nil {
		return Client{}, fmt.Errorf("update client %s: %w", c.ID, err)
	}
	x := &txn{}
	x.add(t.txPut(item, clientCondition, clientNames, clientValues(c.PartnerID, expected)), t.clientChanged(c.ID, c.PartnerID))
	if orgVersion != 0 {
		x.add(t.orgClientCountChange(c.PartnerID, c.OrganisationID, 0, orgVersion), t.organisationChanged(c))
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
// at once: token checks read the principal, which is gone. A missing client
// gives an error wrapping problem.ErrNotFound, a version mismatch
// problem.ErrPrecondition.
func (t *Table) DeleteClient(ctx context.Context, c Client) error {
	x := &txn{}
	x.add(t.txDelete(principalKey(c.ID), clientCondition, clientNames, clientValues(c.PartnerID, c.Version)), t.clientChanged(c.ID, c.PartnerID))
	x.add(t.txDelete(clientLinkKey(c.PartnerID, c.OrganisationID, c.ID), "", nil, nil), nil)
	x.add(t.orgClientCountChange(c.PartnerID, c.OrganisationID, -1, 0), t.organisationChanged(c))
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

// clientChanged explains a failed clientCondition: the client is gone
// (ErrNotFound) or at another version (ErrPrecondition).
func (t *Table) clientChanged(clientID, partnerID string) func(context.Context) error {
	return func(ctx context.Context) error {
		cur, err := t.GetClient(ctx, clientID)
		switch {
		case err != nil:
			return err
		case cur.PartnerID != partnerID:
			return problem.ErrNotFound
		}
		return problem.New(problem.ErrPrecondition, "client %s was changed by another request (now at version %d)", clientID, cur.Version)
	}
}

// organisationChanged explains a failed condition on c's organisation: it
// is gone (ErrNotFound) or at another version (ErrOrganisationChanged).
func (t *Table) organisationChanged(c Client) func(context.Context) error {
	return func(ctx context.Context) error {
		if _, err := t.GetOrganisation(ctx, c.PartnerID, c.OrganisationID); err != nil {
			return err
		}
		return ErrOrganisationChanged
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
