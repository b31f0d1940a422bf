package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// UsageShards is the number of partitions each partner's usage counters
// are spread over (patterns 10 and 11): a write goes to one of them, a read
// sums them all. See the package doc for why.
const UsageShards = 8

// Kinds of metered usage.
const (
	UsageToken = "token" // a token issued
	UsageAPI   = "api"   // an authenticated management API call
	// UsageSignIn counts sign-ins (a code issued at the authorization
	// endpoint) and code and refresh-token exchanges.
	UsageSignIn = "signin"
)

const typeUsage = "usage"

// noOrganisation stands for the organisation of a partner's own usage in
// usage keys.
const noOrganisation = "-"

// UsageEvent names one counter: what was used (Kind), by whom, on which UTC
// day (YYYY-MM-DD).
type UsageEvent struct {
	PartnerID string
	// OrganisationID is empty for the partner's own usage.
	OrganisationID string
	ClientID       string
	Day            string
	Kind           string
}

// UsageCount is a counter as read: its event and its count on one shard.
type UsageCount struct {
	UsageEvent
	Count int64
}

// usagePK is the partition of shard of partnerID's usage counters.
func usagePK(partnerID string, shard int) string {
	return "USAGE#" + partnerID + "#" + strconv.Itoa(shard)
}

// usageSK orders a partition's counters by day, then kind, organisation and
// client, so that a date range is one key condition.
func usageSK(e UsageEvent) string {
	org := e.OrganisationID
	if org == "" {
		org = noOrganisation
	}
	return e.Day + "#" + e.Kind + "#" + org + "#" + e.ClientID
}

// usageRange is the key condition values of the days from to to, inclusive
// (days as YYYY-MM-DD; "~" sorts after every character of a kind or an id).
func usageRange(from, to string) (lo, hi string) { return from + "#", to + "#~" }

func usageKey(e UsageEvent, shard int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: usagePK(e.PartnerID, shard)},
		AttrSK: &types.AttributeValueMemberS{Value: usageSK(e)},
	}
}

// AddUsage adds n (negative to take a count back) to e's counter on shard
// (0 to UsageShards-1) with one atomic UpdateItem ADD (pattern 10), creating
// it at the first count. Concurrent adds never lose a count.
//
// Errors: ErrUnavailable when DynamoDB throttles.
func (t *Table) AddUsage(ctx context.Context, e UsageEvent, shard int, n int64) error {
	if shard < 0 || shard >= UsageShards {
		return fmt.Errorf("add usage: shard %d is not in 0..%d", shard, UsageShards-1)
	}
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.name), Key: usageKey(e, shard),
		UpdateExpression: aws.String("ADD #count :n SET #type = :type, version = :one, partner_id = :partner, " +
			"organisation_id = :org, client_id = :client, #day = :day, kind = :kind"),
		ExpressionAttributeNames: map[string]string{"#count": "count", "#type": "type", "#day": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": numberValue(n), ":one": numberValue(1), ":type": &types.AttributeValueMemberS{Value: typeUsage},
			":partner": &types.AttributeValueMemberS{Value: e.PartnerID},
			":org":     &types.AttributeValueMemberS{Value: e.OrganisationID},
			":client":  &types.AttributeValueMemberS{Value: e.ClientID},
			":day":     &types.AttributeValueMemberS{Value: e.Day},
			":kind":    &types.AttributeValueMemberS{Value: e.Kind},
		},
	})
	if err != nil {
		return fmt.Errorf("add usage: %w", unavailable(err))
	}
	return nil
}

// usageItem is a usage counter item as stored.
type usageItem struct {
	PartnerID      string `dynamodbav:"partner_id"`
	OrganisationID string `dynamodbav:"organisation_id"`
	ClientID       string `dynamodbav:"client_id"`
	Day            string `dynamodbav:"day"`
	Kind           string `dynamodbav:"kind"`
	Count          int64  `dynamodbav:"count"`
}

// Usage returns partnerID's usage counters of the days from to to
// (YYYY-MM-DD, inclusive): one consistent Query per shard, run at once, each
// read to its last page (pattern 11). A counter appears once per shard it
// was written on; callers sum them. Only partnerID's partitions are read.
//
// Errors: ErrUnavailable when DynamoDB throttles; no counters is an empty result.
func (t *Table) Usage(ctx context.Context, partnerID, from, to string) ([]UsageCount, error) {
	lo, hi := usageRange(from, to)
	results := make([][]UsageCount, UsageShards)
	errs := make([]error, UsageShards)
	var wg sync.WaitGroup
	for shard := range UsageShards {
		wg.Go(func() {
			results[shard], errs[shard] = t.usageShard(ctx, usagePK(partnerID, shard), lo, hi)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("usage of %q: %w", partnerID, err)
	}
	var out []UsageCount
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

func (t *Table) usageShard(ctx context.Context, pk, lo, hi string) ([]UsageCount, error) {
	p := dynamodb.NewQueryPaginator(t.db, &dynamodb.QueryInput{
		TableName:                aws.String(t.name),
		KeyConditionExpression:   aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#count": "count", "#day": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":lo": &types.AttributeValueMemberS{Value: lo}, ":hi": &types.AttributeValueMemberS{Value: hi},
		},
		ProjectionExpression: aws.String("partner_id, organisation_id, client_id, #day, kind, #count"),
		ConsistentRead:       aws.Bool(true),
	})
	var out []UsageCount
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, unavailable(err)
		}
		for _, item := range page.Items {
			var u usageItem
			if err := attributevalue.UnmarshalMap(item, &u); err != nil {
				return nil, fmt.Errorf("decode: %w", err)
			}
			out = append(out, UsageCount{
				UsageEvent: UsageEvent{PartnerID: u.PartnerID, OrganisationID: u.OrganisationID, ClientID: u.ClientID, Day: u.Day, Kind: u.Kind},
				Count:      u.Count,
			})
		}
	}
	return out, nil
}
