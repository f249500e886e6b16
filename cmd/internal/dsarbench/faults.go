package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// maxFaultyResumes bounds the operator's resumes while Zoom is still
// failing.
const maxFaultyResumes = 5

// faultKinds are injected in equal parts: server errors, connection resets
// and 200 answers whose bodies are cut short or garbled.
var faultKinds = []zoomtest.Fault{zoomtest.Fault500, zoomtest.Fault503, zoomtest.FaultReset, zoomtest.FaultTruncate, zoomtest.FaultGarble}

// runFaults runs a reference request at Business limits with 5 % and 50 %
// of the answers broken.
func runFaults(ctx context.Context, e *env) ([]row, error) {
	var rows []row
	for _, rate := range []float64{0.05, 0.5} {
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
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	id, r, err := c.requestJane(wctx, "faults", nil)
	if err != nil {
		return nil, err
	}
	// A request that fails keeps its checkpoints: resume it as an operator
	// would, a few times while Zoom is still broken, then once after it
	// has recovered.
	resume := func() error {
		if _, err := c.api.ResumeAccessRequest(wctx, &dsarv1.ResumeAccessRequestRequest{Id: id}); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		r, err = c.wait(wctx, id, nil)
		return err
	}
	resumes, recovered := 0, false
	for ; resumes < maxFaultyResumes && r.GetState() == dsarv1.RequestState_REQUEST_STATE_FAILED; resumes++ {
		if err := resume(); err != nil {
			return nil, err
		}
	}
	if r.GetState() == dsarv1.RequestState_REQUEST_STATE_FAILED {
		if err := z.clearFaults(wctx); err != nil {
			return nil, err
		}
		recovered = true
		if err := resume(); err != nil {
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
	outcome := fmt.Sprintf("%s in %s", strings.TrimPrefix(r.GetState().String(), "REQUEST_STATE_"), secs(wall))
	if resumes > 0 {
		outcome += fmt.Sprintf(" after %d operator resume(s) under faults", resumes)
	}
	if recovered {
		outcome += " and one after Zoom recovered"
	}
	rows := []row{
		{scenario: s, figure: "outcome", value: outcome, goal: "COMPLETED, or FAILED with checkpoints and completed by a resume", verdict: judge(r.GetState() == dsarv1.RequestState_REQUEST_STATE_COMPLETED)},
		{scenario: s, figure: "faults injected / calls", value: fmt.Sprintf("%d / %d", injected, calls)},
		{scenario: s, figure: "retries / calls, worst 2-minute window", value: fmt.Sprintf("%s (%d retries in all)", pct(worst), retries)},
		{scenario: s, figure: "pages refetched", value: fmt.Sprint(total), goal: "0", verdict: judge(total == 0)},
	}
	if rate <= 0.05 {
		rows[2].goal, rows[2].verdict = "≤ 10 %", judge(worst <= 0.10)
	}
	return rows, nil
}
