package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mustHold are the goals that do not depend on timing: a run of -short
// must meet every one of them.
var mustHold = map[string]bool{
	"0": true, "0 / 0": true, "0 failed": true, "all": true, "all COMPLETED": true,
	"COMPLETED": true, "COMPLETED after parking": true, "SHA-256 matches": true,
}

// TestShort runs every scenario in -short form against the real binaries,
// so that the harness cannot rot: each scenario must produce its figures,
// and the figures that must be zero must be zero.
//
// It is the only test here that builds dsard and zoomfake and runs them
// as processes, which every go test pays, so that no run of the tests
// leaves the harness unchecked. The scenarios mostly wait on their
// processes in real time, so they run in parallel, each with an env of its
// own (its scratch directory and progress lines; the binaries shared).
func TestShort(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bin")
	if err := build(t.Context(), bin); err != nil {
		t.Fatal(err)
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := &env{bin: bin, dir: t.TempDir(), short: true, kills: 3, seed: 1, logw: &bytes.Buffer{}}
			rows, err := s.run(t.Context(), e)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if len(rows) == 0 {
				t.Fatalf("%s: no figures", s.name)
			}
			for _, r := range rows {
				if !strings.HasPrefix(r.scenario, s.name) {
					t.Errorf("row %q of scenario %s", r.scenario, s.name)
				}
				if r.value == "" {
					t.Errorf("%s %s: no value", r.scenario, r.figure)
				}
				if mustHold[r.goal] && r.verdict != verdictMet {
					t.Errorf("%s %s = %s, want %s (%s)", r.scenario, r.figure, r.value, r.goal, r.note)
				}
			}
		})
	}
}

// TestKillMoments checks that -seed repeats the crash scenario's kill
// moments, and that they stay within what the scenario asked for.
func TestKillMoments(t *testing.T) {
	const n, maxDelay = 20, 3 * time.Second
	draw := func(seed int64) []time.Duration {
		k := newKillMoments(seed, maxDelay)
		var d []time.Duration
		for range n {
			d = append(d, k.next())
		}
		return d
	}
	a, b, c := draw(1), draw(1), draw(2)
	if !slices.Equal(a, b) {
		t.Errorf("seed 1 twice gives different moments:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 give the same moments %v: the seed is ignored", a)
	}
	for _, d := range append(a, c...) {
		if d < 20*time.Millisecond || d >= maxDelay+20*time.Millisecond {
			t.Errorf("moment %s outside [20ms, %s)", d, maxDelay+20*time.Millisecond)
		}
	}
}

func TestRetryShare(t *testing.T) {
	tests := []struct {
		name        string
		statuses    []int // one call each, same page, one second apart
		wantRetries int
	}{
		{"all good", []int{200}, 0},
		{"one retry", []int{503, 200}, 1},
		{"two retries", []int{503, 500, 200}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := callLog(tt.statuses)
			_, retries, calls := retryShare(log, 120e9)
			if retries != tt.wantRetries || calls != len(tt.statuses) {
				t.Errorf("retries, calls = %d, %d; want %d, %d", retries, calls, tt.wantRetries, len(tt.statuses))
			}
		})
	}
}

func TestRefetches(t *testing.T) {
	log := callLog([]int{200, 200, 200})
	log[1].Query = "next_page_token=a"
	log[2].Query = "" // the first page again
	tests := []struct {
		name                 string
		kills                []int
		wantTotal, wantExcus int
	}{
		{"no kill", nil, 1, 0},
		{"kill after the last page of the cursor", []int{2}, 1, 0},
		{"kill after the first page", []int{1}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			total, excused := refetches(log, tt.kills)
			if total != tt.wantTotal || excused != tt.wantExcus {
				t.Errorf("refetches = %d, %d excused; want %d, %d", total, excused, tt.wantTotal, tt.wantExcus)
			}
		})
	}
}

func callLog(statuses []int) []zoomtest.LogEntry {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var log []zoomtest.LogEntry
	for i, s := range statuses {
		log = append(log, zoomtest.LogEntry{Time: t0.Add(time.Duration(i) * time.Second), Method: "GET", Path: "/v2/users/u/meetings", Status: s, Category: zoomtest.Medium})
	}
	return log
}

// TestRewriteDocSubset: a run of some scenarios writes its own section
// and leaves the full set's rows alone; running them again replaces only
// their section.
func TestRewriteDocSubset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	full := results{command: "full", rows: []row{{scenario: "budget", figure: "f", value: "1"}}}
	if err := rewriteDoc(path, full, nil); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2", "3"} {
		part := results{command: "part", rows: []row{{scenario: "backlog", figure: "g", value: v}}}
		if err := rewriteDoc(path, part, []string{"backlog"}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.Contains(doc, "| budget | f | 1 |") || !strings.Contains(doc, "| backlog | g | 3 |") ||
		strings.Contains(doc, "| backlog | g | 2 |") || strings.Count(doc, "## Results of backlog") != 1 {
		t.Fatalf("document after a full run and two runs of backlog:\n%s", doc)
	}
}
