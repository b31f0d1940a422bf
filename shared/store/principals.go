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

// Kinds of principal.
const (
	KindPartner = "partner"
	KindClient  = "client"
)

const typePrincipal = "principal"

// Principal is anything that authenticates at the token endpoint with a
// client id and secret: a partner account or an organisation's client.
type Principal struct {
	ID             string `dynamodbav:"client_id"`
	Kind           string `dynamodbav:"kind"`
	PartnerID      string `dynamodbav:"partner_id"`
	OrganisationID string `dynamodbav:"organisation_id,omitempty"`
	Name           string `dynamodbav:"name"`
	Enabled        bool   `dynamodbav:"enabled"`
	// SecretHash is the secret package's hash of the current secret.
	SecretHash string `dynamodbav:"secret_hash"`
	// PreviousSecretHash still authenticates until PreviousSecretExpiresAt
	// (secret rotation with overlap).
	PreviousSecretHash      string    `dynamodbav:"previous_secret_hash,omitempty"`
	PreviousSecretExpiresAt time.Time `dynamodbav:"previous_secret_expires_at,omitempty"`
	// Scopes are the scopes tokens of this principal may carry (a token
	// request's scope parameter narrows them).
	Scopes []string `dynamodbav:"scopes,stringset,omitempty"`
	// RequiredScopes are granted in every token of this principal, whatever
	// the request narrows (a subset of Scopes).
	RequiredScopes []string `dynamodbav:"required_scopes,stringset,omitempty"`
	// Algorithm signs this principal's tokens ("" means the service default).
	Algorithm string `dynamodbav:"token_signing_algorithm,omitempty"`
	// TokenLifetime is the lifetime of this principal's tokens in seconds
	// (0: the default of its kind).
	TokenLifetime int64 `dynamodbav:"token_lifetime,omitempty"`
	// GrantTypes are the OAuth 2.0 grants the principal may use; empty (a
	// principal stored before grant types existed) means
	// client_credentials only (see Principal.Grants in signin.go).
	GrantTypes []string `dynamodbav:"grant_types,omitempty"`
	// RefreshTokenAbsoluteLifetime and RefreshTokenIdleLifetime bound a
	// client's refresh-token families in seconds (0: the defaults).
	RefreshTokenAbsoluteLifetime int64     `dynamodbav:"refresh_token_absolute_lifetime,omitempty"`
	RefreshTokenIdleLifetime     int64     `dynamodbav:"refresh_token_idle_lifetime,omitempty"`
	CreatedAt                    time.Time `dynamodbav:"created_at"`
	UpdatedAt                    time.Time `dynamodbav:"updated_at"`
	Version                      int64     `dynamodbav:"version"`
}

type principalItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	Principal
}

func principalKey(clientID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: "CLIENT#" + clientID},
		AttrSK: &types.AttributeValueMemberS{Value: "CLIENT"},
	}
}

// GetPrincipal returns the principal with clientID, read consistently so a
// rotated or disabled credential stops at once. It returns an error wrapping
// ErrNotFound when there is none, ErrUnavailable when DynamoDB throttles.
func (t *Table) GetPrincipal(ctx context.Context, clientID string) (Principal, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(t.name), Key: principalKey(clientID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Principal{}, fmt.Errorf("get principal: %w", unavailable(err))
	}
	if out.Item == nil {
		return Principal{}, fmt.Errorf("get principal: %w", ErrNotFound)
	}
	var item principalItem
	if err := attributevalue.UnmarshalMap(out.Item, &item); err != nil {
		return Principal{}, fmt.Errorf("get principal: decode: %w", err)
	}
	return item.Principal, nil
}

// CreatePrincipal stores a new principal, with its audit record. A taken
// client id gives a *ConflictError with ConflictIDTaken; throttling
// ErrUnavailable.
func (t *Table) CreatePrincipal(ctx context.Context, p Principal) error {
	p.Version = 1
	item, err := t.principalItem(p)
	if err != nil {
		return fmt.Errorf("create principal: %w", err)
	}
	x := &txn{}
	x.add(t.txPut(item, "attribute_not_exists(pk)", nil, nil), func() error {
		return &ConflictError{Reason: ConflictIDTaken, Entity: EntityPrincipal, ID: p.ID}
	})
	if err := t.audit(ctx, x, p.PartnerID, principalResource(p), ActionCreate, changedFields(nil, item)); err != nil {
		return fmt.Errorf("create principal: %w", err)
	}
	if err := t.run(ctx, x); err != nil {
		return fmt.Errorf("create principal: %w", err)
	}
	return nil
}

// ReplacePrincipal writes p over before, the stored principal as read, if
// the stored version is p.Version, and increments the version; its audit
// record is written in the same transaction. A missing principal gives
// ErrNotFound; a version mismatch (or a principal that is not a partner
// account) a *VersionError; throttling ErrUnavailable.
//
// Only partner accounts are replaced this way: a client's item carries more
// attributes and index keys, and is written with UpdateClient.
func (t *Table) ReplacePrincipal(ctx context.Context, before, p Principal) (Principal, error) {
	if p.Kind != KindPartner {
		return Principal{}, fmt.Errorf("replace principal %q: only partner accounts; clients are written with UpdateClient", p.ID)
	}
	expected := p.Version
	p.Version++
	item, err := t.principalItem(p)
	if err != nil {
		return Principal{}, fmt.Errorf("replace principal: %w", err)
	}
	var prev map[string]types.AttributeValue
	if before.ID != "" {
		if prev, err = t.principalItem(before); err != nil {
			return Principal{}, fmt.Errorf("replace principal: %w", err)
		}
	}
	x := &txn{}
	x.addExplained(t.txPut(item, "attribute_exists(pk) AND version = :v AND kind = :kind", nil, map[string]types.AttributeValue{
		":v":    numberValue(expected),
		":kind": &types.AttributeValueMemberS{Value: KindPartner},
	}), func(old map[string]types.AttributeValue) error {
		var cur principalItem
		if err := decodeOld(old, &cur); err != nil {
			return err
		}
		return &VersionError{Entity: EntityPrincipal, ID: p.ID, Current: cur.Version}
	})
	if err := t.auditUpdate(ctx, x, p.PartnerID, partnerResource(p.ID), prev, item); err != nil {
		return Principal{}, fmt.Errorf("replace principal: %w", err)
	}
	if err := t.run(ctx, x); err != nil {
		return Principal{}, fmt.Errorf("replace principal: %w", err)
	}
	return p, nil
}

func partnerResource(id string) Resource { return Resource{Type: ResourcePartner, ID: id} }

func principalResource(p Principal) Resource {
	if p.Kind == KindPartner {
		return partnerResource(p.ID)
	}
	return clientResource(p.ID)
}

func (t *Table) principalItem(p Principal) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(principalItem{
		PK: "CLIENT#" + p.ID, SK: "CLIENT", Type: typePrincipal, Principal: p,
	})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return item, nil
}
