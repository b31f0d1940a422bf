package functions_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoDevelopmentCodeInFunctions: a Lambda binary links no package of
// internal/ (emulators, test harness, fakes): those are for development
// and tests only.
func TestNoDevelopmentCodeInFunctions(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/partnerapi/partner-api/internal/") {
			t.Errorf("a function depends on %s", pkg)
		}
	}
}
