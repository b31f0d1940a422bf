package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	typeOrganisation = "organisation"
	typeOrgLink      = "organisation_link"
)

// Organisation is a node of a partner's organisation tree.
//
// The counters are kept by the store in the same transaction as the change
// they count, so conditions on them hold under concurrency: ChildCount,
// ClientCount and AuthServerCount (absent, so zero, on items stored before
// authorisation servers existed) must be zero to delete the organisation,
// and ChildSeq changes whenever a child is added, removed or moved, or
// changes its restrictions (allowed lists, production access), and whenever
// a client is added or changes what it uses of the organisation (scopes,
// product, provider groups, production), so that narrowing the organisation can be made
// conditional on its children and clients being the ones it checked.
type Organisation struct {
	ID        string `dynamodbav:"organisation_id"`
	PartnerID string `dynamodbav:"partner_id"`
	// ParentID is empty for a root organisation.
	ParentID string `dynamodbav:"parent_id,omitempty"`
	// Path lists the ids of the ancestors, the root first (empty for a root),
	// so that the whole chain can be read with one BatchGetItem.
	Path                  []string  `dynamodbav:"path"`
	Name                  string    `dynamodbav:"name"`
	EnableCustomLogo      bool      `dynamodbav:"enable_custom_logo"`
	AllowedScopes         []string  `dynamodbav:"allowed_scopes"`
	AllowedProducts       []string  `dynamodbav:"allowed_products"`
	AllowedProviderGroups []string  `dynamodbav:"allowed_provider_groups"`
	HasProductionAccess   bool      `dynamodbav:"has_production_access"`
	Enabled               bool      `dynamodbav:"enabled"`
	ChildCount            int64     `dynamodbav:"child_count"`
	ClientCount           int64     `dynamodbav:"client_count"`
	AuthServerCount       int64     `dynamodbav:"auth_server_count"`
	ChildSeq              int64     `dynamodbav:"child_seq"`
	CreatedAt             time.Time `dynamodbav:"created_at"`
	UpdatedAt             time.Time `dynamodbav:"updated_at"`
	Version               int64     `dynamodbav:"version"`
}

type orgItem struct {
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	Type   string `dynamodbav:"type"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	Organisation
}

// orgLinkItem records that an organisation is a child of its parent, in the
// table itself so that a parent's children can be read consistently
// (OrganisationChildren); GSI1 serves the eventually consistent list filter.
type orgLinkItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	Type           string `dynamodbav:"type"`
	OrganisationID string `dynamodbav:"organisation_id"`
	ParentID       string `dynamodbav:"parent_id"`
	Version        int64  `dynamodbav:"version"`
}

// Key builders: the only places organisation keys are spelled out.

func orgPK(partnerID string) string { return "PARTNER#" + partnerID }

func orgSK(orgID string) string { return "ORG#" + orgID }

// orgGSI1PK groups organisations by parent ("ROOT" for roots) for the list
// filter.
func orgGSI1PK(partnerID, parentID string) string {
	if parentID == "" {
		parentID = "ROOT"
	}
	return orgPK(partnerID) + "#PARENT#" + parentID
}

func orgLinkPrefix(parentID string) string { return "CHILD#" + parentID + "#" }

func orgLinkSK(parentID, childID string) string { return orgLinkPrefix(parentID) + childID }

func orgKey(partnerID, orgID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: orgPK(partnerID)},
		AttrSK: &types.AttributeValueMemberS{Value: orgSK(orgID)},
	}
}

func orgLinkKey(partnerID, parentID, childID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: orgPK(partnerID)},
		AttrSK: &types.AttributeValueMemberS{Value: orgLinkSK(parentID, childID)},
	}
}

// orgMutable are the attributes UpdateOrganisation rewrites. Keys, counters
// and created_at are never touched by an update.
var orgMutable = []string{
	"parent_id", "path", "name", "enable_custom_logo", "allowed_scopes", "allowed_products",
	"allowed_provider_groups", "has_production_access", "enabled", "updated_at", AttrGSI1PK,
}

// GetOrganisation returns the partner's organisation orgID, read
// consistently. It returns an error wrapping ErrNotFound when the
// partner has no such organisation (another partner's is never found: the
// partner is part of the key).
func (t *Table) GetOrganisation(ctx context.Context, partnerID, orgID string) (Organisation, error) {
	var it orgItem
	if err := t.getItem(ctx, orgKey(partnerID, orgID), &it); err != nil {
		return Organisation{}, fmt.Errorf("get organisation %s: %w", orgID, err)
	}
	return it.Organisation, nil
}

// ListOrganisations returns up to limit of the partner's organisations in
// id order, starting after the organisation id after ("" for the first
// page), and whether more follow. With parentID set it lists that
// organisation's children only (GSI1, eventually consistent).
//
// Errors: ErrUnavailable when DynamoDB throttles; no organisations is an empty page.
func (t *Table) ListOrganisations(ctx context.Context, partnerID, parentID, after string, limit int) ([]Organisation, bool, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(t.name)}
	var start map[string]types.AttributeValue
	if parentID == "" {
		in.KeyConditionExpression = aws.String("pk = :pk AND begins_with(sk, :prefix)")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: orgPK(partnerID)}, ":prefix": &types.AttributeValueMemberS{Value: orgSK("")},
		}
		in.ConsistentRead = aws.Bool(true)
		if after != "" {
			start = orgKey(partnerID, after)
		}
	} else {
		in.IndexName = aws.String(IndexGSI1)
		in.KeyConditionExpression = aws.String("gsi1pk = :g")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":g": &types.AttributeValueMemberS{Value: orgGSI1PK(partnerID, parentID)}}
		if after != "" {
			start = orgKey(partnerID, after)
			start[AttrGSI1PK] = &types.AttributeValueMemberS{Value: orgGSI1PK(partnerID, parentID)}
			start[AttrGSI1SK] = &types.AttributeValueMemberS{Value: orgSK(after)}
		}
	}
	items, more, err := t.queryPage(ctx, in, start, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list organisations: %w", err)
	}
	orgs := make([]Organisation, 0, len(items))
	for _, item := range items {
		o, err := decodeOrg(item)
		if err != nil {
			return nil, false, fmt.Errorf("list organisations: %w", err)
		}
		orgs = append(orgs, o)
	}
	return orgs, more, nil
}

// OrganisationChildren returns the current children of the partner's
// organisation parentID, read consistently: the links in the table, then the
// children with BatchGetItem.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) OrganisationChildren(ctx context.Context, partnerID, parentID string) ([]Organisation, error) {
	items, err := t.linked(ctx, partnerID, orgLinkPrefix(parentID), "organisation_id", func(id string) map[string]types.AttributeValue {
		return orgKey(partnerID, id)
	})
	if err != nil {
		return nil, fmt.Errorf("children of organisation %s: %w", parentID, err)
	}
	children := make([]Organisation, 0, len(items))
	for _, item := range items {
		o, err := decodeOrg(item)
		if err != nil {
			return nil, fmt.Errorf("children of organisation %s: %w", parentID, err)
		}
		children = append(children, o)
	}
	return children, nil
}

// CreateOrganisation stores o as a new organisation at version 1 with zero
// counters. When o has a parent, the same transaction links o to it and
// counts it among its children, on condition that the parent still exists at
// parentVersion, the version o's attributes were checked against.
//
// Errors: a *ConflictError with ConflictIDTaken when o.ID exists,
// ConflictParentChanged when the parent is gone or at another version;
// ErrUnavailable when DynamoDB throttles.
func (t *Table) CreateOrganisation(ctx context.Context, o Organisation, parentVersion int64) (Organisation, error) {
	o.Version, o.ChildCount, o.ClientCount, o.AuthServerCount, o.ChildSeq = 1, 0, 0, 0, 0
	item, err := orgItemMap(o)
	if err != nil {
		return Organisation{}, fmt.Errorf("create organisation: %w", err)
	}
	x := &txn{}
	x.add(t.txPut(item, "attribute_not_exists(pk)", nil, nil), func() error {
		return &ConflictError{Reason: ConflictIDTaken, Entity: EntityOrganisation, ID: o.ID}
	})
	if o.ParentID != "" {
		if err := t.addChild(x, o, parentVersion); err != nil {
			return Organisation{}, fmt.Errorf("create organisation: %w", err)
		}
	}
	if err := t.audit(ctx, x, o.PartnerID, orgResource(o.ID), ActionCreate, changedFields(nil, item)); err != nil {
		return Organisation{}, fmt.Errorf("create organisation: %w", err)
	}
	if err := t.run(ctx, x); err != nil {
		return Organisation{}, fmt.Errorf("create organisation: %w", err)
	}
	return o, nil
}

// OrganisationUpdate is one change of an organisation and the guards its
// hierarchy rules need.
type OrganisationUpdate struct {
	// Org is the new state; Org.Version is the version it replaces (the
	// write fails with a *VersionError when the stored one differs).
	Org Organisation
	// Before is the organisation as read, which the audit record compares
	// Org with to name the changed fields.
	Before Organisation
	// PreviousParentID is the parent before the change. When it differs
	// from Org.ParentID the organisation moves: the links and child counts
	// of both parents change in the same transaction.
	PreviousParentID string
	// ParentVersion, when not zero, makes the change conditional on Org's
	// parent still being at that version, the one Org's restrictions were
	// checked against; the parent's ChildSeq changes with it, so a narrowing
	// of the parent running concurrently fails.
	ParentVersion int64
	// ChildSeq, when not nil, makes the change conditional on the stored
	// ChildSeq being *ChildSeq: no child was added, moved or changed since
	// the children were checked against Org.
	ChildSeq *int64
	// NoLogo makes the change conditional on the organisation's UI config
	// having no logo_url (custom logos being turned off).
	NoLogo bool
}

// UpdateOrganisation applies u and returns the organisation as stored.
//
// Errors: ErrNotFound when the organisation is missing; a *VersionError
// (with the current version) when it is not at u.Org.Version; a
// *ConflictError with ConflictChildrenChanged when its ChildSeq is not
// *u.ChildSeq, ConflictParentChanged (naming the parent) when a parent is
// gone or not at u.ParentVersion, ConflictLogoSet when u.NoLogo and the UI
// config has a logo; ErrUnavailable when DynamoDB throttles. The
// organisation's own failure is explained from the item DynamoDB returns
// with the cancellation, not from a second read.
func (t *Table) UpdateOrganisation(ctx context.Context, u OrganisationUpdate) (Organisation, error) {
	o := u.Org
	expected := o.Version
	o.Version++
	item, err := orgItemMap(o)
	if err != nil {
		return Organisation{}, fmt.Errorf("update organisation %s: %w", o.ID, err)
	}
	cond := exists().And(atVersion(expected))
	if u.ChildSeq != nil {
		cond = cond.And(expression.Name("child_seq").Equal(expression.Value(*u.ChildSeq)))
	}
	x := &txn{}
	x.addExplained(x.built(t.txUpdateBuilt(orgKey(o.PartnerID, o.ID), setOrRemove(item, orgMutable, o.Version), cond)), func(old map[string]types.AttributeValue) error {
		return explainOrgFailure(old, o.ID, expected, ConflictChildrenChanged)
	})
	switch {
	case u.PreviousParentID != o.ParentID:
		if u.PreviousParentID != "" {
			x.add(t.txDelete(orgLinkKey(o.PartnerID, u.PreviousParentID, o.ID), "", nil, nil), nil)
			x.add(x.built(t.orgChildCountChange(o.PartnerID, u.PreviousParentID, -1, 0)), parentChanged(u.PreviousParentID))
		}
		if o.ParentID != "" {
			if err := t.addChild(x, o, u.ParentVersion); err != nil {
				return Organisation{}, fmt.Errorf("update organisation %s: %w", o.ID, err)
			}
		}
	case u.ParentVersion != 0 && o.ParentID != "":
		x.add(x.built(t.orgChildCountChange(o.PartnerID, o.ParentID, 0, u.ParentVersion)), parentChanged(o.ParentID))
	}
	if u.NoLogo {
		x.add(t.txCheck(uiConfigKey(o.PartnerID, o.ID), "attribute_not_exists(logo_url)", nil, nil), func() error {
			return &ConflictError{Reason: ConflictLogoSet, Entity: EntityOrganisation, ID: o.ID}
		})
	}
	var before map[string]types.AttributeValue
	if u.Before.ID != "" {
		if before, err = orgItemMap(u.Before); err != nil {
			return Organisation{}, fmt.Errorf("update organisation %s: %w", o.ID, err)
		}
	}
	if err := t.auditUpdate(ctx, x, o.PartnerID, orgResource(o.ID), before, item); err != nil {
		return Organisation{}, fmt.Errorf("update organisation %s: %w", o.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return Organisation{}, fmt.Errorf("update organisation %s: %w", o.ID, err)
	}
	return o, nil
}

// DeleteOrganisation deletes o, its UI config and its link to its parent, and
// uncounts it from its parent, on condition that it is still at o.Version
// and has no children, no clients and no authorisation servers.
//
// Errors: ErrNotFound when the organisation is missing; a *VersionError
// (with the current version) when it is not at o.Version; a *ConflictError
// with ConflictChildrenRemain (Children, Clients) or ConflictServersRemain
// (Servers) saying how many remain, ConflictParentChanged when its parent
// is gone, ConflictChanged otherwise; ErrUnavailable when DynamoDB
// throttles.
func (t *Table) DeleteOrganisation(ctx context.Context, o Organisation) error {
	x := &txn{}
	zero := func(attr string) expression.ConditionBuilder { return expression.Name(attr).Equal(expression.Value(0)) }
	cond := exists().And(atVersion(o.Version), zero("child_count"), zero("client_count"),
		expression.Name("auth_server_count").AttributeNotExists().Or(zero("auth_server_count")))
	x.addExplained(x.built(t.txDeleteBuilt(orgKey(o.PartnerID, o.ID), cond)), func(old map[string]types.AttributeValue) error {
		return explainOrgFailure(old, o.ID, o.Version, 0)
	})
	x.add(t.txDelete(uiConfigKey(o.PartnerID, o.ID), "", nil, nil), nil)
	if o.ParentID != "" {
		x.add(t.txDelete(orgLinkKey(o.PartnerID, o.ParentID, o.ID), "", nil, nil), nil)
		x.add(x.built(t.orgChildCountChange(o.PartnerID, o.ParentID, -1, 0)), parentChanged(o.ParentID))
	}
	if err := t.audit(ctx, x, o.PartnerID, orgResource(o.ID), ActionDelete, nil); err != nil {
		return fmt.Errorf("delete organisation %s: %w", o.ID, err)
	}
	if err := t.run(ctx, x); err != nil {
		return fmt.Errorf("delete organisation %s: %w", o.ID, err)
	}
	return nil
}

// addChild adds to x what makes o a child of o.ParentID: its link, and the
// parent's child count, on condition that the parent exists at
// parentVersion.
func (t *Table) addChild(x *txn, o Organisation, parentVersion int64) error {
	link, err := attributevalue.MarshalMap(orgLinkItem{
		PK: orgPK(o.PartnerID), SK: orgLinkSK(o.ParentID, o.ID), Type: typeOrgLink,
		OrganisationID: o.ID, ParentID: o.ParentID, Version: 1,
	})
	if err != nil {
		return fmt.Errorf("encode link: %w", err)
	}
	x.add(x.built(t.orgChildCountChange(o.PartnerID, o.ParentID, 1, parentVersion)), parentChanged(o.ParentID))
	x.add(t.txPut(link, "", nil, nil), nil)
	return nil
}

// orgChildCountChange is the transaction item that adds delta to the child
// count of the organisation parentID and bumps its ChildSeq, on condition
// that it exists and, when parentVersion is not zero, is at that version.
func (t *Table) orgChildCountChange(partnerID, parentID string, delta int, parentVersion int64) (types.TransactWriteItem, error) {
	u := expression.Add(expression.Name("child_count"), expression.Value(delta)).
		Add(expression.Name("child_seq"), expression.Value(1))
	cond := exists()
	if parentVersion != 0 {
		cond = cond.And(atVersion(parentVersion))
	}
	return t.txUpdateBuilt(orgKey(partnerID, parentID), u, cond)
}

// orgClientCountChange is the item of a client's create (delta 1), update
// (delta 0) or delete (delta -1) transaction that keeps the organisation's
// client count, which DeleteOrganisation requires to be zero. Its condition
// fails when the organisation no longer exists, so no client is created
// under an organisation being deleted. When orgVersion is not zero it also
// requires the organisation to be at that version, the one the client was
// checked against, and bumps its ChildSeq, so that a narrowing of the
// organisation that checked its clients before this write fails.
func (t *Table) orgClientCountChange(partnerID, orgID string, delta int, orgVersion int64) (types.TransactWriteItem, error) {
	u := expression.Add(expression.Name("client_count"), expression.Value(delta))
	cond := exists()
	if orgVersion != 0 {
		u = u.Add(expression.Name("child_seq"), expression.Value(1))
		cond = cond.And(atVersion(orgVersion))
	}
	return t.txUpdateBuilt(orgKey(partnerID, orgID), u, cond)
}

// explainOrgFailure says why the condition of a write of the organisation
// orgID failed, from old, the item as it was then (nil: gone): ErrNotFound,
// a *VersionError when it is not at expected, else a *ConflictError: other
// when not zero, remaining children, clients or servers, or else
// ConflictChanged.
func explainOrgFailure(old map[string]types.AttributeValue, orgID string, expected int64, other ConflictReason) error {
	var cur orgItem
	if err := decodeOld(old, &cur); err != nil {
		return err
	}
	conflict := func(r ConflictReason) *ConflictError {
		return &ConflictError{Reason: r, Entity: EntityOrganisation, ID: orgID}
	}
	switch {
	case cur.Version != expected:
		return &VersionError{Entity: EntityOrganisation, ID: orgID, Current: cur.Version}
	case other != 0:
		return conflict(other)
	case cur.ChildCount > 0 || cur.ClientCount > 0:
		c := conflict(ConflictChildrenRemain)
		c.Children, c.Clients = cur.ChildCount, cur.ClientCount
		return c
	case cur.AuthServerCount > 0:
		c := conflict(ConflictServersRemain)
		c.Servers = cur.AuthServerCount
		return c
	}
	return conflict(ConflictChanged)
}

// parentChanged explains a failed condition on a parent organisation.
func parentChanged(parentID string) func() error {
	return func() error {
		return &ConflictError{Reason: ConflictParentChanged, Entity: EntityOrganisation, ID: parentID}
	}
}

func orgResource(id string) Resource { return Resource{Type: ResourceOrganisation, ID: id} }

func orgItemMap(o Organisation) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(orgItem{
		PK: orgPK(o.PartnerID), SK: orgSK(o.ID), Type: typeOrganisation,
		GSI1PK: orgGSI1PK(o.PartnerID, o.ParentID), GSI1SK: orgSK(o.ID), Organisation: o,
	})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return item, nil
}

func decodeOrg(item map[string]types.AttributeValue) (Organisation, error) {
	var it orgItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return Organisation{}, fmt.Errorf("decode: %w", err)
	}
	if it.Type != typeOrganisation {
		return Organisation{}, errors.New("decode: not an organisation item")
	}
	return it.Organisation, nil
}
