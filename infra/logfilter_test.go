package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/partnerapi/partner-api/shared/app"
	"github.com/partnerapi/partner-api/shared/app/groups/token"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/logging"
	"github.com/partnerapi/partner-api/shared/oautherr"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/tokenapi"
	"github.com/partnerapi/partner-api/shared/usage"
)

// TestMetricFiltersMatchLambdaLogs evaluates every metric filter pattern of
// the stack (CloudWatch Logs JSON filter syntax) against lines the
// production logger writes on Lambda, produced through the code that logs
// them: a failing usage counter through usage.Meter, a KMS Sign failure
// (a real SDK error from a KMS endpoint answering DisabledException)
// through the token endpoint's error writer, and a KMS GetPublicKey
// failure at start-up through app.StartHTTPFunction itself. Each filter
// must count its lines and none of the others, so a renamed log member or
// message fails here.
func TestMetricFiltersMatchLambdaLogs(t *testing.T) {
	lines := lambdaLogLines(t)
	cases := map[string]struct {
		match []string // line kinds the filter counts
	}{
		KMSErrorFilter:        {match: []string{"kms-sign", "kms-start"}},
		MeteringFailureFilter: {match: []string{"metering"}},
	}
	// Every filter of every synthesised stage has a case here.
	for _, name := range []string{"dev", "prod"} {
		s := synth(t, name)
		for _, id := range s.template.ofType("AWS::Logs::MetricFilter") {
			p, _ := s.template.Resources[id].Properties["FilterPattern"].(string)
			if _, ok := cases[p]; !ok {
				t.Errorf("%s: metric filter %s pattern %q has no case in this test", name, id, p)
			}
		}
	}
	for pattern, tc := range cases {
		f, err := parseFilter(pattern)
		if err != nil {
			t.Errorf("filter %q: %v", pattern, err)
			continue
		}
		for kind, kindLines := range lines {
			for _, line := range kindLines {
				got, want := f.match(line), slices.Contains(tc.match, kind)
				if got != want {
					t.Errorf("filter %s on %s line %s: match %v, want %v", pattern, kind, line, got, want)
				}
			}
		}
		for _, kind := range tc.match {
			if len(lines[kind]) == 0 {
				t.Errorf("filter %s: no %s line was logged", pattern, kind)
			}
		}
	}
}

// lambdaLogLines runs the processes that log each kind of line as a Lambda
// function does and returns their JSON lines by kind. "other" lines must
// match no filter: a 4xx at Info, a non-KMS 500 at Error, a token issued.
func lambdaLogLines(t *testing.T) map[string][][]byte {
	t.Helper()
	fake := httptest.NewServer(fakeKMS(t))
	t.Cleanup(fake.Close)
	env := append(slices.Clone(lambdaEnv),
		"AWS_ENDPOINT_URL_KMS="+fake.URL,
		"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:1", // never reached
	)
	out := map[string][][]byte{}
	for _, kind := range []string{"metering", "kms-sign", "other"} {
		out[kind] = runLogChild(t, kind, env, true)
	}
	// A function whose keys KMS refuses: app.StartHTTPFunction logs why
	// and exits 1, as a failed cold start does.
	var denied []string
	for _, alg := range Algorithms {
		denied = append(denied, config.EnvKMSKey(alg)+"=alias/denied-"+strings.ToLower(string(alg)))
	}
	denied = append(denied, config.EnvSigningMode+"=kms")
	out["kms-start"] = runLogChild(t, "kms-start", append(env, denied...), false)
	for kind, l := range out {
		t.Logf("%s: %s", kind, bytes.Join(l, []byte("\n")))
	}
	return out
}

// lambdaEnv is what Lambda sets for a function the stack configures (JSON
// log format, application log level), with dummy credentials.
var lambdaEnv = []string{
	"AWS_LAMBDA_LOG_FORMAT=JSON",
	"AWS_LAMBDA_LOG_LEVEL=INFO",
	"AWS_LAMBDA_FUNCTION_NAME=PartnerApi-dev-TokenFunction",
	"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
	"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
	"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/PartnerApi-dev-TokenFunction",
	"AWS_LAMBDA_LOG_STREAM_NAME=2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
	"AWS_REGION=eu-west-1",
	"AWS_ACCESS_KEY_ID=test",
	"AWS_SECRET_ACCESS_KEY=test",
	"AWS_EC2_METADATA_DISABLED=true",
	"_HANDLER=bootstrap",
	config.EnvLogLevel + "=info",
}

// logChildEnv names the kind of lines a child process of this test binary
// writes (TestLogChild).
const logChildEnv = "INFRA_LOG_CHILD"

func runLogChild(t *testing.T, kind string, env []string, wantSuccess bool) [][]byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLogChild$", "-test.count=1")
	cmd.Env = append(env, logChildEnv+"="+kind, "PATH="+os.Getenv("PATH"), "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if wantSuccess && err != nil || !wantSuccess && err == nil {
		t.Fatalf("%s child: %v, want success %v\n%s%s", kind, err, wantSuccess, stdout.String(), stderr.String())
	}
	var lines [][]byte
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if bytes.HasPrefix(sc.Bytes(), []byte("{")) {
			lines = append(lines, slices.Clone(sc.Bytes()))
		}
	}
	return lines
}

// TestLogChild is the child process of lambdaLogLines; it does nothing
// unless started by it.
func TestLogChild(t *testing.T) {
	kind := os.Getenv(logChildEnv)
	if kind == "" {
		t.Skip("run by TestMetricFiltersMatchLambdaLogs")
	}
	if kind == "kms-start" {
		app.StartHTTPFunction("token", token.Operations) // exits 1: KMS refuses the keys
		t.Fatal("StartHTTPFunction returned")
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	logger := logging.Lambda(cfg.LogLevel)
	// As on Lambda: the invocation's context, and the per-request logger
	// the middleware puts there.
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd"})
	ctx = logging.WithLogger(ctx, logger.With("interaction_id", "6f1c2a58-3b7e-4d7a-9c1e-2f4b8a9d0e11"))
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/token", nil)

	switch kind {
	case "metering":
		m := usage.NewMeter(failingCounter{}, logger, time.Now)
		m.Token(ctx, "acme-partner", "", "acme-partner")(true)
	case "kms-sign":
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := signer.New(ctx, kms.NewFromConfig(awsCfg), []signer.KeyConfig{{Algorithm: signer.ES384, KeyID: "alias/partner-api-dev-es384"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.SignJWT(ctx, signer.ES384, "at+jwt", map[string]any{"sub": "acme-partner"})
		if err == nil {
			t.Fatal("SignJWT succeeded, want the fake KMS's DisabledException")
		}
		tokenapi.WriteError(httptest.NewRecorder(), req, oautherr.ServerError(fmt.Errorf("issue token: %w", err)))
	case "other":
		tokenapi.WriteError(httptest.NewRecorder(), req, oautherr.InvalidClient("Client authentication failed."))
		tokenapi.WriteError(httptest.NewRecorder(), req, oautherr.ServerError(errors.New("get principal: operation error DynamoDB: GetItem, exceeded maximum number of attempts")))
		logging.FromContext(ctx, logger).InfoContext(ctx, "token issued", slog.String("client_id", "acme-partner"))
	default:
		t.Fatalf("unknown kind %q", kind)
	}
}

// failingCounter is a usage counter whose writes fail, as a throttled or
// unreachable table's do.
type failingCounter struct{}

func (failingCounter) AddUsage(context.Context, store.UsageEvent, int, int64) error {
	return errors.New("add usage: operation error DynamoDB: UpdateItem, ProvisionedThroughputExceededException")
}

// fakeKMS answers GetPublicKey with a P-384 key (AccessDeniedException for
// a key id containing "denied") and Sign with DisabledException, in KMS's
// JSON protocol, so the SDK's real error text reaches the logs.
func fakeKMS(t *testing.T) http.Handler {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(w http.ResponseWriter, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ KeyId string }
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &in)
		arn := "arn:aws:kms:eu-west-1:111111111111:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
		switch r.Header.Get("X-Amz-Target") {
		case "TrentService.GetPublicKey":
			if strings.Contains(in.KeyId, "denied") {
				fail(w, "AccessDeniedException", "User is not authorized to perform: kms:GetPublicKey")
				return
			}
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"KeyId": arn, "KeySpec": "ECC_NIST_P384", "KeyUsage": "SIGN_VERIFY",
				"SigningAlgorithms": []string{"ECDSA_SHA_384"}, "PublicKey": der,
			})
		case "TrentService.Sign":
			fail(w, "DisabledException", arn+" is disabled.")
		default:
			http.Error(w, "unexpected call", http.StatusNotImplemented)
		}
	})
}

// filter is a parsed CloudWatch Logs JSON filter pattern.
type filter interface {
	match(line []byte) bool
}

// parseFilter parses the subset of CloudWatch Logs' JSON filter syntax the
// stack uses: { SELECTOR OP VALUE } with OP = or !=, a string value in
// double quotes where * matches any text, a number or bare word, and
// conditions joined by && or || with parentheses (mixing && and || without
// parentheses is refused rather than guessed). A * matches any text,
// line breaks included (a start-up error joins one error per key with
// "\n"; CloudWatch's console "Test pattern" is the check of this
// assumption, see docs/RUNBOOK.md). Anything else is an error,
// so a filter using more syntax fails until this evaluator learns it.
func parseFilter(pattern string) (filter, error) {
	s := strings.TrimSpace(pattern)
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("not a JSON filter pattern: want { ... }")
	}
	p := &filterParser{toks: tokenize(s[1 : len(s)-1])}
	f, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return f, nil
}

var filterToken = regexp.MustCompile(`\s*("(?:[^"\\]|\\.)*"|&&|\|\||!=|=|\(|\)|[^\s()=!&|"]+)`)

func tokenize(s string) []string {
	var toks []string
	for _, m := range filterToken.FindAllStringSubmatch(s, -1) {
		toks = append(toks, m[1])
	}
	return toks
}

type filterParser struct {
	toks []string
	i    int
}

func (p *filterParser) next() string {
	if p.i >= len(p.toks) {
		return ""
	}
	p.i++
	return p.toks[p.i-1]
}

func (p *filterParser) peek() string {
	if p.i >= len(p.toks) {
		return ""
	}
	return p.toks[p.i]
}

func (p *filterParser) expr() (filter, error) {
	first, err := p.term()
	if err != nil {
		return nil, err
	}
	terms, op := []filter{first}, ""
	for p.peek() == "&&" || p.peek() == "||" {
		o := p.next()
		if op != "" && o != op {
			return nil, errors.New("&& and || mixed without parentheses")
		}
		op = o
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return logical{and: op == "&&", terms: terms}, nil
}

func (p *filterParser) term() (filter, error) {
	if p.peek() == "(" {
		p.next()
		f, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return f, nil
	}
	sel := p.next()
	if !strings.HasPrefix(sel, "$.") {
		return nil, fmt.Errorf("selector %q: want $.member", sel)
	}
	op := p.next()
	if op != "=" && op != "!=" {
		return nil, fmt.Errorf("operator %q: want = or !=", op)
	}
	v := p.next()
	if v == "" {
		return nil, errors.New("missing value")
	}
	if strings.HasPrefix(v, `"`) {
		uq, err := unquoteFilter(v)
		if err != nil {
			return nil, err
		}
		v = uq
	}
	parts := strings.Split(v, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return comparison{path: strings.Split(sel[2:], "."), negate: op == "!=",
		value: regexp.MustCompile(`(?s)^` + strings.Join(parts, ".*") + `$`)}, nil
}

func unquoteFilter(v string) (string, error) {
	var s string
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return "", fmt.Errorf("string %s: %v", v, err)
	}
	return s, nil
}

// comparison is $.path OP value; a line without the member never matches.
type comparison struct {
	path   []string
	negate bool
	value  *regexp.Regexp
}

func (c comparison) match(line []byte) bool {
	var v any
	if err := json.Unmarshal(line, &v); err != nil {
		return false
	}
	for _, k := range c.path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	var text string
	switch v := v.(type) {
	case string:
		text = v
	case float64, bool:
		text = fmt.Sprint(v)
	default:
		return false
	}
	return c.value.MatchString(text) != c.negate
}

type logical struct {
	and   bool
	terms []filter
}

func (l logical) match(line []byte) bool {
	for _, t := range l.terms {
		if t.match(line) != l.and {
			return !l.and
		}
	}
	return l.and
}

// TestFilterEvaluator checks the evaluator itself on hand-written lines.
func TestFilterEvaluator(t *testing.T) {
	line := []byte(`{"level":"ERROR","message":"oauth request failed","err":"server_error: x: operation error KMS: Sign, DisabledException","n":3,"a":{"b":"c"}}`)
	for _, tc := range []struct {
		pattern string
		want    bool
		wantErr bool
	}{
		{pattern: `{ $.message = "oauth request failed" }`, want: true},
		{pattern: `{ $.msg = "oauth request failed" }`, want: false},
		{pattern: `{ $.message = "oauth request" }`, want: false},
		{pattern: `{ $.message = "oauth*" }`, want: true},
		{pattern: `{ $.err = "*operation error KMS*" }`, want: true},
		{pattern: `{ $.err = "*operation error DynamoDB*" }`, want: false},
		{pattern: `{ ($.level = "ERROR") && ($.err = "*KMS*") }`, want: true},
		{pattern: `{ ($.level = "WARN") && ($.err = "*KMS*") }`, want: false},
		{pattern: `{ ($.level = "WARN") || ($.err = "*KMS*") }`, want: true},
		{pattern: `{ $.level != "ERROR" }`, want: false},
		{pattern: `{ $.n = 3 }`, want: true},
		{pattern: `{ $.a.b = "c" }`, want: true},
		{pattern: `{ $.a = "c" && $.n = 3 || $.n = 4 }`, wantErr: true},
		{pattern: `{ $.n > 3 }`, wantErr: true},
		{pattern: `ERROR`, wantErr: true},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			f, err := parseFilter(tc.pattern)
			if tc.wantErr {
				if err == nil {
					t.Errorf("parse: got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := f.match(line); got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}
