package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/keyring"
)

// isFederationKey is whether the KMS key of logical id id is the federation
// secrets' key (TestFederationKey).
func isFederationKey(id string) bool { return strings.HasPrefix(id, "FederationKey") }

// federationKeyID is the logical id of the federation secrets' key, "" if
// the stack has none.
func federationKeyID(s *synthesized) string {
	keys := s.template.ofType("AWS::KMS::Key")
	if i := slices.IndexFunc(keys, isFederationKey); i >= 0 {
		return keys[i]
	}
	return ""
}

// wrappingKeyID is the logical id of the wrapping key of a wrapped-mode
// stack: its only KMS key but the federation secrets' key.
func wrappingKeyID(t *testing.T, s *synthesized) string {
	t.Helper()
	keys := slices.DeleteFunc(s.template.ofType("AWS::KMS::Key"), isFederationKey)
	if len(keys) != 1 {
		t.Fatalf("wrapped mode: %d KMS keys besides the federation key, want 1 (the wrapping key)", len(keys))
	}
	return keys[0]
}

// TestWrappingKey: in wrapped mode (the default) the stack has one
// symmetric, yearly rotated KMS key and no signing key; only the token
// function may decrypt with it and only the admin function encrypt, each
// only under the key ring's encryption context; the functions that sign or
// rotate name it in KMS_WRAPPING_KEY.
func TestWrappingKey(t *testing.T) {
	s := synth(t, "dev")
	id := wrappingKeyID(t, s)
	p := s.template.Resources[id].Properties
	if p["KeySpec"] != nil && p["KeySpec"] != "SYMMETRIC_DEFAULT" || p["EnableKeyRotation"] != true {
		t.Errorf("wrapping key = %v, want SYMMETRIC_DEFAULT with rotation", p)
	}
	if len(s.template.ofType("AWS::KMS::Alias")) != 0 {
		t.Error("wrapped mode has key aliases: no signing key should exist")
	}
	fns := groupFunctions(t, s.template)
	for _, g := range Catalog {
		env := get(s.template.Resources[fns[g.Name]].Properties, "Environment", "Variables")
		wantKey := g.KMS == KMSSign || g.KMS == KMSRotate
		got := render(get(env, config.EnvWrappingKey))
		if wantKey && got != "${"+id+".Arn}" || !wantKey && got != "<nil>" && got != "" {
			t.Errorf("%s KMS_WRAPPING_KEY = %s (want it: %v)", g.Name, got, wantKey)
		}
		if mode := get(env, config.EnvSigningMode); g.KMS != KMSNone && mode != "wrapped" {
			t.Errorf("%s SIGNING_MODE = %v, want wrapped", g.Name, mode)
		}
	}
	// The conditions of every statement naming the wrapping key.
	var actions []string
	for _, pid := range s.template.ofType("AWS::IAM::Policy") {
		for _, st := range get(s.template.Resources[pid].Properties, "PolicyDocument", "Statement").([]any) {
			if !slices.Contains(strs(get(st, "Resource")), "${"+id+".Arn}") {
				continue
			}
			actions = append(actions, strs(get(st, "Action"))...)
			if got := get(st, "Condition", "StringEquals", "kms:EncryptionContext:purpose"); got != keyring.Purpose {
				t.Errorf("policy %s: purpose condition %v, want %s", pid, got, keyring.Purpose)
			}
			if got := render(get(st, "Condition", "ForAllValues:StringEquals", "kms:EncryptionContextKeys")); got != "[kid purpose]" {
				t.Errorf("policy %s: context keys condition %s, want [kid purpose]", pid, got)
			}
		}
	}
	slices.Sort(actions)
	// Decrypt for each group that signs (token; signin, whose mint signs),
	// Encrypt for admin's rotation.
	if !slices.Equal(actions, []string{"kms:Decrypt", "kms:Decrypt", "kms:Encrypt"}) {
		t.Errorf("actions on the wrapping key: %v, want Decrypt for token and signin and one Encrypt (admin)", actions)
	}
}

// TestKeyRotationSchedule: wrapped mode has one EventBridge Scheduler
// schedule invoking the admin function with the rotation payload every
// keyRotationDays, through a role that may invoke that function only; kms
// mode has none.
func TestKeyRotationSchedule(t *testing.T) {
	s := synth(t, "dev")
	_, sch := s.template.one(t, "AWS::Scheduler::Schedule")
	fns := groupFunctions(t, s.template)
	p := sch.Properties
	if got, want := p["ScheduleExpression"], "rate(30 days)"; got != want {
		t.Errorf("ScheduleExpression = %v, want %s", got, want)
	}
	if got, want := render(get(p, "Target", "Arn")), "${"+fns["admin"]+".Arn}"; got != want {
		t.Errorf("target = %s, want the admin function %s", got, want)
	}
	if got := get(p, "Target", "Input"); got != `{"action":"rotate_signing_keys"}` {
		t.Errorf("input = %v, want the rotate_signing_keys payload", got)
	}
	role := refID(get(p, "Target", "RoleArn"))
	for _, pid := range s.template.ofType("AWS::IAM::Policy") {
		pp := s.template.Resources[pid].Properties
		if !slices.Contains(strs(pp["Roles"]), "${"+role+"}") {
			continue
		}
		for _, st := range get(pp, "PolicyDocument", "Statement").([]any) {
			if a, r := render(get(st, "Action")), render(get(st, "Resource")); a != "lambda:InvokeFunction" || r != "${"+fns["admin"]+".Arn}" {
				t.Errorf("schedule role grants %s on %s, want lambda:InvokeFunction on the admin function only", a, r)
			}
		}
	}
	if n := len(synth(t, "dev-kms").template.ofType("AWS::Scheduler::Schedule")); n != 0 {
		t.Errorf("kms mode: %d schedules, want none", n)
	}
	c, err := configFrom(func(k string) any { return map[string]any{"keyRotationDays": "7"}[k] })
	if err != nil || c.KeyRotationDays != 7 {
		t.Errorf("keyRotationDays=7: %d, %v", c.KeyRotationDays, err)
	}
}

// TestTokenThrottle: with KMS signing, POST /v1/token is throttled below
// the account's KMS quota (80% of kmsSignQuota by default, configurable,
// refused at or above the quota); with wrapped keys the route has only the
// stage's throttle.
func TestTokenThrottle(t *testing.T) {
	methodSettings := func(name string) []any {
		_, stage := synth(t, name).template.one(t, "AWS::ApiGateway::Stage")
		ms, _ := stage.Properties["MethodSettings"].([]any)
		var token []any
		for _, m := range ms {
			if get(m, "ResourcePath") == "/~1v1~1token" && get(m, "HttpMethod") == "POST" {
				token = append(token, m)
			}
		}
		return token
	}
	for _, name := range []string{"dev-kms", "prod"} {
		s := synth(t, name)
		token := methodSettings(name)
		if len(token) != 1 {
			t.Fatalf("%s: %d method settings for POST /v1/token, want 1", name, len(token))
		}
		rate, _ := get(token[0], "ThrottlingRateLimit").(float64)
		if rate <= 0 || rate >= s.cfg.KMSSignQuota || rate != 240 {
			t.Errorf("%s: token route rate %v, want 240 (80%% of the KMS quota %v)", name, rate, s.cfg.KMSSignQuota)
		}
		if burst, _ := get(token[0], "ThrottlingBurstLimit").(float64); burst != rate {
			t.Errorf("%s: token route burst %v, want %v", name, burst, rate)
		}
	}
	if token := methodSettings("dev"); len(token) != 0 {
		t.Errorf("wrapped mode: token route settings %v, want none (the stage's throttle)", token)
	}
	ctx := func(kv map[string]any) func(string) any { return func(k string) any { return kv[k] } }
	if _, err := configFrom(ctx(map[string]any{"signingMode": "kms", "kmsSignQuota": "300", "tokenThrottleRateLimit": "300"})); err == nil || !strings.Contains(err.Error(), "kmsSignQuota") {
		t.Errorf("kms mode with the token throttle at the quota: err = %v, want a refusal", err)
	}
	c, err := configFrom(ctx(map[string]any{"signingMode": "kms", "kmsSignQuota": "1000"}))
	if err != nil || c.TokenThrottleRateLimit != 800 {
		t.Errorf("kmsSignQuota=1000: token rate %v, %v; want 800", c.TokenThrottleRateLimit, err)
	}
	if _, err := configFrom(ctx(map[string]any{"kmsSignQuota": "300", "tokenThrottleRateLimit": "5000"})); err != nil {
		t.Errorf("wrapped mode ignores the KMS quota: %v", err)
	}
}
