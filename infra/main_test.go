package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// The stack is synthesised once per scenario (a synth costs seconds of
// node time) and every test reads the same template.
func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv(logChildEnv) != "" {
		os.Exit(code) // a child of TestMetricFiltersMatchLambdaLogs: no JSII runtime
	}
	for _, dir := range synthDirs {
		os.RemoveAll(dir)
	}
	if !raceDetector {
		jsii.Close()
	}
	os.Exit(code)
}

// Test certificate, web ACL and topic ARNs: the stack only references them.
const (
	testCertificateARN = "arn:aws:acm:eu-west-1:111111111111:certificate/0f5e0a54-5b8e-4a7c-9a52-9b6f1d1c2f00"
	testWebACLARN      = "arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/partner-api/6b5a1c1e-2d3f-4e5a-8b7c-9d0e1f2a3b4c"
	testTopicARN       = "arn:aws:sns:eu-west-1:111111111111:partner-api-ops"
	testDomain         = "api.partner.example.com"
	testAlarmEmail     = "ops@partner.example.com"
)

// scenarios are the synths the tests share, by name, as CDK context on top
// of cdk.json's. prod exercises every optional feature and a key rotation
// in progress (ES384 generation 2 active, generation 1 still published).
var scenarios = map[string]map[string]any{
	"dev": {"stage": "dev"},
	// dev-kms: KMS signing (the prod scenario signs with KMS too).
	"dev-kms":    {"stage": "dev", "signingMode": "kms"},
	"localstack": {"stage": "dev", "localstack": "true"},
	// prod-created: the stack makes the alarm topic (an email subscribed)
	// and the web ACL itself.
	"prod-created": {
		"stage": "prod", "issuerUrl": "https://" + testDomain, "alarmEmail": testAlarmEmail,
		"wafRateLimit": "1200", "auditRetentionDays": "730", "logLevel": "warn",
	},
	"prod": {
		"stage": "prod", "domainName": testDomain, "certificateArn": testCertificateARN,
		"webAclArn": testWebACLARN, "alarmTopicArn": testTopicARN, "signingMode": "kms",
		"stages": map[string]any{"prod": map[string]any{"signingKeys": map[string]any{
			"ES384": map[string]any{"generations": []any{1, 2}, "active": 2},
		}}},
	},
}

// synthesized is one scenario's stack and template.
type synthesized struct {
	name     string
	cfg      StageConfig
	stack    awscdk.Stack
	template template
	json     []byte
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
	synthDirs  []string // removed by TestMain
)

// synth returns the scenario's synthesised stack, synthesising it on first
// use. Every catalog group is deployed, so every route of API.md is checked
// whether or not its code has landed yet.
func synth(t *testing.T, name string) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[name]; ok {
		if s == nil {
			t.Fatalf("synth %s failed earlier", name)
		}
		return s
	}
	synthCache[name] = nil
	s, err := doSynth(name, scenarios[name])
	if err != nil {
		t.Fatalf("synth %s: %v", name, err)
	}
	synthCache[name] = s
	return s
}

func doSynth(name string, extra map[string]any) (s *synthesized, err error) {
	// Constructs and assertions report errors by panicking (a JSII
	// exception), e.g. a dependency cycle: make that this synth's error.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	ctx, err := cdkJSONContext()
	if err != nil {
		return nil, err
	}
	maps.Copy(ctx, extra)
	out, err := os.MkdirTemp("", "infra-test-"+name+"-")
	if err != nil {
		return nil, err
	}
	synthDirs = append(synthDirs, out)
	code := filepath.Join(out, "code")
	if err := os.MkdirAll(code, 0o755); err != nil {
		return nil, err
	}
	// A stand-in for the bootstrap: the tests check the template, not the
	// binary (the Lambda artifact has its own test).
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		return nil, err
	}

	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(filepath.Join(out, "cdk.out"))})
	cfg, err := ConfigFromContext(app)
	if err != nil {
		return nil, err
	}
	var groups []string
	for _, g := range Catalog {
		groups = append(groups, g.Name)
	}
	stack := NewPartnerAPIStack(app, StackName(cfg.Stage), &PartnerAPIStackProps{
		Config: cfg, Groups: groups,
		Code: func(string) awslambda.Code { return awslambda.Code_FromAsset(jsii.String(code), nil) },
	})
	AddNagChecks(app)
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		return nil, err
	}
	var tmpl template
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		return nil, err
	}
	return &synthesized{name: name, cfg: cfg, stack: stack, template: tmpl, json: raw}, nil
}

// cdkJSONContext is the context of the repository's cdk.json (feature flags
// included), so the tests synthesise what `cdk synth` does.
func cdkJSONContext() (map[string]any, error) {
	b, err := os.ReadFile("../cdk.json")
	if err != nil {
		return nil, err
	}
	var f struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return f.Context, nil
}

// template is a CloudFormation template.
type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

type resource struct {
	Type                string         `json:"Type"`
	Properties          map[string]any `json:"Properties"`
	DeletionPolicy      string         `json:"DeletionPolicy"`
	UpdateReplacePolicy string         `json:"UpdateReplacePolicy"`
	Metadata            map[string]any `json:"Metadata"`
	DependsOn           any            `json:"DependsOn"`
}

// ofType returns the logical ids of the resources of type typ, sorted.
func (t template) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// one returns the only resource of type typ.
func (t template) one(tt *testing.T, typ string) (string, resource) {
	tt.Helper()
	ids := t.ofType(typ)
	if len(ids) != 1 {
		tt.Fatalf("%s resources: got %d, want 1", typ, len(ids))
	}
	return ids[0], t.Resources[ids[0]]
}

// render turns a CloudFormation value into a string: Ref x becomes ${x},
// GetAtt x.A becomes ${x.A}, Fn::Join is joined, a list is rendered as
// [a b], so a test can compare intrinsic values as text.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			parts[i] = render(p)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		if r, ok := v["Ref"]; ok {
			return "${" + render(r) + "}"
		}
		if g, ok := v["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			return "${" + render(g[0]) + "." + render(g[1]) + "}"
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(j) == 2 {
			parts, _ := j[1].([]any)
			s := make([]string, len(parts))
			for i, p := range parts {
				s[i] = render(p)
			}
			return strings.Join(s, render(j[0]))
		}
		b, _ := json.Marshal(v)
		return string(b)
	default:
		return fmt.Sprint(v)
	}
}

// refID is the logical id of the resource whose ARN v is (${x.Arn}
// rendered).
func refID(v any) string {
	return strings.TrimSuffix(strings.TrimPrefix(render(v), "${"), ".Arn}")
}

// strs returns v (a string or a list) as strings, each rendered.
func strs(v any) []string {
	if l, ok := v.([]any); ok {
		out := make([]string, len(l))
		for i, x := range l {
			out[i] = render(x)
		}
		return out
	}
	if v == nil {
		return nil
	}
	return []string{render(v)}
}

// get walks nested maps by keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// groupFunctions maps each endpoint group to its function's logical id,
// found by the GroupTag tag.
func groupFunctions(t *testing.T, tmpl template) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, id := range tmpl.ofType("AWS::Lambda::Function") {
		for _, tag := range tmpl.Resources[id].Properties["Tags"].([]any) {
			if get(tag, "Key") == GroupTag {
				out[get(tag, "Value").(string)] = id
			}
		}
	}
	return out
}

// resourcePath is the full path of an AWS::ApiGateway::Resource.
func resourcePath(tmpl template, id string) string {
	r := tmpl.Resources[id]
	part := r.Properties["PathPart"].(string)
	if parent, ok := get(r.Properties, "ParentId", "Ref").(string); ok {
		return resourcePath(tmpl, parent) + "/" + part
	}
	return "/" + part // parent is the root resource
}
