package dsar_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/zoomdsar/zoom-dsar"

// TestImports keeps dependencies pointing at the domain: dsar and everything
// it imports (not its tests) reach no package of the project and none of the
// adapters' dependencies (bbolt, grpc, oauth2); dsar/bundle, an adapter,
// reaches no other adapter; the client of our API reaches only what its
// package doc names.
func TestImports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pkg       string
		forbidden []string // import paths, each with everything below it
		allowed   []string // exceptions to forbidden, exactly
	}{
		{
			pkg:       module + "/dsar",
			forbidden: []string{module, "go.etcd.io/bbolt", "google.golang.org/grpc", "golang.org/x/oauth2"},
			allowed:   []string{module + "/dsar"},
		},
		{
			pkg: module + "/dsar/bundle",
			forbidden: []string{module + "/store", module + "/zoomclient", module + "/dsar/rpc", module + "/cmd",
				"go.etcd.io/bbolt", "google.golang.org/grpc", "golang.org/x/oauth2"},
		},
		{
			pkg:       module + "/dsar/rpc/client",
			forbidden: []string{module, "go.etcd.io/bbolt", "github.com/prometheus", "golang.org/x/oauth2"},
			allowed:   []string{module + "/dsar", module + "/dsar/bundle", module + "/proto/dsar/v1"},
		},
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.pkg, module+"/"), func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), gobin, "list", "-deps", "-f", "{{.ImportPath}}", tt.pkg).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 5 {
				t.Fatalf("go list found only %v", deps)
			}
			for _, dep := range deps {
				if dep == tt.pkg || slices.Contains(tt.allowed, dep) {
					continue
				}
				for _, f := range tt.forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("%s depends on %s", tt.pkg, dep)
					}
				}
			}
		})
	}
}
