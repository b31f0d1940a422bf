package config

import (
	"strings"
	"testing"
	"time"

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
