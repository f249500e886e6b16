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

// Totaled is a Zoom account that reads, from a stored page of a list,
// the total Zoom gives for the list (total_records), for estimates;
// zoomclient's Source is one. Without it an estimate knows a list's
// pages only once they are fetched.
type Totaled interface {
	// Total returns the records the list of a part's page (its window,
	// its item) holds in all and the records a page of it holds; ok is
	// false when Zoom gives no total for the list or the page cannot be
	// read.
	Total(section, part string, page []byte) (records, perPage int64, ok bool)
}

// defaultCalls are the calls of a part expected when neither the account's
// history nor the stored pages tell more: one per date window for a
// windowed part, otherwise this table, otherwise one.
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

// history is the calls per part ("section/part") of an account's
// completed requests, and the windows they were made in (a date window,
// an item, an item's date window).
type history struct {
	sum     map[string]int64
	windows map[string]int64
	n       int
	// reqs are the calls per part of each request, oldest first, at most
	// historyDepth. subject is, by email hash, the most each part took in
	// a request of the subject: a list a daily cap stopped overnight is
	// fetched again, and the next request may be stopped so too.
	reqs    []map[string]int64
	subject map[string]map[string]int64
}

func newHistory() *history {
	return &history{sum: map[string]int64{}, windows: map[string]int64{}, subject: map[string]map[string]int64{}}
}

func (h *history) add(r *Request, secs []Section) {
	calls := map[string]int64{}
	for _, s := range secs {
		for _, pt := range s.Parts {
			key := s.Name + "/" + pt.Name
			calls[key] = pt.Calls
			h.sum[key] += pt.Calls
			if pt.Calls > 0 {
				// A part ends on its last window.
				h.windows[key] += int64(pt.Cursor.Window) + 1
			}
		}
	}
	h.n++
	h.reqs = append(h.reqs, calls)
	if len(h.reqs) > historyDepth {
		h.reqs = slices.Delete(h.reqs, 0, 1)
	}
	if r.EmailHash == "" {
		return
	}
	most := h.subject[r.EmailHash]
	if most == nil {
		most = map[string]int64{}
		h.subject[r.EmailHash] = most
	}
	for key, n := range calls {
		most[key] = max(most[key], n)
	}
}

// perWindow returns the mean calls of a window of a part, false when the
// history has none.
func (h *history) perWindow(key string) (float64, bool) {
	if h == nil || h.windows[key] == 0 {
		return 0, false
	}
	return float64(h.sum[key]) / float64(h.windows[key]), true
}

// of returns the most calls each part took in the subject's completed
// requests on the account, nil if none.
func (h *history) of(r *Request) map[string]int64 {
	if h == nil || r.EmailHash == "" {
		return nil
	}
	return h.subject[r.EmailHash]
}

// most returns, by bucket, the most calls a request of the history made.
func (h *history) most(b Budgeted) map[string]int64 {
	out := map[string]int64{}
	if h == nil {
		return out
	}
	for _, calls := range h.reqs {
		by := map[string]int64{}
		for key, n := range calls {
			sec, part, _ := strings.Cut(key, "/")
			by[b.Budget(sec, part).Bucket] += n
		}
		for k, n := range by {
			out[k] = max(out[k], n)
		}
	}
	return out
}

// histories caches the history of each account, loaded on first use and
// added to as requests complete.
type histories struct {
	mu sync.Mutex
	m  map[string]*history
}

// history returns the account's history, reading it from the store the
// first time; nil when it has no completed request. The first read holds
// the lock: the estimates that come meanwhile wait for it rather than
// each read the same requests, and no completion (remember) slips
// between the read and the cache.
func (p *Processor) history(ctx context.Context, account string) (*history, error) {
	p.hist.mu.Lock()
	defer p.hist.mu.Unlock()
	if p.hist.m == nil {
		p.hist.m = map[string]*history{}
	}
	h, ok := p.hist.m[account]
	if !ok {
		h = newHistory()
		f := RequestFilter{States: []State{StateCompleted}, Account: account, Limit: historyDepth, SkipEmail: true}
		reqs, _, err := p.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("read the account's history: %w", err)
		}
		slices.SortFunc(reqs, func(a, b Request) int { return a.CompletedAt.Compare(b.CompletedAt) })
		for i := range reqs {
			r := &reqs[i]
			if r.Outcome == OutcomeNoZoomUser {
				continue
			}
			secs, err := p.cfg.Store.Sections(ctx, r.ID)
			if err != nil {
				return nil, fmt.Errorf("read the account's history: %w", err)
			}
			h.add(r, secs)
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
		h.add(r, secs)
	}
}

// need is a request's calls by bucket: expected in all, still to make,
// and of those the ones today's cap keeps for its windows under way.
type need struct {
	total, left, kept map[string]int64
	budget            map[string]Budget
}

// unkept returns the calls of bucket b still to make beyond those kept:
// plans put the calls kept for every window of the account first
// (kept.first), ahead of any request's others.
func (n need) unkept(b string) int64 { return n.left[b] - n.kept[b] }

// need estimates the calls of a request: for a part done, those it made;
// for a part not begun, the most it took in the subject's completed
// requests on the account if there are any (the same person's data
// changes little between requests); otherwise expected's. Only for the
// request itself (pages) are its stored pages read: reading the pages of
// every request ahead at each Watch would cost too much; without them a
// part begun counts at least the subject's most.
func (p *Processor) need(ctx context.Context, zoom Zoom, b Budgeted, r *Request, secs []Section, pages bool) (need, error) {
	n := need{total: map[string]int64{}, left: map[string]int64{}, kept: map[string]int64{}, budget: map[string]Budget{}}
	h, err := p.history(ctx, r.Account)
	if err != nil {
		return n, err
	}
	before := h.of(r)
	for _, s := range secs {
		for _, pt := range s.Parts {
			bud := b.Budget(s.Name, pt.Name)
			n.budget[bud.Bucket] = bud
			made := pt.Calls
			if pt.Done || s.State.Done() || r.State.Final() {
				n.total[bud.Bucket] += made
				continue
			}
			key := s.Name + "/" + pt.Name
			most, known := before[key]
			want := most
			switch {
			case known && made == 0:
			case ItemsFrom(s.Name, pt.Name) != nil:
				want, err = p.expectedItems(ctx, zoom, h, r, secs, s.Name, pt, pages)
			default:
				want, err = p.expectedList(ctx, zoom, h, r, s.Name, pt, pages)
			}
			if err != nil {
				return n, err
			}
			if !pages {
				// Without its pages' totals, a part begun is expected
				// to take at least the most the subject's requests took,
				// not the account's mean: the backlog benchmark's
				// admissions planned large subjects' requests under way
				// at a third of their calls, and promised more than the
				// caps held.
				want = max(want, most)
			}
			want = max(want, made)
			n.total[bud.Bucket] += want
			n.left[bud.Bucket] += want - made
			kept := p.kept.held(keptKey{capKey{r.Account, bud.Bucket}, r.ID, key})
			n.kept[bud.Bucket] += min(kept, want-made)
		}
	}
	return n, nil
}

// stored is what a part's stored pages of one window say: the pages and
// records stored, and the records Zoom gives as the window's total (-1
// when it gives none) with the records of a page.
type stored struct {
	pages, records int64
	total, perPage int64
}

// pagesOf returns the pages n records take at size a page, at least one:
// Zoom answers an empty list with a page.
func pagesOf(n, size int64) int64 {
	if size <= 0 || n <= 0 {
		return 1
	}
	return (n + size - 1) / size
}

// storedPages reads a part's stored pages, by window (from the cache
// while it has as many pages stored); the total of a window is read from
// its first page.
func (p *Processor) storedPages(ctx context.Context, zoom Zoom, r *Request, section string, pt *Part) (map[int]*stored, error) {
	return p.stored.get(r.ID, section+"/"+pt.Name, pt.Pages, func() (map[int]*stored, error) {
		return p.readPages(ctx, zoom, r, section, pt.Name)
	})
}

func (p *Processor) readPages(ctx context.Context, zoom Zoom, r *Request, section, part string) (map[int]*stored, error) {
	t, _ := zoom.(Totaled)
	out := map[int]*stored{}
	err := p.cfg.Store.Pages(ctx, r.ID, section, part, func(pg Page) error {
		w := out[pg.Window]
		if w == nil {
			w = &stored{total: -1}
			if t != nil {
				if n, size, ok := t.Total(section, part, pg.Body); ok {
					w.total, w.perPage = n, size
				}
			}
			out[pg.Window] = w
		}
		w.pages++
		for i := range pg.IDs {
			if pg.Kept(i) {
				w.records++
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the pages of %s/%s for the estimate: %w", section, part, err)
	}
	return out, nil
}

// expectedList returns the calls a part fetched as one list (in date
// windows or not) is expected to make in all: those made, the pages left
// of its current window (from Zoom's total when its first page is stored),
// and for each window not started the mean of a window in the account's
// history, else of this request's windows whose total Zoom gave, else
// one.
func (p *Processor) expectedList(ctx context.Context, zoom Zoom, h *history, r *Request, section string, pt Part, pages bool) (int64, error) {
	key := section + "/" + pt.Name
	ws := zoom.Windows(section, pt.Name, r.CreatedAt)
	var st map[int]*stored
	if pages {
		var err error
		if st, err = p.storedPages(ctx, zoom, r, section, &pt); err != nil {
			return 0, err
		}
	}
	per, ok := h.perWindow(key)
	if !ok {
		var known, sum int64
		for _, w := range st {
			if w.total >= 0 {
				known++
				sum += pagesOf(w.total, w.perPage)
			}
		}
		switch {
		case known > 0:
			per = float64(sum) / float64(known)
		case ws == nil && defaultCalls[key] > 0:
			per = float64(defaultCalls[key])
		default:
			per = 1
		}
	}
	left := max(len(ws), 1) - pt.Cursor.Window // the current window included
	rest := float64(left) * per
	if cur := st[pt.Cursor.Window]; cur != nil {
		// Begun: the pages its total leaves, or at least one more.
		more := max(per-float64(cur.pages), 1)
		if cur.total >= 0 {
			more = float64(max(pagesOf(cur.total, cur.perPage)-cur.pages, 0))
		}
		rest = float64(left-1)*per + more
	}
	return pt.Calls + int64(math.Round(rest)), nil
}

// pageWindows is a store that counts a part's pages by window from
// their headers alone; store.DB is one. Without it an item part's items
// all count alike.
type pageWindows interface {
	PageWindows(ctx context.Context, id, section, part string) (map[int]int64, error)
}

// expectedItems returns the calls a part fetched item by item is expected
// to make in all: those made, and for each window (an item, or an item's
// date window) not done the mean calls of the windows done whose item is
// of its kind (Item.Kind), else of all windows done, else of a window in
// the account's history, else one. Its windows are those of the items the
// stored pages of the parts it follows name, and of those their pages
// still to fetch will name by Zoom's totals; when that is not known (a
// list without totals not yet complete, or pages not read), the account's
// history of the part, else defaultCalls.
func (p *Processor) expectedItems(ctx context.Context, zoom Zoom, h *history, r *Request, secs []Section, section string, pt Part, pages bool) (int64, error) {
	key := section + "/" + pt.Name
	if !pages {
		return historyOrDefault(h, key), nil
	}
	ws, kinds, err := p.cachedItemWindows(ctx, zoom, r, secs, section, pt.Name)
	if err != nil {
		return 0, err
	}
	pending, ok, err := p.pendingItems(ctx, zoom, r, secs, section, pt.Name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return historyOrDefault(h, key), nil
	}
	windows := len(ws) + int(pending)*max(len(zoom.Windows(section, pt.Name, r.CreatedAt)), 1)
	done := min(pt.Cursor.Window, len(ws))
	// A window of a kind none is done of yet: the account's history, else
	// the least a window takes, one call. (Not the mean of the other
	// kinds: a chat channel takes ten times a 1:1 conversation's calls.)
	unseen, ok := h.perWindow(key)
	if !ok {
		unseen = 1
	}
	// The calls of each window done, by kind: its pages at the part's
	// calls a page (retries included).
	type mean struct{ sum, n float64 }
	byKind := map[string]*mean{}
	var partial float64 // the calls of the current window so far
	if pw, ok := p.cfg.Store.(pageWindows); ok && pt.Pages > 0 {
		counts, err := p.winPages.get(r.ID, key, pt.Pages, func() (map[int]int64, error) {
			return pw.PageWindows(ctx, r.ID, section, pt.Name)
		})
		if err != nil {
			return 0, fmt.Errorf("count the pages of %s for the estimate: %w", key, err)
		}
		perPage := float64(pt.Calls) / float64(pt.Pages)
		for i := range done {
			m := byKind[kinds[i]]
			if m == nil {
				m = &mean{}
				byKind[kinds[i]] = m
			}
			m.sum += float64(counts[i]) * perPage
			m.n++
		}
		partial = float64(counts[done]) * perPage
	}
	est := float64(pt.Calls)
	for i := done; i < windows; i++ {
		c := unseen
		if m := byKind[""]; m != nil && i >= len(kinds) {
			c = m.sum / m.n // an item not named yet: of no kind known
		}
		if i < len(kinds) {
			if m := byKind[kinds[i]]; m != nil {
				c = m.sum / m.n
			}
		}
		if i == done && partial > 0 {
			c = max(c-partial, 1)
		}
		est += c
	}
	return int64(math.Round(est)), nil
}

// pageCache holds what estimates read from the stored pages of requests
// under way, by request and part, with the pages stored then of the parts
// it was read from: reading them again at each Get/Watch would decode
// every stored page, and they change only when those parts get a page.
// (A section reset and fetched again to as many pages keeps its entry:
// only the estimate reads them, never the fetch.)
type pageCache[T any] struct {
	mu sync.Mutex
	m  map[string]cachedPages[T]
}

type cachedPages[T any] struct {
	pages int64
	v     T
}

// maxPageCache bounds a cache; past it, it starts again empty.
const maxPageCache = 1024

// get returns the value cached for request id's part ("section/part")
// while pages are stored, else load's, which it caches. Callers must not
// change it.
func (c *pageCache[T]) get(id, part string, pages int64, load func() (T, error)) (T, error) {
	key := id + "\x00" + part
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.pages == pages {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxPageCache {
		c.m = map[string]cachedPages[T]{}
	}
	c.m[key] = cachedPages[T]{pages, v}
	return v, nil
}

type itemWindows struct {
	ws    []Cursor
	kinds []string
}

// cachedItemWindows is itemWindows, from the cache while the parts the
// items are read from have the same pages stored.
func (p *Processor) cachedItemWindows(ctx context.Context, zoom Zoom, r *Request, secs []Section, section, part string) ([]Cursor, []string, error) {
	var pages int64
	for _, src := range ItemsFrom(section, part) {
		sec, name, _ := strings.Cut(src, "/")
		if i := slices.IndexFunc(secs, func(s Section) bool { return s.Name == sec }); i >= 0 {
			if pt := secs[i].Part(name); pt != nil {
				pages += pt.Pages
			}
		}
	}
	iw, err := p.items.get(r.ID, section+"/"+part, pages, func() (itemWindows, error) {
		ws, kinds, err := p.itemWindows(ctx, zoom, r, section, part)
		return itemWindows{ws, kinds}, err
	})
	return iw.ws, iw.kinds, err
}

// historyOrDefault returns the mean calls of a part in the account's
// history, else defaultCalls, else one.
func historyOrDefault(h *history, key string) int64 {
	if h != nil {
		return int64(math.Round(float64(h.sum[key]) / float64(h.n)))
	}
	if c, ok := defaultCalls[key]; ok {
		return c
	}
	return 1
}

// pendingItems returns how many items of an item part the parts it
// follows will still name, from Zoom's totals of their lists: none for a
// part done; for one under way, what its current window's total leaves
// and, for each of its windows not started, the mean records of its
// windows with a total. ok is false when a part under way gives no total
// to go by.
func (p *Processor) pendingItems(ctx context.Context, zoom Zoom, r *Request, secs []Section, section, part string) (int64, bool, error) {
	var pending int64
	for _, src := range ItemsFrom(section, part) {
		sec, name, _ := strings.Cut(src, "/")
		i := slices.IndexFunc(secs, func(s Section) bool { return s.Name == sec })
		if i < 0 {
			continue
		}
		pt := secs[i].Part(name)
		if pt == nil || pt.Done || secs[i].State.Done() {
			continue
		}
		st, err := p.storedPages(ctx, zoom, r, sec, pt)
		if err != nil {
			return 0, false, err
		}
		var known, sum int64
		for _, w := range st {
			if w.total >= 0 {
				known++
				sum += w.total
			}
		}
		if known == 0 {
			return 0, false, nil
		}
		mean := float64(sum) / float64(known)
		left := float64(max(len(zoom.Windows(sec, name, r.CreatedAt)), 1) - pt.Cursor.Window)
		if cur := st[pt.Cursor.Window]; cur != nil && cur.total >= 0 {
			pending += max(cur.total-cur.records, 0)
			left--
		}
		pending += int64(math.Round(max(left, 0) * mean))
	}
	return pending, true, nil
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
	// Calls start now, or once Zoom is tried again; for a request waiting
	// for a quota's reset, finish knows the caps.
	start := now
	if r.State == StateWaitingZoom && r.WaitingUntil.After(now) {
		start = r.WaitingUntil
	}
	e.Completion = start
	if r.State.Waiting() && r.WaitingUntil.After(now) {
		e.Completion = r.WaitingUntil
	}
	var worst string
	for _, bucket := range slices.Sorted(maps.Keys(mine.left)) {
		left := mine.left[bucket]
		if left == 0 {
			continue
		}
		t := finish(start, p.kept.first(r.Account, bucket)+ahead[bucket]+mine.unkept(bucket), mine.budget[bucket])
		if t.After(e.Completion) {
			e.Completion, worst = t, bucket
		}
	}
	if !e.Completion.After(r.DueAt) {
		return e, nil
	}
	e.AtRisk = true
	e.Reason = fmt.Sprintf("expected to complete at %s, after its due date %s", e.Completion.UTC().Format(time.RFC3339), r.DueAt.UTC().Format(time.RFC3339))
	if worst == "" {
		e.Reason += ": it waits until then to call Zoom again"
		return e, nil
	}
	e.Reason += fmt.Sprintf(": %d %s calls to make and %d of requests ahead of it", mine.left[worst], worst, ahead[worst])
	if bud := mine.budget[worst]; bud.Daily > 0 {
		e.Reason += fmt.Sprintf(", at most %d a day", bud.Daily)
	}
	return e, nil
}

// ahead sums the calls still to make of the account's requests not final
// that come before r in due order, by bucket.
func (p *Processor) ahead(ctx context.Context, zoom Zoom, b Budgeted, r *Request) (map[string]int64, error) {
	out := map[string]int64{}
	var dueBefore time.Time
	if r.Deferred == "" { // a deferred request has every promised one ahead
		dueBefore = r.DueAt.Add(time.Nanosecond)
	}
	err := p.eachOpen(ctx, r, dueBefore, func(q *Request, secs []Section) error {
		if !before(q, r) {
			return nil
		}
		n, err := p.need(ctx, zoom, b, q, secs, false)
		for k := range n.left {
			out[k] += n.unkept(k)
		}
		return err
	})
	return out, err
}

// eachOpen calls fn with each request of r's account not final but r,
// due before dueBefore unless it is zero, and its sections.
func (p *Processor) eachOpen(ctx context.Context, r *Request, dueBefore time.Time, fn func(q *Request, secs []Section) error) error {
	f := RequestFilter{States: resumable, Account: r.Account, DueBefore: dueBefore, Limit: 1000, SkipEmail: true}
	for {
		reqs, next, err := p.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return fmt.Errorf("list the account's open requests: %w", err)
		}
		for i := range reqs {
			q := &reqs[i]
			if q.ID == r.ID {
				continue
			}
			secs, err := p.cfg.Store.Sections(ctx, q.ID)
			if err != nil {
				return fmt.Errorf("read the sections of an open request: %w", err)
			}
			if err := fn(q, secs); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.PageToken = next
	}
}

// plan is what admission counts on a request still to call, by bucket,
// beyond the calls kept for its windows (which go first): what its
// estimate expects, but for a subject the account's history does not
// know, at least the most calls a request in that history made less those
// made already. An unknown subject may be the largest yet, and a promise
// made on the mean would be broken by anyone larger.
func plan(n need, known bool, most map[string]int64) map[string]int64 {
	out := maps.Clone(n.left)
	if !known {
		for k, m := range most {
			out[k] = max(out[k], m-(n.total[k]-n.left[k]))
		}
	}
	for k := range out {
		out[k] -= n.kept[k]
	}
	return out
}

// admit decides whether r's account can promise to complete r (new, or
// deferred and given a new due date) by its due date: by plan, r
// completes by then behind the promised requests due before it, and each
// promised request due after it that would complete by its own due date
// without r still does with it. It returns "" if so, else why not.
//
// A request that cannot be promised is deferred (Request.Deferred): it
// is flagged at risk as it comes, while there is time to extend its due
// date and tell the subject (GDPR Art. 12(3) allows two months more,
// "taking into account the complexity and number of the requests", if
// the subject is told within the first month), and it waits behind the
// promised requests rather than making one of them late unannounced.
func (p *Processor) admit(ctx context.Context, r *Request, secs []Section) (string, error) {
	zoom, ok := p.account(r.Account)
	if !ok {
		return "", nil
	}
	b, ok := zoom.(Budgeted)
	if !ok {
		return "", nil
	}
	h, err := p.history(ctx, r.Account)
	if err != nil {
		return "", err
	}
	most := h.most(b)
	mine, err := p.need(ctx, zoom, b, r, secs, false)
	if err != nil {
		return "", err
	}
	want := plan(mine, h.of(r) != nil, most)
	asPromised := *r
	asPromised.Deferred = "" // where it would stand
	r = &asPromised
	type promise struct {
		q    *Request
		left map[string]int64
	}
	var promised []promise
	err = p.eachOpen(ctx, r, time.Time{}, func(q *Request, secs []Section) error {
		if q.Deferred != "" {
			return nil
		}
		n, err := p.need(ctx, zoom, b, q, secs, false)
		promised = append(promised, promise{q, plan(n, h.of(q) != nil, most)})
		return err
	})
	if err != nil {
		return "", err
	}
	slices.SortFunc(promised, func(x, y promise) int {
		if before(x.q, y.q) {
			return -1
		}
		return 1
	})
	now := p.clock.Now()
	for _, bucket := range slices.Sorted(maps.Keys(want)) {
		n := want[bucket]
		if n == 0 {
			continue
		}
		bud := mine.budget[bucket]
		sum := p.kept.first(r.Account, bucket) // then the calls of the promised requests so far
		mineAt := time.Time{}
		for _, pr := range promised {
			if mineAt.IsZero() && before(r, pr.q) {
				mineAt = finish(now, sum+n, bud)
			}
			sum += pr.left[bucket]
			if mineAt.IsZero() {
				continue
			}
			if without, with := finish(now, sum, bud), finish(now, sum+n, bud); !without.After(pr.q.DueAt) && with.After(pr.q.DueAt) {
				return fmt.Sprintf("its %d %s calls would make request %s, promised for %s, complete at %s", n, bucket,
					pr.q.ID, pr.q.DueAt.UTC().Format(time.RFC3339), with.UTC().Format(time.RFC3339)), nil
			}
		}
		if mineAt.IsZero() {
			mineAt = finish(now, sum+n, bud)
		}
		if mineAt.After(r.DueAt) {
			why := fmt.Sprintf("it would complete at %s, after its due date %s: %d %s calls behind those of the promised requests due before it",
				mineAt.UTC().Format(time.RFC3339), r.DueAt.UTC().Format(time.RFC3339), n, bucket)
			if bud.Daily > 0 {
				why += fmt.Sprintf(", at most %d a day", bud.Daily)
			}
			return why, nil
		}
	}
	return "", nil
}

// before reports whether q comes before r in due order (DueQueue's, by
// Rank).
func before(q, r *Request) bool {
	if qr, rr := q.Rank(), r.Rank(); !qr.Equal(rr) {
		return qr.Before(rr)
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
	midnight := nextReset(now)
	return at(midnight.AddDate(0, 0, int(days-1)), rest-(days-1)*b.Daily)
}
