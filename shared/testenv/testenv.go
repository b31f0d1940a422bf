// Package testenv gives integration tests real AWS endpoints: DynamoDB Local
// and moto's KMS server, or whatever AWS_ENDPOINT_URL* points at.
//
// A test package that uses it calls Main from its TestMain. When no endpoint
// is configured, Main starts the emulators for the package's run and stops
// them afterwards; `make test` starts them once and passes their endpoints in
// the environment instead. A missing emulator fails the run: it is never a
// silent skip.
package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/partnerapi/partner-api/shared/devstack"
)

// Main runs the tests of m with the emulators they need, then exits.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	needDynamo, needKMS := devstack.Needed()
	if needDynamo || needKMS {
		stack, err := devstack.Start(context.Background(), devstack.Options{DynamoDB: needDynamo, KMS: needKMS})
		if err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
			return 1
		}
		defer stack.Stop()
		for _, kv := range stack.Env() {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
	}
	return m.Run()
}

// AWSConfig loads the SDK configuration from the environment Main prepared.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

// DynamoDB returns a client for the test DynamoDB endpoint.
func DynamoDB(t testing.TB) *dynamodb.Client {
	t.Helper()
	requireEndpoint(t, "DYNAMODB")
	return dynamodb.NewFromConfig(AWSConfig(t))
}

// KMS returns a client for the test KMS endpoint.
func KMS(t testing.TB) *kms.Client {
	t.Helper()
	requireEndpoint(t, "KMS")
	return kms.NewFromConfig(AWSConfig(t))
}

// requireEndpoint fails the test when no endpoint is set for service: tests
// must never fall through to a real AWS account by accident.
func requireEndpoint(t testing.TB, service string) {
	t.Helper()
	if os.Getenv("AWS_ENDPOINT_URL") == "" && os.Getenv("AWS_ENDPOINT_URL_"+service) == "" {
		t.Fatalf("no endpoint for %s: call testenv.Main from TestMain, or set AWS_ENDPOINT_URL_%s", service, service)
	}
}
