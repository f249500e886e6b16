package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// faultKinds are injected in equal parts: server errors, connection resets
// and 200 answers whose bodies are cut short or garbled.
var faultKinds = []zoomtest.Fault{zoomtest.Fault500, zoomtest.Fault503, zoomtest.FaultReset, zoomtest.FaultTruncate, zoomtest.FaultGarble}

// runFaults runs a reference request at Business limits with 5 %, 20 % and 50 %
// of the answers broken for a spell, then none: it must complete by
// itself, soon after Zoom recovers.
func runFaults(ctx context.Context, e *env) ([]row, error) {
	var rows []row
	for _, rate := range []float64{0.05, 0.2, 0.5} {
		r, err := faultsOnce(ctx, e, rate)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", pct(rate), err)
		}
	}
	return rows, nil
}

func faultsOnce(ctx context.Context, e *env, rate float64) ([]row, error) {
	var spec []string
	for _, k := range faultKinds {
		spec = append(spec, fmt.Sprintf("%s=%g", k, rate/float64(len(faultKinds))))
	}
	z, err := startZoomfake(ctx, e, "business", "-faults", strings.Join(spec, ","))
	if err != nil {
		return nil, err
	}
	defer z.stop(5 * time.Second)
	srv, err := serve(ctx, e, z, "faults", primaryAccount(z))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	c := srv.c
	// The spell, the breaker's longest pause (15 min) and the minute the
	// goal allows after it.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	start := time.Now()
	id, err := c.createJane(wctx, "faults")
	if err != nil {
		return nil, err
	}
	// Zoom is broken for a spell, then recovers; no operator acts. The
	// spell ends sooner if the request completes under the faults.
	spell := 3 * time.Minute
	if e.short {
		spell = 15 * time.Second
	}
	sctx, scancel := context.WithTimeout(wctx, spell)
	r, err := c.wait(sctx, id, nil)
	scancel()
	if err != nil && wctx.Err() != nil {
		return nil, err
	}
	var recovered time.Time
	var lastInterval time.Duration // the longest wait of a bucket's breaker when Zoom recovered
	if !final(r.GetState()) {
		accts, err := c.api.ListAccounts(wctx, &dsarv1.ListAccountsRequest{})
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		recovered = time.Now()
		for _, a := range accts.GetAccounts() {
			for _, b := range a.GetBuckets() {
				if t := b.GetNextProbeTime(); t != nil {
					lastInterval = max(lastInterval, t.AsTime().Sub(recovered))
				}
			}
		}
		if err := z.clearFaults(wctx); err != nil {
			return nil, err
		}
		if r, err = c.wait(wctx, id, nil); err != nil {
			return nil, err
		}
	}
	wall := time.Since(start)
	log, _, err := z.log(ctx, srv.from)
	if err != nil {
		return nil, err
	}
	worst, retries, calls := retryShare(log, 2*time.Minute)
	injected := 0
	for _, le := range log {
		if le.Fault != "" {
			injected++
		}
	}
	total, _ := refetches(log, nil)
	s := "faults/" + strings.ReplaceAll(pct(rate), " ", "")
	outcome := fmt.Sprintf("%s in %s with no operator action", strings.TrimPrefix(r.GetState().String(), "REQUEST_STATE_"), secs(wall))
	rows := []row{
		{scenario: s, figure: "outcome", value: outcome, goal: "COMPLETED by itself", verdict: judge(r.GetState() == dsarv1.RequestState_REQUEST_STATE_COMPLETED)},
		{scenario: s, figure: "faults injected / calls", value: fmt.Sprintf("%d / %d", injected, calls)},
		{scenario: s, figure: "retries / calls, worst 2-minute window", value: fmt.Sprintf("%s (%d retries in all)", pct(worst), retries)},
		{scenario: s, figure: "pages refetched", value: fmt.Sprint(total), goal: "0", verdict: judge(total == 0)},
	}
	if !recovered.IsZero() {
		d, goal := time.Since(recovered), time.Minute+lastInterval
		rows = append(rows, row{scenario: s, figure: fmt.Sprintf("Zoom recovered after %s of faults: to completion", secs(spell)), value: secs(d),
			goal: fmt.Sprintf("≤ 60 s + the breaker's last interval (%s)", secs(lastInterval)), verdict: judge(d <= goal)})
	}
	if rate <= 0.05 {
		rows[2].goal, rows[2].verdict = "≤ 10 %", judge(worst <= 0.10)
	}
	return rows, nil
}
