// Package testenv gives integration tests real AWS endpoints: DynamoDB Local
// and moto's KMS server, or whatever AWS_ENDPOINT_URL* points at.
//
// A test package that uses it calls Main from its TestMain. When no endpoint
// is configured, Main starts the emulators for the package's run and stops
// them afterwards; `make test` starts them once and passes their endpoints in
// the environment instead. A missing emulator fails the run: it is never a
// silent skip.
//
// Main (and Unit, for packages that need no AWS endpoint) also run the tests
// under the log environment Lambda gives a function whose LoggingFormat is
// JSON, so LambdaLogger gives tests the production logger writing exactly
// what it writes on Lambda.
package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/partnerapi/partner-api/internal/devstack"
	"github.com/partnerapi/partner-api/shared/logging"
)

// Main runs the tests of m with the emulators they need, then exits.
func Main(m *testing.M) {
	lambdaLogEnvironment()
	os.Exit(run(m))
}

// Unit runs the tests of m, which need no AWS endpoint, then exits.
func Unit(m *testing.M) {
	lambdaLogEnvironment()
	os.Exit(m.Run())
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

// lambdaLogFormat and lambdaLogLevel are what Lambda sets for a function
// whose logging format is JSON (the stack's setting); the tests log at
// DEBUG, so that no level hides a secret written to the log.
const (
	lambdaLogFormat = "JSON"
	lambdaLogLevel  = "DEBUG"
)

// lambdaLogEnvironment makes the test process run under Lambda's log
// variables. lambdacontext reads them once, when the process starts, so a
// process without them starts itself again with them.
func lambdaLogEnvironment() {
	if os.Getenv("AWS_LAMBDA_LOG_FORMAT") == lambdaLogFormat {
		return
	}
	os.Setenv("AWS_LAMBDA_LOG_FORMAT", lambdaLogFormat)
	if os.Getenv("AWS_LAMBDA_LOG_LEVEL") == "" {
		os.Setenv("AWS_LAMBDA_LOG_LEVEL", lambdaLogLevel)
	}
	self, err := os.Executable()
	if err == nil {
		err = syscall.Exec(self, os.Args, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "testenv: start the tests again with AWS_LAMBDA_LOG_FORMAT=JSON:", err)
	os.Exit(1)
}

// Log is what a LambdaLogger wrote: a file, so every line is there as soon
// as the call that logged it returns.
type Log struct{ f *os.File }

// String returns every line written so far.
func (l *Log) String() string {
	b, err := os.ReadFile(l.f.Name())
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	return string(b)
}

// stdoutMu serialises the moment LambdaLogger points os.Stdout elsewhere.
var stdoutMu sync.Mutex

// LambdaLogger returns the production Lambda logger, logging.Lambda (at debug level), and
// what it writes. That logger writes to the process's stdout, so stdout
// points at the Log's file while it is built. It needs Main or Unit.
func LambdaLogger(t testing.TB) (*slog.Logger, *Log) {
	t.Helper()
	if os.Getenv("AWS_LAMBDA_LOG_FORMAT") != lambdaLogFormat {
		t.Fatal("AWS_LAMBDA_LOG_FORMAT is not JSON: call testenv.Main or testenv.Unit from TestMain")
	}
	f, err := os.CreateTemp(t.TempDir(), "lambda-*.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	stdoutMu.Lock()
	stdout := os.Stdout
	os.Stdout = f
	logger := logging.Lambda(slog.LevelDebug)
	os.Stdout = stdout
	stdoutMu.Unlock()
	return logger, &Log{f: f}
}
