package functions_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/partnerapi/partner-api/"

// TestNoDevelopmentCodeInFunctions: a Lambda binary links no package of
// internal/ (emulators, test harness, fakes): those are for development
// and tests only.
func TestNoDevelopmentCodeInFunctions(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, module+"internal/") {
			t.Errorf("a function depends on %s", pkg)
		}
	}
}

// TestFunctionsLinkOnlyTheirGroup: each function links the operations of
// its own endpoint group only (shared/app/groups/<group>, never the
// aggregate shared/app/groups), and only the clients function links the
// password strength estimate, whose package initialisation alone costs
// ~0.1 s of a cold start under qemu (issue 12).
func TestFunctionsLinkOnlyTheirGroup(t *testing.T) {
	heavy := map[string]string{"github.com/trustelem/zxcvbn": "clients"}
	for _, name := range functionNames(t) {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./"+name).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for _, pkg := range strings.Fields(string(out)) {
				if group, ok := strings.CutPrefix(pkg, module+"shared/app/groups"); ok && group != "/"+name {
					t.Errorf("got %s linked, want only shared/app/groups/%s", pkg, name)
				}
				if owner, ok := heavy[pkg]; ok && owner != name {
					t.Errorf("got %s linked, want it in the %s function only", pkg, owner)
				}
			}
		})
	}
}
