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
	// As a watcher of the request sees it: the estimate after each change,
	// with the calls made by then.
	type seen struct{ made, est int64 }
	var series []seen
	changed, stop := p.proc.Watch(r.ID)
	defer stop()
	for {
		cur, secs, err := p.proc.Request(wctx, r.ID)
		if err != nil {
			return nil, err
		}
		if cur.State.Final() || cur.State.Waiting() {
			break
		}
		e, err := p.proc.Estimate(wctx, cur, secs)
		if err != nil {
			return nil, err
		}
		var made int64
		for _, s := range secs {
			made += s.Calls
		}
		series = append(series, seen{made, sumCalls(e.Calls)})
		select {
		case <-changed:
		case <-wctx.Done():
			return nil, wctx.Err()
		}
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
	// From how far on the estimate stays within ±20 %.
	from := int64(-1)
	for i := len(series) - 1; i >= 0; i-- {
		if math.Abs(float64(series[i].est-got)) > 0.2*float64(got) {
			break
		}
		from = series[i].made
	}
	within := "never"
	if from >= 0 {
		within = fmt.Sprintf("after %d of %d calls (%s)", from, got, pct(float64(from)/float64(max(got, 1))))
	}
	s := "estimate"
	return []row{
		{scenario: s, figure: "calls estimated at creation / made, the reference subject (" + e.dataset() + " dataset), no history",
			value: fmt.Sprintf("%d / %d (%s off)", want, got, pct(off)), goal: "within ±20 %", verdict: judge(off <= 0.2),
			note: "by bucket, estimated/made: " + strings.Join(by, ", ")},
		{scenario: s, figure: "in Get/Watch as the request runs: within ±20 % from", value: within,
			note: "the lists that name items (chat conversations, meetings, SMS sessions) give the item parts' calls once stored"},
	}, nil
}

func sumCalls(m map[string]int64) (n int64) {
	for _, c := range m {
		n += c
	}
	return n
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
