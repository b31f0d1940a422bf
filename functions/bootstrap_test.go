package functions_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/partnerapi/partner-api/internal/lambdaruntime"
	"github.com/partnerapi/partner-api/internal/localdev"
	"github.com/partnerapi/partner-api/internal/testenv"
	"github.com/partnerapi/partner-api/shared/admin"
	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/store"
)

// TestMain starts DynamoDB Local and moto unless AWS_ENDPOINT_URL* name them.
func TestMain(m *testing.M) { testenv.Main(m) }

// The sample events of events/token sign in as this partner.
const eventsPartner, eventsSecret = "events-partner", "events-partner-sample-secret-0123456789abcdef"

// The interaction id every sample API Gateway event carries.
const eventsInteractionID = "6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11"

// Time limits: building on a cold cache compiles the AWS SDK (tens of
// seconds); a first invocation includes the cold start (loading the KMS
// public keys), slower under qemu.
const (
	buildTimeout  = 3 * time.Minute
	invokeTimeout = 20 * time.Second
	stopTimeout   = 5 * time.Second
)

// functionCase is what a function is sent.
type functionCase struct {
	invocations []invocationCase
}

// isHTTP is whether function name is an API Gateway function (a registry
// group with routes), given the issuer and KMS keys as the stack gives them;
// the others get the table only.
func isHTTP(name string) bool {
	g, ok := registry.Lookup(name)
	return ok && g.HTTP()
}

type invocationCase struct {
	name    string
	payload string // a file of events/, or inline JSON
	check   func(t *testing.T, res lambdaruntime.Result)
}

// TestBootstrap builds every function as `make build` does and runs each
// bootstrap as Lambda does: a process with the environment Lambda and the
// stack give it, polling a Runtime API on loopback for events from events/.
// The linux/arm64 artifact that ships runs under qemu-aarch64 when it is
// installed; otherwise the same source built for this machine runs.
func TestBootstrap(t *testing.T) {
	cases := map[string]functionCase{
		"token": {invocations: []invocationCase{
			{"jwks", "token/jwks.json", apiResponse(200, `"keys":[`)},
			{"client secret basic", "token/token-client-secret-basic.json", apiResponse(200, `"access_token":"ey`)},
			{"invalid client", "token/token-invalid-client.json", apiResponse(401, `"error":"invalid_client"`)},
		}},
		// The sample events carry a "Bearer {{token}}" placeholder: unfilled,
		// it exercises the binary's start, routing and bearer check.
		"organisations": {invocations: []invocationCase{
			{"unauthenticated list", "organisations/list.json", apiResponse(401, `"code":"unauthorized"`)},
			{"unauthenticated get", "organisations/get.json", apiResponse(401, `"code":"unauthorized"`)},
		}},
		"clients": {invocations: []invocationCase{
			{"unauthenticated list", "clients/list.json", apiResponse(401, `"code":"unauthorized"`)},
			{"unauthenticated me", "clients/get-me.json", apiResponse(401, `"code":"unauthorized"`)},
		}},
		"authservers": {invocations: []invocationCase{
			{"unauthenticated list", "authservers/list.json", apiResponse(401, `"code":"unauthorized"`)},
		}},
		"usage": {invocations: []invocationCase{
			{"unauthenticated report", "usage/report.json", apiResponse(401, `"code":"unauthorized"`)},
			{"unauthenticated audit events", "usage/audit-events.json", apiResponse(401, `"code":"unauthorized"`)},
		}},
		"signin": {invocations: []invocationCase{
			{"discovery", "signin/openid-configuration.json", apiResponse(200, `"authorization_endpoint":`)},
			{"userinfo without token", "signin/userinfo-no-token.json", apiResponse(401, `"error":"invalid_token"`)},
			{"unauthenticated mint", "signin/mint.json", apiResponse(401, `"code":"unauthorized"`)},
		}},
		"admin": {invocations: []invocationCase{
			{"create", "admin/create-partner.json", adminResponse(true)},
			{"invalid action", `{"action":"nope"}`, functionError("ValidationError", "action: must be one of")},
			{"unknown field", `{"action":"get_partner","partner_id":"acme-partner","secret":"x"}`, functionError("", `unknown field "secret"`)},
			// The process serves on after a function error.
			{"get", "admin/get-partner.json", adminResponse(false)},
			// The schedule's payload: a pending key per algorithm.
			{"rotate signing keys", "admin/rotate-signing-keys.json", keyRingResponse},
		}},
	}

	names := functionNames(t)
	bins := build(t, names)
	env := provision(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fc, ok := cases[name]
			if !ok {
				fc = smokeCase(t, name)
			}
			fn := start(t, name, bins, env.forFunction(isHTTP(name)))
			for _, ic := range fc.invocations {
				t.Run(ic.name, func(t *testing.T) {
					ic.check(t, fn.invoke(t, ic.payload))
				})
			}
			fn.stop(t)
			fn.checkLogs(t)
		})
	}
}

// apiResponse checks an API Gateway proxy response's status and body, and
// that it carries the event's interaction id.
func apiResponse(status int, bodyContains string) func(*testing.T, lambdaruntime.Result) {
	return func(t *testing.T, res lambdaruntime.Result) {
		t.Helper()
		if res.Err != nil {
			t.Fatalf("got function error %v, want a response", res.Err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(res.Payload, &resp); err != nil {
			t.Fatalf("got %s, want an API Gateway proxy response: %v", res.Payload, err)
		}
		if resp.StatusCode != status {
			t.Errorf("got status %d, want %d: %s", resp.StatusCode, status, resp.Body)
		}
		if !strings.Contains(resp.Body, bodyContains) {
			t.Errorf("got body %s, want it to contain %s", resp.Body, bodyContains)
		}
		if got := header(resp, "x-fapi-interaction-id"); got != eventsInteractionID {
			t.Errorf("got x-fapi-interaction-id %q, want %q", got, eventsInteractionID)
		}
	}
}

// adminResponse checks the admin function's answer about acme-partner; a
// created partner comes with its secret, shown once.
func adminResponse(withSecret bool) func(*testing.T, lambdaruntime.Result) {
	return func(t *testing.T, res lambdaruntime.Result) {
		t.Helper()
		if res.Err != nil {
			t.Fatalf("got function error %v, want a response", res.Err)
		}
		var resp admin.Response
		dec := json.NewDecoder(bytes.NewReader(res.Payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&resp); err != nil {
			t.Fatalf("got %s, want an admin response: %v", res.Payload, err)
		}
		if resp.PartnerID != "acme-partner" || resp.Name != "Acme Ltd" || !resp.Enabled {
			t.Errorf("got partner %q %q enabled=%t, want acme-partner \"Acme Ltd\" enabled", resp.PartnerID, resp.Name, resp.Enabled)
		}
		if got := resp.ClientSecret != ""; got != withSecret {
			t.Errorf("got a client_secret: %t, want %t", got, withSecret)
		}
		if len(resp.Scopes) == 0 {
			t.Errorf("got no scopes, want the partner scopes")
		}
	}
}

// keyRingResponse checks the admin function's rotation report: three keys
// created, each pending, and no key material.
func keyRingResponse(t *testing.T, res lambdaruntime.Result) {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("got function error %v, want a report", res.Err)
	}
	var rep struct {
		Created []string `json:"created"`
		Keys    []struct {
			KID, Status string
		} `json:"keys"`
	}
	if err := json.Unmarshal(res.Payload, &rep); err != nil || len(rep.Created) != 3 {
		t.Fatalf("got %s, want a report of three keys created (%v)", res.Payload, err)
	}
	pending := 0
	for _, k := range rep.Keys {
		if k.Status == "pending" {
			pending++
		}
	}
	if pending != 3 || strings.Contains(string(res.Payload), "wrapped") {
		t.Errorf("got %s, want three pending keys and no key material", res.Payload)
	}
}

// functionError checks that the invocation failed with an error of type
// errType (any type when empty) whose message contains msg.
func functionError(errType, msg string) func(*testing.T, lambdaruntime.Result) {
	return func(t *testing.T, res lambdaruntime.Result) {
		t.Helper()
		if res.Err == nil {
			t.Fatalf("got response %s, want a function error", res.Payload)
		}
		if errType != "" && res.Err.Type != errType {
			t.Errorf("got errorType %q, want %q", res.Err.Type, errType)
		}
		if !strings.Contains(res.Err.Message, msg) {
			t.Errorf("got errorMessage %q, want it to contain %q", res.Err.Message, msg)
		}
	}
}

// smokeCase covers a function this test has no cases for yet, if it is an
// API Gateway function: every event of events/<name> must be answered with a
// proxy response below 500 (without a token substituted into the events, a
// 401 is fine: the binary started, loaded its keys and served).
func smokeCase(t *testing.T, name string) functionCase {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "events", name, "*.json"))
	var fc functionCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayProxyRequest
		if json.Unmarshal(b, &ev) != nil || ev.HTTPMethod == "" {
			continue
		}
		fc.invocations = append(fc.invocations, invocationCase{filepath.Base(f), name + "/" + filepath.Base(f), apiResponseBelow500})
	}
	if len(fc.invocations) == 0 {
		t.Fatalf("function %s has no cases in this test and no API Gateway events in events/%s: add cases to TestBootstrap", name, name)
	}
	t.Logf("function %s has no cases in this test: only checking that it answers events/%s/*.json below 500", name, name)
	return fc
}

func apiResponseBelow500(t *testing.T, res lambdaruntime.Result) {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("got function error %v, want a response", res.Err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil {
		t.Fatalf("got %s, want an API Gateway proxy response: %v", res.Payload, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 500 {
		t.Errorf("got status %d, want 2xx to 4xx: %s", resp.StatusCode, resp.Body)
	}
}

// functionNames lists the functions as the Makefile does: every folder of
// functions/ with a main.go.
func functionNames(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob("*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("got no functions/*/main.go (%v), want some", err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Dir(m))
	}
	return names
}

// binaries are the built bootstraps and how to run them.
type binaries struct {
	dir     string   // <dir>/<function>/bootstrap
	emulate []string // command prefix, e.g. qemu-aarch64-static; none when native
}

// build compiles every function in one go command (shared packages compile
// once) with the Makefile's environment and flags into a temporary folder.
// The target is the shipped linux/arm64 when it can run here (natively or
// under qemu user emulation), else this machine's GOOS/GOARCH.
func build(t *testing.T, names []string) binaries {
	t.Helper()
	goos, goarch, emulate, why := target()
	t.Logf("running the functions built for %s/%s: %s", goos, goarch, why)
	dir := t.TempDir()
	out := filepath.Join(dir, "out") + string(filepath.Separator)
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	ctx, cancel := context.WithTimeout(t.Context(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	began := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=%s GOARCH=%s CGO_ENABLED=0 go %s: %v\n%s", goos, goarch, strings.Join(args, " "), err, b)
	}
	t.Logf("built %s for %s/%s in %s", strings.Join(names, ", "), goos, goarch, time.Since(began).Round(time.Millisecond))
	for _, n := range names {
		n = filepath.Base(n) // a package path such as testdata/hello
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(out, n), filepath.Join(dir, n, "bootstrap")); err != nil {
			t.Fatalf("got no binary for %s: %v", n, err)
		}
	}
	return binaries{dir: dir, emulate: emulate}
}

// target returns the platform to build for, the emulator to run it with and
// why. COLDSTART_NATIVE=1 builds for this machine even where qemu could run
// the arm64 artifact: qemu translates each piece of code the first time it
// runs, which weighs on a function's first request far more than on a
// hello-world's, so make coldstart reports both.
func target() (goos, goarch string, emulate []string, why string) {
	switch {
	case os.Getenv("COLDSTART_NATIVE") == "1":
		return runtime.GOOS, runtime.GOARCH, nil, "NOT the linux/arm64 artifact: this machine's own (COLDSTART_NATIVE=1)"
	case runtime.GOOS != "linux":
		return runtime.GOOS, runtime.GOARCH, nil, "NOT the linux/arm64 artifact, which cannot run on " + runtime.GOOS
	case runtime.GOARCH == "arm64":
		return "linux", "arm64", nil, "the artifact that ships, natively"
	}
	for _, q := range []string{"qemu-aarch64-static", "qemu-aarch64"} {
		if p, err := exec.LookPath(q); err == nil {
			return "linux", "arm64", []string{p}, "the artifact that ships, under " + p
		}
	}
	return "linux", runtime.GOARCH, nil, "NOT the linux/arm64 artifact: no qemu-aarch64-static or qemu-aarch64 " +
		"on PATH (Debian: apt-get install qemu-user-static)"
}

// serviceEnv is the provisioned service's configuration and AWS access.
type serviceEnv struct {
	common []string // every function: GC target, table, log level, AWS access
	http   []string // API Gateway functions: issuer and signing keys
}

func (e serviceEnv) forFunction(http bool) []string {
	if http {
		return slices.Concat(e.common, e.http)
	}
	return slices.Clone(e.common)
}

// provision creates a fresh table and keys (unique names, as apptest does)
// and the partner the sample events sign in as.
func provision(t *testing.T) serviceEnv {
	t.Helper()
	ctx := t.Context()
	suffix := uuid.NewString()[:8]
	vars := map[string]string{
		"TABLE_NAME":    "test-" + suffix,
		"ISSUER_URL":    "https://partner-api.test",
		"KMS_KEY_PS256": "alias/test-" + suffix + "-ps256",
		"KMS_KEY_ES384": "alias/test-" + suffix + "-es384",
		"KMS_KEY_ES512": "alias/test-" + suffix + "-es512",
		"LOG_LEVEL":     "debug",
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	db := testenv.DynamoDB(t) // fails the test when no emulator endpoint is set
	testenv.KMS(t)
	awsCfg := testenv.AWSConfig(t)
	if err := localdev.Provision(ctx, cfg, awsCfg); err != nil {
		t.Fatalf("provision: %v", err)
	}
	if _, err := admin.New(store.New(db, cfg.TableName, nil), nil, nil).EnsurePartner(ctx, eventsPartner, eventsSecret); err != nil {
		t.Fatalf("create partner %s: %v", eventsPartner, err)
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatalf("AWS credentials: %v", err)
	}

	e := serviceEnv{
		common: []string{
			"GOGC=" + strconv.Itoa(registry.GCPercent), // as the stack sets it (infra/functions.go)
			"TABLE_NAME=" + vars["TABLE_NAME"],
			"LOG_LEVEL=" + vars["LOG_LEVEL"],
			"AWS_REGION=" + awsCfg.Region,
			"AWS_DEFAULT_REGION=" + awsCfg.Region,
			"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		},
		http: []string{"ISSUER_URL=" + vars["ISSUER_URL"]},
	}
	if creds.SessionToken != "" {
		e.common = append(e.common, "AWS_SESSION_TOKEN="+creds.SessionToken)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KMS"} {
		if v := os.Getenv(k); v != "" {
			e.common = append(e.common, k+"="+v)
		}
	}
	for _, k := range []string{"KMS_KEY_PS256", "KMS_KEY_ES384", "KMS_KEY_ES512"} {
		e.http = append(e.http, k+"="+vars[k])
	}
	return e
}

// function is one running bootstrap process and its Runtime API.
type function struct {
	name    string
	rt      *lambdaruntime.Server
	cmd     *exec.Cmd
	stdout  bytes.Buffer // read only after exited is closed
	stderr  bytes.Buffer
	exited  chan struct{}
	waitErr error           // set before exited is closed
	alive   context.Context // cancelled, with the exit as cause, when the process ends
	stopped bool
	// secrets are values that must never reach the logs: the events'
	// credentials and every client_secret a response carried.
	secrets []string
}

// start runs the function's bootstrap with Lambda's environment for a
// provided.al2023 function with JSON logging, plus service.
func start(t *testing.T, name string, bins binaries, service []string) *function {
	t.Helper()
	fnName := "partner-api-test-" + name
	rt := lambdaruntime.NewServer(lambdaruntime.Options{
		FunctionARN: "arn:aws:lambda:eu-west-2:123456789012:function:" + fnName,
		Timeout:     invokeTimeout,
	})
	t.Cleanup(rt.Close)
	taskRoot := filepath.Join(bins.dir, name)
	argv := append(slices.Clone(bins.emulate), filepath.Join(taskRoot, "bootstrap"))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = taskRoot
	// Nothing of the test's environment leaks in: the process sees what
	// Lambda sets and what the stack configures.
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + rt.Addr(),
		"AWS_LAMBDA_FUNCTION_NAME=" + fnName,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_LOG_LEVEL=DEBUG",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + fnName,
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
		"LAMBDA_TASK_ROOT=" + taskRoot,
		"_HANDLER=bootstrap",
		"TZ=:UTC",
	}, service...)
	fn := &function{name: name, rt: rt, cmd: cmd, exited: make(chan struct{})}
	fn.secrets = []string{eventsSecret, base64.StdEncoding.EncodeToString([]byte(eventsPartner + ":" + eventsSecret))}
	cmd.Stdout, cmd.Stderr = &fn.stdout, &fn.stderr
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(argv, " "), err)
	}
	alive, cancel := context.WithCancelCause(context.Background())
	fn.alive = alive
	go func() {
		fn.waitErr = cmd.Wait()
		cancel(fmt.Errorf("bootstrap of %s exited: %v", name, fn.waitErr))
		close(fn.exited)
	}()
	t.Cleanup(func() {
		if !fn.stopped {
			fn.stop(t)
		}
		select {
		case <-fn.exited:
			if t.Failed() {
				t.Logf("%s stdout:\n%s\n%s stderr:\n%s", name, &fn.stdout, name, &fn.stderr)
			}
		default:
		}
	})
	return fn
}

// invoke sends payload (a file of events/ or inline JSON) and returns the
// function's answer, failing the test when none comes in time.
func (fn *function) invoke(t *testing.T, payload string) lambdaruntime.Result {
	t.Helper()
	body := []byte(payload)
	if !strings.HasPrefix(payload, "{") {
		var err error
		if body, err = os.ReadFile(filepath.Join("..", "events", payload)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeoutCause(fn.alive, invokeTimeout, fmt.Errorf("no answer within %s", invokeTimeout))
	defer cancel()
	res, err := fn.rt.Invoke(ctx, body)
	if err != nil {
		t.Fatalf("invoke %s with %s: %v", fn.name, payload, err)
	}
	var answer struct {
		ClientSecret string `json:"client_secret"`
	}
	if json.Unmarshal(res.Payload, &answer) == nil && answer.ClientSecret != "" {
		fn.secrets = append(fn.secrets, answer.ClientSecret)
	}
	return res
}

// stop kills the process as Lambda ends an execution environment (SIGKILL;
// SIGTERM only goes to functions with extensions) and checks that it was
// still serving until then and ends at once.
func (fn *function) stop(t *testing.T) {
	t.Helper()
	fn.stopped = true
	select {
	case <-fn.exited:
		t.Errorf("got %s exited before it was stopped (%v), want it serving until killed", fn.name, fn.waitErr)
		return
	default:
	}
	if err := fn.cmd.Process.Kill(); err != nil {
		t.Errorf("kill %s: %v", fn.name, err)
	}
	select {
	case <-fn.exited:
	case <-time.After(stopTimeout):
		t.Errorf("got %s still running %s after SIGKILL, want it gone", fn.name, stopTimeout)
		return
	}
	var exit *exec.ExitError
	if !errors.As(fn.waitErr, &exit) {
		t.Errorf("got wait error %v, want the process killed", fn.waitErr)
		return
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && (!ws.Signaled() || ws.Signal() != syscall.SIGKILL) {
		t.Errorf("got %s ended by %v, want SIGKILL", fn.name, fn.waitErr)
	}
}

// checkLogs checks, once the process has ended, that every line it wrote is
// a JSON object and that no secret appears in any of them.
func (fn *function) checkLogs(t *testing.T) {
	t.Helper()
	for _, stream := range []struct {
		name string
		buf  *bytes.Buffer
	}{{"stdout", &fn.stdout}, {"stderr", &fn.stderr}} {
		sc := bufio.NewScanner(bytes.NewReader(stream.buf.Bytes()))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			for _, s := range fn.secrets {
				if strings.Contains(line, s) {
					t.Errorf("got a secret in %s's %s line %s, want none", fn.name, stream.name, strings.ReplaceAll(line, s, "[SECRET]"))
				}
			}
			if json.Valid([]byte(line)) && strings.HasPrefix(line, "{") {
				continue
			}
			t.Errorf("got %s %s line %q, want a JSON object", fn.name, stream.name, line)
		}
		if err := sc.Err(); err != nil {
			t.Errorf("read %s %s: %v", fn.name, stream.name, err)
		}
	}
}

func header(r events.APIGatewayProxyResponse, name string) string {
	for k, v := range r.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
