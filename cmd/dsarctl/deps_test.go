package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies: the operator's client carries neither the server's
// store and metrics nor the Zoom emulator, nor the testing package, and a
// platform's Go program that imports dsar/rpc/client does not either.
func TestDependencies(t *testing.T) {
	t.Parallel()
	forbidden := []string{
		"go.etcd.io/bbolt",
		"github.com/prometheus/",
		"github.com/zoomdsar/zoom-dsar/zoomclient",
		"github.com/zoomdsar/zoom-dsar/store",
		"github.com/zoomdsar/zoom-dsar/cmd/internal/daemon",
		"github.com/zoomdsar/zoom-dsar/cmd/internal/demo",
	}
	for _, pkg := range []string{".", "../../dsar/rpc/client"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps %s listed %d packages: %q", pkg, len(deps), deps)
		}
		for _, d := range deps {
			if d == "testing" {
				t.Errorf("%s depends on testing", pkg)
			}
			for _, f := range forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
}
