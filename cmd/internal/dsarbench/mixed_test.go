package main

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestMixedSizes runs one access request for each user of the "mixed"
// dataset's primary account on a free plan, with the real client and
// processor, and checks that the filler users' requests differ widely in
// Medium calls, the bucket whose daily cap binds in the backlog scenario:
// the largest at least four times the smallest, at least eight sizes.
// -v prints every subject's calls by bucket (docs/BENCHMARKS.md).
//
// It takes about 45 s (3 min with -race), whatever the requests' sizes:
// the client hands a daily-capped bucket from the request due first to
// the next only after it has been idle for 2 s (zoomclient's holdLead).
func TestMixedSizes(t *testing.T) {
	e := &env{dir: t.TempDir(), seed: 1, logw: &bytes.Buffer{}}
	fast := zoomtest.Rate{N: 1000, Per: time.Second}
	p, err := startInproc(t.Context(), e, "mixed", inprocConfig{
		zoom: []zoomtest.Option{zoomtest.WithDataset("mixed"), zoomtest.WithPlan(zoomtest.Free), zoomtest.WithStartTime(backlogDay0.Add(time.Second)),
			zoomtest.WithLimits(zoomtest.Limits{Rate: map[string]zoomtest.Rate{"Light": fast, "Medium": fast, "Heavy": fast}})},
		client: func(c *zoomclient.Config) {
			c.Limits = map[zoomclient.Bucket]float64{{Category: zoomclient.Light}: 1000, {Category: zoomclient.Medium}: 1000, {Category: zoomclient.Heavy}: 1000}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	// One request per user, each with a due date of its own, by which
	// countingZoom tells their calls apart.
	users := p.emu.Dataset().Accounts[0].Users
	reqs := make([]*dsar.Request, len(users))
	for i, u := range users {
		p.emu.Clock().Advance(time.Second)
		reqs[i], err = p.proc.Create(t.Context(), dsar.CreateInput{Email: u.Email, Account: "main",
			IdempotencyKey: fmt.Sprint("mixed-", i), Regulation: dsar.GDPR})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.settled(t.Context()); err != nil {
		t.Fatal(err)
	}

	var table strings.Builder
	fmt.Fprintf(&table, "| subject | status | buckets: calls |\n|---|---|---|\n")
	var fillers []int64
	for i, u := range users {
		r, _, err := p.proc.Request(t.Context(), reqs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != dsar.StateCompleted {
			t.Errorf("subject %d: %s, want COMPLETED", i, r.State)
		}
		calls := p.zoom.fetched(r.DueAt)
		var cells []string
		for _, b := range slices.Sorted(maps.Keys(calls)) {
			cells = append(cells, fmt.Sprintf("%s %d", b, calls[b]))
		}
		// Subjects by position, not address: no email in test output.
		fmt.Fprintf(&table, "| %d | %s | %s |\n", i, u.Status, strings.Join(cells, ", "))
		if strings.HasPrefix(u.Email, "user") {
			fillers = append(fillers, calls[backlogBucket])
		}
	}
	t.Logf("calls by subject on a free plan:\n%s", table.String())

	if len(fillers) < 12 {
		t.Fatalf("%d filler users, want 12 or more", len(fillers))
	}
	least, most := slices.Min(fillers), slices.Max(fillers)
	if most < 4*least {
		t.Errorf("filler users' %s calls from %d to %d: the largest is not 4 times the smallest", backlogBucket, least, most)
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(fillers)))); n < 8 {
		t.Errorf("filler users' %s calls %v: %d sizes, want 8 or more", backlogBucket, fillers, n)
	}
	if least < 20 || most > 200 {
		t.Errorf("filler users' %s calls from %d to %d, want within about 25 to 150", backlogBucket, least, most)
	}
}
