package config

import (
	"strings"
	"testing"

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
