package zoomtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTestingOutsideTests: the emulator is a package that programs
// (cmd/zoomfake, `dsard demo`) import, so it must not carry testing; TB
// stands for the test NewServer needs.
func TestNoTestingOutsideTests(t *testing.T) {
	var _ TB = t // a *testing.T is a TB
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		if d == "testing" {
			t.Error("zoomtest depends on testing outside its tests")
		}
	}
}
