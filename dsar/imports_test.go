package dsar_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the domain free of its adapters' dependencies: dsar and
// everything it imports (not its tests) must not reach bbolt, grpc or
// oauth2.
func TestImports(t *testing.T) {
	forbidden := []string{"go.etcd.io/bbolt", "google.golang.org/grpc", "golang.org/x/oauth2"}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	out, err := exec.CommandContext(t.Context(), gobin, "list", "-deps", "-f", "{{.ImportPath}}",
		"github.com/zoomdsar/zoom-dsar/dsar").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list found only %v", deps)
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("dsar depends on %s", dep)
			}
		}
	}
}
