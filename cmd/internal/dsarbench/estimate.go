package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// runEstimate compares the calls a request for the reference subject is
// estimated at creation to make, on an account with no history, with the
// calls it made, in all and by bucket.
func runEstimate(ctx context.Context, e *env) ([]row, error) {
	p, err := startInproc(ctx, e, "estimate", inprocConfig{zoom: []zoomtest.Option{zoomtest.WithPlan(zoomtest.Business)}})
	if err != nil {
		return nil, err
	}
	defer p.close()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	r, err := p.proc.Create(wctx, dsar.CreateInput{Email: zoomtest.JaneEmail, Account: "main", IdempotencyKey: "estimate"})
	if err != nil {
		return nil, err
	}
	_, secs, err := p.proc.Request(wctx, r.ID)
	if err != nil {
		return nil, err
	}
	est, err := p.proc.Estimate(wctx, r, secs)
	if err != nil {
		return nil, err
	}
	if err := p.settled(wctx); err != nil {
		return nil, err
	}
	done, secs, err := p.proc.Request(wctx, r.ID)
	if err != nil {
		return nil, err
	}
	if done.State != dsar.StateCompleted {
		return nil, fmt.Errorf("the request ended %s: %s", done.State, done.Reason)
	}
	made, err := p.proc.Estimate(wctx, done, secs) // a final request's estimate is its calls
	if err != nil {
		return nil, err
	}
	var want, got int64
	var by []string
	for _, b := range slices.Sorted(mapsKeys(made.Calls, est.Calls)) {
		want += est.Calls[b]
		got += made.Calls[b]
		by = append(by, fmt.Sprintf("%s %d/%d", b, est.Calls[b], made.Calls[b]))
	}
	off := math.Abs(float64(want-got)) / float64(max(got, 1))
	s := "estimate"
	return []row{
		{scenario: s, figure: "calls estimated at creation / made, the reference subject (" + e.dataset() + " dataset), no history",
			value: fmt.Sprintf("%d / %d (%s off)", want, got, pct(off)), goal: "within ±20 %", verdict: judge(off <= 0.2),
			note: "by bucket, estimated/made: " + strings.Join(by, ", ")},
	}, nil
}

// mapsKeys returns the keys of both maps, once each.
func mapsKeys(a, b map[string]int64) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, m := range []map[string]int64{a, b} {
			for k := range m {
				if !seen[k] {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}
