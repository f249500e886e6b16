package zoomclient

import (
	"fmt"
	"sync"
	"time"
)

// Breaker parameters: a bucket's breaker opens after tripAfter transient
// failures in a row, or when a call has spent its attempts or the
// account's retry budget; it stays open openFirst, then each failed probe
// doubles the interval, up to openMax.
const (
	tripAfter = 8
	openFirst = 5 * time.Second
	openMax   = 15 * time.Minute
	// probeWait is how long a call waits for the probe of a half-open
	// breaker to tell whether Zoom is back.
	probeWait = time.Second
	// probeLost is how long a probe may take before another call probes
	// instead: a safeguard, since every call's end settles its probe
	// (abandon).
	probeLost = 5 * time.Minute
)

// breaker pauses one bucket's calls of an account while Zoom keeps failing
// (5xx, connections reset, answers cut), so that an outage of an hour or a
// day costs no request and causes no retry storm: closed, it lets calls
// through; open, it refuses them with an *OutageError until the next probe
// time; then, half-open, it lets exactly one call through, whose answer
// closes it or opens it again for twice as long. Times are the client's
// clock.
type breaker struct {
	mu       sync.Mutex
	fails    int           // transient failures in a row while closed
	open     bool          // open or half-open
	probing  bool          // half-open: the one probe is under way
	probeAt  time.Time     // when it began
	interval time.Duration // how long it stays open, or stayed open last
	until    time.Time     // open: the next probe time
	opened   time.Time     // when the outage began
	closed   time.Time     // when a probe last closed it
	oks      int           // answers since it closed
}

// OutageError is a call refused because Zoom kept failing: the account's
// calls in the bucket pause until Until, when one call probes Zoom.
type OutageError struct {
	Op     string
	Bucket Bucket
	Since  time.Time // when the breaker opened
	Until  time.Time // the next probe, client clock
	Last   error     // the failure that opened it, if this call saw it
}

func (e *OutageError) Error() string {
	s := fmt.Sprintf("zoomclient: %s: Zoom keeps failing; %s calls of the account pause until %s", e.Op, e.Bucket, e.Until.UTC().Format(time.RFC3339))
	if e.Last != nil {
		s += ": " + e.Last.Error()
	}
	return s
}

func (e *OutageError) Unwrap() error { return e.Last }

// admit lets a call through, or refuses it while the breaker is open or
// its probe is under way. It reports whether the call is the probe.
func (b *breaker) admit(now time.Time, op string, bucket Bucket) (probe bool, err error) {
	if b == nil {
		return false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return false, nil
	case now.Before(b.until):
		return false, &OutageError{Op: op, Bucket: bucket, Since: b.opened, Until: b.until}
	case b.probing && now.Sub(b.probeAt) < probeLost:
		return false, &OutageError{Op: op, Bucket: bucket, Since: b.opened, Until: now.Add(probeWait)}
	}
	b.probing, b.probeAt = true, now
	return true, nil
}

// abandon ends a probe that neither succeeded nor failed (its call was
// cancelled, or stopped by a quota or a token refusal): the next call
// probes instead.
func (b *breaker) abandon() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// success records an answer from Zoom (any answer but a transient
// failure). The probe's closes the breaker; while it is open, an answer
// to a call admitted before it opened changes nothing, since another
// endpoint of the bucket may be the one failing.
func (b *breaker) success(now time.Time, probe bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case probe:
		b.open, b.probing, b.closed, b.oks = false, false, now, 0
		fallthrough
	case !b.open:
		b.fails = 0
		b.oks++
	}
}

// failure records a transient failure; a failed probe opens the breaker
// again for twice as long. It reports whether the breaker is open now.
func (b *breaker) failure(now time.Time, probe bool) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.reopen(now)
		return true
	}
	b.fails++
	if !b.open && b.fails >= tripAfter {
		b.reopen(now)
	}
	return b.open
}

// trip opens the breaker when a call gives up (attempts or retry budget
// spent) and returns the error for the call.
func (b *breaker) trip(now time.Time, op string, bucket Bucket, last error) *OutageError {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open || b.probing {
		b.reopen(now)
	}
	return &OutageError{Op: op, Bucket: bucket, Since: b.opened, Until: b.until, Last: last}
}

// reopen opens the breaker, or keeps it open, with the next interval:
// twice the last one after a failed probe, or when Zoom fails again soon
// after the breaker closed with few answers since (one endpoint still
// failing while the probe met another), else openFirst: a Zoom that
// answered most calls since is failing in part, not down, and a long
// pause would only slow the requests.
func (b *breaker) reopen(now time.Time) {
	switch {
	case b.open, !b.closed.IsZero() && now.Sub(b.closed) < 2*b.interval && b.oks < 2*tripAfter:
		b.interval = min(2*b.interval, openMax)
	default:
		b.interval = openFirst
	}
	if !b.open {
		b.opened = now
	}
	b.open, b.probing = true, false
	b.until = now.Add(b.interval)
}

// state describes the breaker for an operator: "closed", "open" or
// "half-open", and the next probe time when open.
func (b *breaker) state(now time.Time) (string, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !b.open:
		return "closed", time.Time{}
	case b.probing || !now.Before(b.until):
		return "half-open", time.Time{}
	}
	return "open", b.until
}
