package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/demo"
)

func noEnv(string) string { return "" }

// TestGNUArgs: dsarctl's single-dash long flags become pflag's GNU form;
// shorthands, values and what follows "--" stay.
func TestGNUArgs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"get", "-json", "id1"}, []string{"get", "--json", "id1"}},
		{[]string{"-server=a:1", "list", "-state", "failed"}, []string{"--server=a:1", "list", "--state", "failed"}},
		{[]string{"download", "-o", "x.zip", "-f", "--resume", "id"}, []string{"download", "-o", "x.zip", "-f", "--resume", "id"}},
		{[]string{"get", "--", "-weird-id"}, []string{"get", "--", "-weird-id"}},
	} {
		if got := gnuArgs(newRoot(&env{}), tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("gnuArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"demo"}, "go run ./cmd/dsard demo"},
		{[]string{"get"}, "missing arguments"},
		{[]string{"get", "a", "b"}, "too many arguments"},
		{[]string{"create", "jane@example.com"}, "-account is required"},
		{[]string{"create", "-account", "a", "-regulation", "lgpd", "x@example.com"}, "gdpr or ccpa"},
		{[]string{"resume"}, "give an id"},
		{[]string{"resume", "-state", "failed", "id"}, "not both"},
		{[]string{"retry", "id"}, "-section is required"},
		{[]string{"extend", "id"}, "-reason is required"},
		{[]string{"rebuild"}, "missing arguments"},
		{[]string{"verify", "b.zip"}, "-public-key is required"},
		{[]string{"list", "-state", "sleeping"}, "unknown state"},
		{[]string{"get", "-o", "yaml", "id"}, "want table, wide, json"},
		{[]string{"accounts", "frob"}, "unknown verb"},
		{[]string{"get", "-json", "id"}, "it is -o json now"},
	} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), tc.args, noEnv, strings.NewReader(""), &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			continue
		}
		if exitCode(err) != 2 {
			t.Errorf("run(%q): exit code %d, want 2", tc.args, exitCode(err))
		}
		if strings.Contains(oneLine(err), "\n") {
			t.Errorf("run(%q): error is not one line", tc.args)
		}
	}
}

func TestConnectionErrors(t *testing.T) {
	env := map[string]string{"DSAR_SERVER": "dsar.example.com:7443", "DSAR_TOKEN": "t"}
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"get", "id1"}, func(k string) string { return env[k] }, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "without TLS") {
		t.Errorf("plaintext to a remote server: %v, want a refusal", err)
	}
	// A server that is not there: one line, a hint, exit 1.
	env["DSAR_SERVER"] = "127.0.0.1:1"
	err = run(t.Context(), []string{"get", "id1"}, func(k string) string { return env[k] }, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "unavailable") || exitCode(err) != 1 {
		t.Errorf("no server: %v", err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	// `dsard demo` makes a real bundle and key to tamper with; the tiny
	// dataset's has every kind of entry (the reference demo is the demo
	// package's own test).
	if err := demo.Run(t.Context(), []string{"-dir", dir, "-dataset", "tiny"}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	for _, name := range []string{"bundle.zip", "signing.pub", "bundle/index.html"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("demo left no %s: %v", name, err)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	summary := lines[len(lines)-1]
	if !strings.Contains(summary, "verified") || !strings.HasSuffix(lines[len(lines)-2], "index.html") {
		t.Errorf("demo's last lines:\n%s", strings.Join(lines[len(lines)-2:], "\n"))
	}
	zipPath := filepath.Join(dir, "bundle.zip")
	data, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	manifest, report, files := bundleCounts(t, data)
	checkCounts(t, []string{"the demo's summary", "the demo's watch", "manifest.json", "index.html", "the data files"},
		lastCounts(t, demoLine, out.String()), lastCounts(t, watchLine, out.String()), manifest, report, files)
	// One extra entry is one problem, two are two: the summary says so.
	pub := filepath.Join(dir, "signing.pub")
	for _, tt := range []struct {
		extras int
		want   string
	}{{1, "not intact: 1 problem"}, {2, "not intact: 2 problems"}} {
		name := filepath.Join(dir, fmt.Sprintf("extra%d.zip", tt.extras))
		if err := os.WriteFile(name, withExtras(t, data, tt.extras), 0o600); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		err := run(t.Context(), []string{"verify", "-public-key", pub, name}, noEnv, nil, &out, &errOut)
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) || strings.Count(out.String(), "FAIL ") != tt.extras {
			t.Errorf("verify with %d extra entries: %v, want %q\n%s", tt.extras, err, tt.want, out.String())
		}
	}
	// Flip a byte in the middle of the data entries.
	data[len(data)/3] ^= 0xff
	bad := filepath.Join(dir, "bad.zip")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(t.Context(), []string{"verify", "-public-key", filepath.Join(dir, "signing.pub"), bad}, noEnv, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "not intact") || !strings.Contains(out.String(), "FAIL") {
		t.Errorf("verify of a tampered bundle: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"verify", "-public-key", filepath.Join(dir, "signing.pub"), zipPath}, noEnv, nil, &out, &errOut); err != nil {
		t.Errorf("verify of the demo bundle: %v", err)
	}
	if err := run(t.Context(), []string{"verify", "-public-key", filepath.Join(dir, "signing.pub"), filepath.Join(dir, "none.zip")}, noEnv, nil, &out, &errOut); err == nil || exitCode(err) == 2 {
		t.Errorf("verify of a missing file: %v", err)
	}
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dsarctl-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// withExtras copies the zip b and adds n entries that no manifest lists.
func withExtras(t *testing.T, b []byte, n int) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if _, err := zw.Create(fmt.Sprintf("extra%d.txt", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestFlagsAndEnv: connection flags (before or after the command) beat
// their DSAR_* variables, which beat the defaults; a command's own flags
// fall back only where the command says so; a bad value names its
// variable; -h names the variables (on stdout, as help does); an error is
// printed once, by main: run itself prints nothing of it.
func TestFlagsAndEnv(t *testing.T) {
	const remote = "0.0.0.0:1" // not loopback: refused without TLS; with TLS, connection refused
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // in the error; "": none
		code    int
		wantOut []string // in stdout and stderr, once
		notOut  []string // in neither
	}{
		{"env beats default", []string{"get", "id1"}, map[string]string{"DSAR_SERVER": remote}, "without TLS", 1, nil, nil},
		{"flag before the command beats env", []string{"-server", "127.0.0.1:1", "get", "id1"}, map[string]string{"DSAR_SERVER": remote}, "unavailable", 1, nil, nil},
		{"flag after the command beats env", []string{"get", "-server", "127.0.0.1:1", "id1"}, map[string]string{"DSAR_SERVER": remote}, "unavailable", 1, nil, nil},
		{"bool from env", []string{"get", "id1"}, map[string]string{"DSAR_TLS": "true", "DSAR_SERVER": remote}, "unavailable", 1, nil, nil},
		{"command flag from env", []string{"create", "x@example.com"}, map[string]string{"DSAR_ACCOUNT": "acme", "DSAR_SERVER": remote}, "without TLS", 1, nil, nil},
		{"verify key from env", []string{"verify", "b.zip"}, map[string]string{"DSAR_PUBLIC_KEY": "/nonexistent/signing.pub"}, "signing.pub", 1, nil, nil},
		{"no fallback where the command has none", []string{"list", "-h"}, map[string]string{"DSAR_ACCOUNT": "acme"}, "", 0,
			[]string{"(env DSAR_SERVER)"}, []string{"DSAR_ACCOUNT", "acme"}},
		{"bad bool in env", []string{"get", "id1"}, map[string]string{"DSAR_TLS": "maybe"}, "DSAR_TLS", 2, nil, nil},
		{"help names the variables", []string{"-h"}, map[string]string{"DSAR_TOKEN_FILE": "/run/secrets/tok"}, "", 0,
			[]string{"(env DSAR_SERVER)", "(env DSAR_TOKEN_FILE)", "(env DSAR_TLS)"}, []string{"/run/secrets/tok"}},
		{"command help names its variables once", []string{"create", "-h"}, nil, "", 0,
			[]string{"(env DSAR_ACCOUNT)", "dsard address (env DSAR_SERVER) (default"}, nil},
		{"help of a command names its variables", []string{"help", "verify"}, nil, "", 0,
			[]string{"(env DSAR_PUBLIC_KEY)", "(env DSAR_SERVER)"}, nil},
		{"bad flag printed once", []string{"-bogus"}, nil, "unknown flag: --bogus", 2, nil, []string{"bogus"}},
		{"bad command flag printed once", []string{"get", "-bogus", "id1"}, nil, "unknown flag: --bogus", 2, nil, []string{"bogus"}},
		{"bad value printed once", []string{"list", "-limit", "many"}, nil, "invalid argument", 2, nil, []string{"many"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, func(k string) string { return tc.env[k] }, strings.NewReader(""), &out, &errOut)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit code %d, want %d (error %v)", got, tc.code, err)
			}
			both := out.String() + errOut.String()
			for _, w := range tc.wantOut {
				if strings.Count(both, w) != 1 {
					t.Errorf("the output does not hold %q once:\n%s", w, both)
				}
			}
			for _, w := range tc.notOut {
				if strings.Contains(both, w) {
					t.Errorf("the output holds %q:\n%s", w, both)
				}
			}
		})
	}
}
