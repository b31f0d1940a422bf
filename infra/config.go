package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/partnerapi/partner-api/shared/config"
	"github.com/partnerapi/partner-api/shared/signer"
)

// The stages the stack knows. Anything but prod is a development stage: its
// data may be destroyed with the stack.
const (
	StageDev  = "dev"
	StageProd = "prod"
)

// StageConfig is everything that differs between deployments of the stack.
// It comes from CDK context; see ConfigFromContext.
type StageConfig struct {
	// Stage is "dev" or "prod" (context stage, default dev). It names the
	// stack, the API Gateway stage and the key aliases.
	Stage string
	// IssuerURL is the tokens' iss and the base of the metadata URLs
	// (context issuerUrl). Required in prod unless DomainName is set: see
	// issuerURL in api.go for why the execute-api URL is not good enough there.
	IssuerURL string
	// DomainName and CertificateARN (context domainName, certificateArn)
	// give the API a custom domain; the issuer then defaults to https://DomainName.
	DomainName     string
	CertificateARN string
	// TokenAudience is the tokens' aud (context tokenAudience, default the issuer).
	TokenAudience string
	// LocalStack builds the issuer from LocalStack's execute-api host
	// (context localstack=true, host from localstackHost).
	LocalStack     bool
	LocalStackHost string
	// ThrottleRateLimit and ThrottleBurstLimit are the API stage's default
	// method throttling (context throttleRateLimit, throttleBurstLimit).
	ThrottleRateLimit  float64
	ThrottleBurstLimit float64
	// LogLevel is the functions' log level (context logLevel: debug, info,
	// warn, error).
	LogLevel string
	// LogRetention is how long function and access logs are kept
	// (context logRetentionDays).
	LogRetention awslogs.RetentionDays
	// AuditRetentionDays is how long audit records are kept (context
	// auditRetentionDays, default 400, 1 to 3650): the functions'
	// AUDIT_RETENTION_DAYS.
	AuditRetentionDays int
	// WritesPerMinute bounds each partner's management writes per minute
	// (context managementWritesPerMinute, default 1200, 0 for no limit).
	WritesPerMinute int
	// SigningMode is the functions' SIGNING_MODE (context signingMode:
	// wrapped, the default, or kms).
	SigningMode config.SigningMode
	// KeyRotationDays is the period of the scheduled signing key rotation
	// in wrapped mode (context keyRotationDays, default 30, 1 to 365).
	KeyRotationDays int
	// KMSSignQuota is the account's KMS request quota per second for
	// the signing keys' cryptographic operations, shared by everything in
	// the account and region (context kmsSignQuota, default 300: the
	// default quota for ECC keys, lower than RSA's 500; raise it with the
	// quota). With kms signing every token is one Sign, so the token route
	// is throttled to TokenThrottleRateLimit below it.
	KMSSignQuota float64
	// TokenThrottleRateLimit and TokenThrottleBurstLimit throttle POST
	// /v1/token in kms mode (context tokenThrottleRateLimit, default 80% of
	// KMSSignQuota; tokenThrottleBurstLimit, default the rate). The rate
	// must stay below KMSSignQuota. In wrapped mode the route has the
	// stage's throttle only: signing makes no KMS call.
	TokenThrottleRateLimit  float64
	TokenThrottleBurstLimit float64
	// PartnerTokenAlgorithm signs partner tokens (context partnerTokenAlg).
	PartnerTokenAlgorithm signer.Algorithm
	// SigningKeys are the KMS key generations of each algorithm (context
	// signingKeys); see KeyGenerations and infra/README.md.
	SigningKeys map[signer.Algorithm]KeyGenerations
	// AlarmTopicARN, when set, is an SNS topic every alarm notifies
	// (context alarmTopicArn).
	AlarmTopicARN string
	// AlarmEmail, when set, makes the stack create an SNS topic every alarm
	// notifies, with this address subscribed (context alarmEmail; the
	// address must confirm the subscription). prod needs this or
	// AlarmTopicARN: alarms that notify nobody are not monitoring.
	AlarmEmail string
	// WebACLARN, when set, is a regional AWS WAF web ACL associated with the
	// API stage (context webAclArn).
	WebACLARN string
	// CreateWebACL makes the stack create a regional web ACL with a
	// rate-based rule per source IP and associate it with the stage:
	// always in prod unless WebACLARN names one, in dev with context
	// createWebAcl=true (LocalStack's open edition has no WAF).
	CreateWebACL bool
	// WAFRateLimit is the rate-based rule's limit: requests per source IP
	// in any 5-minute window (context wafRateLimit, default 3000, i.e.
	// 10 per second sustained), beyond which that IP is blocked (403).
	WAFRateLimit int
	// APIGatewayCloudWatchRole creates the account-wide role API Gateway needs
	// to write access and execution logs (context apiGatewayCloudWatchRole,
	// default true). Set it false when the account already has one.
	APIGatewayCloudWatchRole bool
	// CursorKeyVersionID pins the version of the cursor key secret the
	// functions get (context cursorKeyVersionId); changing it is how a
	// rotated cursor key reaches the functions. Empty: AWSCURRENT at deploy time.
	CursorKeyVersionID string
}

// Prod reports whether the stage holds production data.
func (c StageConfig) Prod() bool { return c.Stage == StageProd }

// KeyGenerations are the KMS keys of one algorithm. Every generation listed
// is published in the JWKS (so tokens it signed keep verifying, or so relying
// parties learn a new key before it signs); only Active signs. A rotation
// adds a generation, then moves Active to it, then drops the old one once its
// last token has expired.
type KeyGenerations struct {
	Generations []int `json:"generations"`
	Active      int   `json:"active"`
}

// ConfigFromContext reads the StageConfig from the app's CDK context and
// checks it. The stage is context "stage" (default dev). Every other setting
// is looked up first as a context key of its own (`-c key=value`, or a
// top-level key of cdk.json's context), then in the stage's settings in
// cdk.json:
//
//	"context": {"stages": {"prod": {"issuerUrl": "https://api.example.com"}}}
//
// so each stage's settings are reviewed and versioned in one place, and a
// `-c` flag still overrides them for one run.
func ConfigFromContext(app awscdk.App) (StageConfig, error) {
	get := func(key string) any { return app.Node().TryGetContext(&key) }
	return configFrom(get)
}

// configFrom does the work of ConfigFromContext; get returns a context value
// (string from -c, any JSON type from cdk.json) or nil.
func configFrom(getTop func(string) any) (StageConfig, error) {
	var errs []error
	stageName, _ := getTop("stage").(string)
	if stageName = strings.TrimSpace(stageName); stageName == "" {
		stageName = StageDev
	}
	stages, _ := getTop("stages").(map[string]any)
	stageSettings, _ := stages[stageName].(map[string]any)
	get := func(key string) any {
		if v := getTop(key); v != nil {
			return v
		}
		return stageSettings[key]
	}
	str := func(key, def string) string {
		switch v := get(key).(type) {
		case nil:
			return def
		case string:
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
			return def
		default:
			return strings.TrimSpace(fmt.Sprint(v))
		}
	}
	boolean := func(key string, def bool) bool {
		s := str(key, strconv.FormatBool(def))
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("context %s=%q: want true or false", key, s))
		}
		return b
	}
	number := func(key string, def float64) float64 {
		s := str(key, strconv.FormatFloat(def, 'f', -1, 64))
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 {
			errs = append(errs, fmt.Errorf("context %s=%q: want a positive number", key, s))
		}
		return f
	}
	// whole is number for a whole number up to hi; want says the range in
	// the error. number already refuses anything below 1.
	whole := func(key string, def float64, hi int, want string) int {
		f := number(key, def)
		n := int(f)
		if float64(n) != f || n > hi {
			errs = append(errs, fmt.Errorf("context %s=%v: want %s", key, f, want))
		}
		return n
	}

	c := StageConfig{Stage: stageName}
	if c.Stage != StageDev && c.Stage != StageProd {
		errs = append(errs, fmt.Errorf("context stage=%q: want %q or %q", c.Stage, StageDev, StageProd))
	}
	prod := c.Prod()

	c.DomainName = str("domainName", "")
	c.CertificateARN = str("certificateArn", "")
	if (c.DomainName == "") != (c.CertificateARN == "") {
		errs = append(errs, errors.New("context domainName and certificateArn: set both or neither"))
	}
	c.IssuerURL = strings.TrimSuffix(str("issuerUrl", ""), "/")
	if c.IssuerURL == "" && c.DomainName != "" {
		c.IssuerURL = "https://" + c.DomainName
	}
	c.TokenAudience = str("tokenAudience", "")
	c.LocalStack = boolean("localstack", false)
	c.LocalStackHost = str("localstackHost", "localhost.localstack.cloud:4566")
	switch {
	case c.IssuerURL != "":
		if err := checkURL(c.IssuerURL, prod); err != nil {
			errs = append(errs, fmt.Errorf("context issuerUrl: %w", err))
		}
	case prod:
		errs = append(errs, errors.New("stage prod needs a stable issuer: set context issuerUrl "+
			"(https URL partners call) or domainName and certificateArn"))
	}
	if prod && c.LocalStack {
		errs = append(errs, errors.New("context localstack=true is for the dev stage only"))
	}

	defRate, defBurst := 50.0, 100.0
	if prod {
		defRate, defBurst = 500, 1000
	}
	c.ThrottleRateLimit = number("throttleRateLimit", defRate)
	c.ThrottleBurstLimit = number("throttleBurstLimit", defBurst)

	c.LogLevel = strings.ToLower(str("logLevel", "info"))
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		errs = append(errs, fmt.Errorf("context logLevel=%q: want debug, info, warn or error", c.LogLevel))
	}
	defDays := 14.0
	if prod {
		defDays = 365
	}
	days := number("logRetentionDays", defDays)
	c.LogRetention = retentionDays[int(days)]
	if c.LogRetention == "" {
		errs = append(errs, fmt.Errorf("context logRetentionDays=%v: want one of %v", days, slices.Sorted(maps.Keys(retentionDays))))
	}

	c.AuditRetentionDays = whole("auditRetentionDays", config.DefaultAuditRetentionDays, config.MaxAuditRetentionDays,
		fmt.Sprintf("whole days from 1 to %d", config.MaxAuditRetentionDays))
	c.WritesPerMinute = whole("managementWritesPerMinute", config.DefaultWritesPerMinute, config.MaxWritesPerMinute,
		fmt.Sprintf("a whole number from 0 (no limit) to %d", config.MaxWritesPerMinute))

	alg, err := signer.ParseAlgorithm(str("partnerTokenAlg", string(signer.ES384)))
	if err != nil {
		errs = append(errs, fmt.Errorf("context partnerTokenAlg: %w", err))
	}
	c.PartnerTokenAlgorithm = alg

	mode, err := config.ParseSigningMode(str("signingMode", string(config.SigningWrapped)))
	if err != nil {
		errs = append(errs, fmt.Errorf("context signingMode: %w", err))
	}
	c.SigningMode = mode
	c.KeyRotationDays = whole("keyRotationDays", 30, 365, "whole days from 1 to 365")
	c.KMSSignQuota = number("kmsSignQuota", 300)
	c.TokenThrottleRateLimit = number("tokenThrottleRateLimit", math.Floor(0.8*c.KMSSignQuota))
	c.TokenThrottleBurstLimit = number("tokenThrottleBurstLimit", c.TokenThrottleRateLimit)
	if c.SigningMode == config.SigningKMS && c.TokenThrottleRateLimit >= c.KMSSignQuota {
		errs = append(errs, fmt.Errorf("context tokenThrottleRateLimit=%v: with signingMode=kms it must stay below kmsSignQuota=%v "+
			"(every token is one KMS Sign; raise the KMS quota first, then kmsSignQuota)", c.TokenThrottleRateLimit, c.KMSSignQuota))
	}

	c.SigningKeys, err = signingKeysFrom(get("signingKeys"))
	if err != nil {
		errs = append(errs, fmt.Errorf("context signingKeys: %w", err))
	}

	c.AlarmTopicARN = str("alarmTopicArn", "")
	c.AlarmEmail = str("alarmEmail", "")
	switch {
	case c.AlarmTopicARN != "" && c.AlarmEmail != "":
		errs = append(errs, errors.New("context alarmTopicArn and alarmEmail: set one (subscribe the address to your topic instead)"))
	case c.AlarmTopicARN != "" && !strings.HasPrefix(c.AlarmTopicARN, "arn:"):
		errs = append(errs, fmt.Errorf("context alarmTopicArn=%q: want an SNS topic ARN", c.AlarmTopicARN))
	case c.AlarmEmail != "" && !strings.Contains(c.AlarmEmail, "@"):
		errs = append(errs, fmt.Errorf("context alarmEmail=%q: want an email address", c.AlarmEmail))
	case prod && c.AlarmTopicARN == "" && c.AlarmEmail == "":
		errs = append(errs, errors.New("stage prod needs an alarm topic: set context alarmTopicArn (an SNS topic ARN) "+
			"or alarmEmail (the stack creates a topic and subscribes the address)"))
	}
	c.WebACLARN = str("webAclArn", "")
	c.CreateWebACL = c.WebACLARN == "" && (prod || boolean("createWebAcl", false))
	if c.WebACLARN != "" && !strings.HasPrefix(c.WebACLARN, "arn:") {
		errs = append(errs, fmt.Errorf("context webAclArn=%q: want a WAFv2 web ACL ARN", c.WebACLARN))
	}
	rate := number("wafRateLimit", 3000)
	c.WAFRateLimit = int(rate)
	if float64(c.WAFRateLimit) != rate || c.WAFRateLimit < 100 || c.WAFRateLimit > 2000000000 {
		errs = append(errs, fmt.Errorf("context wafRateLimit=%v: want whole requests per 5 minutes, at least 100", rate))
	}
	c.APIGatewayCloudWatchRole = boolean("apiGatewayCloudWatchRole", true)
	c.CursorKeyVersionID = str("cursorKeyVersionId", "")
	return c, errors.Join(errs...)
}

// retentionDays are the log retention periods the context may ask for.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
	5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK,
	14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
	180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1827: awslogs.RetentionDays_FIVE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}

// checkURL accepts an absolute http(s) URL without query or fragment; prod
// needs https.
func checkURL(s string, httpsOnly bool) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: want an absolute URL without query or fragment", s)
	}
	if u.Scheme != "https" && (httpsOnly || u.Scheme != "http") {
		return fmt.Errorf("%q: want https", s)
	}
	return nil
}

// signingKeysFrom reads the key generations, e.g. from cdk.json:
//
//	"stages": {"prod": {"signingKeys": {"ES384": {"generations": [1, 2], "active": 2}}}}
//
// or the same JSON as a string from -c signingKeys='{...}'. An algorithm not
// listed has one generation, 1, active.
func signingKeysFrom(v any) (map[signer.Algorithm]KeyGenerations, error) {
	raw := map[string]KeyGenerations{}
	switch v := v.(type) {
	case nil:
	case string:
		if err := json.Unmarshal([]byte(v), &raw); err != nil {
			return nil, err
		}
	default:
		b, err := json.Marshal(v)
		if err == nil {
			err = json.Unmarshal(b, &raw)
		}
		if err != nil {
			return nil, err
		}
	}
	keys := map[signer.Algorithm]KeyGenerations{}
	for _, alg := range Algorithms {
		keys[alg] = KeyGenerations{Generations: []int{1}, Active: 1}
	}
	var errs []error
	for name, g := range raw {
		alg, err := signer.ParseAlgorithm(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := g.check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", alg, err))
			continue
		}
		keys[alg] = g
	}
	return keys, errors.Join(errs...)
}

// check accepts distinct positive generations that include the active one.
func (g KeyGenerations) check() error {
	seen := map[int]bool{}
	for _, n := range g.Generations {
		if n < 1 || seen[n] {
			return fmt.Errorf("generations %v: want distinct numbers from 1", g.Generations)
		}
		seen[n] = true
	}
	if !seen[g.Active] {
		return fmt.Errorf("active %d is not among generations %v", g.Active, g.Generations)
	}
	if len(g.Generations) > 3 {
		return fmt.Errorf("generations %v: at most 3 (next, active, retired)", g.Generations)
	}
	return nil
}
