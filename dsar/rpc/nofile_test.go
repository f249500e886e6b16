package rpc

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestOpensNoFile keeps file access out of the gRPC adapter (issue 12):
// the caller opens a file and hands this package a reader or the parsed
// value, so no code here calls os with a path.
func TestOpensNoFile(t *testing.T) {
	byPath := map[string]bool{"Open": true, "OpenFile": true, "Create": true, "ReadFile": true, "WriteFile": true,
		"ReadDir": true, "Stat": true, "Lstat": true, "Remove": true, "RemoveAll": true, "Rename": true, "Mkdir": true,
		"MkdirAll": true, "CreateTemp": true, "MkdirTemp": true, "DirFS": true}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files int
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		files++
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" && byPath[sel.Sel.Name] {
				t.Errorf("%s: os.%s: dsar/rpc opens no file by path; let the caller open it and pass a reader", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
	if files < 5 {
		t.Fatalf("found only %d source files", files)
	}
}
