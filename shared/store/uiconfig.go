package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const typeUIConfig = "ui_config"

// UIConfig is the hosted-page theming of an organisation. It is deleted with
// its organisation.
type UIConfig struct {
	OrganisationID string `dynamodbav:"organisation_id"`
	PartnerID      string `dynamodbav:"partner_id"`
	// DisplayName replaces the organisation's name on the pages ("" keeps it).
	DisplayName string `dynamodbav:"display_name,omitempty"`
	// LogoURL is an https URL or a data:image URI ("" for the default logo).
	LogoURL          string    `dynamodbav:"logo_url,omitempty"`
	PrimaryColour    string    `dynamodbav:"primary_colour"`
	SecondaryColour  string    `dynamodbav:"secondary_colour"`
	BackgroundColour string    `dynamodbav:"background_colour"`
	TextColour       string    `dynamodbav:"text_colour"`
	CreatedAt        time.Time `dynamodbav:"created_at"`
	UpdatedAt        time.Time `dynamodbav:"updated_at"`
	// Version is 0 for a configuration never stored.
	Version int64 `dynamodbav:"version"`
}

type uiConfigItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	UIConfig
}

func uiConfigSK(orgID string) string { return "UICONFIG#" + orgID }

func uiConfigKey(partnerID, orgID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: orgPK(partnerID)},
		AttrSK: &types.AttributeValueMemberS{Value: uiConfigSK(orgID)},
	}
}

// GetUIConfig returns the stored UI config of the partner's organisation
// orgID, read consistently, or an error wrapping ErrNotFound when
// none was stored.
func (t *Table) GetUIConfig(ctx context.Context, partnerID, orgID string) (UIConfig, error) {
	var item uiConfigItem
	if err := t.getItem(ctx, uiConfigKey(partnerID, orgID), &item); err != nil {
		return UIConfig{}, fmt.Errorf("get ui config of %s: %w", orgID, err)
	}
	return item.UIConfig, nil
}

// PutUIConfig stores c in place of before, the stored config as read
// (zero when none), and in place of the organisation's UI config at c.Version
// (0: none stored yet) and returns it at its new version. The write is
// conditional on the organisation existing and, when c has a logo, allowing
// custom logos.
//
// Errors: ErrNotFound when the organisation is missing; a *VersionError
// (Entity EntityUIConfig, ID the organisation's) when the stored config is
// not at c.Version; a *ConflictError with ConflictCustomLogoOff when c has
// a logo and the organisation no longer allows custom logos;
// ErrUnavailable when DynamoDB throttles.
func (t *Table) PutUIConfig(ctx context.Context, before, c UIConfig) (UIConfig, error) {
	expected := c.Version
	c.Version++
	item, err := attributevalue.MarshalMap(uiConfigItem{
		PK: orgPK(c.PartnerID), SK: uiConfigSK(c.OrganisationID), Type: typeUIConfig, UIConfig: c,
	})
	if err != nil {
		return UIConfig{}, fmt.Errorf("put ui config of %s: encode: %w", c.OrganisationID, err)
	}
	x := &txn{}
	res := Resource{Type: ResourceUIConfig, ID: c.OrganisationID}
	if expected == 0 {
		err = t.audit(ctx, x, c.PartnerID, res, ActionCreate, changedFields(nil, item))
	} else {
		err = t.auditUIConfigUpdate(ctx, x, res, before, item)
	}
	if err != nil {
		return UIConfig{}, fmt.Errorf("put ui config of %s: %w", c.OrganisationID, err)
	}
	orgCond := exists()
	if c.LogoURL != "" {
		orgCond = orgCond.And(expression.Name("enable_custom_logo").Equal(expression.Value(true)))
	}
	x.addExplained(x.built(t.txCheckBuilt(orgKey(c.PartnerID, c.OrganisationID), orgCond)), func(old map[string]types.AttributeValue) error {
		if old == nil {
			return ErrNotFound
		}
		return &ConflictError{Reason: ConflictCustomLogoOff, Entity: EntityOrganisation, ID: c.OrganisationID}
	})
	precondition := func(old map[string]types.AttributeValue) error {
		var cur struct {
			Version int64 `dynamodbav:"version"`
		}
		if old != nil { // none when the config is gone: version 0
			if err := decodeOld(old, &cur); err != nil {
				return err
			}
		}
		return &VersionError{Entity: EntityUIConfig, ID: c.OrganisationID, Current: cur.Version}
	}
	if expected == 0 {
		x.addExplained(t.txPut(item, "attribute_not_exists(pk)", nil, nil), precondition)
	} else {
		x.addExplained(t.txPut(item, "#version = :expected", map[string]string{"#version": "version"},
			map[string]types.AttributeValue{":expected": numberValue(expected)}), precondition)
	}
	if err := t.run(ctx, x); err != nil {
		return UIConfig{}, fmt.Errorf("put ui config of %s: %w", c.OrganisationID, err)
	}
	return c, nil
}

// auditUIConfigUpdate adds to x the record of the config before becoming
// item.
func (t *Table) auditUIConfigUpdate(ctx context.Context, x *txn, res Resource, before UIConfig, item map[string]types.AttributeValue) error {
	var prev map[string]types.AttributeValue
	if before.OrganisationID != "" {
		var err error
		if prev, err = attributevalue.MarshalMap(uiConfigItem{UIConfig: before}); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
	}
	return t.auditUpdate(ctx, x, before.PartnerID, res, prev, item)
}
