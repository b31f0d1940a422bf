package config

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/app/registry"
	"github.com/partnerapi/partner-api/shared/signer"
)

func TestFromEnvDefaults(t *testing.T) {
	c, err := FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.TableName != "partner-api" || c.IssuerURL != "http://localhost:8080" || c.Audience != c.IssuerURL || c.PartnerAlgorithm != signer.ES384 {
		t.Errorf("defaults = %+v", c)
	}
	if len(c.SigningKeys) != 3 || c.SigningKeys[1].KeyID != "alias/partner-api-es384" {
		t.Errorf("signing keys = %+v", c.SigningKeys)
	}
	if len(c.CursorKey) != 32 || len(c.InsecureDefaults) != 1 {
		t.Errorf("cursor key %d bytes, insecure %v", len(c.CursorKey), c.InsecureDefaults)
	}
}

func TestFromEnvErrors(t *testing.T) {
	env := map[string]string{
		"PARTNER_TOKEN_ALG": "HS256", "LOG_LEVEL": "loud", "CURSOR_KEY": "c2hvcnQ=", "ISSUER_URL": "ftp://x",
		"KMS_RETIRED_KEYS": " alias/a , ,alias/b", "ISSUER": "ignored",
	}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"PARTNER_TOKEN_ALG", "LOG_LEVEL", "CURSOR_KEY", "ISSUER_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if strings.Join(c.RetiredKeys, ",") != "alias/a,alias/b" {
		t.Errorf("retired keys = %q", c.RetiredKeys)
	}
}

func TestAuditRetention(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Duration
		wantErr     bool
	}{
		{name: "default", value: "", want: 400 * 24 * time.Hour},
		{name: "minimum", value: "1", want: 24 * time.Hour},
		{name: "maximum", value: "3650", want: 3650 * 24 * time.Hour},
		{name: "zero", value: "0", wantErr: true},
		{name: "too long", value: "3651", wantErr: true},
		{name: "not a number", value: "1y", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromEnv(func(k string) string {
				if k == "AUDIT_RETENTION_DAYS" {
					return tc.value
				}
				return ""
			})
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "AUDIT_RETENTION_DAYS") {
					t.Errorf("got error %v, want one naming AUDIT_RETENTION_DAYS", err)
				}
				return
			}
			if err != nil || c.AuditRetention != tc.want {
				t.Errorf("got %v, %v, want %v", c.AuditRetention, err, tc.want)
			}
		})
	}
}

// TestCursorKeyEncodings: CURSOR_KEY is standard base64 of 32 bytes, with or
// without its padding. The stack's generated secret is 43 letters and
// digits with nothing appended (LocalStack's CloudFormation replaces a
// whole value that holds a dynamic reference, dropping anything around it).
func TestCursorKeyEncodings(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	padded := base64.StdEncoding.EncodeToString(key)
	generated := "Q2hhbmdlTWVQbGVhc2VBbmRUaGVuQWdhaW4xMjM0NTZ" // 43 letters and digits, as Secrets Manager makes them
	for _, tc := range []struct {
		name, value string
		want        []byte
		wantErr     bool
	}{
		{name: "padded", value: padded, want: key},
		{name: "unpadded", value: strings.TrimRight(padded, "="), want: key},
		{name: "generated secret", value: generated, want: mustRaw(t, generated)},
		{name: "generated secret with its '='", value: generated + "=", want: mustRaw(t, generated)},
		{name: "too short", value: "c2hvcnQ", wantErr: true},
		{name: "too long", value: base64.RawStdEncoding.EncodeToString(make([]byte, 33)), wantErr: true},
		{name: "not base64", value: strings.Repeat("*", 43), wantErr: true},
		{name: "url alphabet", value: strings.Repeat("-", 43), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromEnv(func(k string) string {
				if k == EnvCursorKey {
					return tc.value
				}
				return ""
			})
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "CURSOR_KEY") {
					t.Errorf("got error %v, want one naming CURSOR_KEY", err)
				}
				return
			}
			if err != nil || !bytes.Equal(c.CursorKey, tc.want) {
				t.Errorf("got %x, %v, want %x", c.CursorKey, err, tc.want)
			}
			if len(c.InsecureDefaults) != 0 {
				t.Errorf("InsecureDefaults = %v, want none", c.InsecureDefaults)
			}
		})
	}
}

func mustRaw(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("decode %q: %d bytes, %v", s, len(b), err)
	}
	return b
}

// TestKeysOfEachGroup: every registry group has the table, log level and
// audit retention; the groups with key access the token settings; exactly
// the listing groups CURSOR_KEY. InsecureFor keeps only what the group
// reads, so the token function does not warn about a cursor key it never
// uses.
func TestKeysOfEachGroup(t *testing.T) {
	unset, err := FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range registry.Groups() {
		t.Run(g.Name, func(t *testing.T) {
			keys := Keys(g, SigningWrapped)
			for _, k := range []string{EnvTableName, EnvLogLevel, EnvAuditRetentionDays} {
				if !slices.Contains(keys, k) {
					t.Errorf("Keys = %v, want %s among them", keys, k)
				}
			}
			verifies := g.KMS == registry.KMSVerify || g.KMS == registry.KMSSign
			if got, want := slices.Contains(keys, EnvIssuerURL), verifies; got != want {
				t.Errorf("ISSUER_URL in Keys = %v, want %v", got, want)
			}
			// The wrapping key goes to those that sign or rotate, and only
			// in wrapped mode; the KMS signing keys only in kms mode.
			wraps := g.KMS == registry.KMSSign || g.KMS == registry.KMSRotate
			if got := slices.Contains(keys, EnvWrappingKey); got != wraps {
				t.Errorf("KMS_WRAPPING_KEY in wrapped-mode Keys = %v, want %v", got, wraps)
			}
			if slices.Contains(keys, EnvKMSKey(signer.ES384)) {
				t.Errorf("wrapped-mode Keys = %v: no KMS signing key is read", keys)
			}
			kmsKeys := Keys(g, SigningKMS)
			if got := slices.Contains(kmsKeys, EnvKMSKey(signer.ES384)); got != verifies {
				t.Errorf("KMS_KEY_ES384 in kms-mode Keys = %v, want %v", got, verifies)
			}
			if slices.Contains(kmsKeys, EnvWrappingKey) {
				t.Errorf("kms-mode Keys = %v: no wrapping key is read", kmsKeys)
			}
			if got, want := slices.Contains(keys, EnvCursorKey), g.CursorKey; got != want {
				t.Errorf("CURSOR_KEY in Keys = %v, want %v", got, want)
			}
			insecure := unset.InsecureFor(g)
			if got, want := slices.Contains(insecure, EnvCursorKey), g.CursorKey; got != want {
				t.Errorf("InsecureFor = %v: CURSOR_KEY listed %v, want %v", insecure, got, want)
			}
		})
	}
}

// TestFederationAllowLoopback: the local stack's setting that lets
// federation requests reach loopback is refused with a deployed issuer.
func TestFederationAllowLoopback(t *testing.T) {
	for _, tc := range []struct {
		issuer, value string
		wantErr       bool
		want          bool
	}{
		{"https://api.partner.example", "", false, false},
		{"https://api.partner.example", "true", true, true},
		{"https://abc.execute-api.eu-west-2.amazonaws.com/prod", "true", true, true},
		{"http://localhost:8080", "true", false, true},
		{"http://127.0.0.1:4566/restapis/x/dev/_user_request_", "true", false, true},
		{"https://localhost:8443", "true", false, true},
		{"http://localhost:8080", "yes", true, false},
	} {
		t.Run(tc.issuer+" "+tc.value, func(t *testing.T) {
			env := map[string]string{"ISSUER_URL": tc.issuer, "FEDERATION_ALLOW_LOOPBACK": tc.value}
			c, err := FromEnv(func(k string) string { return env[k] })
			if gotErr := err != nil; gotErr != tc.wantErr || c.FederationAllowLoopback != tc.want {
				t.Errorf("got %v, %v; want error %v, allowed %v", c.FederationAllowLoopback, err, tc.wantErr, tc.want)
			}
			if c.FederationKey != DefaultFederationKey {
				t.Errorf("got FEDERATION_KEY %q, want %q", c.FederationKey, DefaultFederationKey)
			}
		})
	}
}
