package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// backlogDay0 is the emulator's first day in the backlog scenario.
var backlogDay0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// backlogDeadlines are short periods, so that days of the emulator's
// clock, not months, show who meets a due date: GDPR 3 days, CCPA 6.
var backlogDeadlines = dsar.Deadlines{
	dsar.GDPR: {Days: 3, Extension: 3},
	dsar.CCPA: {Days: 6, Extension: 6},
}

// backlogBucket is the bucket whose daily cap binds.
const backlogBucket = "Medium"

// arrival is one request of the backlog: the day it comes, its subject
// and regulation, and what became of it.
type arrival struct {
	day        int
	email      string
	regulation dsar.Regulation

	id        string
	created   time.Time
	due       time.Time
	rank      time.Time // its place in the due order (dsar.Request.Rank)
	flagged   bool      // deferred at creation: its account could not promise it
	later     bool      // at risk in its estimate on a later day, before its due date
	completed time.Time // zero if it never completed
	calls     int64     // calls of the capped bucket it needed
}

// runBacklog runs requests of mixed sizes (the dataset's users) and due
// dates (GDPR, CCPA), arriving day by day on a free account whose daily
// Medium cap binds, in process on the emulator's clock, which the
// scenario moves across days: at noon the day's requests come, the day's
// cap is spent, then the clock moves to the next 00:00 UTC, when the cap
// resets and parked requests go on. It compares the share completed by
// their due dates with the earliest-due-first schedule computed offline
// from the calls each request needed, and checks that each request that
// missed was flagged at creation.
func runBacklog(ctx context.Context, e *env) ([]row, error) {
	// The mixed dataset's subjects need 51 Medium calls a request on
	// average: 510 a day come, against a cap of 300.
	days, perDay, capN := 10, 10, 300
	if e.short {
		days, perDay, capN = 2, 3, 60
	}
	rate := zoomtest.Rate{N: 40, Per: time.Second}
	var mu sync.Mutex
	flagged := map[string]bool{}
	p, err := startInproc(ctx, e, "backlog", inprocConfig{
		// Subjects of sizes from 24 to 150 Medium calls (the reference
		// subject's 1,076 would take hours of calls a request).
		zoom: []zoomtest.Option{zoomtest.WithDataset("mixed"), zoomtest.WithPlan(zoomtest.Free), zoomtest.WithStartTime(backlogDay0.Add(time.Second)),
			zoomtest.WithLimits(zoomtest.Limits{
				Rate:  map[string]zoomtest.Rate{"Light": rate, "Medium": rate, "Heavy": rate},
				Daily: map[string]int{backlogBucket: capN},
			})},
		client: func(c *zoomclient.Config) {
			c.Limits = map[zoomclient.Bucket]float64{{Category: zoomclient.Light}: 40, {Category: zoomclient.Medium}: 40, {Category: zoomclient.Heavy}: 40}
			c.RetryBase, c.RetryCap = 10*time.Millisecond, 100*time.Millisecond
		},
		proc: func(c *dsar.Config) {
			c.Deadlines = backlogDeadlines
			c.AtRisk = func(r *dsar.Request, _ dsar.Estimate) {
				mu.Lock()
				flagged[r.ID] = true
				mu.Unlock()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	defer p.close()
	var users []string
	for _, u := range p.emu.Dataset().Accounts[0].Users {
		if u.Email != "" {
			users = append(users, u.Email)
		}
	}
	rnd := rand.New(rand.NewPCG(uint64(e.seed), 2))
	var arr []*arrival
	for d := range days {
		for range perDay {
			reg := dsar.GDPR
			if rnd.IntN(2) == 0 {
				reg = dsar.CCPA
			}
			arr = append(arr, &arrival{day: d, email: users[rnd.IntN(len(users))], regulation: reg})
		}
	}

	clock := p.emu.Clock()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	last := 0 // the last day with work
	for day := 0; ; day++ {
		midnight := backlogDay0.AddDate(0, 0, day)
		if err := p.settled(wctx); err != nil {
			return nil, err
		}
		clock.Set(midnight.Add(12 * time.Hour))
		for i, a := range arr {
			if a.day != day {
				continue
			}
			// Distinct due dates, across days too (a GDPR request's
			// 3 days after a CCPA request's 6): calls are counted by
			// due date, and no two requests tie.
			clock.Set(midnight.Add(12*time.Hour + time.Duration(i+1)*time.Second))
			r, err := p.proc.Create(wctx, dsar.CreateInput{Email: a.email, Account: "main",
				IdempotencyKey: fmt.Sprintf("backlog-%d", i), Regulation: a.regulation})
			if err != nil {
				return nil, err
			}
			a.id, a.created, a.due, a.rank = r.ID, r.CreatedAt, r.DueAt, r.Rank()
		}
		if err := p.settled(wctx); err != nil {
			return nil, err
		}
		// Get shows each open request's estimate: requests due sooner
		// that came since may have put it at risk.
		if err := p.atRisk(wctx, arr); err != nil {
			return nil, err
		}
		open, _, err := p.db.ListRequests(wctx, dsar.RequestFilter{States: []dsar.State{dsar.StateWaitingQuota, dsar.StateWaitingZoom}, Limit: 1})
		if err != nil {
			return nil, err
		}
		if day >= days-1 && len(open) == 0 {
			last = day
			break
		}
		if day > days+60 {
			return nil, fmt.Errorf("requests still open on day %d", day)
		}
		clock.Set(midnight.AddDate(0, 0, 1).Add(time.Second))
	}
	e.logf("backlog: the last request ended on day %d", last)

	failed := 0
	for _, a := range arr {
		r, _, err := p.proc.Request(wctx, a.id)
		if err != nil {
			return nil, err
		}
		if r.State == dsar.StateCompleted {
			a.completed = r.UpdatedAt
		} else {
			failed++
		}
		a.flagged = flagged[a.id]
		a.calls = p.zoom.fetched(a.rank)[backlogBucket]
	}
	met, unflagged, never, flaggedMet := 0, 0, 0, 0
	var why []string // of each miss not flagged
	for i, a := range arr {
		onTime := !a.completed.IsZero() && !a.completed.After(a.due)
		switch {
		case onTime && a.flagged:
			flaggedMet++
			met++
		case onTime:
			met++
		case !a.flagged:
			unflagged++
			if !a.later {
				never++
			}
			why = append(why, missNote(arr, i))
		}
	}
	best := edfOptimum(arr, int64(capN))
	var need int64
	sizes := map[int64]bool{}
	least, most := int64(math.MaxInt64), int64(0)
	for _, a := range arr {
		need += a.calls
		sizes[a.calls] = true
		least, most = min(least, a.calls), max(most, a.calls)
	}
	nflagged := len(flagged)
	s := "backlog"
	n := len(arr)
	return []row{
		{scenario: s, figure: "requests, days of arrivals, daily " + backlogBucket + " cap", value: fmt.Sprintf("%d over %d days, %d calls a day (free plan)", n, days, capN)},
		{scenario: s, figure: backlogBucket + " calls needed", value: fmt.Sprintf("%d in all; a request %d to %d (%d sizes); the last request ended on day %d", need, least, most, len(sizes), last)},
		{scenario: s, figure: "requests failed", value: fmt.Sprintf("%d failed", failed), goal: "0 failed", verdict: judge(failed == 0)},
		{scenario: s, figure: "completed by their due dates", value: fmt.Sprintf("%d of %d (%s)", met, n, pct(float64(met)/float64(n))),
			goal: fmt.Sprintf("= earliest-due-first optimum, %d of %d", best, n), verdict: judge(met >= best)},
		{scenario: s, figure: "flagged at creation (deferred: not promised)", value: fmt.Sprintf("%d, of which %d met their due dates all the same", nflagged, flaggedMet)},
		{scenario: s, figure: "missed their due dates without being flagged at creation", value: fmt.Sprint(unflagged), goal: "0", verdict: judge(unflagged == 0),
			note: strings.Join(why, "; ")},
		{scenario: s, figure: "missed their due dates without ever being at risk in their estimate before it", value: fmt.Sprint(never), goal: "0", verdict: judge(never == 0)},
	}, nil
}

// missNote says of arrival i, which missed its due date, what its account
// knew of its subject when it came: no request of the subject completed
// before, or the most calls one of those made (what admission plans it
// at).
func missNote(arr []*arrival, i int) string {
	a := arr[i]
	known := "subject not seen"
	most := int64(-1)
	for _, b := range arr[:i] {
		if b.email == a.email && !b.completed.IsZero() && b.completed.Before(a.created) && b.calls > most {
			most, known = b.calls, fmt.Sprintf("its subject's requests before made at most %d", b.calls)
		}
	}
	return fmt.Sprintf("request %d (day %d, %s): %d %s calls, %s; completed %s after its due date", i, a.day, a.regulation,
		a.calls, backlogBucket, known, a.completed.Sub(a.due).Round(time.Minute))
}

// atRisk marks the open requests whose estimate is at risk now.
func (p *inproc) atRisk(ctx context.Context, arr []*arrival) error {
	now := p.emu.Clock().Now()
	for _, a := range arr {
		if a.id == "" || a.later || !now.Before(a.due) {
			continue
		}
		r, secs, err := p.proc.Request(ctx, a.id)
		if err != nil {
			return err
		}
		if r.State.Final() {
			continue
		}
		est, err := p.proc.Estimate(ctx, r, secs)
		if err != nil {
			return err
		}
		a.later = est.AtRisk
	}
	return nil
}

// edfOptimum returns how many requests an earliest-due-first schedule of
// the capped bucket meets, offline, for the same arrivals: just after
// 00:00 UTC the day's cap goes to the requests not done, earliest due
// first, until they are done or it is spent; at noon the day's arrivals
// come and what is left of it goes the same way. Calls are fast next to
// a day: a request completes within minutes of the phase that ends it.
func edfOptimum(arr []*arrival, capN int64) int {
	type job struct {
		day  int
		due  time.Time
		left int64
		done bool
	}
	var jobs []*job
	for _, a := range arr {
		jobs = append(jobs, &job{day: a.day, due: a.due, left: a.calls})
	}
	slices.SortFunc(jobs, func(a, b *job) int { return a.due.Compare(b.due) })
	met, open := 0, len(jobs)
	for day := 0; open > 0; day++ {
		left := capN
		for _, noon := range []bool{false, true} {
			at := backlogDay0.AddDate(0, 0, day).Add(time.Minute)
			if noon {
				at = at.Add(12 * time.Hour)
			}
			for _, j := range jobs {
				if j.done || j.day > day || (j.day == day && !noon) {
					continue
				}
				take := min(j.left, left)
				j.left -= take
				left -= take
				if j.left > 0 {
					continue
				}
				j.done = true
				open--
				if !at.After(j.due) {
					met++
				}
			}
		}
	}
	return met
}
