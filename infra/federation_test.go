package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestFederationKey: a symmetric, rotated key; authservers may only
// encrypt and signin only decrypt with it, each only with the federation
// secrets' encryption context (purpose, partner id, server id).
func TestFederationKey(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		t.Run(stage, func(t *testing.T) {
			s := synth(t, stage)
			keyID := federationKeyID(s)
			if keyID == "" {
				t.Fatal("no federation key")
			}
			p := s.template.Resources[keyID].Properties
			if p["KeySpec"] != "SYMMETRIC_DEFAULT" || p["KeyUsage"] != "ENCRYPT_DECRYPT" || p["EnableKeyRotation"] != true {
				t.Errorf("federation key %v, want a rotated symmetric encryption key", p)
			}
			fns := groupFunctions(t, s.template)
			for group, want := range map[string]string{"authservers": "kms:Encrypt", "signin": "kms:Decrypt"} {
				env := render(get(s.template.Resources[fns[group]].Properties, "Environment", "Variables", "FEDERATION_KEY"))
				if env != "${"+keyID+".Arn}" {
					t.Errorf("%s FEDERATION_KEY = %s, want the key's ARN", group, env)
				}
				roleID := refID(s.template.Resources[fns[group]].Properties["Role"])
				found := false
				for _, id := range s.template.ofType("AWS::IAM::Policy") {
					pp := s.template.Resources[id].Properties
					if !slices.Contains(strs(pp["Roles"]), "${"+roleID+"}") {
						continue
					}
					for _, st := range get(pp, "PolicyDocument", "Statement").([]any) {
						if get(st, "Sid") != "FederationSecrets" {
							continue
						}
						found = true
						cond, _ := json.Marshal(get(st, "Condition"))
						if a := strs(get(st, "Action")); !slices.Equal(a, []string{want}) ||
							!strings.Contains(string(cond), `"kms:EncryptionContext:purpose":"federation-client-secret"`) ||
							!strings.Contains(string(cond), `"kms:EncryptionContextKeys":["purpose","partner_id","authorisation_server_id"]`) ||
							!strings.Contains(string(cond), `"kms:EncryptionContext:partner_id":"false"`) {
							t.Errorf("%s: statement %v %s, want %s bound to the secrets' context", group, a, cond, want)
						}
					}
				}
				if !found {
					t.Errorf("%s: no FederationSecrets statement", group)
				}
			}
		})
	}
}
