package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/middleware"
	"github.com/partnerapi/partner-api/shared/signer"
	"github.com/partnerapi/partner-api/shared/store"
)

func TestTable(t *testing.T) {
	for _, tc := range []struct {
		name       string
		protection bool
		policy     string
	}{
		{"dev", false, "Delete"},
		{"prod", true, "Retain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synth(t, tc.name)
			_, table := s.template.one(t, "AWS::DynamoDB::Table")
			p := table.Properties
			if got := render(p["KeySchema"]); got != render(keySchema(store.AttrPK, store.AttrSK)) {
				t.Errorf("KeySchema = %s, want %s", got, render(keySchema(store.AttrPK, store.AttrSK)))
			}
			gsis, _ := p["GlobalSecondaryIndexes"].([]any)
			if len(gsis) != 1 {
				t.Fatalf("GlobalSecondaryIndexes: got %d, want 1", len(gsis))
			}
			if got := get(gsis[0], "IndexName"); got != store.IndexGSI1 {
				t.Errorf("GSI name = %v, want %s", got, store.IndexGSI1)
			}
			if got, want := render(get(gsis[0], "KeySchema")), render(keySchema(store.AttrGSI1PK, store.AttrGSI1SK)); got != want {
				t.Errorf("GSI KeySchema = %s, want %s", got, want)
			}
			if got := get(gsis[0], "Projection", "ProjectionType"); got != "ALL" {
				t.Errorf("GSI projection = %v, want ALL", got)
			}
			for _, a := range p["AttributeDefinitions"].([]any) {
				if get(a, "AttributeType") != "S" {
					t.Errorf("attribute %v: type %v, want S", get(a, "AttributeName"), get(a, "AttributeType"))
				}
			}
			checks := []struct {
				what string
				got  any
				want any
			}{
				{"BillingMode", p["BillingMode"], "PAY_PER_REQUEST"},
				{"PITR", get(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), true},
				{"TTL attribute", get(p, "TimeToLiveSpecification", "AttributeName"), store.AttrExpiresAt},
				{"TTL enabled", get(p, "TimeToLiveSpecification", "Enabled"), true},
				{"DeletionProtectionEnabled", p["DeletionProtectionEnabled"], tc.protection},
				{"DeletionPolicy", table.DeletionPolicy, tc.policy},
				{"UpdateReplacePolicy", table.UpdateReplacePolicy, tc.policy},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func keySchema(hash, rng string) []any {
	return []any{
		map[string]any{"AttributeName": hash, "KeyType": "HASH"},
		map[string]any{"AttributeName": rng, "KeyType": "RANGE"},
	}
}

// stageKeys are a synth's signing keys: all of them by algorithm and
// generation, and the alias target of each algorithm.
type stageKeys struct {
	byAlg  map[signer.Algorithm]map[int]string // logical ids
	active map[signer.Algorithm]string
	alias  map[signer.Algorithm]string // alias name
}

func keysOf(t *testing.T, s *synthesized) stageKeys {
	t.Helper()
	k := stageKeys{byAlg: map[signer.Algorithm]map[int]string{}, active: map[signer.Algorithm]string{}, alias: map[signer.Algorithm]string{}}
	for _, id := range s.template.ofType("AWS::KMS::Key") {
		var alg signer.Algorithm
		var gen int
		if s.template.Resources[id].Properties["KeyUsage"] != "SIGN_VERIFY" {
			continue // the wrapping key, the federation key
		}
		desc := s.template.Resources[id].Properties["Description"].(string)
		if _, err := fmt.Sscanf(desc, "partner-api "+s.cfg.Stage+" %s JWT signing key, generation %d", &alg, &gen); err != nil {
			t.Fatalf("key %s: description %q: %v", id, desc, err)
		}
		if k.byAlg[alg] == nil {
			k.byAlg[alg] = map[int]string{}
		}
		k.byAlg[alg][gen] = id
	}
	for _, id := range s.template.ofType("AWS::KMS::Alias") {
		p := s.template.Resources[id].Properties
		name := p["AliasName"].(string)
		target := render(p["TargetKeyId"])
		for alg, gens := range k.byAlg {
			for _, keyID := range gens {
				if target == "${"+keyID+".Arn}" || target == "${"+keyID+"}" {
					k.active[alg], k.alias[alg] = keyID, name
				}
			}
		}
	}
	return k
}

func TestSigningKeys(t *testing.T) {
	wantSpec := map[signer.Algorithm]string{signer.PS256: "RSA_2048", signer.ES384: "ECC_NIST_P384", signer.ES512: "ECC_NIST_P521"}
	for _, tc := range []struct {
		name    string
		gens    map[signer.Algorithm][]int
		active  map[signer.Algorithm]int
		policy  string
		pending float64
	}{
		{"dev-kms", map[signer.Algorithm][]int{signer.PS256: {1}, signer.ES384: {1}, signer.ES512: {1}},
			map[signer.Algorithm]int{signer.PS256: 1, signer.ES384: 1, signer.ES512: 1}, "Delete", 7},
		{"prod", map[signer.Algorithm][]int{signer.PS256: {1}, signer.ES384: {1, 2}, signer.ES512: {1}},
			map[signer.Algorithm]int{signer.PS256: 1, signer.ES384: 2, signer.ES512: 1}, "Retain", 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synth(t, tc.name)
			k := keysOf(t, s)
			for _, alg := range Algorithms {
				if got := slices.Sorted(maps.Keys(k.byAlg[alg])); !slices.Equal(got, tc.gens[alg]) {
					t.Errorf("%s generations = %v, want %v", alg, got, tc.gens[alg])
				}
				for gen, id := range k.byAlg[alg] {
					r := s.template.Resources[id]
					if got := r.Properties["KeySpec"]; got != wantSpec[alg] {
						t.Errorf("%s gen %d KeySpec = %v, want %s", alg, gen, got, wantSpec[alg])
					}
					if got := r.Properties["KeyUsage"]; got != "SIGN_VERIFY" {
						t.Errorf("%s gen %d KeyUsage = %v, want SIGN_VERIFY", alg, gen, got)
					}
					if r.DeletionPolicy != tc.policy {
						t.Errorf("%s gen %d DeletionPolicy = %q, want %q", alg, gen, r.DeletionPolicy, tc.policy)
					}
					if got := r.Properties["PendingWindowInDays"]; got != tc.pending {
						t.Errorf("%s gen %d PendingWindowInDays = %v, want %v", alg, gen, got, tc.pending)
					}
					if got := r.Properties["EnableKeyRotation"]; got == true {
						t.Errorf("%s gen %d: EnableKeyRotation on an asymmetric key", alg, gen)
					}
				}
				if got, want := k.active[alg], k.byAlg[alg][tc.active[alg]]; got != want || got == "" {
					t.Errorf("%s alias targets %q, want generation %d (%q)", alg, got, tc.active[alg], want)
				}
				if got, want := k.alias[alg], KeyAlias(s.cfg.Stage, alg); got != want {
					t.Errorf("%s alias = %q, want %q", alg, got, want)
				}
				// Aliases go with the stack, even in prod: a retained alias
				// blocks the next deployment after a destroy.
				for _, id := range s.template.ofType("AWS::KMS::Alias") {
					if r := s.template.Resources[id]; r.DeletionPolicy != "Delete" && r.DeletionPolicy != "" {
						t.Errorf("alias %s DeletionPolicy = %q, want Delete", id, r.DeletionPolicy)
					}
				}
			}
		})
	}
}

func TestKeyAlias(t *testing.T) {
	if got, want := KeyAlias("prod", signer.ES384), "alias/partner-api-prod-es384"; got != want {
		t.Errorf("KeyAlias = %q, want %q", got, want)
	}
}

func TestRoutes(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			fns := groupFunctions(t, s.template)
			want := map[string]string{} // path -> function logical id
			for _, g := range Catalog {
				for _, p := range g.Paths() {
					want[p] = fns[g.Name]
				}
			}
			got := map[string]string{}
			for _, id := range s.template.ofType("AWS::ApiGateway::Method") {
				p := s.template.Resources[id].Properties
				path := resourcePath(s.template, get(p, "ResourceId", "Ref").(string))
				if p["HttpMethod"] != "ANY" {
					t.Errorf("%s: method %v, want ANY (the handler answers 405 itself)", path, p["HttpMethod"])
				}
				if typ := get(p, "Integration", "Type"); typ != "AWS_PROXY" {
					t.Errorf("%s: integration %v, want AWS_PROXY", path, typ)
				}
				if _, dup := got[path]; dup {
					t.Errorf("%s: more than one method", path)
				}
				uri := render(get(p, "Integration", "Uri"))
				got[path] = ""
				for _, fn := range fns {
					if strings.Contains(uri, "${"+fn+".Arn}") {
						got[path] = fn
					}
				}
			}
			if !maps.Equal(got, want) {
				for _, p := range slices.Sorted(maps.Keys(want)) {
					if got[p] != want[p] {
						t.Errorf("route %s -> %q, want %q", p, got[p], want[p])
					}
				}
				for _, p := range slices.Sorted(maps.Keys(got)) {
					if _, ok := want[p]; !ok {
						t.Errorf("unexpected route %s -> %s", p, got[p])
					}
				}
			}

			// Each method may invoke its function from the stage only.
			perms := map[string][]string{}
			for _, id := range s.template.ofType("AWS::Lambda::Permission") {
				p := s.template.Resources[id].Properties
				fn := refID(p["FunctionName"])
				perms[fn] = append(perms[fn], render(p["SourceArn"]))
				if p["Principal"] != "apigateway.amazonaws.com" {
					t.Errorf("permission %s: principal %v", id, p["Principal"])
				}
			}
			for _, g := range Catalog {
				fn := fns[g.Name]
				if got := len(perms[fn]); got != len(g.Paths()) {
					t.Errorf("%s: %d invoke permissions, want %d (one per path)", g.Name, got, len(g.Paths()))
				}
				for _, arn := range perms[fn] {
					if !strings.Contains(arn, "/${ApiDeploymentStage"+name) {
						t.Errorf("%s: permission %s not scoped to the stage", g.Name, arn)
					}
				}
			}
		})
	}
}

func TestNoCORS(t *testing.T) {
	s := synth(t, "dev")
	for _, id := range s.template.ofType("AWS::ApiGateway::Method") {
		if m := s.template.Resources[id].Properties["HttpMethod"]; m == "OPTIONS" {
			t.Errorf("method %s is OPTIONS: CORS preflight is not wanted", id)
		}
	}
}

func TestFunctions(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			fns := groupFunctions(t, s.template)
			if len(fns) != len(Catalog) {
				t.Fatalf("functions: got %d, want %d", len(fns), len(Catalog))
			}
			for _, g := range Catalog {
				p := s.template.Resources[fns[g.Name]].Properties
				checks := []struct {
					what      string
					got, want any
				}{
					{"Runtime", p["Runtime"], "provided.al2023"},
					{"Architectures", render(p["Architectures"]), "[arm64]"},
					{"Handler", p["Handler"], "bootstrap"},
					{"MemorySize", p["MemorySize"], g.MemoryMB},
					{"Timeout", p["Timeout"], g.TimeoutSeconds},
					{"TracingConfig", get(p, "TracingConfig", "Mode"), "Active"},
					{"LogFormat", get(p, "LoggingConfig", "LogFormat"), "JSON"},
					{"ReservedConcurrentExecutions", p["ReservedConcurrentExecutions"], nil},
				}
				for _, c := range checks {
					if c.got != c.want {
						t.Errorf("%s %s = %v, want %v", g.Name, c.what, c.got, c.want)
					}
				}

				env, _ := get(p, "Environment", "Variables").(map[string]any)
				want := append(config.Keys(g, s.cfg.SigningMode), envGOGC) // and the Go runtime's GC target
				if name == "prod" && (g.KMS == KMSVerify || g.KMS == KMSSign) {
					want = append(want, config.EnvRetiredKeys)
				}
				slices.Sort(want)
				if got := slices.Sorted(maps.Keys(env)); !slices.Equal(got, want) {
					t.Errorf("%s environment = %v, want %v", g.Name, got, want)
				}
				if got := render(env[config.EnvTableName]); !strings.HasPrefix(got, "${Table") {
					t.Errorf("%s TABLE_NAME = %s, want a Ref to the table", g.Name, got)
				}
				if c, ok := env[config.EnvCursorKey]; ok {
					got := render(c)
					if !strings.HasPrefix(got, "{{resolve:secretsmanager:${CursorKey") || !strings.HasSuffix(got, ":SecretString:"+cursorKeyField+"::}}") {
						t.Errorf("%s CURSOR_KEY = %s, want exactly a dynamic reference to the secret's %q field", g.Name, got, cursorKeyField)
					}
				}
			}
		})
	}
}

// TestFunctionEnvironmentIsConfig reads each function's environment as
// the function does, with config.FromEnv (references rendered as text, the
// cursor key as the generated secret looks): it must be valid, leave no
// setting the group uses at a development default, and carry the stage's
// audit retention and log level, so a setting the stack forgets or
// misnames fails here.
func TestFunctionEnvironmentIsConfig(t *testing.T) {
	for _, name := range []string{"dev", "prod", "prod-created"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			fns := groupFunctions(t, s.template)
			for _, g := range Catalog {
				env, _ := get(s.template.Resources[fns[g.Name]].Properties, "Environment", "Variables").(map[string]any)
				cfg, err := config.FromEnv(func(k string) string {
					v, ok := env[k]
					switch {
					case !ok:
						return ""
					case k == config.EnvCursorKey:
						return "Q2hhbmdlTWVQbGVhc2VBbmRUaGVuQWdhaW4xMjM0NTZ" // 43 letters and digits, as generated
					default:
						return render(v)
					}
				})
				if err != nil {
					t.Errorf("%s: config.FromEnv: %v", g.Name, err)
					continue
				}
				if insecure := cfg.InsecureFor(g); len(insecure) > 0 {
					t.Errorf("%s: settings left at development defaults: %v", g.Name, insecure)
				}
				if got, want := cfg.AuditRetention, time.Duration(s.cfg.AuditRetentionDays)*24*time.Hour; got != want {
					t.Errorf("%s: audit retention %v, want %v", g.Name, got, want)
				}
				if got, want := render(env[envGOGC]), strconv.Itoa(registry.GCPercent); got != want {
					t.Errorf("%s: GOGC %q, want %s (registry.GCPercent from the process's start)", g.Name, got, want)
				}
				if got := strings.ToLower(cfg.LogLevel.String()); got != s.cfg.LogLevel {
					t.Errorf("%s: log level %s, want %s", g.Name, got, s.cfg.LogLevel)
				}
				p := s.template.Resources[fns[g.Name]].Properties
				if got, want := get(p, "LoggingConfig", "ApplicationLogLevel"), strings.ToUpper(s.cfg.LogLevel); got != want {
					t.Errorf("%s: Lambda ApplicationLogLevel %v, want %s (the same level as LOG_LEVEL)", g.Name, got, want)
				}
			}
		})
	}
}

// TestDynamicReferences: a value holding a dynamic reference
// ({{resolve:...}}) holds nothing else once its Fn::Join is rendered.
// AWS resolves the reference inside a longer string, but LocalStack's
// CloudFormation replaces the whole value with the resolved secret, so
// text around a reference would be lost there (it was the '=' of
// CURSOR_KEY).
func TestDynamicReferences(t *testing.T) {
	for _, name := range []string{"dev", "prod", "localstack"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			var n int
			var walk func(path string, v any)
			walk = func(path string, v any) {
				_, join := get(v, "Fn::Join").([]any)
				if _, str := v.(string); (str || join) && strings.Contains(render(v), "{{resolve:") {
					text := render(v)
					n++
					if !strings.HasPrefix(text, "{{resolve:") || !strings.HasSuffix(text, "}}") || strings.Count(text, "{{resolve:") != 1 {
						t.Errorf("%s = %s: want one dynamic reference and nothing around it", path, text)
					}
					return
				}
				switch v := v.(type) {
				case map[string]any:
					for k, x := range v {
						walk(path+"."+k, x)
					}
				case []any:
					for i, x := range v {
						walk(fmt.Sprintf("%s[%d]", path, i), x)
					}
				}
			}
			for id, r := range s.template.Resources {
				walk(id, r.Properties)
			}
			if n == 0 {
				t.Error("no dynamic reference found: where does CURSOR_KEY come from?")
			}
		})
	}
}

func TestKeyEnvironment(t *testing.T) {
	s := synth(t, "prod")
	k := keysOf(t, s)
	fns := groupFunctions(t, s.template)
	env := get(s.template.Resources[fns["token"]].Properties, "Environment", "Variables")
	for _, alg := range Algorithms {
		if got, want := render(get(env, "KMS_KEY_"+string(alg))), "${"+k.active[alg]+".Arn}"; got != want {
			t.Errorf("KMS_KEY_%s = %s, want the active key %s", alg, got, want)
		}
	}
	if got, want := render(get(env, "KMS_RETIRED_KEYS")), "${"+k.byAlg[signer.ES384][1]+".Arn}"; got != want {
		t.Errorf("KMS_RETIRED_KEYS = %s, want %s (ES384 generation 1, rotating out)", got, want)
	}
}

// TestIssuerURL checks ISSUER_URL: the custom domain in prod; in dev the
// execute-api URL built from the RestApi id and the stage *name*, never a
// reference to the Stage, which would be a dependency cycle (the Stage
// depends on the functions through the Deployment and Methods). cfn-lint
// checks the template for cycles too (TestCfnLint).
func TestIssuerURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string
	}{
		{"dev", "https://${ApiF70053CD}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev"},
		{"prod", "https://" + testDomain},
		{"localstack", "http://${ApiF70053CD}.execute-api.localhost.localstack.cloud:4566/dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synth(t, tc.name)
			fns := groupFunctions(t, s.template)
			restAPI, _ := s.template.one(t, "AWS::ApiGateway::RestApi")
			want := strings.ReplaceAll(tc.want, "ApiF70053CD", restAPI)
			for _, g := range Catalog {
				if !g.HTTP() {
					continue
				}
				got := render(get(s.template.Resources[fns[g.Name]].Properties, "Environment", "Variables", "ISSUER_URL"))
				if got != want {
					t.Errorf("%s ISSUER_URL = %s, want %s", g.Name, got, want)
				}
				if strings.Contains(got, "Stage") || strings.Contains(got, "Deployment") {
					t.Errorf("%s ISSUER_URL = %s references the stage: a cycle", g.Name, got)
				}
			}
			if got := render(s.template.Outputs["IssuerUrl"].Value); got != want {
				t.Errorf("output IssuerUrl = %s, want %s", got, want)
			}
		})
	}
}

// TestIAMLeastPrivilege compares each function role's whole policy with what
// its group needs: every action on exactly the resources it needs, nothing
// else; "*" only for X-Ray, which has no resource-level permissions.
func TestIAMLeastPrivilege(t *testing.T) {
	xray := map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true}
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			tableID, _ := s.template.one(t, "AWS::DynamoDB::Table")
			fedKeyID := federationKeyID(s)
			k := keysOf(t, s)
			wrapping := ""
			if s.cfg.SigningMode == config.SigningWrapped {
				wrapping = "${" + wrappingKeyID(t, s) + ".Arn}"
			}
			var published, active []string
			for _, alg := range Algorithms {
				for _, id := range k.byAlg[alg] {
					published = append(published, "${"+id+".Arn}")
				}
				active = append(active, "${"+k.active[alg]+".Arn}")
			}

			// Every statement of every policy in the stack.
			granted := map[string]map[string][]string{} // role id -> action -> resources
			for _, id := range s.template.ofType("AWS::IAM::Policy") {
				p := s.template.Resources[id].Properties
				for _, st := range get(p, "PolicyDocument", "Statement").([]any) {
					if get(st, "Effect") != "Allow" {
						continue
					}
					for _, a := range strs(get(st, "Action")) {
						if strings.Contains(a, "*") {
							t.Errorf("policy %s: wildcard action %q", id, a)
						}
						for _, r := range strs(get(st, "Resource")) {
							if r == "*" && !xray[a] {
								t.Errorf("policy %s: action %s on resource *", id, a)
							}
							for _, role := range strs(p["Roles"]) {
								if granted[role] == nil {
									granted[role] = map[string][]string{}
								}
								granted[role][a] = append(granted[role][a], r)
							}
						}
					}
				}
			}

			fns := groupFunctions(t, s.template)
			for _, g := range Catalog {
				fp := s.template.Resources[fns[g.Name]].Properties
				roleID := refID(fp["Role"])
				if m := s.template.Resources[roleID].Properties["ManagedPolicyArns"]; m != nil {
					t.Errorf("%s role has managed policies %v", g.Name, m)
				}
				want := map[string][]string{}
				add := func(action string, resources ...string) {
					want[action] = append(want[action], resources...)
				}
				logs := render(get(fp, "LoggingConfig", "LogGroup"))
				logsArn := strings.TrimSuffix(logs, "}") + ".Arn}"
				add("logs:CreateLogStream", logsArn)
				add("logs:PutLogEvents", logsArn)
				add("xray:PutTraceSegments", "*")
				add("xray:PutTelemetryRecords", "*")
				for _, a := range g.TableActions {
					add(a, "${"+tableID+".Arn}")
				}
				for _, a := range g.IndexActions {
					add(a, "${"+tableID+".Arn}/index/"+store.IndexGSI1)
				}
				switch {
				case s.cfg.SigningMode == config.SigningWrapped && g.KMS == KMSSign:
					add("kms:Decrypt", wrapping)
				case s.cfg.SigningMode == config.SigningWrapped && g.KMS == KMSRotate:
					add("kms:Encrypt", wrapping)
				case s.cfg.SigningMode == config.SigningWrapped:
				case g.KMS == KMSSign:
					add("kms:Sign", active...)
					add("kms:GetPublicKey", published...)
				case g.KMS == KMSVerify:
					add("kms:GetPublicKey", published...)
				}
				switch g.FederationKey {
				case registry.FederationEncrypt:
					add("kms:Encrypt", "${"+fedKeyID+".Arn}")
				case registry.FederationDecrypt:
					add("kms:Decrypt", "${"+fedKeyID+".Arn}")
				}
				got := granted["${"+roleID+"}"]
				for a := range got {
					slices.Sort(got[a])
				}
				for a := range want {
					slices.Sort(want[a])
				}
				if !maps.EqualFunc(got, want, slices.Equal) {
					gotJSON, _ := json.MarshalIndent(got, "", " ")
					wantJSON, _ := json.MarshalIndent(want, "", " ")
					t.Errorf("%s role grants\n%s\nwant\n%s", g.Name, gotJSON, wantJSON)
				}
			}
		})
	}
}

func TestAPIStage(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			_, stage := s.template.one(t, "AWS::ApiGateway::Stage")
			p := stage.Properties
			if p["StageName"] != s.cfg.Stage {
				t.Errorf("StageName = %v, want %s", p["StageName"], s.cfg.Stage)
			}
			if p["TracingEnabled"] != true {
				t.Errorf("TracingEnabled = %v, want true", p["TracingEnabled"])
			}
			settings, _ := p["MethodSettings"].([]any)
			// kms mode adds the token route's own throttle (TestTokenThrottle).
			if want := map[config.SigningMode]int{config.SigningWrapped: 1, config.SigningKMS: 2}[s.cfg.SigningMode]; len(settings) != want {
				t.Fatalf("MethodSettings: %v, want %d", settings, want)
			}
			ms := settings[0]
			checks := []struct {
				what      string
				got, want any
			}{
				{"ThrottlingRateLimit", get(ms, "ThrottlingRateLimit"), s.cfg.ThrottleRateLimit},
				{"ThrottlingBurstLimit", get(ms, "ThrottlingBurstLimit"), s.cfg.ThrottleBurstLimit},
				{"LoggingLevel", get(ms, "LoggingLevel"), "ERROR"},
				{"DataTraceEnabled", get(ms, "DataTraceEnabled"), false},
				{"HttpMethod", get(ms, "HttpMethod"), "*"},
				{"ResourcePath", get(ms, "ResourcePath"), "/*"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
			format, _ := get(p, "AccessLogSetting", "Format").(string)
			var fields map[string]string
			if err := json.Unmarshal([]byte(format), &fields); err != nil {
				t.Errorf("access log format is not JSON: %v: %s", err, format)
			}
			if fields["requestId"] != "$context.requestId" || fields["status"] != "$context.status" {
				t.Errorf("access log format lacks requestId or status: %s", format)
			}
			for k, v := range fields {
				if strings.Contains(strings.ToLower(v), "header") || strings.Contains(strings.ToLower(v), "authoriz") {
					t.Errorf("access log field %s=%s may hold credentials", k, v)
				}
			}
			if dest := render(get(p, "AccessLogSetting", "DestinationArn")); !strings.HasPrefix(dest, "${ApiAccessLogs") {
				t.Errorf("access log destination = %s", dest)
			}

			// Gateway-made errors speak problem+json.
			for _, id := range s.template.ofType("AWS::ApiGateway::GatewayResponse") {
				gp := s.template.Resources[id].Properties
				if ct := get(gp, "ResponseParameters", "gatewayresponse.header.Content-Type"); ct != "'application/problem+json'" {
					t.Errorf("gateway response %v: Content-Type %v", gp["ResponseType"], ct)
				}
				if id := get(gp, "ResponseParameters", "gatewayresponse.header.x-fapi-interaction-id"); id != "context.requestId" {
					t.Errorf("gateway response %v: x-fapi-interaction-id %v, want context.requestId", gp["ResponseType"], id)
				}
				for k, v := range middleware.SecurityHeaderValues() {
					if got := get(gp, "ResponseParameters", "gatewayresponse.header."+k); got != "'"+v+"'" {
						t.Errorf("gateway response %v: %s = %v, want '%s'", gp["ResponseType"], k, got, v)
					}
				}
				var body struct {
					Status int    `json:"status"`
					Code   string `json:"code"`
				}
				if err := json.Unmarshal([]byte(get(gp, "ResponseTemplates", "application/json").(string)), &body); err != nil {
					t.Errorf("gateway response %v: body: %v", gp["ResponseType"], err)
				}
				if fmt.Sprint(body.Status) != gp["StatusCode"] || body.Code == "" {
					t.Errorf("gateway response %v: status %v, body %+v", gp["ResponseType"], gp["StatusCode"], body)
				}
			}
			if got, want := len(s.template.ofType("AWS::ApiGateway::GatewayResponse")), len(gatewayResponses); got != want {
				t.Errorf("gateway responses: got %d, want %d", got, want)
			}

			_, api := s.template.one(t, "AWS::ApiGateway::RestApi")
			custom := name == "prod"
			if got := api.Properties["DisableExecuteApiEndpoint"]; got != custom {
				t.Errorf("DisableExecuteApiEndpoint = %v, want %v", got, custom)
			}
			for _, typ := range []string{"AWS::ApiGateway::DomainName", "AWS::ApiGateway::BasePathMapping"} {
				if got := len(s.template.ofType(typ)); (got == 1) != custom {
					t.Errorf("%s: got %d", typ, got)
				}
			}
			if custom {
				_, d := s.template.one(t, "AWS::ApiGateway::DomainName")
				if d.Properties["SecurityPolicy"] != "TLS_1_2" {
					t.Errorf("domain SecurityPolicy = %v, want TLS_1_2", d.Properties["SecurityPolicy"])
				}
			}
		})
	}
}

func TestAlarms(t *testing.T) {
	for _, name := range []string{"dev", "prod", "prod-created"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			// The topic the stack creates (prod-created only), with the
			// address subscribed; SSL enforced by its policy.
			var createdTopic string
			if topics := s.template.ofType("AWS::SNS::Topic"); (len(topics) == 1) != (name == "prod-created") {
				t.Errorf("SNS topics: %v", topics)
			} else if len(topics) == 1 {
				createdTopic = topics[0]
				_, sub := s.template.one(t, "AWS::SNS::Subscription")
				if sub.Properties["Protocol"] != "email" || sub.Properties["Endpoint"] != testAlarmEmail || render(sub.Properties["TopicArn"]) != "${"+createdTopic+"}" {
					t.Errorf("subscription = %v", sub.Properties)
				}
				_, policy := s.template.one(t, "AWS::SNS::TopicPolicy")
				if doc := render(policy.Properties["PolicyDocument"]); !strings.Contains(doc, "aws:SecureTransport") {
					t.Errorf("topic policy %s does not enforce SSL", doc)
				}
			}
			prefix := StackName(s.cfg.Stage) + "-"
			byName := map[string]resource{}
			for _, id := range s.template.ofType("AWS::CloudWatch::Alarm") {
				r := s.template.Resources[id]
				byName[strings.TrimPrefix(r.Properties["AlarmName"].(string), prefix)] = r
			}
			want := []string{"api-5xx-rate", "dynamodb-throttles", "kms-errors", "usage-metering-failures"}
			for _, g := range Catalog {
				want = append(want, g.Name+"-errors", g.Name+"-throttles")
			}
			slices.Sort(want)
			if got := slices.Sorted(maps.Keys(byName)); !slices.Equal(got, want) {
				t.Errorf("alarms = %v, want %v", got, want)
			}
			for n, a := range byName {
				actions := strs(a.Properties["AlarmActions"])
				if name == "prod" && !slices.Equal(actions, []string{testTopicARN}) {
					t.Errorf("alarm %s actions = %v, want [%s]", n, actions, testTopicARN)
				}
				if name == "prod-created" && !slices.Equal(actions, []string{"${" + createdTopic + "}"}) {
					t.Errorf("alarm %s actions = %v, want the created topic %s", n, actions, createdTopic)
				}
				if ok := strs(a.Properties["OKActions"]); !slices.Equal(ok, actions) {
					t.Errorf("alarm %s OKActions = %v, want %v", n, ok, actions)
				}
				if name == "dev" && len(actions) != 0 {
					t.Errorf("alarm %s actions = %v, want none", n, actions)
				}
				if a.Properties["TreatMissingData"] != "notBreaching" {
					t.Errorf("alarm %s TreatMissingData = %v", n, a.Properties["TreatMissingData"])
				}
			}

			var kmsGroups int
			for _, g := range Catalog {
				if g.HTTP() {
					kmsGroups++
				}
			}
			// Each web-facing function has a KMS-error and a metering-failure filter.
			patterns := map[any]int{}
			for _, id := range s.template.ofType("AWS::Logs::MetricFilter") {
				patterns[s.template.Resources[id].Properties["FilterPattern"]]++
			}
			wantPatterns := map[any]int{KMSErrorFilter: kmsGroups, MeteringFailureFilter: kmsGroups}
			if !maps.Equal(patterns, wantPatterns) {
				t.Errorf("metric filters by pattern = %v, want %v", patterns, wantPatterns)
			}
		})
	}
}

func TestOutputs(t *testing.T) {
	s := synth(t, "prod")
	want := []string{"AdminFunctionName", "ApiUrl", "CursorKeySecretArn", "DomainTarget", "IssuerUrl", "TableName"}
	for _, alg := range Algorithms {
		want = append(want, "KeyAlias"+string(alg), "SigningKeyArn"+string(alg))
	}
	for _, o := range want {
		if _, ok := s.template.Outputs[o]; !ok {
			t.Errorf("output %s missing", o)
		}
	}
	fns := groupFunctions(t, s.template)
	if got, want := render(s.template.Outputs["AdminFunctionName"].Value), "${"+fns["admin"]+"}"; got != want {
		t.Errorf("AdminFunctionName = %s, want %s", got, want)
	}
}

// TestNoHardcodedEnvironment: the template names no account or region of
// its own (the only ARNs are the test inputs).
func TestNoHardcodedEnvironment(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		s := synth(t, name)
		text := string(s.json)
		for _, arn := range []string{testCertificateARN, testWebACLARN, testTopicARN} {
			text = strings.ReplaceAll(text, arn, "")
		}
		for _, bad := range []string{"111111111111", "us-east-1", "eu-west-1", "000000000000"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s template contains %q", name, bad)
			}
		}
	}
}

// TestProdGuardrails: prod refuses to synthesise without an alarm topic
// (alarms that page nobody), and always has a web ACL in front of the
// stage: the one given, or one the stack creates with a rate-based rule
// per source IP. No usage plan anywhere: it binds no API key, so its
// limits could never apply.
func TestProdGuardrails(t *testing.T) {
	if _, err := doSynth("prod-no-topic", map[string]any{"stage": "prod", "issuerUrl": "https://" + testDomain}); err == nil || !strings.Contains(err.Error(), "alarm topic") {
		t.Errorf("prod without an alarm topic: got %v, want an error naming the alarm topic", err)
	}
	for _, tc := range []struct {
		name       string
		createdACL bool
		givenACL   bool
	}{
		{"dev", false, false},
		{"prod", false, true},
		{"prod-created", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synth(t, tc.name)
			if got := s.template.ofType("AWS::ApiGateway::UsagePlan"); len(got) != 0 {
				t.Errorf("usage plans %v, want none", got)
			}
			acls := s.template.ofType("AWS::WAFv2::WebACL")
			if (len(acls) == 1) != tc.createdACL || len(acls) > 1 {
				t.Fatalf("web ACLs %v, want created %v", acls, tc.createdACL)
			}
			assoc := s.template.ofType("AWS::WAFv2::WebACLAssociation")
			if len(assoc) != 0 != (tc.createdACL || tc.givenACL) || len(assoc) > 1 {
				t.Fatalf("web ACL associations %v", assoc)
			}
			if len(assoc) == 0 {
				return
			}
			ap := s.template.Resources[assoc[0]].Properties
			stageID, _ := s.template.one(t, "AWS::ApiGateway::Stage")
			if arn := render(ap["ResourceArn"]); !strings.Contains(arn, "/stages/${"+stageID+"}") {
				t.Errorf("association ResourceArn = %s, want the stage %s", arn, stageID)
			}
			want := testWebACLARN
			if tc.createdACL {
				want = "${" + acls[0] + ".Arn}"
			}
			if got := render(ap["WebACLArn"]); got != want {
				t.Errorf("association WebACLArn = %s, want %s", got, want)
			}
			if !tc.createdACL {
				return
			}
			p := s.template.Resources[acls[0]].Properties
			if p["Scope"] != "REGIONAL" || get(p, "DefaultAction", "Allow") == nil {
				t.Errorf("web ACL scope %v, default action %v; want REGIONAL, Allow", p["Scope"], p["DefaultAction"])
			}
			rules, _ := p["Rules"].([]any)
			if len(rules) != 1 {
				t.Fatalf("rules = %v, want the rate-based rule", rules)
			}
			r := rules[0]
			rate := get(r, "Statement", "RateBasedStatement")
			if get(r, "Name") != WAFRateRuleName || get(r, "Action", "Block") == nil ||
				get(rate, "AggregateKeyType") != "IP" || get(rate, "Limit") != float64(s.cfg.WAFRateLimit) || s.cfg.WAFRateLimit != 1200 {
				t.Errorf("rule = %v, want %s blocking over %d requests per IP", r, WAFRateRuleName, s.cfg.WAFRateLimit)
			}
		})
	}
}

// TestExecutionLogGroup: API Gateway's execution log group is the stack's,
// with the stage's retention, and exists before the stage (which would
// otherwise make one without retention).
func TestExecutionLogGroup(t *testing.T) {
	for _, name := range []string{"dev", "prod"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			restAPI, _ := s.template.one(t, "AWS::ApiGateway::RestApi")
			stageID, stage := s.template.one(t, "AWS::ApiGateway::Stage")
			want := "API-Gateway-Execution-Logs_${" + restAPI + "}/" + s.cfg.Stage
			var found string
			for _, id := range s.template.ofType("AWS::Logs::LogGroup") {
				if render(s.template.Resources[id].Properties["LogGroupName"]) == want {
					found = id
				}
			}
			if found == "" {
				t.Fatalf("no log group named %s", want)
			}
			r := s.template.Resources[found]
			if got := r.Properties["RetentionInDays"]; got != float64(retentionDaysOf(t, s.cfg.LogRetention)) {
				t.Errorf("RetentionInDays = %v, want %v", got, s.cfg.LogRetention)
			}
			wantPolicy := "Delete"
			if s.cfg.Prod() {
				wantPolicy = "Retain"
			}
			if r.DeletionPolicy != wantPolicy {
				t.Errorf("DeletionPolicy = %q, want %q", r.DeletionPolicy, wantPolicy)
			}
			if !slices.Contains(strs(stage.DependsOn), found) {
				t.Errorf("stage %s DependsOn %v, want %s among them", stageID, stage.DependsOn, found)
			}
		})
	}
}

func retentionDaysOf(t *testing.T, r awslogs.RetentionDays) int {
	t.Helper()
	for days, rd := range retentionDays {
		if rd == r {
			return days
		}
	}
	t.Fatalf("retention %v unknown", r)
	return 0
}
