package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/partnerapi/partner-api/shared/signer"
)

func TestConfigFrom(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     map[string]any
		wantErr string // substring; "" for success
		check   func(t *testing.T, c StageConfig)
	}{
		{
			name: "dev defaults",
			ctx:  map[string]any{},
			check: func(t *testing.T, c StageConfig) {
				if c.Stage != StageDev || c.Prod() || c.IssuerURL != "" || c.LocalStack {
					t.Errorf("got %+v", c)
				}
				if c.ThrottleRateLimit != 50 || c.ThrottleBurstLimit != 100 {
					t.Errorf("throttle = %v/%v, want 50/100", c.ThrottleRateLimit, c.ThrottleBurstLimit)
				}
				if c.LogRetention != awslogs.RetentionDays_TWO_WEEKS {
					t.Errorf("LogRetention = %v, want TWO_WEEKS", c.LogRetention)
				}
				if c.AuditRetentionDays != 400 {
					t.Errorf("AuditRetentionDays = %d, want 400", c.AuditRetentionDays)
				}
				if c.PartnerTokenAlgorithm != signer.ES384 || !c.APIGatewayCloudWatchRole {
					t.Errorf("got %+v", c)
				}
				for _, alg := range Algorithms {
					if g := c.SigningKeys[alg]; !slices.Equal(g.Generations, []int{1}) || g.Active != 1 {
						t.Errorf("%s keys = %+v, want generation 1 active", alg, g)
					}
				}
			},
		},
		{
			name:    "prod needs an issuer",
			ctx:     map[string]any{"stage": "prod"},
			wantErr: "stable issuer",
		},
		{
			name: "prod with issuerUrl",
			ctx:  map[string]any{"stage": "prod", "issuerUrl": "https://api.example.com/", "alarmTopicArn": testTopicARN},
			check: func(t *testing.T, c StageConfig) {
				if c.IssuerURL != "https://api.example.com" {
					t.Errorf("IssuerURL = %q, want it without the trailing slash", c.IssuerURL)
				}
				if c.LogRetention != awslogs.RetentionDays_ONE_YEAR || c.ThrottleRateLimit != 500 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "prod with custom domain",
			ctx:  map[string]any{"stage": "prod", "domainName": "api.example.com", "certificateArn": testCertificateARN, "alarmEmail": testAlarmEmail},
			check: func(t *testing.T, c StageConfig) {
				if c.IssuerURL != "https://api.example.com" {
					t.Errorf("IssuerURL = %q", c.IssuerURL)
				}
				if !c.CreateWebACL || c.WAFRateLimit != 3000 {
					t.Errorf("CreateWebACL %v, WAFRateLimit %d; want true, 3000", c.CreateWebACL, c.WAFRateLimit)
				}
			},
		},
		{"prod issuer must be https", map[string]any{"stage": "prod", "issuerUrl": "http://api.example.com"}, "want https", nil},
		{"issuer with a query", map[string]any{"issuerUrl": "https://x.example.com/?a=b"}, "without query", nil},
		{"domain without certificate", map[string]any{"domainName": "api.example.com"}, "set both", nil},
		{"unknown stage", map[string]any{"stage": "staging"}, `stage="staging"`, nil},
		{"localstack in prod", map[string]any{"stage": "prod", "issuerUrl": "https://a.example.com", "localstack": "true"}, "dev stage only", nil},
		{"bad boolean", map[string]any{"localstack": "yes please"}, "want true or false", nil},
		{"bad throttle", map[string]any{"throttleRateLimit": "-3"}, "positive number", nil},
		{"bad retention", map[string]any{"logRetentionDays": "8"}, "logRetentionDays", nil},
		{"bad log level", map[string]any{"logLevel": "chatty"}, "logLevel", nil},
		{"bad partner alg", map[string]any{"partnerTokenAlg": "HS256"}, "partnerTokenAlg", nil},
		{"prod needs an alarm topic", map[string]any{"stage": "prod", "issuerUrl": "https://a.example.com"}, "needs an alarm topic", nil},
		{"topic and email", map[string]any{"alarmTopicArn": testTopicARN, "alarmEmail": testAlarmEmail}, "set one", nil},
		{"bad alarm email", map[string]any{"alarmEmail": "ops"}, "alarmEmail", nil},
		{"bad web ACL ARN", map[string]any{"webAclArn": "my-acl"}, "webAclArn", nil},
		{"WAF rate too low", map[string]any{"wafRateLimit": "50"}, "wafRateLimit", nil},
		{
			name: "prod with an existing web ACL",
			ctx:  map[string]any{"stage": "prod", "issuerUrl": "https://a.example.com", "alarmTopicArn": testTopicARN, "webAclArn": testWebACLARN},
			check: func(t *testing.T, c StageConfig) {
				if c.CreateWebACL || c.WebACLARN != testWebACLARN {
					t.Errorf("CreateWebACL %v, WebACLARN %q; want the given ACL only", c.CreateWebACL, c.WebACLARN)
				}
			},
		},
		{
			name: "dev: no alarm topic, no web ACL unless asked",
			ctx:  map[string]any{},
			check: func(t *testing.T, c StageConfig) {
				if c.CreateWebACL || c.AlarmTopicARN != "" || c.AlarmEmail != "" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "dev asks for a web ACL",
			ctx:  map[string]any{"createWebAcl": "true", "wafRateLimit": 500.0},
			check: func(t *testing.T, c StageConfig) {
				if !c.CreateWebACL || c.WAFRateLimit != 500 {
					t.Errorf("CreateWebACL %v, WAFRateLimit %d", c.CreateWebACL, c.WAFRateLimit)
				}
			},
		},
		{"audit retention too long", map[string]any{"auditRetentionDays": "3651"}, "auditRetentionDays", nil},
		{"audit retention not whole", map[string]any{"auditRetentionDays": "1.5"}, "auditRetentionDays", nil},
		{"audit retention zero", map[string]any{"auditRetentionDays": "0"}, "auditRetentionDays", nil},
		{
			name: "audit retention from context",
			ctx:  map[string]any{"auditRetentionDays": 30.0},
			check: func(t *testing.T, c StageConfig) {
				if c.AuditRetentionDays != 30 {
					t.Errorf("AuditRetentionDays = %d, want 30", c.AuditRetentionDays)
				}
			},
		},
		{
			name: "localstack",
			ctx:  map[string]any{"localstack": "true", "throttleRateLimit": 10, "logRetentionDays": 7.0},
			check: func(t *testing.T, c StageConfig) {
				if !c.LocalStack || c.LocalStackHost != "localhost.localstack.cloud:4566" {
					t.Errorf("got %+v", c)
				}
				if c.ThrottleRateLimit != 10 || c.LogRetention != awslogs.RetentionDays_ONE_WEEK {
					t.Errorf("numbers from cdk.json: got %v, %v", c.ThrottleRateLimit, c.LogRetention)
				}
			},
		},
		{
			name: "key rotation from -c (a JSON string)",
			ctx:  map[string]any{"signingKeys": `{"ES512":{"generations":[2,3],"active":3}}`},
			check: func(t *testing.T, c StageConfig) {
				if g := c.SigningKeys[signer.ES512]; !slices.Equal(g.Generations, []int{2, 3}) || g.Active != 3 {
					t.Errorf("ES512 = %+v", g)
				}
				if g := c.SigningKeys[signer.PS256]; g.Active != 1 {
					t.Errorf("PS256 = %+v, want the default", g)
				}
			},
		},
		{
			name: "stage settings from cdk.json",
			ctx: map[string]any{"stage": "prod", "stages": map[string]any{
				"prod": map[string]any{
					"issuerUrl":   "https://api.example.com",
					"alarmEmail":  testAlarmEmail,
					"signingKeys": map[string]any{"ES384": map[string]any{"generations": []any{1.0, 2.0}, "active": 2.0}},
				},
				"dev": map[string]any{"logLevel": "debug"},
			}},
			check: func(t *testing.T, c StageConfig) {
				if c.IssuerURL != "https://api.example.com" || c.LogLevel != "info" {
					t.Errorf("got issuer %q, log level %q; want prod's settings only", c.IssuerURL, c.LogLevel)
				}
				if g := c.SigningKeys[signer.ES384]; g.Active != 2 || !slices.Equal(g.Generations, []int{1, 2}) {
					t.Errorf("ES384 = %+v", g)
				}
			},
		},
		{
			name: "a context key overrides the stage setting",
			ctx: map[string]any{"logLevel": "warn", "stages": map[string]any{
				"dev": map[string]any{"logLevel": "debug"},
			}},
			check: func(t *testing.T, c StageConfig) {
				if c.LogLevel != "warn" {
					t.Errorf("LogLevel = %q, want warn", c.LogLevel)
				}
			},
		},
		{"active not among generations", map[string]any{"signingKeys": `{"ES384":{"generations":[1],"active":2}}`}, "active 2", nil},
		{"duplicate generation", map[string]any{"signingKeys": `{"ES384":{"generations":[1,1],"active":1}}`}, "distinct", nil},
		{"unknown algorithm", map[string]any{"signingKeys": `{"RS256":{"generations":[1],"active":1}}`}, "unknown algorithm", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := configFrom(func(k string) any { return tc.ctx[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			tc.check(t, c)
		})
	}
}

func TestDiscoverGroups(t *testing.T) {
	mk := func(t *testing.T, dirs ...string) string {
		root := t.TempDir()
		for _, d := range dirs {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, d, "main.go"), []byte("package main\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	for _, tc := range []struct {
		name    string
		dirs    []string
		want    []string
		wantErr string
	}{
		{"catalog order", []string{"admin", "clients", "token"}, []string{"token", "clients", "admin"}, ""},
		{"unknown group", []string{"token", "billing"}, nil, "functions/billing: not in the registry"},
		{"none", nil, nil, "no functions/<group>/main.go"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := mk(t, tc.dirs...)
			// A folder without main.go is not a group yet.
			if err := os.MkdirAll(filepath.Join(root, "usage"), 0o755); err != nil {
				t.Fatal(err)
			}
			got, err := DiscoverGroups(root)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("DiscoverGroups = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestCatalogCoversFunctions fails when a functions/<group>/ lands that the
// infra Catalog does not know, so no group is left undeployed.
func TestCatalogCoversFunctions(t *testing.T) {
	groups, err := DiscoverGroups("../functions")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"token", "admin"} {
		if !slices.Contains(groups, want) {
			t.Errorf("discovered %v, want %s among them", groups, want)
		}
	}
}

// manage are the table actions of the management groups.
var manage = []string{
	"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem",
	"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem",
}

func TestCatalog(t *testing.T) {
	seen := map[string]string{}
	for _, g := range Catalog {
		if g.MemoryMB < 128 || g.TimeoutSeconds <= 0 || g.TimeoutSeconds >= 29 && g.HTTP() {
			t.Errorf("%s: memory %v MB, timeout %v s: HTTP groups must time out before API Gateway's 29 s", g.Name, g.MemoryMB, g.TimeoutSeconds)
		}
		for _, r := range g.Paths() {
			if !strings.HasPrefix(r, "/v1/") && !strings.HasPrefix(r, "/.well-known/") {
				t.Errorf("%s: route %q outside /v1 and /.well-known", g.Name, r)
			}
			if other, dup := seen[r]; dup {
				t.Errorf("route %s in %s and %s", r, other, g.Name)
			}
			seen[r] = g.Name
		}
		if g.CursorKey && !g.HTTP() {
			t.Errorf("%s: cursor key without routes", g.Name)
		}
	}
	// The intended least privilege, written out independently of Catalog
	// so that widening a group's access fails here, in review.
	want := map[string]struct {
		table, index []string
		kms          KMSAccess
	}{
		"token":         {[]string{"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}, nil, KMSSign},
		"signin":        {[]string{"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}, nil, KMSSign},
		"organisations": {manage, []string{"dynamodb:Query"}, KMSVerify},
		"clients":       {manage, []string{"dynamodb:Query"}, KMSVerify},
		"authservers":   {manage, []string{"dynamodb:Query"}, KMSVerify},
		"usage":         {[]string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"}, []string{"dynamodb:Query"}, KMSVerify},
		"admin":         {[]string{"dynamodb:GetItem", "dynamodb:PutItem"}, nil, KMSNone},
	}
	if len(want) != len(Catalog) {
		t.Errorf("Catalog has %d groups, want %d", len(Catalog), len(want))
	}
	for _, g := range Catalog {
		w := want[g.Name]
		if !slices.Equal(g.TableActions, w.table) || !slices.Equal(g.IndexActions, w.index) || g.KMS != w.kms {
			t.Errorf("%s: table %v, index %v, KMS %v; want %v, %v, %v", g.Name, g.TableActions, g.IndexActions, g.KMS, w.table, w.index, w.kms)
		}
	}

	admin, _ := CatalogGroup("admin")
	if admin.HTTP() || admin.KMS != KMSNone {
		t.Errorf("admin = %+v, want no routes and no KMS", admin)
	}
}
