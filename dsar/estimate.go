package dsar

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Budget is the rate-limit budget the calls of one part draw on.
type Budget struct {
	Bucket    string  // "Medium", "phone/Heavy"
	PerSecond float64 // the rate the client keeps to
	Daily     int64   // Zoom's daily cap of the bucket, 0 if none
	// Remaining is what is left of today's cap (UTC) as Zoom said last,
	// -1 if it has said nothing today.
	Remaining int64
}

// Budgeted is a Zoom account that tells the budget of each part's calls,
// for estimates; zoomclient's Source is one. Without it a request has no
// estimate.
type Budgeted interface {
	Budget(section, part string) Budget
}

// Estimate is what a request is expected to cost and when it should
// complete, given the requests of its account due before it.
type Estimate struct {
	// Calls are the API calls the request is expected to make in all
	// (those made included), by bucket.
	Calls map[string]int64
	// Completion is when its last call should be made; zero when the
	// request is final or has no estimate.
	Completion time.Time
	// AtRisk: Completion is after the due date. Reason says why, for a
	// person.
	AtRisk bool
	Reason string
}

// defaultCalls are the calls of a part expected when the account has no
// request history: one per date window for a windowed part, otherwise
// this table, otherwise one.
var defaultCalls = map[string]int64{
	SectionProfile + "/" + PartUser: 1,
	// parts fetched item by item: a handful of items each
	SectionCloudRecordings + "/" + PartParticipantAudio: 4,
	SectionMeetingSummaries + "/" + PartSummary:         4,
	SectionPhoneVoicemails + "/" + PartTranscriptions:   4,
	SectionPhoneSMS + "/" + PartMessages:                4,
	SectionTeamChat + "/" + PartMessages:                6,
	SectionGroups + "/" + PartGroups:                    1,
	SectionGroups + "/" + PartIMGroups:                  1,
}

// historyDepth is how many of an account's completed requests its call
// history averages.
const historyDepth = 50

// history is the average calls per part ("section/part") of an account's
// completed requests.
type history struct {
	sum map[string]int64
	n   int
}

func (h *history) add(secs []Section) {
	for _, s := range secs {
		for _, pt := range s.Parts {
			h.sum[s.Name+"/"+pt.Name] += pt.Calls
		}
	}
	h.n++
}

// histories caches the history of each account, loaded on first use and
// added to as requests complete.
type histories struct {
	mu sync.Mutex
	m  map[string]*history
}

// history returns the account's history, reading it from the store the
// first time; nil when it has no completed request.
func (p *Processor) history(ctx context.Context, account string) (*history, error) {
	p.hist.mu.Lock()
	defer p.hist.mu.Unlock()
	if p.hist.m == nil {
		p.hist.m = map[string]*history{}
	}
	h, ok := p.hist.m[account]
	if !ok {
		h = &history{sum: map[string]int64{}}
		f := RequestFilter{States: []State{StateCompleted}, Account: account, Limit: historyDepth}
		reqs, _, err := p.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("read the account's history: %w", err)
		}
		for _, r := range reqs {
			if r.Outcome == OutcomeNoZoomUser {
				continue
			}
			secs, err := p.cfg.Store.Sections(ctx, r.ID)
			if err != nil {
				return nil, fmt.Errorf("read the account's history: %w", err)
			}
			h.add(secs)
		}
		p.hist.m[account] = h
	}
	if h.n == 0 {
		return nil, nil
	}
	return h, nil
}

// remember adds a completed request to its account's history, once the
// history is loaded (a history loaded later reads it from the store).
func (p *Processor) remember(r *Request, secs []Section) {
	if r.Outcome == OutcomeNoZoomUser {
		return
	}
	p.hist.mu.Lock()
	defer p.hist.mu.Unlock()
	if h := p.hist.m[r.Account]; h != nil {
		h.add(secs)
	}
}

// need is a request's calls by bucket: expected in all, and still to make.
type need struct {
	total, left map[string]int64
	budget      map[string]Budget
}

// need estimates the calls of a request: for a part done, those it made;
// otherwise the account's history, or its date windows, its items where
// the stored pages name them (only if items, for the request itself:
// reading the pages of every request ahead at each Watch would cost too
// much), or defaultCalls.
func (p *Processor) need(ctx context.Context, zoom Zoom, b Budgeted, r *Request, secs []Section, items bool) (need, error) {
	n := need{total: map[string]int64{}, left: map[string]int64{}, budget: map[string]Budget{}}
	h, err := p.history(ctx, r.Account)
	if err != nil {
		return n, err
	}
	for _, s := range secs {
		for _, pt := range s.Parts {
			bud := b.Budget(s.Name, pt.Name)
			n.budget[bud.Bucket] = bud
			made := pt.Calls
			if pt.Done || s.State.Done() || r.State.Final() {
				n.total[bud.Bucket] += made
				continue
			}
			want, err := p.expected(ctx, zoom, h, r, s.Name, pt.Name, items)
			if err != nil {
				return n, err
			}
			want = max(want, made)
			n.total[bud.Bucket] += want
			n.left[bud.Bucket] += want - made
		}
	}
	return n, nil
}

// expected returns the calls a part is expected to make in all: at least
// one per date window, or per item and window where the stored pages of
// the parts it follows name them (items: for the request itself only);
// the account's history if it says more; without history, a default.
func (p *Processor) expected(ctx context.Context, zoom Zoom, h *history, r *Request, section, part string, items bool) (int64, error) {
	key := section + "/" + part
	known := int64(-1)
	if ItemsFrom(section, part) != nil {
		if items {
			ws, err := p.windows(ctx, zoom, r, section, part)
			if err != nil {
				return 0, err
			}
			if len(ws) > 0 {
				known = int64(len(ws))
			}
		}
	} else if ws := zoom.Windows(section, part, r.CreatedAt); ws != nil {
		known = int64(len(ws))
	}
	switch {
	case h != nil:
		return max(known, int64(math.Round(float64(h.sum[key])/float64(h.n)))), nil
	case known >= 0:
		return known, nil
	}
	if c, ok := defaultCalls[key]; ok {
		return c, nil
	}
	return 1, nil
}

// Estimate returns a request's estimate: its calls by bucket and, unless
// it is final, when it should complete after the requests of its account
// due before it (earlier due, or the same due and created first), given
// each bucket's rate and daily cap. The zero Estimate when the account
// does not tell its budgets.
func (p *Processor) Estimate(ctx context.Context, r *Request, secs []Section) (Estimate, error) {
	zoom, ok := p.account(r.Account)
	if !ok {
		return Estimate{}, nil
	}
	b, ok := zoom.(Budgeted)
	if !ok {
		return Estimate{}, nil
	}
	mine, err := p.need(ctx, zoom, b, r, secs, true)
	if err != nil {
		return Estimate{}, err
	}
	e := Estimate{Calls: mine.total}
	if r.State.Final() {
		return e, nil
	}
	ahead, err := p.ahead(ctx, zoom, b, r)
	if err != nil {
		return Estimate{}, err
	}
	now := p.clock.Now()
	e.Completion = now
	if r.State.Waiting() && r.WaitingUntil.After(now) {
		e.Completion = r.WaitingUntil
	}
	var worst string
	for _, bucket := range slices.Sorted(maps.Keys(mine.left)) {
		left := mine.left[bucket]
		if left == 0 {
			continue
		}
		t := finish(now, ahead[bucket]+left, mine.budget[bucket])
		if t.After(e.Completion) {
			e.Completion, worst = t, bucket
		}
	}
	if e.Completion.After(r.DueAt) {
		bud := mine.budget[worst]
		e.AtRisk = true
		e.Reason = fmt.Sprintf("expected to complete at %s, after its due date %s: %d %s calls to make and %d of requests due before it",
			e.Completion.UTC().Format(time.RFC3339), r.DueAt.UTC().Format(time.RFC3339), mine.left[worst], worst, ahead[worst])
		if bud.Daily > 0 {
			e.Reason += fmt.Sprintf(", at most %d a day", bud.Daily)
		}
	}
	return e, nil
}

// ahead sums the calls still to make of the account's requests not final
// that come before r in due order, by bucket.
func (p *Processor) ahead(ctx context.Context, zoom Zoom, b Budgeted, r *Request) (map[string]int64, error) {
	out := map[string]int64{}
	f := RequestFilter{States: resumable, Account: r.Account, DueBefore: r.DueAt.Add(time.Nanosecond), Limit: 1000}
	for {
		reqs, next, err := p.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list the requests ahead: %w", err)
		}
		for i := range reqs {
			q := &reqs[i]
			if q.ID == r.ID || !before(q, r) {
				continue
			}
			secs, err := p.cfg.Store.Sections(ctx, q.ID)
			if err != nil {
				return nil, fmt.Errorf("read the sections of a request ahead: %w", err)
			}
			n, err := p.need(ctx, zoom, b, q, secs, false)
			if err != nil {
				return nil, err
			}
			for k, v := range n.left {
				out[k] += v
			}
		}
		if next == "" {
			return out, nil
		}
		f.PageToken = next
	}
}

// before reports whether q comes before r in due order (DueQueue's).
func before(q, r *Request) bool {
	if !q.DueAt.Equal(r.DueAt) {
		return q.DueAt.Before(r.DueAt)
	}
	if !q.CreatedAt.Equal(r.CreatedAt) {
		return q.CreatedAt.Before(r.CreatedAt)
	}
	return strings.Compare(q.ID, r.ID) < 0
}

// finish returns when n calls of a bucket are made from now: at its rate,
// and past what today's cap leaves (all of it if unknown), a cap a day
// from each 00:00 UTC.
func finish(now time.Time, n int64, b Budget) time.Time {
	at := func(from time.Time, calls int64) time.Time {
		if b.PerSecond <= 0 {
			return from
		}
		return from.Add(time.Duration(float64(calls) / b.PerSecond * float64(time.Second)))
	}
	if b.Daily <= 0 {
		return at(now, n)
	}
	today := b.Daily
	if b.Remaining >= 0 {
		today = min(b.Remaining, b.Daily)
	}
	if n <= today {
		return at(now, n)
	}
	rest := n - today
	days := (rest + b.Daily - 1) / b.Daily
	midnight := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	return at(midnight.AddDate(0, 0, int(days-1)), rest-(days-1)*b.Daily)
}
