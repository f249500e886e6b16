package zoomclient

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// publishedLimits are Zoom's per-second limits by plan (zoom-api.md §4),
// in requests per second; Resource-intensive is published per minute.
// Zoom publishes Phone limits for Pro and Business+ only; a free account
// has no Phone and gets the Pro figures.
var publishedLimits = map[string]map[Bucket]float64{
	"free": {
		{Light, false}: 4, {Medium, false}: 2, {Heavy, false}: 1, {ResourceIntensive, false}: 10.0 / 60,
		{Light, true}: 20, {Medium, true}: 10, {Heavy, true}: 5, {ResourceIntensive, true}: 5.0 / 60,
	},
	"pro": {
		{Light, false}: 30, {Medium, false}: 20, {Heavy, false}: 10, {ResourceIntensive, false}: 10.0 / 60,
		{Light, true}: 20, {Medium, true}: 10, {Heavy, true}: 5, {ResourceIntensive, true}: 5.0 / 60,
	},
	"business": {
		{Light, false}: 80, {Medium, false}: 60, {Heavy, false}: 40, {ResourceIntensive, false}: 20.0 / 60,
		{Light, true}: 40, {Medium, true}: 20, {Heavy, true}: 10, {ResourceIntensive, true}: 10.0 / 60,
	},
}

// dailyCaps are Zoom's published daily caps by plan (zoom-api.md §4). On
// Pro and Business+ Heavy and Resource-intensive share one cap; each is
// given it whole, so an estimate that uses both is optimistic.
var dailyCaps = map[string]map[Bucket]int64{
	"free": {
		{Light, false}: 6000, {Medium, false}: 2000, {Heavy, false}: 1000, {ResourceIntensive, false}: 30000,
	},
	"pro": {
		{Heavy, false}: 30000, {ResourceIntensive, false}: 30000, {Heavy, true}: 15000, {ResourceIntensive, true}: 15000,
	},
	"business": {
		{Heavy, false}: 60000, {ResourceIntensive, false}: 60000, {Heavy, true}: 30000, {ResourceIntensive, true}: 30000,
	},
}

// PublishedLimit returns Zoom's published per-second limit of a bucket on a
// plan ("free", "pro", "business"), 0 for an unknown plan.
func PublishedLimit(plan string, b Bucket) float64 { return publishedLimits[plan][b] }

// DefaultShare is the fraction of the published limits a client uses when
// Config.Share is zero.
const DefaultShare = 0.8

// AIMD parameters: a per-second 429 halves the bucket's rate (not below
// minFactor of the configured rate); the rate then grows back by
// recoverPerSec of the configured rate per second of the client's clock.
const (
	minFactor     = 1.0 / 16
	recoverPerSec = 0.05
	cutEvery      = time.Second
)

// throttles holds the throttles of one account.
type throttles struct {
	mu    sync.Mutex
	m     map[Bucket]*throttle
	plan  map[Bucket]float64
	daily map[Bucket]int64
	over  map[Bucket]float64
	share float64
	clock Clock
}

func newThrottles(plan string, share float64, over map[Bucket]float64, clock Clock) *throttles {
	return &throttles{m: map[Bucket]*throttle{}, plan: publishedLimits[plan], daily: dailyCaps[plan], over: over, share: share, clock: clock}
}

func (ts *throttles) get(b Bucket) *throttle {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t := ts.m[b]
	if t == nil {
		base := ts.base(b)
		t = &throttle{bucket: b, base: base, factor: 1, clock: ts.clock, lim: rate.NewLimiter(rate.Limit(base), 1),
			turns: dsar.NewDueQueue(1), br: &breaker{}, remaining: -1, daily: ts.daily[b], following: map[time.Time]int{}}
		ts.m[b] = t
	}
	return t
}

// budget returns bucket b's budget for an estimate, without making a
// throttle of a bucket not used yet (an operator sees those used).
func (ts *throttles) budget(b Bucket) dsar.Budget {
	ts.mu.Lock()
	t := ts.m[b]
	if t == nil {
		defer ts.mu.Unlock()
		return dsar.Budget{Bucket: b.String(), PerSecond: ts.base(b), Daily: ts.daily[b], Remaining: -1}
	}
	ts.mu.Unlock()
	return t.budget()
}

// base returns the rate b's throttle starts at: the configured or
// published limit, times the account's share.
func (ts *throttles) base(b Bucket) float64 {
	limit, ok := ts.over[b]
	if !ok {
		limit = ts.plan[b]
	}
	if limit == 0 { // an unknown category: be as careful as Zoom's slowest
		limit = ts.plan[Bucket{ResourceIntensive, b.Phone}]
	}
	return limit * ts.share
}

// all returns the throttles of the buckets used so far, by name.
func (ts *throttles) all() []*throttle {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := slices.Collect(maps.Values(ts.m))
	slices.SortFunc(out, func(a, b *throttle) int { return strings.Compare(a.bucket.String(), b.bucket.String()) })
	return out
}

// block stops calls in bucket b until q.Reset. Where Zoom shares one daily
// cap between Heavy and Resource-intensive both are blocked.
func (ts *throttles) block(b Bucket, q *QuotaError) {
	ts.get(b).block(q)
	switch b.Category {
	case Heavy:
		ts.get(Bucket{ResourceIntensive, b.Phone}).block(q)
	case ResourceIntensive:
		ts.get(Bucket{Heavy, b.Phone}).block(q)
	}
}

// throttle spaces the calls of one bucket of an account. The limiter has a
// burst of one: calls are evenly spaced, so no second-long window of
// Zoom's ever sees more than the configured share.
type throttle struct {
	bucket Bucket
	base   float64 // configured rate, requests per second
	clock  Clock
	lim    *rate.Limiter
	// turns orders the callers of the bucket by their requests' due
	// dates: the next call the limiter allows is the earliest-due
	// waiter's, so a daily cap is spent in that order too.
	turns *dsar.DueQueue

	mu      sync.Mutex
	factor  float64   // AIMD multiplier of base, in [minFactor, 1]
	changed time.Time // client clock at the last change of factor
	cut     time.Time // client clock at the last decrease
	quota   *QuotaError

	br          *breaker          // pauses the bucket's calls while Zoom keeps failing
	remaining   int               // the last X-RateLimit-Remaining Zoom sent; -1 if none
	remainingAt time.Time         // client clock when it came
	daily       int64             // the daily cap: the last X-RateLimit-Limit, else the plan's; 0 if none
	lead        time.Time         // the due date the daily cap is kept for (followLead)
	leadAt      time.Time         // when the lead last called, in real time
	following   map[time.Time]int // the dues of the callers waiting for the lead
	electAt     time.Time         // when a lead is chosen among them, if none leads
}

// sawRemaining records a daily remaining count Zoom sent for the bucket,
// and the daily limit it sent with it (0 if none).
func (t *throttle) sawRemaining(n, limit int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.remaining, t.remainingAt = n, t.clock.Now()
	if limit > 0 {
		t.daily = int64(limit)
	}
	t.mu.Unlock()
}

// budget returns the bucket's budget for an estimate.
func (t *throttle) budget() dsar.Budget {
	cur := t.rate()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := dsar.Budget{Bucket: t.bucket.String(), PerSecond: cur, Daily: t.daily, Remaining: -1}
	now := t.clock.Now().UTC()
	if t.remaining >= 0 && t.remainingAt.UTC().Truncate(24*time.Hour).Equal(now.Truncate(24*time.Hour)) {
		b.Remaining = int64(t.remaining)
	}
	if t.quota != nil && now.Before(t.quota.Reset) {
		b.Remaining = 0
	}
	return b
}

// wait blocks until the bucket allows a call and returns how long it
// waited. A nil throttle (a file host) does not throttle.
func (t *throttle) wait(ctx context.Context) (time.Duration, error) {
	if t == nil {
		return 0, nil
	}
	t.recover()
	start := time.Now()
	err := t.take(ctx)
	return time.Since(start), err
}

// take waits for the caller's turn, then for the limiter's next call. A
// caller due sooner that comes while the turn's holder waits takes the
// call when it is due: the call goes to the earliest-due caller waiting
// when the limiter allows it, not when the wait began.
func (t *throttle) take(ctx context.Context) error {
	if err := t.followLead(ctx, dsar.DueOf(ctx)); err != nil {
		return err
	}
	if err := t.turns.Acquire(ctx); err != nil {
		return err
	}
	defer t.turns.Release()
	for {
		// The reservation is kept unless a caller due sooner comes: the
		// calls are spaced exactly as the limiter's own Wait spaces them
		// (taking a token only after the sleep let more 429s through).
		r := t.lim.Reserve()
		d := r.Delay()
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			r.Cancel()
			return fmt.Errorf("%w (the wait would outlast it)", context.DeadlineExceeded)
		}
		sooner, err := t.sleepUnlessSooner(ctx, d)
		if err != nil || !sooner {
			if err != nil {
				r.Cancel()
			}
			return err
		}
		r.Cancel()
		if err := t.turns.Yield(ctx); err != nil {
			return err
		}
	}
}

// yieldCheck is how often a caller waiting for the limiter looks for a
// caller due sooner to hand its turn to.
const yieldCheck = 50 * time.Millisecond

// sleepUnlessSooner sleeps d, or less when a caller due sooner than ctx's
// request starts waiting for the turn, and reports whether one did.
func (t *throttle) sleepUnlessSooner(ctx context.Context, d time.Duration) (bool, error) {
	end := time.Now().Add(d)
	for {
		left := time.Until(end)
		if left <= 0 {
			return false, nil
		}
		if err := sleep(ctx, min(left, yieldCheck)); err != nil {
			return false, err
		}
		if t.turns.Sooner(ctx) {
			return true, nil
		}
	}
}

// holdLead is how long a daily-capped bucket keeps its calls for the
// earliest-due request that called last: longer than a request takes
// between two calls of a section (a page's commit).
const holdLead = 2 * time.Second

// electWait is how long the callers of a daily-capped bucket without a
// lead gather before the earliest due among them leads.
const electWait = 200 * time.Millisecond

// followLead makes a call of a request due at due wait while a request
// due before it still calls this bucket: a daily cap is spent on the
// earliest-due request with calls to make, as a schedule by due date
// spends it, not shared with requests due later while the earlier one
// commits its pages. When the lead has made no call for holdLead, the
// earliest-due caller waiting leads. Requests due at the same time
// share. Buckets without a daily cap, and calls of no request (an
// account's check), do not wait.
func (t *throttle) followLead(ctx context.Context, due time.Time) error {
	if due.IsZero() {
		return nil
	}
	t.mu.Lock()
	if t.daily <= 0 {
		t.mu.Unlock()
		return nil
	}
	t.following[due]++
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if t.following[due]--; t.following[due] == 0 {
			delete(t.following, due)
		}
		t.mu.Unlock()
	}()
	for {
		d := t.behind(due)
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// behind returns how long a caller due at due must wait for the lead.
// A new lead is chosen electWait after the first caller that finds none,
// so that the requests that wake together (at a quota's reset) all
// compete.
func (t *throttle) behind(due time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if t.leadAt.IsZero() || now.Sub(t.leadAt) >= holdLead {
		if t.electAt.IsZero() {
			t.electAt = now.Add(electWait)
		}
		if now.Before(t.electAt) {
			return t.electAt.Sub(now)
		}
		t.electAt = time.Time{}
		t.lead = due
		for d := range t.following {
			if d.Before(t.lead) {
				t.lead = d
			}
		}
		t.leadAt = now
	}
	if due.After(t.lead) {
		return holdLead - now.Sub(t.leadAt)
	}
	t.lead, t.leadAt = due, now
	return 0
}

// rate returns the current rate after recovery.
func (t *throttle) rate() float64 {
	t.recover()
	return float64(t.lim.Limit())
}

// recover adds back rate lost to 429s, in proportion to the time since
// the last change.
func (t *throttle) recover() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.factor >= 1 {
		return
	}
	now := t.clock.Now()
	el := now.Sub(t.changed).Seconds()
	if el <= 0 {
		return
	}
	t.factor = min(1, t.factor+recoverPerSec*el)
	t.changed = now
	t.lim.SetLimit(rate.Limit(t.base * t.factor))
}

// decrease halves the rate after a per-second 429. The 429s of calls
// that were already under way when the first came answer the same excess,
// so the rate is cut at most once per cutEvery.
func (t *throttle) decrease() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	if !t.cut.IsZero() && now.Sub(t.cut) < cutEvery {
		return
	}
	t.factor = max(minFactor, t.factor/2)
	t.changed, t.cut = now, now
	t.lim.SetLimit(rate.Limit(t.base * t.factor))
}

func (t *throttle) block(q *QuotaError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.quota == nil || q.Reset.After(t.quota.Reset) {
		t.quota = q
	}
}

// blocked returns a *QuotaError while the bucket's daily limit lasts.
func (t *throttle) blocked(op string) error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.quota == nil {
		return nil
	}
	if !t.clock.Now().Before(t.quota.Reset) {
		t.quota = nil
		return nil
	}
	q := *t.quota
	q.Op = op
	return &q
}
