package main

import (
	"context"
	"fmt"
	"time"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// runQuota runs a request on a free account whose daily Medium cap is
// shrunk so that it runs out shortly before 00:00 UTC on the emulator's
// clock; the clock, started just before midnight, carries the request
// across it. dsard must park, make no call until the reset, then resume
// from its checkpoints.
func runQuota(ctx context.Context, e *env) ([]row, error) {
	// A free request for jane makes 27 Medium calls (reference) or 24
	// (tiny) at 1.6/s, after the one of dsard's account check: the cap
	// runs out some seconds before midnight, and the next day's cap is
	// enough for the rest.
	startAt, capN := 25*time.Second, 16
	if e.short {
		startAt, capN = 14*time.Second, 13
	}
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	z, err := startZoomfake(ctx, e, "free",
		"-start-time", midnight.Add(-startAt).Format(time.RFC3339), "-daily", fmt.Sprintf("Medium=%d", capN))
	if err != nil {
		return nil, err
	}
	defer z.stop(5 * time.Second)
	srv, err := serve(ctx, e, z, "quota", primaryAccount(z))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	parked := false
	_, r, err := srv.c.requestJane(wctx, "quota", func(r *dsarv1.AccessRequest) {
		parked = parked || r.GetState() == dsarv1.RequestState_REQUEST_STATE_WAITING_QUOTA
	})
	if err != nil {
		return nil, err
	}
	log, _, err := z.log(ctx, srv.from)
	if err != nil {
		return nil, err
	}
	// The first Daily-limit 429 starts the parked period; the reset is the
	// next 00:00 UTC of the emulator's clock.
	var first *zoomtest.LogEntry
	for i := range log {
		if log[i].Status == 429 && log[i].RateLimit == "Daily-limit" {
			first = &log[i]
			break
		}
	}
	if first == nil {
		return nil, fmt.Errorf("the daily cap of %d Medium calls was never reached (request %s)", capN, r.GetState())
	}
	reset := first.Time.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	parkedCalls, extra429 := 0, 0
	var lastParked time.Time
	var resumed time.Time
	for _, le := range log {
		if le.Category != first.Category || le.Phone != first.Phone || le.Account != first.Account {
			continue
		}
		switch {
		case le.Time.After(first.Time) && le.Time.Before(reset):
			parkedCalls++
			lastParked = le.Time
			if le.Status == 429 {
				extra429++
			}
		case !le.Time.Before(reset) && resumed.IsZero():
			resumed = le.Time
		}
	}
	total, _ := refetches(log, nil)
	s := "quota"
	outcome := r.GetState().String()
	if parked {
		outcome += ", parked WAITING_QUOTA"
	}
	rows := []row{
		{scenario: s, figure: "outcome", value: outcome, goal: "COMPLETED after parking", verdict: judge(parked && r.GetState() == dsarv1.RequestState_REQUEST_STATE_COMPLETED)},
		{scenario: s, figure: "parked period (emulator clock)", value: fmt.Sprintf("%s from the first Daily-limit 429 to 00:00 UTC", secs(reset.Sub(first.Time)))},
		{scenario: s, figure: "calls during the parked period", value: fmt.Sprint(parkedCalls), goal: "0", verdict: judge(parkedCalls == 0),
			note: noteIf(parkedCalls > 0, fmt.Sprintf("%d answered 429 Daily-limit; the last was sent %s after the first 429", extra429, secs(lastParked.Sub(first.Time))))},
		{scenario: s, figure: "pages refetched", value: fmt.Sprint(total), goal: "0", verdict: judge(total == 0)},
	}
	if resumed.IsZero() {
		rows = append(rows, row{scenario: s, figure: "reset to first new call", value: "no call after the reset", goal: "≤ 5 s", verdict: verdictMissed})
	} else {
		delay := resumed.Sub(reset)
		rows = append(rows, row{scenario: s, figure: "reset to first new call", value: secs(delay), goal: "≤ 5 s", verdict: judge(delay <= 5*time.Second)})
	}
	return rows, nil
}

func noteIf(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}
