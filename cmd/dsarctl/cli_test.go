package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

// ctlOut runs dsarctl without a server and returns its stdout and stderr.
func ctlOut(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, noEnv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestVersion(t *testing.T) {
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/zoomdsar/zoom-dsar", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	t.Cleanup(func() { readBuildInfo = debug.ReadBuildInfo })
	out, _, err := ctlOut(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version        v1.2.3\n", "revision       0123abcd (modified)\n", "revision time  2026-12-01T10:00:00Z\n", "go             go1.99.1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
	readBuildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if _, _, err := ctlOut(t, "version"); err == nil || exitCode(err) != 1 {
		t.Errorf("version without build information: %v, want an error", err)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string][]string{
		"bash": {"__start_dsarctl", "complete -o default -F __start_dsarctl dsarctl"},
		"zsh":  {"#compdef dsarctl", "_dsarctl"},
		"fish": {"complete -c dsarctl"},
	} {
		out, _, err := ctlOut(t, "completion", shell)
		if err != nil {
			t.Fatalf("completion %s: %v", shell, err)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("completion %s lacks %q", shell, w)
			}
		}
	}
	// The script asks dsarctl for the words: commands, and a flag's values.
	out, _, err := ctlOut(t, "__complete", "li")
	if err != nil || !strings.Contains(out, "list\t") {
		t.Errorf("completion of li: %v\n%s", err, out)
	}
	out, _, err = ctlOut(t, "__complete", "list", "-o", "")
	if err != nil || !strings.Contains(out, "json\nwide") && !strings.Contains(out, "wide\njson") {
		t.Errorf("completion of list -o: %v\n%s", err, out)
	}
	// The shell keeps those that match what was typed.
	out, _, err = ctlOut(t, "__complete", "list", "-state", "fa")
	if err != nil || !strings.Contains(out, "\nfailed\n") || !strings.Contains(out, "\nwaiting_zoom\n") {
		t.Errorf("completion of list -state fa: %v\n%s", err, out)
	}
}

func TestHelpCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"help", "list"}, []string{"list access requests", "dsarctl list [flags]", "--email address", "--output format", "(env DSAR_SERVER)"}},
		{[]string{"help", "accounts", "check"}, []string{"dsarctl accounts check NAME [flags]"}},
		{[]string{"list", "-h"}, []string{"dsarctl list [flags]"}},
		{[]string{"help"}, []string{"completion", "version", "watch"}},
	} {
		out, errOut, err := ctlOut(t, tc.args...)
		if err != nil || errOut != "" {
			t.Errorf("%q: %v, stderr %q", tc.args, err, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%q lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
}
