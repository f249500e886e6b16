package zoomtest

import (
	"sync"
	"time"
)

// Clock is the emulator's time: its start time plus the real time elapsed
// since, plus whatever a test has advanced it by. Token expiry, page-token
// expiry, rate-limit windows and the daily reset at 00:00 UTC all read it,
// so a test moves past them without sleeping.
//
// Clock satisfies dsar.Clock.
type Clock struct {
	mu        sync.Mutex
	start     time.Time // emulator time at realStart
	realStart time.Time // carries the monotonic reading
	offset    time.Duration
	frozen    bool // moves only by Advance and Set
	timers    map[*clockTimer]struct{}
}

type clockTimer struct {
	deadline time.Time
	f        func()
	real     *time.Timer
}

func newClock(start time.Time, frozen bool) *Clock {
	return &Clock{start: start.UTC(), realStart: time.Now(), frozen: frozen, timers: map[*clockTimer]struct{}{}}
}

// Now returns the emulator time, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.frozen {
		return c.start.Add(c.offset)
	}
	return c.start.Add(time.Since(c.realStart) + c.offset)
}

// Advance moves the clock forward by d and fires the timers that are due.
// A negative d is ignored: the clock never goes back.
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.fireDueLocked()
	c.mu.Unlock()
}

// Set moves the clock forward to t. A t before Now is ignored.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	if d := t.Sub(c.nowLocked()); d > 0 {
		c.offset += d
		c.fireDueLocked()
	}
	c.mu.Unlock()
}

// AfterFunc calls f in its own goroutine once Now has reached the current
// time plus d, whether by real time passing or by Advance. stop cancels the
// call and reports whether it did so before f was started.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &clockTimer{deadline: c.nowLocked().Add(d), f: f}
	if d <= 0 {
		go f()
		return func() bool { return false }
	}
	c.timers[t] = struct{}{}
	if !c.frozen {
		t.real = time.AfterFunc(d, func() { c.realFire(t) })
	}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if _, ok := c.timers[t]; !ok {
			return false
		}
		delete(c.timers, t)
		t.stopReal()
		return true
	}
}

// realFire runs when the real-time timer of t expires.
func (c *Clock) realFire(t *clockTimer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.timers[t]; !ok {
		return
	}
	if left := t.deadline.Sub(c.nowLocked()); left > 0 {
		t.real.Reset(left)
		return
	}
	delete(c.timers, t)
	go t.f()
}

// fireDueLocked starts the timers whose deadline has passed and moves the
// real-time timers of the others closer.
func (c *Clock) fireDueLocked() {
	now := c.nowLocked()
	for t := range c.timers {
		left := t.deadline.Sub(now)
		if left > 0 {
			if t.real != nil {
				t.real.Reset(left)
			}
			continue
		}
		t.stopReal()
		delete(c.timers, t)
		go t.f()
	}
}

// stopAll cancels every pending timer.
func (c *Clock) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for t := range c.timers {
		t.stopReal()
		delete(c.timers, t)
	}
}

func (t *clockTimer) stopReal() {
	if t.real != nil {
		t.real.Stop()
	}
}
