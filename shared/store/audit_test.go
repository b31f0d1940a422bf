package store

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestChangedFields(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	tests := []struct {
		name          string
		before, after map[string]types.AttributeValue
		want          []string
	}{
		{name: "create", after: map[string]types.AttributeValue{"name": s("a"), "pk": s("k"), "version": s("1")}, want: []string{"name"}},
		{name: "no change", before: map[string]types.AttributeValue{"name": s("a")}, after: map[string]types.AttributeValue{"name": s("a")}},
		{name: "empty list and absent are no change",
			before: map[string]types.AttributeValue{"scopes": &types.AttributeValueMemberNULL{Value: true}},
			after:  map[string]types.AttributeValue{"scopes": &types.AttributeValueMemberL{}}},
		{name: "removed", before: map[string]types.AttributeValue{"logo_url": s("x")}, after: map[string]types.AttributeValue{}, want: []string{"logo_url"}},
		{name: "secret named once, never its hash",
			before: map[string]types.AttributeValue{"secret_hash": s("h1")},
			after:  map[string]types.AttributeValue{"secret_hash": s("h2"), "previous_secret_hash": s("h1"), "updated_at": s("t")},
			want:   []string{SecretField}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := changedFields(tc.before, tc.after); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
