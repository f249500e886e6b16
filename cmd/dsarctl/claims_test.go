package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // TestTimeZones' zones, wherever the tests run

	"google.golang.org/protobuf/types/known/timestamppb"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// Tests of what dsarctl's help and the README say it does.

// squeeze folds the padding of tabwriter's columns to one space, so that
// a test names a row without its widths.
func squeeze(s string) string { return regexp.MustCompile(` {2,}`).ReplaceAllString(s, " ") }

// init makes the test binary dsarctl when TestTimeZones runs it with
// DSARCTL_TEST_MAIN=1: for what only a new process reads, as TZ. No
// dsarctl binary is built.
func init() {
	if os.Getenv("DSARCTL_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
}

// TestSuggestion: a misspelt command gets cobra's "did you mean", as a
// usage error.
func TestSuggestion(t *testing.T) {
	for typed, want := range map[string]string{"lsit": "did you mean list?", "acounts": "did you mean accounts?", "wtach": "did you mean watch?"} {
		_, _, err := ctlOut(t, typed)
		if err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != 2 {
			t.Errorf("dsarctl %s: %v, want a usage error saying %q", typed, err, want)
		}
	}
	if _, _, err := ctlOut(t, "frobnicate"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("dsarctl frobnicate: %v, want no suggestion", err)
	}
}

// TestCompletionValues: the bash script asks dsarctl for the words, and
// dsarctl gives -regulation's and -o's values, however the flag is
// spelt.
func TestCompletionValues(t *testing.T) {
	script, _, err := ctlOut(t, "completion", "bash")
	if err != nil || !strings.Contains(script, "__complete") {
		t.Fatalf("completion bash: %v; the script does not call dsarctl __complete", err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"create", "-regulation", ""}, []string{"gdpr", "ccpa"}},
		{[]string{"create", "--regulation", ""}, []string{"gdpr", "ccpa"}},
		{[]string{"get", "-o", ""}, formats},
		{[]string{"list", "--output", ""}, formats},
		{[]string{"accounts", "check", "-o", ""}, formats},
	} {
		out, _, err := ctlOut(t, append([]string{"__complete"}, tc.args...)...)
		if err != nil {
			t.Fatalf("__complete %q: %v", tc.args, err)
		}
		// The words, then the directive: ":4" is no file completion.
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if got := lines[:len(lines)-1]; !slices.Equal(got, tc.want) || lines[len(lines)-1] != ":4" {
			t.Errorf("__complete %q = %q, want %q and :4", tc.args, lines, tc.want)
		}
	}
}

// at is the one time the tests of times print: 10:00 UTC, 15:30 in
// India.
var at = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// fullRequest has every field that table or wide prints.
func fullRequest() *dsarv1.AccessRequest {
	ts := timestamppb.New
	return &dsarv1.AccessRequest{
		Id: "r01", State: dsarv1.RequestState_REQUEST_STATE_WAITING_QUOTA, Account: "main", Email: "subject@example.com",
		Regulation: dsarv1.Regulation_REGULATION_CCPA, IdempotencyKey: "key-1", Reason: "parked for the daily limit",
		CreateTime: ts(at), UpdateTime: ts(at.Add(time.Hour)), DueTime: ts(at.AddDate(0, 0, 45)), WaitingUntil: ts(at.Add(14 * time.Hour)),
		Sections: []*dsarv1.Section{{Name: "meetings", State: dsarv1.SectionState_SECTION_STATE_WAITING_QUOTA, Records: 7, Pages: 2, Calls: 3,
			StartTime: ts(at.Add(time.Minute)), WaitingUntil: ts(at.Add(14 * time.Hour)), Reason: "Daily limit"},
			{Name: "profile", State: dsarv1.SectionState_SECTION_STATE_COMPLETE, Records: 1, Pages: 1, Calls: 1,
				StartTime: ts(at.Add(time.Minute)), FinishTime: ts(at.Add(2 * time.Minute))}},
	}
}

// TestWide: -o wide prints what table prints and more columns: for list
// the regulation, update time, waiting time and reason; for get the
// update time and idempotency key, and each section's times.
func TestWide(t *testing.T) {
	f := startFake(t, fullRequest())
	env := map[string]string{}
	for _, tc := range []struct {
		args  []string
		table []string // in both
		wide  []string // in wide only
	}{
		{[]string{"list", "-utc"}, []string{"ID", "STATE", "ACCOUNT", "EMAIL", "OUTCOME", "CREATED", "DUE", "r01", "WAITING_QUOTA", "2026-12-06T10:00:00Z"},
			[]string{"REGULATION", "UPDATED", "WAITING UNTIL", "REASON", "CCPA", "2026-12-06T11:00:00Z", "2026-12-07T00:00:00Z", "parked for the daily limit"}},
		{[]string{"get", "-utc", "r01"}, []string{"state", "regulation", "CCPA", "SECTION", "RECORDS", "CALLS", "WINDOWS", "MEDIA", "REASON", "meetings", "Daily limit"},
			[]string{"updated", "2026-12-06T11:00:00Z", "idempotency key", "key-1", "STARTED", "FINISHED", "WAITING UNTIL", "2026-12-06T10:01:00Z", "2026-12-06T10:02:00Z"}},
	} {
		table, _, err := f.ctl(t, env, tc.args...)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		wide, _, err := f.ctl(t, env, append([]string{"-o", "wide"}, tc.args...)...)
		if err != nil {
			t.Fatalf("%q -o wide: %v", tc.args, err)
		}
		for _, w := range tc.table {
			if !strings.Contains(table, w) || !strings.Contains(wide, w) {
				t.Errorf("%q: %q is not in both table and wide:\n%s\n%s", tc.args, w, table, wide)
			}
		}
		for _, w := range tc.wide {
			if strings.Contains(table, w) || !strings.Contains(wide, w) {
				t.Errorf("%q: %q is not in wide only:\n%s\n%s", tc.args, w, table, wide)
			}
		}
		if head := strings.SplitN(wide, "\n", 2)[0]; tc.args[0] == "list" && !strings.HasSuffix(strings.Join(strings.Fields(head), " "), "DUE REGULATION UPDATED WAITING UNTIL REASON") {
			t.Errorf("list -o wide: the extra columns do not follow table's: %q", head)
		}
	}
}

// TestGetEstimate: get prints the estimate: the calls expected by bucket,
// the expected completion and, for a request at risk, why.
func TestGetEstimate(t *testing.T) {
	risky := fullRequest()
	risky.Estimate = &dsarv1.Estimate{
		Calls:          []*dsarv1.BucketCalls{{Bucket: "Medium", Calls: 90000}, {Bucket: "Light", Calls: 4}},
		CompletionTime: timestamppb.New(at.AddDate(0, 0, 50)),
		AtRisk:         true, AtRiskReason: "expected to complete at 2027-01-25T10:00:00Z, after its due date 2027-01-20T10:00:00Z: 90000 Medium calls to make",
	}
	risky.DeferredReason = "its 90000 Medium calls would make request r00, promised for 2027-01-19T10:00:00Z, complete at 2027-01-26T10:00:00Z"
	fine := &dsarv1.AccessRequest{Id: "r02", State: dsarv1.RequestState_REQUEST_STATE_RUNNING,
		Estimate: &dsarv1.Estimate{Calls: []*dsarv1.BucketCalls{{Bucket: "Medium", Calls: 12}}, CompletionTime: timestamppb.New(at.Add(time.Hour))}}
	f := startFake(t, risky, fine)
	out, _, err := f.ctl(t, nil, "get", "-utc", "r01")
	if err != nil {
		t.Fatal(err)
	}
	out = squeeze(out)
	for _, w := range []string{
		"expected calls Medium 90000, Light 4\n",
		"expected done 2027-01-25T10:00:00Z\n",
		"at risk " + risky.Estimate.AtRiskReason + "\n",
		"deferred " + risky.DeferredReason + "\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("get of a request at risk lacks %q:\n%s", w, out)
		}
	}
	out, _, err = f.ctl(t, nil, "get", "-utc", "r02")
	out = squeeze(out)
	if err != nil || !strings.Contains(out, "expected calls Medium 12\n") || !strings.Contains(out, "expected done 2026-12-06T11:00:00Z\n") || strings.Contains(out, "at risk") || strings.Contains(out, "deferred") {
		t.Errorf("get of a request on time: %v\n%s", err, out)
	}
}

// TestTimeZones: times are printed in the zone TZ names, with its offset,
// or in UTC with -utc (or DSAR_UTC).
func TestTimeZones(t *testing.T) {
	f := startFake(t, fullRequest())
	for _, tc := range []struct {
		tz   string
		args []string
		want string
	}{
		{"UTC", nil, "created 2026-12-06T10:00:00Z\n"},
		{"Asia/Kolkata", nil, "created 2026-12-06T15:30:00+05:30\n"},
		{"America/New_York", nil, "created 2026-12-06T05:00:00-05:00\n"},
		{"Asia/Kolkata", []string{"-utc"}, "created 2026-12-06T10:00:00Z\n"},
	} {
		cmd := exec.Command(os.Args[0], append([]string{"-server", f.addr, "get", "r01"}, tc.args...)...)
		cmd.Env = []string{"DSARCTL_TEST_MAIN=1", "TZ=" + tc.tz}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("TZ=%s dsarctl get %q: %v\n%s", tc.tz, tc.args, err, errOut.String())
		}
		if !strings.Contains(squeeze(out.String()), tc.want) {
			t.Errorf("TZ=%s dsarctl get %q lacks %q:\n%s", tc.tz, tc.args, tc.want, out.String())
		}
	}
	// In-process, the environment's DSAR_UTC is -utc.
	out, _, err := f.ctl(t, map[string]string{"DSAR_UTC": "true"}, "get", "r01")
	if err != nil || !strings.Contains(out, "2026-12-06T10:00:00Z") {
		t.Errorf("DSAR_UTC=true: %v\n%s", err, out)
	}
}
