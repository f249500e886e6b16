package main

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// share is the fraction of the published limits dsard uses: the client's
// default, which the bench does not change.
const share = zoomclient.DefaultShare

// publishedRate returns a plan's published limit of a category in requests
// per second.
func publishedRate(plan string, phone bool, cat string) float64 {
	return zoomclient.PublishedLimit(plan, zoomclient.Bucket{Category: zoomclient.Category(cat), Phone: phone})
}

// bucket is one rate-limit bucket of one account: a category of the
// general or the Phone API.
type bucket struct {
	account string
	phone   bool
	cat     string
}

func (b bucket) String() string {
	if b.phone {
		return "Phone " + b.cat
	}
	return b.cat
}

// usage is what the log says about one bucket.
type usage struct {
	calls       int
	tooMany     int // 429 answers
	first, last time.Time
}

// active is the time from the bucket's first call to its last.
func (u *usage) active() time.Duration { return u.last.Sub(u.first) }

// rate is the achieved rate while active, in calls per second.
func (u *usage) rate() float64 {
	if u.calls < 2 || u.active() <= 0 {
		return 0
	}
	return float64(u.calls-1) / u.active().Seconds()
}

func isAPI(le zoomtest.LogEntry) bool { return le.Category != "" }

// usageByBucket groups the API calls of the log by bucket.
func usageByBucket(log []zoomtest.LogEntry) map[bucket]*usage {
	m := map[bucket]*usage{}
	for _, le := range log {
		if !isAPI(le) {
			continue
		}
		k := bucket{le.Account, le.Phone, le.Category}
		u := m[k]
		if u == nil {
			u = &usage{first: le.Time}
			m[k] = u
		}
		u.calls++
		if le.Status == 429 {
			u.tooMany++
		}
		u.first = minTime(u.first, le.Time)
		u.last = maxTime(u.last, le.Time)
	}
	return m
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// budget is the physical limit of the calls in a log.
type budget struct {
	buckets map[bucket]*usage
	tmin    time.Duration // max over buckets of calls / (share × limit), plus the chain
	binding bucket
	u       *usage
	limit   float64 // share × published limit of the binding bucket, per second
	chain   int     // longest sequential chain of pages
	calls   int
	tooMany int
}

// computeBudget works out T_min from the log; plans maps account ids to
// plans, latency is one measured page fetch.
func computeBudget(log []zoomtest.LogEntry, plans map[string]string, latency time.Duration) budget {
	b := budget{buckets: usageByBucket(log)}
	var worst time.Duration
	for k, u := range b.buckets {
		lim := share * publishedRate(plans[k.account], k.phone, k.cat)
		t := time.Duration(float64(u.calls) / lim * float64(time.Second))
		if t > worst || (t == worst && b.u == nil) {
			worst, b.binding, b.u, b.limit = t, k, u, lim
		}
		b.calls += u.calls
		b.tooMany += u.tooMany
	}
	b.chain = longestChain(log)
	b.tmin = worst + time.Duration(b.chain)*latency
	return b
}

// stream names the cursor an API call belongs to: its path and query
// without the page token and the window, which a cursor walks through in
// sequence.
func stream(le zoomtest.LogEntry) string {
	q, _ := url.ParseQuery(le.Query)
	q.Del("next_page_token")
	q.Del("from")
	q.Del("to")
	return le.Account + " " + le.Path + "?" + q.Encode()
}

func pageKey(le zoomtest.LogEntry) string { return le.Account + " " + le.Path + "?" + le.Query }

// good reports a complete answer: 200 without an injected fault.
func good(le zoomtest.LogEntry) bool { return le.Status == 200 && le.Fault == "" }

// longestChain is the most pages any one cursor fetched: those pages
// follow each other, whatever the rate limit allows.
func longestChain(log []zoomtest.LogEntry) int {
	pages := map[string]map[string]bool{}
	n := 0
	for _, le := range log {
		if !isAPI(le) || !good(le) {
			continue
		}
		s := stream(le)
		if pages[s] == nil {
			pages[s] = map[string]bool{}
		}
		pages[s][pageKey(le)] = true
		n = max(n, len(pages[s]))
	}
	return n
}

// refetches counts pages answered completely more than once. kills are
// indexes into log at which dsard was killed: a page whose answer was the
// last of its cursor before a kill may have been in flight (fetched, not
// yet committed), so fetching it again once is excused.
func refetches(log []zoomtest.LogEntry, kills []int) (total, excused int) {
	seen := map[string]bool{}
	last := map[string]string{} // stream -> page key of its latest good answer
	inflight := map[string]bool{}
	k := 0
	for i, le := range log {
		for k < len(kills) && kills[k] <= i {
			for _, key := range last {
				inflight[key] = true
			}
			clear(last)
			k++
		}
		if !isAPI(le) || !good(le) {
			continue
		}
		key := pageKey(le)
		if seen[key] {
			total++
			if inflight[key] {
				excused++
				delete(inflight, key)
			}
		}
		seen[key] = true
		last[stream(le)] = key
	}
	return total, excused
}

// retryShare returns the largest share of retries among the API calls of
// any window of length w, and the retries in all. A retry is a call whose
// page was asked for before without a complete answer.
func retryShare(log []zoomtest.LogEntry, w time.Duration) (worst float64, retries, calls int) {
	type call struct {
		t     time.Time
		retry bool
	}
	var cs []call
	failed := map[string]bool{}
	for _, le := range log {
		if !isAPI(le) {
			continue
		}
		key := pageKey(le)
		r := failed[key]
		failed[key] = !good(le)
		cs = append(cs, call{le.Time, r})
		if r {
			retries++
		}
	}
	slices.SortStableFunc(cs, func(a, b call) int { return a.t.Compare(b.t) })
	// Windows start at each call; those that would run past the last call
	// are not whole windows and count only if the run is shorter than w
	// (then the first window, the whole run, is the only one).
	j, n, rs := 0, 0, 0
	for i := range cs {
		if i > 0 && cs[i].t.Add(w).After(cs[len(cs)-1].t) {
			break
		}
		for j < len(cs) && cs[j].t.Sub(cs[i].t) < w {
			n++
			if cs[j].retry {
				rs++
			}
			j++
		}
		worst = max(worst, float64(rs)/float64(n))
		n--
		if cs[i].retry {
			rs--
		}
	}
	return worst, retries, len(cs)
}

func pct(x float64) string { return fmt.Sprintf("%.1f %%", 100*x) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
