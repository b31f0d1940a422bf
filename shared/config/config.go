// Package config reads the service's configuration from the environment.
// Every function and the local server read the same variables; the README
// lists them.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/signer"
)

// The environment variables FromEnv reads. The CDK stack sets them for each
// function (Keys says which), the local server and tests set some of them.
const (
	EnvTableName          = "TABLE_NAME"
	EnvIssuerURL          = "ISSUER_URL"
	EnvTokenAudience      = "TOKEN_AUDIENCE"
	EnvRetiredKeys        = "KMS_RETIRED_KEYS"
	EnvPartnerTokenAlg    = "PARTNER_TOKEN_ALG"
	EnvCursorKey          = "CURSOR_KEY"
	EnvLogLevel           = "LOG_LEVEL"
	EnvAuditRetentionDays = "AUDIT_RETENTION_DAYS"
	EnvWritesPerMinute    = "MANAGEMENT_WRITES_PER_MINUTE"
	EnvSigningMode        = "SIGNING_MODE"
	EnvWrappingKey        = "KMS_WRAPPING_KEY"
	EnvFederationKey      = "FEDERATION_KEY"
	// EnvFederationAllowLoopback (local stack only) lets the federation
	// fetcher reach loopback addresses and http:// URLs.
	EnvFederationAllowLoopback = "FEDERATION_ALLOW_LOOPBACK"
)

// SigningMode is how tokens are signed (SIGNING_MODE).
type SigningMode string

const (
	// SigningWrapped (the default): keys of the key ring in the table,
	// stored encrypted under the KMS wrapping key, sign in process.
	SigningWrapped SigningMode = "wrapped"
	// SigningKMS: KMS asymmetric keys sign every token (KMS Sign).
	SigningKMS SigningMode = "kms"
)

// ParseSigningMode returns the mode named s.
func ParseSigningMode(s string) (SigningMode, error) {
	switch m := SigningMode(s); m {
	case SigningWrapped, SigningKMS:
		return m, nil
	}
	return "", fmt.Errorf("signing mode %q: must be %q or %q", s, SigningWrapped, SigningKMS)
}

// DefaultWrappingKeyAlias is the wrapping key as the local set-up creates it.
const DefaultWrappingKeyAlias = "alias/partner-api-wrapping"

// DefaultFederationKey is the alias of the symmetric KMS key of the
// federation client secrets, as the CDK stack and the local set-up create it.
const DefaultFederationKey = "alias/partner-api-federation"

// EnvKMSKey is the variable naming alg's signing key: KMS_KEY_ES384, ...
func EnvKMSKey(alg signer.Algorithm) string { return "KMS_KEY_" + string(alg) }

// algorithms are the algorithms with a signing key, in the order of
// Config.SigningKeys.
var algorithms = []signer.Algorithm{signer.PS256, signer.ES384, signer.ES512}

// Keys are the variables a deployment in signing mode mode sets for the
// function of group g: every setting g's code reads, so none is left at a
// default meant for a developer's machine or at a value the stage did not
// choose. Every function reads the table, the log level and the audit
// retention (the store writes audit records); a group with key access
// verifies or issues tokens (signing mode, issuer, partner algorithm, and
// in KMS mode the signing keys); a group that signs or rotates in wrapped
// mode names the wrapping key; a group that lists (g.CursorKey) seals
// cursors. The optional TOKEN_AUDIENCE and KMS_RETIRED_KEYS are not listed:
// their absence is a valid setting.
func Keys(g registry.Group, mode SigningMode) []string {
	keys := []string{EnvTableName, EnvLogLevel, EnvAuditRetentionDays}
	if g.KMS != registry.KMSNone {
		keys = append(keys, EnvSigningMode)
	}
	if g.KMS == registry.KMSVerify || g.KMS == registry.KMSSign {
		keys = append(keys, EnvIssuerURL, EnvPartnerTokenAlg)
		if mode == SigningKMS {
			for _, alg := range algorithms {
				keys = append(keys, EnvKMSKey(alg))
			}
		}
	}
	if mode == SigningWrapped && (g.KMS == registry.KMSSign || g.KMS == registry.KMSRotate) {
		keys = append(keys, EnvWrappingKey)
	}
	if g.CursorKey {
		keys = append(keys, EnvCursorKey)
	}
	if g.Metered {
		keys = append(keys, EnvWritesPerMinute)
	}
	if g.FederationKey != registry.FederationNone {
		keys = append(keys, EnvFederationKey)
	}
	return keys
}

// OptionalKeys are the variables a deployment may set for g beyond Keys.
func OptionalKeys(g registry.Group, mode SigningMode) []string {
	if g.KMS != registry.KMSVerify && g.KMS != registry.KMSSign {
		return nil
	}
	if mode == SigningKMS {
		return []string{EnvTokenAudience, EnvRetiredKeys}
	}
	return []string{EnvTokenAudience}
}

// InsecureFor returns the settings left at development defaults that the
// function of group g uses (a function that never lists does not care
// about CURSOR_KEY).
func (c Config) InsecureFor(g registry.Group) []string {
	var out []string
	for _, k := range c.InsecureDefaults {
		if slices.Contains(Keys(g, c.SigningMode), k) {
			out = append(out, k)
		}
	}
	return out
}

// Config is the service configuration.
type Config struct {
	// TableName is the DynamoDB table (TABLE_NAME).
	TableName string
	// IssuerURL is the tokens' iss and the base URL of the metadata (ISSUER_URL).
	IssuerURL string
	// Audience is the tokens' aud (TOKEN_AUDIENCE, default IssuerURL).
	Audience string
	// SigningMode is SIGNING_MODE (wrapped, the default, or kms).
	SigningMode SigningMode
	// WrappingKey is the KMS symmetric key wrapping the key ring's private
	// keys in wrapped mode (KMS_WRAPPING_KEY: key id, ARN or alias).
	WrappingKey string
	// SigningKeys name the KMS key of each algorithm in KMS mode (KMS_KEY_PS256,
	// KMS_KEY_ES384, KMS_KEY_ES512: key id, ARN or alias).
	SigningKeys []signer.KeyConfig
	// RetiredKeys are KMS keys no longer signing but still published in the
	// JWKS until the last token they signed expires (KMS_RETIRED_KEYS, comma-separated).
	RetiredKeys []string
	// PartnerAlgorithm signs partner tokens (PARTNER_TOKEN_ALG, default ES384).
	PartnerAlgorithm signer.Algorithm
	// CursorKey authenticates and encrypts list cursors (CURSOR_KEY: 32
	// bytes, standard base64 with or without its '=' padding). Every
	// instance of every function must share it. When unset, a fixed
	// development key is used and InsecureDefaults says so.
	CursorKey []byte
	// InsecureDefaults names the settings left at development defaults.
	InsecureDefaults []string
	// LogLevel is LOG_LEVEL (debug, info, warn, error; default info).
	LogLevel slog.Level
	// AuditRetention is how long audit records are kept before their TTL
	// expires them (AUDIT_RETENTION_DAYS, 1 to 3650 days, default 400).
	AuditRetention time.Duration
	// WritesPerMinute bounds each partner's management writes (POST, PUT,
	// PATCH, DELETE of the metered groups) per minute
	// (MANAGEMENT_WRITES_PER_MINUTE, default 1200; 0 turns the limit off).
	WritesPerMinute int
	// FederationKey is the symmetric KMS key (id, ARN or alias) encrypting
	// the authorisation servers' federation client secrets
	// (FEDERATION_KEY, default DefaultFederationKey).
	FederationKey string
	// FederationAllowLoopback lets outbound federation requests (discovery
	// documents, JWKS, token endpoints) reach loopback addresses and plain
	// http:// URLs (FEDERATION_ALLOW_LOOPBACK=true): for the local stack
	// and tests only. FromEnv refuses it unless ISSUER_URL is http:// or
	// https://localhost, so no deployment can set it.
	FederationAllowLoopback bool
}

// Default and bound of MANAGEMENT_WRITES_PER_MINUTE.
const (
	DefaultWritesPerMinute = 1200
	MaxWritesPerMinute     = 1_000_000
)

// Bounds and default of AUDIT_RETENTION_DAYS.
const (
	DefaultAuditRetentionDays = 400
	MaxAuditRetentionDays     = 3650
)

// Default key aliases, as the CDK stack and the local set-up create them.
var DefaultKeyAliases = map[signer.Algorithm]string{
	signer.PS256: "alias/partner-api-ps256",
	signer.ES384: "alias/partner-api-es384",
	signer.ES512: "alias/partner-api-es512",
}

// devCursorKey is the CURSOR_KEY of local development only.
var devCursorKey = [32]byte{'p', 'a', 'r', 't', 'n', 'e', 'r', '-', 'a', 'p', 'i', '-', 'd', 'e', 'v', '-', 'c', 'u', 'r', 's', 'o', 'r', '-', 'k', 'e', 'y', '-', '0', '0', '0', '0', '1'}

// FromEnv reads the configuration through getenv (os.Getenv in production).
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		TableName: get(EnvTableName, "partner-api"),
		IssuerURL: strings.TrimSuffix(get(EnvIssuerURL, "http://localhost:8080"), "/"),
	}
	c.Audience = get(EnvTokenAudience, c.IssuerURL)
	var errs []error
	for _, alg := range algorithms {
		c.SigningKeys = append(c.SigningKeys, signer.KeyConfig{
			Algorithm: alg, KeyID: get(EnvKMSKey(alg), DefaultKeyAliases[alg]),
		})
	}
	for _, k := range strings.Split(get(EnvRetiredKeys, ""), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.RetiredKeys = append(c.RetiredKeys, k)
		}
	}
	mode, err := ParseSigningMode(get(EnvSigningMode, string(SigningWrapped)))
	if err != nil {
		errs = append(errs, fmt.Errorf("SIGNING_MODE: %w", err))
	}
	c.SigningMode = mode
	c.WrappingKey = get(EnvWrappingKey, DefaultWrappingKeyAlias)
	alg, err := signer.ParseAlgorithm(get(EnvPartnerTokenAlg, string(signer.ES384)))
	if err != nil {
		errs = append(errs, fmt.Errorf("PARTNER_TOKEN_ALG: %w", err))
	}
	c.PartnerAlgorithm = alg
	if err := c.LogLevel.UnmarshalText([]byte(get(EnvLogLevel, "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	if k := get(EnvCursorKey, ""); k != "" {
		key, err := decodeKey(k)
		if err != nil || len(key) != 32 {
			errs = append(errs, errors.New("CURSOR_KEY: must be 32 bytes, base64-encoded (with or without '=' padding)"))
		}
		c.CursorKey = key
	} else {
		c.CursorKey = devCursorKey[:]
		c.InsecureDefaults = append(c.InsecureDefaults, EnvCursorKey)
	}
	days, err := strconv.Atoi(get(EnvAuditRetentionDays, strconv.Itoa(DefaultAuditRetentionDays)))
	if err != nil || days < 1 || days > MaxAuditRetentionDays {
		errs = append(errs, fmt.Errorf("AUDIT_RETENTION_DAYS: must be a whole number of days from 1 to %d", MaxAuditRetentionDays))
	}
	c.AuditRetention = time.Duration(days) * 24 * time.Hour
	writes, err := strconv.Atoi(get(EnvWritesPerMinute, strconv.Itoa(DefaultWritesPerMinute)))
	if err != nil || writes < 0 || writes > MaxWritesPerMinute {
		errs = append(errs, fmt.Errorf("%s: must be a whole number from 0 (no limit) to %d", EnvWritesPerMinute, MaxWritesPerMinute))
	}
	c.WritesPerMinute = writes
	c.FederationKey = get(EnvFederationKey, DefaultFederationKey)
	switch v := get(EnvFederationAllowLoopback, "false"); v {
	case "true":
		c.FederationAllowLoopback = true
		if !localIssuer(c.IssuerURL) {
			errs = append(errs, fmt.Errorf("FEDERATION_ALLOW_LOOPBACK: only for the local stack (ISSUER_URL http:// or https://localhost), not with %s", c.IssuerURL))
		}
	case "false":
	default:
		errs = append(errs, fmt.Errorf("FEDERATION_ALLOW_LOOPBACK: must be true or false"))
	}
	if !strings.HasPrefix(c.IssuerURL, "https://") && !strings.HasPrefix(c.IssuerURL, "http://") {
		errs = append(errs, fmt.Errorf("ISSUER_URL %q: must be an http(s) URL", c.IssuerURL))
	}
	return c, errors.Join(errs...)
}

// localIssuer reports whether issuer is a development one: plain http, or
// https on localhost or a loopback address.
func localIssuer(issuer string) bool {
	if strings.HasPrefix(issuer, "http://") {
		return true
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "127.0.0.1" || h == "::1"
}

// decodeKey decodes standard base64 with its padding, or without it (43
// digits for 32 bytes). The stack's CURSOR_KEY is a dynamic reference to a
// generated secret of 43 letters and digits, and CloudFormation engines
// differ on text appended to a dynamic reference (LocalStack replaces the
// whole value), so the stack appends nothing and the padding is optional.
func decodeKey(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
