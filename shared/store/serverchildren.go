package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Audit resource types of an authorisation server's API resources and
// certifications.
const (
	ResourceAPIResource   = "api_resource"
	ResourceCertification = "authorisation_server_certification"
)

// APIResource is an API an authorisation server protects, as a trust
// directory registers it (seed 004's ApiResources). Optional strings are
// "" when unset; Metadata is a JSON object ("" when unset).
type APIResource struct {
	ID                          string                 `dynamodbav:"api_resource_id"`
	PartnerID                   string                 `dynamodbav:"partner_id"`
	OrganisationID              string                 `dynamodbav:"organisation_id"`
	AuthServerID                string                 `dynamodbav:"authorisation_server_id"`
	APIFamilyType               string                 `dynamodbav:"api_family_type"`
	APIVersion                  string                 `dynamodbav:"api_version"`
	FamilyComplete              bool                   `dynamodbav:"family_complete"`
	APICertificationURI         string                 `dynamodbav:"api_certification_uri,omitempty"`
	CertificationStatus         string                 `dynamodbav:"certification_status"`
	CertificationStartDate      string                 `dynamodbav:"certification_start_date,omitempty"`
	CertificationExpirationDate string                 `dynamodbav:"certification_expiration_date,omitempty"`
	Status                      string                 `dynamodbav:"status"`
	DiscoveryEndpoints          []APIDiscoveryEndpoint `dynamodbav:"api_discovery_endpoints"`
	Metadata                    string                 `dynamodbav:"api_metadata,omitempty"`
	CreatedAt                   time.Time              `dynamodbav:"created_at"`
	UpdatedAt                   time.Time              `dynamodbav:"updated_at"`
	Version                     int64                  `dynamodbav:"version"`
}

// APIDiscoveryEndpoint is one discovery endpoint of an API resource.
type APIDiscoveryEndpoint struct {
	ID       string `dynamodbav:"api_discovery_id" json:"api_discovery_id"`
	Endpoint string `dynamodbav:"api_endpoint" json:"api_endpoint"`
}

// Certification is a certification of an authorisation server (seed 004's
// AuthorisationServerCertifications). Optional strings are "" when unset.
type Certification struct {
	ID                  string    `dynamodbav:"certification_id"`
	PartnerID           string    `dynamodbav:"partner_id"`
	OrganisationID      string    `dynamodbav:"organisation_id"`
	AuthServerID        string    `dynamodbav:"authorisation_server_id"`
	ProfileType         string    `dynamodbav:"profile_type,omitempty"`
	ProfileVariant      string    `dynamodbav:"profile_variant,omitempty"`
	ProfileVersion      *float64  `dynamodbav:"profile_version,omitempty"`
	CertificationURI    string    `dynamodbav:"certification_uri,omitempty"`
	CertificationStatus string    `dynamodbav:"certification_status"`
	StartDate           string    `dynamodbav:"certification_start_date,omitempty"`
	ExpirationDate      string    `dynamodbav:"certification_expiration_date,omitempty"`
	Status              string    `dynamodbav:"status"`
	CreatedAt           time.Time `dynamodbav:"created_at"`
	UpdatedAt           time.Time `dynamodbav:"updated_at"`
	Version             int64     `dynamodbav:"version"`
}

// childKind is one kind of item that belongs to an authorisation server,
// stored in the partner's partition beside it (patterns 31 and 32).
type childKind struct {
	pfx, typ, resource string
	entity             Entity
}

var (
	apiResourceKind   = childKind{pfx: "APIRES#", typ: "api_resource", resource: ResourceAPIResource, entity: EntityAPIResource}
	certificationKind = childKind{pfx: "ASCERT#", typ: "as_certification", resource: ResourceCertification, entity: EntityCertification}
)

// Key builders: the only places these keys are spelled out.

func (k childKind) prefix(orgID, asID string) string { return k.pfx + orgID + "#" + asID + "#" }

func (k childKind) key(partnerID, orgID, asID, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: orgPK(partnerID)},
		AttrSK: &types.AttributeValueMemberS{Value: k.prefix(orgID, asID) + id},
	}
}

// serverChildCountAttr counts a server's API resources and certifications
// on its item; the server's delete requires it to be zero.
const serverChildCountAttr = "child_resource_count"

// GetAPIResource returns API resource id of server asID, read consistently
// (pattern 31), or an error wrapping ErrNotFound.
func (t *Table) GetAPIResource(ctx context.Context, partnerID, orgID, asID, id string) (APIResource, error) {
	var r APIResource
	err := t.getItem(ctx, apiResourceKind.key(partnerID, orgID, asID, id), &r)
	return r, wrapf(err, "get API resource %s", id)
}

// ListAPIResources returns up to limit API resources of server asID in id
// order after id after, and whether more follow (pattern 31).
func (t *Table) ListAPIResources(ctx context.Context, partnerID, orgID, asID, after string, limit int) ([]APIResource, bool, error) {
	return listChildren[APIResource](ctx, t, apiResourceKind, partnerID, orgID, asID, after, limit)
}

// CreateAPIResource stores r at version 1 and counts it on its server, on
// condition that the server exists, with its audit record.
//
// Errors: ErrNotFound when the server is missing; a *ConflictError with
// ConflictIDTaken when r.ID exists; ErrUnavailable when DynamoDB throttles.
func (t *Table) CreateAPIResource(ctx context.Context, r APIResource) (APIResource, error) {
	r.Version = 1
	err := t.createChild(ctx, apiResourceKind, r.PartnerID, r.OrganisationID, r.AuthServerID, r.ID, r)
	return r, err
}

// UpdateAPIResource writes next over the stored resource if it is at
// cur.Version, and increments the version. Errors: ErrNotFound; a
// *VersionError; ErrUnavailable.
func (t *Table) UpdateAPIResource(ctx context.Context, cur, next APIResource) (APIResource, error) {
	next.Version = cur.Version + 1
	err := t.updateChild(ctx, apiResourceKind, cur.PartnerID, cur.OrganisationID, cur.AuthServerID, cur.ID, cur.Version, cur, next)
	return next, err
}

// DeleteAPIResource deletes r if it is at r.Version and uncounts it from
// its server. Errors: ErrNotFound; a *VersionError; ErrUnavailable.
func (t *Table) DeleteAPIResource(ctx context.Context, r APIResource) error {
	return t.deleteChild(ctx, apiResourceKind, r.PartnerID, r.OrganisationID, r.AuthServerID, r.ID, r.Version)
}

// GetCertification is GetAPIResource for certifications (pattern 32).
func (t *Table) GetCertification(ctx context.Context, partnerID, orgID, asID, id string) (Certification, error) {
	var c Certification
	err := t.getItem(ctx, certificationKind.key(partnerID, orgID, asID, id), &c)
	return c, wrapf(err, "get certification %s", id)
}

// ListCertifications is ListAPIResources for certifications (pattern 32).
func (t *Table) ListCertifications(ctx context.Context, partnerID, orgID, asID, after string, limit int) ([]Certification, bool, error) {
	return listChildren[Certification](ctx, t, certificationKind, partnerID, orgID, asID, after, limit)
}

// CreateCertification is CreateAPIResource for certifications.
func (t *Table) CreateCertification(ctx context.Context, c Certification) (Certification, error) {
	c.Version = 1
	err := t.createChild(ctx, certificationKind, c.PartnerID, c.OrganisationID, c.AuthServerID, c.ID, c)
	return c, err
}

// UpdateCertification is UpdateAPIResource for certifications.
func (t *Table) UpdateCertification(ctx context.Context, cur, next Certification) (Certification, error) {
	next.Version = cur.Version + 1
	err := t.updateChild(ctx, certificationKind, cur.PartnerID, cur.OrganisationID, cur.AuthServerID, cur.ID, cur.Version, cur, next)
	return next, err
}

// DeleteCertification is DeleteAPIResource for certifications.
func (t *Table) DeleteCertification(ctx context.Context, c Certification) error {
	return t.deleteChild(ctx, certificationKind, c.PartnerID, c.OrganisationID, c.AuthServerID, c.ID, c.Version)
}

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func listChildren[T any](ctx context.Context, t *Table, k childKind, partnerID, orgID, asID, after string, limit int) ([]T, bool, error) {
	var start map[string]types.AttributeValue
	if after != "" {
		start = k.key(partnerID, orgID, asID, after)
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(t.name),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: orgPK(partnerID)},
			":prefix": &types.AttributeValueMemberS{Value: k.prefix(orgID, asID)},
		},
		ConsistentRead: aws.Bool(true),
	}
	items, more, err := t.queryPage(ctx, in, start, limit)
	if err != nil {
		return nil, false, fmt.Errorf("list %ss of %s: %w", k.typ, asID, err)
	}
	out := make([]T, 0, len(items))
	for _, item := range items {
		var v T
		if err := attributevalue.UnmarshalMap(item, &v); err != nil {
			return nil, false, fmt.Errorf("list %ss of %s: decode: %w", k.typ, asID, err)
		}
		out = append(out, v)
	}
	return out, more, nil
}

func (t *Table) childItem(k childKind, partnerID, orgID, asID, id string, v any) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	for name, av := range k.key(partnerID, orgID, asID, id) {
		item[name] = av
	}
	item["type"] = &types.AttributeValueMemberS{Value: k.typ}
	return item, nil
}

func (t *Table) createChild(ctx context.Context, k childKind, partnerID, orgID, asID, id string, v any) (err error) {
	defer func() { err = wrapf(err, "create %s %s", k.typ, id) }()
	item, err := t.childItem(k, partnerID, orgID, asID, id, v)
	if err != nil {
		return err
	}
	x := &txn{}
	x.add(t.txPut(item, "attribute_not_exists(pk)", nil, nil), func() error {
		return &ConflictError{Reason: ConflictIDTaken, Entity: k.entity, ID: id}
	})
	x.add(t.txUpdate(authServerKey(partnerID, orgID, asID), "ADD "+serverChildCountAttr+" :d", "attribute_exists(pk)", nil,
		map[string]types.AttributeValue{":d": numberValue(1)}), func() error { return ErrNotFound })
	if err := t.audit(ctx, x, partnerID, Resource{Type: k.resource, ID: id}, ActionCreate, changedFields(nil, item)); err != nil {
		return err
	}
	return t.run(ctx, x)
}

func (t *Table) updateChild(ctx context.Context, k childKind, partnerID, orgID, asID, id string, expected int64, cur, next any) (err error) {
	defer func() { err = wrapf(err, "update %s %s", k.typ, id) }()
	prev, err := t.childItem(k, partnerID, orgID, asID, id, cur)
	if err != nil {
		return err
	}
	item, err := t.childItem(k, partnerID, orgID, asID, id, next)
	if err != nil {
		return err
	}
	x := &txn{}
	x.addExplained(t.txPut(item, "attribute_exists(pk) AND #version = :expected", map[string]string{"#version": "version"},
		map[string]types.AttributeValue{":expected": numberValue(expected)}), childChanged(k, id))
	if err := t.auditUpdate(ctx, x, partnerID, Resource{Type: k.resource, ID: id}, prev, item); err != nil {
		return err
	}
	return t.run(ctx, x)
}

func (t *Table) deleteChild(ctx context.Context, k childKind, partnerID, orgID, asID, id string, expected int64) (err error) {
	defer func() { err = wrapf(err, "delete %s %s", k.typ, id) }()
	x := &txn{}
	x.addExplained(t.txDelete(k.key(partnerID, orgID, asID, id), "attribute_exists(pk) AND #version = :expected",
		map[string]string{"#version": "version"}, map[string]types.AttributeValue{":expected": numberValue(expected)}), childChanged(k, id))
	x.add(t.txUpdate(authServerKey(partnerID, orgID, asID), "ADD "+serverChildCountAttr+" :d", "attribute_exists(pk)", nil,
		map[string]types.AttributeValue{":d": numberValue(-1)}), func() error { return ErrNotFound })
	if err := t.audit(ctx, x, partnerID, Resource{Type: k.resource, ID: id}, ActionDelete, nil); err != nil {
		return err
	}
	return t.run(ctx, x)
}

// childChanged explains a failed version condition from the old item:
// gone (ErrNotFound) or at another version (*VersionError).
func childChanged(k childKind, id string) explainFunc {
	return func(old map[string]types.AttributeValue) error {
		if old == nil {
			return ErrNotFound
		}
		var cur struct {
			Version int64 `dynamodbav:"version"`
		}
		if err := decodeOld(old, &cur); err != nil {
			return err
		}
		return &VersionError{Entity: k.entity, ID: id, Current: cur.Version}
	}
}
