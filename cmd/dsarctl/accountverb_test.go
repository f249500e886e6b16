package main

import (
	"strings"
	"testing"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// TestAccountVerbError: an account that is not fully usable after check
// or authorize fails the command with an error naming the verb that was
// run; authorize's said "accounts check".
func TestAccountVerbError(t *testing.T) {
	f := startFake(t)
	f.account = &dsarv1.Account{Name: "main", Check: &dsarv1.AccountCheck{
		SectionProblems: []*dsarv1.SectionProblem{{Section: "phone_sms", Problem: "phone_sms needs scope phone:read:sms_session:admin"}}}}
	for _, args := range [][]string{
		{"accounts", "check", "main"},
		{"accounts", "authorize", "-code", "c1", "main"},
	} {
		out, _, err := f.ctl(t, nil, args...)
		want := strings.Join(args[:2], " ") + ": the account is not fully usable"
		if err == nil || !strings.HasPrefix(err.Error(), want) || exitCode(err) != 1 {
			t.Errorf("%q: error %v, want one starting %q", args, err, want)
		}
		if !strings.Contains(out, "phone_sms needs scope") {
			t.Errorf("%q does not print the problem:\n%s", args, out)
		}
	}
}
