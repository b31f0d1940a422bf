package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestCdkNag fails on any AwsSolutions finding that is not suppressed, and
// on any suppression without a real reason or, for IAM findings, without
// naming exactly what it excuses.
func TestCdkNag(t *testing.T) {
	for _, name := range []string{"dev", "prod", "prod-created"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			ann := assertions.Annotations_FromStack(s.stack)
			match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			for _, m := range *ann.FindError(jsii.String("*"), match) {
				t.Errorf("cdk-nag error: %s", nagMessage(m))
			}
			for _, m := range *ann.FindWarning(jsii.String("*"), match) {
				t.Errorf("cdk-nag warning: %s", nagMessage(m))
			}

			var n int
			for id, r := range s.template.Resources {
				rules, _ := get(r.Metadata, "cdk_nag", "rules_to_suppress").([]any)
				for _, rule := range rules {
					n++
					ruleID, _ := get(rule, "id").(string)
					reason, _ := get(rule, "reason").(string)
					if len(strings.Fields(reason)) < 8 {
						t.Errorf("%s: suppression of %s has no real reason: %q", id, ruleID, reason)
					}
					if strings.HasPrefix(ruleID, "AwsSolutions-IAM") && get(rule, "applies_to") == nil {
						t.Errorf("%s: suppression of %s applies to every finding; name them (appliesTo)", id, ruleID)
					}
				}
			}
			if n == 0 {
				t.Error("no cdk-nag suppression metadata found: has the template format changed?")
			}
		})
	}
}

// nagMessage is "construct path: finding" of an annotation. It goes through
// JSON because the Go type's fields are deprecated one by one (the type moved
// to another package upstream).
func nagMessage(m any) string {
	var msg struct {
		ID    string `json:"id"`
		Entry struct {
			Data any `json:"data"`
		} `json:"entry"`
	}
	b, _ := json.Marshal(m)
	if err := json.Unmarshal(b, &msg); err != nil {
		return string(b)
	}
	return fmt.Sprintf("%s: %v", msg.ID, msg.Entry.Data)
}

// cfnLintWarnings are the cfn-lint warnings accepted, each with the reason.
var cfnLintWarnings = map[string]string{
	// CDK makes each function DependsOn its role as well as its role's
	// default policy (so the policy exists before the function is invoked);
	// the role dependency duplicates the GetAtt. Harmless, and not ours.
	"W3005": "redundant DependsOn added by the CDK",
}

// TestCfnLint runs cfn-lint on each synthesised template: no error, and no
// warning but the accepted ones. cfn-lint also finds dependency cycles
// (E3004), the trap of passing the API's URL to its own functions.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Fatal("cfn-lint is not installed (pip install cfn-lint): the template must be linted")
	}
	for _, name := range []string{"dev", "prod", "prod-created"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			file := filepath.Join(t.TempDir(), StackName(name)+".template.json")
			if err := os.WriteFile(file, s.json, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "--format", "json", "--", file)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			// Exit status is a bit mask (2 error, 4 warning, 8 info); the
			// findings themselves are judged below.
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("cfn-lint: %v: %s", err, stderr.String())
			}
			var findings []struct {
				Level   string `json:"Level"`
				Message string `json:"Message"`
				Rule    struct {
					ID string `json:"Id"`
				} `json:"Rule"`
				Location struct {
					Path []any `json:"Path"`
				} `json:"Location"`
			}
			if err := json.Unmarshal(out, &findings); err != nil {
				t.Fatalf("cfn-lint output: %v: %s %s", err, out, stderr.String())
			}
			for _, f := range findings {
				switch {
				case f.Level == "Error":
					t.Errorf("cfn-lint %s at %v: %s", f.Rule.ID, f.Location.Path, f.Message)
				case f.Level == "Warning" && cfnLintWarnings[f.Rule.ID] == "":
					t.Errorf("cfn-lint warning %s at %v: %s", f.Rule.ID, f.Location.Path, f.Message)
				default:
					t.Logf("cfn-lint %s %s (accepted): %s", f.Level, f.Rule.ID, f.Message)
				}
			}
		})
	}
}
