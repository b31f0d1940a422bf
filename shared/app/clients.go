package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/partnerapi/partner-api/shared/app/registry"
)

// maxIdleConnsPerHost keeps a connection per concurrent request to
// DynamoDB alive (the SDK's default, 10, makes a busy process reconnect).
const maxIdleConnsPerHost = 64

// NewDynamoDB is the DynamoDB client of every function, built once per
// process, with the per-call work that does not depend on the call done
// once (issue 12: the SDK's per-call overhead dominates a token's CPU once
// signing is in process):
//
//   - The endpoint is resolved once per region and endpoint rather than by
//     evaluating the endpoint rules on every call; account-id endpoints are
//     off (the table is named by name, never by ARN, so every operation has
//     the same endpoint). TestCachedResolver checks that the cache is hit.
//   - The CRC32 of every response body is not computed: responses come over
//     TLS (on AWS), which already protects their integrity.
//   - Idle connections are kept for as many concurrent requests as a local
//     server or a busy function makes.
//   - Each request leaves in one write (wholeRequests).
func NewDynamoDB(awsCfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.AccountIDEndpointMode = aws.AccountIDEndpointModeDisabled
		o.DisableValidateResponseChecksum = true
		o.EndpointResolverV2 = &cachedResolver{next: o.EndpointResolverV2}
		if _, buildable := o.HTTPClient.(*awshttp.BuildableClient); buildable || o.HTTPClient == nil {
			o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
				tr.MaxIdleConns = maxIdleConnsPerHost * 2
				tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
			})
		}
		o.HTTPClient = wholeRequests{next: o.HTTPClient}
	})
}

// maxWholeBody is the largest request body wholeRequests sends with its
// headers: net/http's connection buffer (4 KiB) holds no more anyway.
const maxWholeBody = 4 << 10

// wholeRequests hands net/http each small request body as an in-memory
// reader. net/http writes the headers on their own before a body it cannot
// tell is in memory (the SDK's is wrapped), so every call cost two write
// system calls and two TCP segments (two TLS records on AWS) instead of one.
// The SDK builds the request anew for every attempt, so retries are
// unchanged.
type wholeRequests struct{ next aws.HTTPClient }

func (c wholeRequests) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 || req.ContentLength > maxWholeBody {
		return c.next.Do(req)
	}
	body := make([]byte, req.ContentLength)
	_, err := io.ReadFull(req.Body, body)
	if cerr := req.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return c.next.Do(req)
}

// cachedResolver remembers the endpoint of each region, endpoint override,
// FIPS/dual-stack setting and kind of operation (search or not): with
// account-id endpoints off, nothing else of the parameters changes the
// endpoint. Every DynamoDB operation names its table as the parameter
// ResourceArn (or ResourceArnList); a table named by name is not an ARN and
// does not change it either, so only parameters naming an ARN, or with
// account-id endpoints on, go to the rules every time.
type cachedResolver struct {
	next  dynamodb.EndpointResolverV2
	cache sync.Map // endpointKey -> smithyendpoints.Endpoint
}

type endpointKey struct {
	region, endpoint        string
	fips, dualStack, search bool
}

func (r *cachedResolver) ResolveEndpoint(ctx context.Context, p dynamodb.EndpointParameters) (smithyendpoints.Endpoint, error) {
	if !cacheable(p) {
		return r.next.ResolveEndpoint(ctx, p)
	}
	k := endpointKey{
		region: aws.ToString(p.Region), endpoint: aws.ToString(p.Endpoint),
		fips: aws.ToBool(p.UseFIPS), dualStack: aws.ToBool(p.UseDualStack), search: aws.ToBool(p.IsSearchOperation),
	}
	if e, ok := r.cache.Load(k); ok {
		return e.(smithyendpoints.Endpoint), nil
	}
	e, err := r.next.ResolveEndpoint(ctx, p)
	if err != nil {
		return e, err
	}
	r.cache.Store(k, e)
	return e, nil
}

// cacheable reports whether p's endpoint depends only on endpointKey's
// parameters: account-id endpoints off and no ARN among the resources.
func cacheable(p dynamodb.EndpointParameters) bool {
	if aws.ToString(p.AccountIdEndpointMode) != string(aws.AccountIDEndpointModeDisabled) || p.AccountId != nil {
		return false
	}
	if p.ResourceArn != nil && isARN(*p.ResourceArn) {
		return false
	}
	for _, a := range p.ResourceArnList {
		if isARN(a) {
			return false
		}
	}
	return true
}

func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// TuneGC applies registry.GCPercent unless GOGC is set (the stack sets
// GOGC to it, so that the package initialisation runs at it too).
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(registry.GCPercent)
	}
}
