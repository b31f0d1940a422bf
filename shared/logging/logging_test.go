package logging_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/logging"
)

// lambdaEnv is the environment Lambda gives a provided.al2023 function
// whose log format is JSON (as the stack configures every function), but
// for AWS_LAMBDA_LOG_LEVEL, which each case sets.
var lambdaEnv = []string{
	"AWS_LAMBDA_LOG_FORMAT=JSON",
	"AWS_LAMBDA_FUNCTION_NAME=PartnerApi-dev-TokenFunction",
	"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
	"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
	"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/PartnerApi-dev-TokenFunction",
	"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
	"AWS_REGION=eu-west-1",
	"_HANDLER=bootstrap",
}

// TestLambdaLogger runs logging.Lambda as a function does: in a process
// started with Lambda's environment (lambdacontext reads it when the
// process starts, so it cannot be set from inside a test), at the
// LOG_LEVEL read by config.FromEnv. It checks the members of the lines
// (the keys the stack's metric filters name) and that LOG_LEVEL and
// Lambda's own level both apply.
func TestLambdaLogger(t *testing.T) {
	for _, tc := range []struct {
		name, lambdaLevel, logLevel string
		want                        []string // levels written
	}{
		{"both debug", "DEBUG", "debug", []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{"LOG_LEVEL warn", "DEBUG", "warn", []string{"WARN", "ERROR"}},
		{"Lambda's level is stricter", "ERROR", "debug", []string{"ERROR"}},
		{"defaults", "", "", []string{"INFO", "WARN", "ERROR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := runLambdaChild(t, append(slices.Clone(lambdaEnv),
				"AWS_LAMBDA_LOG_LEVEL="+tc.lambdaLevel, config.EnvLogLevel+"="+tc.logLevel))
			var got []string
			for _, l := range lines {
				got = append(got, l[logging.LambdaLevelKey].(string))
				if l[logging.LambdaMessageKey] != "hello" {
					t.Errorf("line %v: %s = %v, want hello", l, logging.LambdaMessageKey, l[logging.LambdaMessageKey])
				}
				if l[logging.LambdaRequestIDKey] != "8476a536-e9f4-11e8-9739-2dfe598c3fcd" {
					t.Errorf("line %v: no %s", l, logging.LambdaRequestIDKey)
				}
				if _, ok := l[logging.LambdaTimeKey]; !ok {
					t.Errorf("line %v: no %s", l, logging.LambdaTimeKey)
				}
				for _, k := range []string{"msg", "time"} {
					if _, ok := l[k]; ok {
						t.Errorf("line %v has slog's %q: the Lambda logger renames it", l, k)
					}
				}
				if l["k"] != "v" {
					t.Errorf("line %v: attribute k missing", l)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("levels written = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLambdaChild is the process TestLambdaLogger starts; it does nothing
// unless started so.
func TestLambdaChild(t *testing.T) {
	if os.Getenv("LOGGING_TEST_CHILD") != "1" {
		t.Skip("run by TestLambdaLogger")
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	logger := logging.Lambda(cfg.LogLevel).With("k", "v")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
	logger.DebugContext(ctx, "hello")
	logger.InfoContext(ctx, "hello")
	logger.WarnContext(ctx, "hello")
	logger.ErrorContext(ctx, "hello")
}

// runLambdaChild runs TestLambdaChild with env and returns the JSON lines
// it wrote to stdout.
func runLambdaChild(t *testing.T, env []string) []map[string]any {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLambdaChild$", "-test.count=1")
	cmd.Env = append(env, "LOGGING_TEST_CHILD=1", "PATH="+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if !bytes.HasPrefix(sc.Bytes(), []byte("{")) {
			continue // the test binary's own PASS
		}
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %s: %v", sc.Bytes(), err)
		}
		lines = append(lines, l)
	}
	return lines
}
