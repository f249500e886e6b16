package main

import (
	"slices"
	"strings"
	"testing"
)

// TestGNUArgsValues: a flag's value that starts with a dash (a reason, a
// negative number, an odd address) is the value, as given: only flag
// names take the second dash. A bool flag takes no value, so what follows
// it is a flag again.
func TestGNUArgsValues(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"extend", "-reason", "-late-by-law", "id1"}, []string{"extend", "--reason", "-late-by-law", "id1"}},
		{[]string{"list", "-limit", "-10"}, []string{"list", "--limit", "-10"}},
		{[]string{"list", "-older-than", "-48h", "-o", "-wide"}, []string{"list", "--older-than", "-48h", "-o", "-wide"}},
		{[]string{"-server", "-odd", "get", "-server", "-odder", "id1"}, []string{"--server", "-odd", "get", "--server", "-odder", "id1"}},
		{[]string{"extend", "-reason=-late", "id1"}, []string{"extend", "--reason=-late", "id1"}},
		{[]string{"-tls", "-server", "a:1", "get", "-utc", "-o", "json", "id1"}, []string{"--tls", "--server", "a:1", "get", "--utc", "-o", "json", "id1"}},
		{[]string{"accounts", "authorize", "-code", "-abc", "main"}, []string{"accounts", "authorize", "--code", "-abc", "main"}},
		{[]string{"get", "-bogus", "-x", "id1"}, []string{"get", "--bogus", "-x", "id1"}},
	} {
		if got := gnuArgs(newRoot(&env{}), tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("gnuArgs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Through the command: the reason reaches dsard as given, and a
	// negative limit meets -limit's own check, not pflag's "unknown flag".
	f := startFake(t, requests(1)...)
	if _, _, err := f.ctl(t, nil, "extend", "-reason", "-late-by-law", "r01"); err != nil || f.extendReason() != "-late-by-law" {
		t.Errorf("extend -reason -late-by-law: %v; dsard got the reason %q", err, f.extendReason())
	}
	_, _, err := ctlOut(t, "list", "-limit", "-10")
	if err == nil || !strings.Contains(err.Error(), "-limit must not be negative") {
		t.Errorf("list -limit -10: %v; want -limit's own error", err)
	}
}
