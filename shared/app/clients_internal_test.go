package app

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// countingResolver is the SDK's resolver, counting the calls that reach it.
type countingResolver struct {
	next  dynamodb.EndpointResolverV2
	calls int
}

func (r *countingResolver) ResolveEndpoint(ctx context.Context, p dynamodb.EndpointParameters) (smithyendpoints.Endpoint, error) {
	r.calls++
	return r.next.ResolveEndpoint(ctx, p)
}

func TestCachedResolver(t *testing.T) {
	disabled := aws.String(string(aws.AccountIDEndpointModeDisabled))
	params := func(region string, mod func(*dynamodb.EndpointParameters)) dynamodb.EndpointParameters {
		p := dynamodb.EndpointParameters{Region: aws.String(region), UseFIPS: aws.Bool(false), UseDualStack: aws.Bool(false), AccountIdEndpointMode: disabled}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	tests := []struct {
		name string
		p    dynamodb.EndpointParameters
		// resolved is how many calls of the table's operations reach the
		// rules: 1 when cached.
		resolved int
	}{
		{"table by name", params("eu-west-2", func(p *dynamodb.EndpointParameters) { p.ResourceArn = aws.String("partner-api") }), 1},
		{"batch by name", params("eu-west-2", func(p *dynamodb.EndpointParameters) { p.ResourceArnList = []string{"partner-api"} }), 1},
		{"no table", params("eu-west-2", nil), 1},
		{"other region", params("us-east-1", func(p *dynamodb.EndpointParameters) { p.ResourceArn = aws.String("partner-api") }), 1},
		{"FIPS", params("us-east-1", func(p *dynamodb.EndpointParameters) { p.UseFIPS = aws.Bool(true) }), 1},
		{"search", params("eu-west-2", func(p *dynamodb.EndpointParameters) { p.IsSearchOperation = aws.Bool(true) }), 1},
		{"endpoint override", params("eu-west-2", func(p *dynamodb.EndpointParameters) {
			p.Endpoint, p.ResourceArn = aws.String("http://127.0.0.1:8000"), aws.String("partner-api")
		}), 1},
		{"table by ARN", params("eu-west-2", func(p *dynamodb.EndpointParameters) {
			p.ResourceArn = aws.String("arn:aws:dynamodb:eu-west-2:123456789012:table/partner-api")
		}), 3},
		{"batch by ARN", params("eu-west-2", func(p *dynamodb.EndpointParameters) {
			p.ResourceArnList = []string{"arn:aws:dynamodb:eu-west-2:123456789012:table/partner-api"}
		}), 3},
		{"account endpoints preferred", params("eu-west-2", func(p *dynamodb.EndpointParameters) {
			p.AccountIdEndpointMode, p.AccountId = aws.String(string(aws.AccountIDEndpointModePreferred)), aws.String("123456789012")
		}), 3},
	}
	ctx := context.Background()
	sdk := dynamodb.NewDefaultEndpointResolverV2()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := &countingResolver{next: sdk}
			r := &cachedResolver{next: next}
			want, err := sdk.ResolveEndpoint(ctx, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				got, err := r.ResolveEndpoint(ctx, tc.p)
				if err != nil {
					t.Fatal(err)
				}
				if got.URI.String() != want.URI.String() {
					t.Errorf("endpoint %s, want %s", got.URI.String(), want.URI.String())
				}
			}
			if next.calls != tc.resolved {
				t.Errorf("rules evaluated %d times for 3 calls, want %d", next.calls, tc.resolved)
			}
		})
	}
}
