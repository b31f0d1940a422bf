// Package config reads the service's configuration from the environment.
// Every function and the local server read the same variables; the README
// lists them.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/partnerapi/partner-api/shared/signer"
)

// Config is the service configuration.
type Config struct {
	// TableName is the DynamoDB table (TABLE_NAME).
	TableName string
	// IssuerURL is the tokens' iss and the base URL of the metadata (ISSUER_URL).
	IssuerURL string
	// Audience is the tokens' aud (TOKEN_AUDIENCE, default IssuerURL).
	Audience string
	// SigningKeys name the KMS key of each algorithm (KMS_KEY_PS256,
	// KMS_KEY_ES384, KMS_KEY_ES512: key id, ARN or alias).
	SigningKeys []signer.KeyConfig
	// RetiredKeys are KMS keys no longer signing but still published in the
	// JWKS until the last token they signed expires (KMS_RETIRED_KEYS, comma-separated).
	RetiredKeys []string
	// PartnerAlgorithm signs partner tokens (PARTNER_TOKEN_ALG, default ES384).
	PartnerAlgorithm signer.Algorithm
	// CursorKey authenticates and encrypts list cursors (CURSOR_KEY: 32
	// bytes, base64). Every instance of every function must share it. When
	// unset, a fixed development key is used and InsecureDefaults says so.
	CursorKey []byte
	// InsecureDefaults names the settings left at development defaults.
	InsecureDefaults []string
	// LogLevel is LOG_LEVEL (debug, info, warn, error; default info).
	LogLevel slog.Level
	// AuditRetention is how long audit records are kept before their TTL
	// expires them (AUDIT_RETENTION_DAYS, 1 to 3650 days, default 400).
	AuditRetention time.Duration
}

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
		TableName: get("TABLE_NAME", "partner-api"),
		IssuerURL: strings.TrimSuffix(get("ISSUER_URL", "http://localhost:8080"), "/"),
	}
	c.Audience = get("TOKEN_AUDIENCE", c.IssuerURL)
	var errs []error
	for _, alg := range []signer.Algorithm{signer.PS256, signer.ES384, signer.ES512} {
		c.SigningKeys = append(c.SigningKeys, signer.KeyConfig{
			Algorithm: alg, KeyID: get("KMS_KEY_"+string(alg), DefaultKeyAliases[alg]),
		})
	}
	for _, k := range strings.Split(get("KMS_RETIRED_KEYS", ""), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.RetiredKeys = append(c.RetiredKeys, k)
		}
	}
	alg, err := signer.ParseAlgorithm(get("PARTNER_TOKEN_ALG", string(signer.ES384)))
	if err != nil {
		errs = append(errs, fmt.Errorf("PARTNER_TOKEN_ALG: %w", err))
	}
	c.PartnerAlgorithm = alg
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	if k := get("CURSOR_KEY", ""); k != "" {
		key, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(key) != 32 {
			errs = append(errs, errors.New("CURSOR_KEY: must be 32 bytes, base64-encoded"))
		}
		c.CursorKey = key
	} else {
		c.CursorKey = devCursorKey[:]
		c.InsecureDefaults = append(c.InsecureDefaults, "CURSOR_KEY")
	}
	days, err := strconv.Atoi(get("AUDIT_RETENTION_DAYS", strconv.Itoa(DefaultAuditRetentionDays)))
	if err != nil || days < 1 || days > MaxAuditRetentionDays {
		errs = append(errs, fmt.Errorf("AUDIT_RETENTION_DAYS: must be a whole number of days from 1 to %d", MaxAuditRetentionDays))
	}
	c.AuditRetention = time.Duration(days) * 24 * time.Hour
	if !strings.HasPrefix(c.IssuerURL, "https://") && !strings.HasPrefix(c.IssuerURL, "http://") {
		errs = append(errs, fmt.Errorf("ISSUER_URL %q: must be an http(s) URL", c.IssuerURL))
	}
	return c, errors.Join(errs...)
}
