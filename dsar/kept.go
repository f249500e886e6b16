package dsar

import (
	"fmt"
	"sync"
	"time"
)

// kept holds, by account and bucket, the calls of today's daily cap kept
// for list windows under way. A window that the cap stops halfway is
// parked overnight, its page token expires (Zoom's last 15 minutes) and
// every page of it is fetched again the next day: in the backlog
// benchmark a request's own other sections spent the calls its window
// had counted on when it began. So when a window's first page gives its
// total, the pages left are kept for it (keepWindow), and every other
// call of the bucket, of its own request or another, may spend only what
// today's cap leaves beyond them (spare). Estimates plan the kept calls
// as spent first (need).
type kept struct {
	mu     sync.Mutex
	m      map[keptKey]int64 // pages left of each window that holds a keep
	flying map[capKey]int64  // calls under way that hold no keep
}

type capKey struct{ account, bucket string }

// keptKey names a window's keep: its request's part, in its bucket.
type keptKey struct {
	capKey
	request, part string // part is "section/part"
}

// keep keeps n calls for k's window, replacing what it kept.
func (c *kept) keep(k keptKey, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[keptKey]int64{}
	}
	if n > 0 {
		c.m[k] = n
	} else {
		delete(c.m, k)
	}
}

// spent counts a page of k's window fetched.
func (c *kept) spent(k keptKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.m[k]; ok {
		if n <= 1 {
			delete(c.m, k)
		} else {
			c.m[k] = n - 1
		}
	}
}

func (c *kept) drop(k keptKey) { c.keep(k, 0) }

// others returns the calls of k's bucket kept for windows other than k's
// (for a key of no window, all of them).
func (c *kept) others(k keptKey) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.othersLocked(k)
}

func (c *kept) othersLocked(k keptKey) int64 {
	var n int64
	for o, v := range c.m {
		if o.capKey == k.capKey && o != k {
			n += v
		}
	}
	return n
}

// held returns the calls kept for k's window.
func (c *kept) held(k keptKey) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

// first returns the calls of an account's bucket kept for its windows
// under way: they are made before any other call of the bucket, so plans
// put them first.
func (c *kept) first(account, bucket string) int64 {
	return c.others(keptKey{capKey: capKey{account, bucket}})
}

// take lets a call of k's part be made when its window holds a keep, or
// when today's cap, remaining calls left (-1: not known), leaves one
// beyond the calls kept for other windows and those under way that hold
// none. done is called once the call has been answered.
func (c *kept) take(k keptKey, remaining int64) (done func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[k] > 0 {
		return func() {}, true
	}
	if others := c.othersLocked(k); others > 0 && remaining >= 0 && remaining-others-c.flying[k.capKey] <= 0 {
		return nil, false
	}
	if c.flying == nil {
		c.flying = map[capKey]int64{}
	}
	c.flying[k.capKey]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.flying[k.capKey]--; c.flying[k.capKey] <= 0 {
			delete(c.flying, k.capKey)
		}
	}, true
}

// spare is take for a call of k's part: a quota error until the next
// reset (00:00 UTC) when the calls today's cap has left are kept for
// other windows. The bucket's budget is read only while some are kept:
// most calls are made with none.
func (p *Processor) spare(zoom Zoom, k keptKey, section, part string) (func(), *ZoomError) {
	remaining := int64(-1)
	if p.kept.others(k) > 0 {
		if b, ok := zoom.(Budgeted); ok {
			if bud := b.Budget(section, part); bud.Daily > 0 {
				remaining = bud.Remaining
			}
		}
	}
	done, ok := p.kept.take(k, remaining)
	if ok {
		return done, nil
	}
	return nil, &ZoomError{Kind: ZoomQuota, Until: nextReset(p.clock.Now()), Message: fmt.Sprintf(
		"the %d calls left of today's %s cap are kept for lists under way, which would be fetched again from their first pages if stopped",
		remaining, k.bucket)}
}

// keepWindow keeps, once a window's first page gives its total, the
// pages left of it out of today's cap of its bucket. It returns a quota
// error until the next reset when they are more than today's cap leaves
// beyond other windows' keeps and no more than a day's cap: stopped
// halfway, the window would be fetched again from its first page after
// the reset. Nil when that is not known or the window fits.
func (p *Processor) keepWindow(zoom Zoom, k keptKey, section, part string, first []byte) *ZoomError {
	b, ok := zoom.(Budgeted)
	t, ok2 := zoom.(Totaled)
	if !ok || !ok2 {
		return nil
	}
	bud := b.Budget(section, part)
	if bud.Daily <= 0 || bud.Remaining < 0 {
		return nil
	}
	n, size, ok := t.Total(section, part, first)
	if !ok {
		return nil
	}
	left := pagesOf(n, size) - 1
	spare := bud.Remaining - p.kept.others(k)
	if left <= spare {
		p.kept.keep(k, left)
		return nil
	}
	if left > bud.Daily {
		return nil // no day's cap holds it: it goes on as far as it can
	}
	return &ZoomError{Kind: ZoomQuota, Until: nextReset(p.clock.Now()), Message: fmt.Sprintf(
		"the window's %d pages left outlast the %d calls today's %s cap leaves it; it goes on after the reset rather than fetch its pages again then",
		left, max(spare, 0), bud.Bucket)}
}

// bucketOf returns the bucket of a part's calls, "" if zoom does not
// tell budgets.
func bucketOf(zoom Zoom, section, part string) string {
	if b, ok := zoom.(Budgeted); ok {
		return b.Budget(section, part).Bucket
	}
	return ""
}

// nextReset returns when daily caps next reset after t: 00:00 UTC.
func nextReset(t time.Time) time.Time {
	return t.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
}
