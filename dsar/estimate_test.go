package dsar_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

func totalCalls(m map[string]int64) (n int64) {
	for _, c := range m {
		n += c
	}
	return n
}

// TestEstimate: at creation a request has expected calls by bucket and a
// completion before its due date; once it completes its estimate is its
// calls; a second request of the account is estimated from the first
// (the account's history), which made the same calls.
func TestEstimate(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	r := e.create(jane)
	_, secs, err := e.proc.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.proc.Estimate(ctx, r, secs)
	if err != nil {
		t.Fatal(err)
	}
	if first.Calls["Medium"] == 0 || first.Calls["Light"] == 0 || first.AtRisk ||
		first.Completion.Before(r.CreatedAt) || !first.Completion.Before(r.DueAt) {
		t.Fatalf("estimate at creation %+v", first)
	}
	done := e.wait(r.ID, inState(dsar.StateCompleted))
	_, secs, err = e.proc.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	final, err := e.proc.Estimate(ctx, done, secs)
	if err != nil {
		t.Fatal(err)
	}
	var made int64
	for _, s := range secs {
		made += s.Calls
	}
	if totalCalls(final.Calls) != made || !final.Completion.IsZero() {
		t.Fatalf("estimate of the completed request %+v, want its %d calls and no completion time", final, made)
	}

	r2, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "again"})
	if err != nil {
		t.Fatal(err)
	}
	_, secs, err = e.proc.Request(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.proc.Estimate(ctx, r2, secs)
	if err != nil {
		t.Fatal(err)
	}
	for b, n := range final.Calls {
		if second.Calls[b] != n {
			t.Errorf("bucket %s: %d calls expected from the history, the first request made %d", b, second.Calls[b], n)
		}
	}
}

// TestEstimateAtRisk: a request that cannot complete before its due date
// at the account's rates is flagged at creation: logged by id, without
// the email, and reported to Config.AtRisk; a request created after it
// with a later due date counts its calls as ahead.
func TestEstimateAtRisk(t *testing.T) {
	var logs bytes.Buffer
	var flagged []string
	e := newEnv(t, envConfig{
		// Medium at one call a week: the request cannot finish in 30 days.
		client: func(c *zoomclient.Config) {
			c.Limits = map[zoomclient.Bucket]float64{{Category: zoomclient.Medium}: 1.0 / (7 * 24 * 3600)}
		},
		proc: func(c *dsar.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			c.AtRisk = func(r *dsar.Request, e dsar.Estimate) {
				if e.AtRisk {
					flagged = append(flagged, r.ID)
				}
			}
		},
	})
	ctx := t.Context()
	r, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	if len(flagged) != 1 || flagged[0] != r.ID {
		t.Fatalf("flagged %v, want the request %s", flagged, r.ID)
	}
	if !strings.Contains(logs.String(), `"request":"`+r.ID+`"`) || !strings.Contains(logs.String(), "deferred") || r.Deferred == "" {
		t.Errorf("the log does not name the request at risk: %s", logs.String())
	}
	if strings.Contains(logs.String(), jane) {
		t.Error("the log names the subject's email")
	}
	_, secs, err := e.proc.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	est, err := e.proc.Estimate(ctx, r, secs)
	if err != nil {
		t.Fatal(err)
	}
	if !est.AtRisk || !est.Completion.After(r.DueAt) || !strings.Contains(est.Reason, "Medium") {
		t.Fatalf("estimate %+v, want at risk for its Medium calls", est)
	}

	// A CCPA request (due in 45 days) waits behind the first.
	r2, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "behind", Regulation: dsar.CCPA})
	if err != nil {
		t.Fatal(err)
	}
	_, secs, err = e.proc.Request(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	est2, err := e.proc.Estimate(ctx, r2, secs)
	if err != nil {
		t.Fatal(err)
	}
	// Its Medium calls come after the first's: about twice as long.
	alone, behind := est.Completion.Sub(r.CreatedAt), est2.Completion.Sub(r2.CreatedAt)
	if behind < alone*3/2 {
		t.Errorf("the request behind is expected in %s, the one ahead in %s: want about twice as long", behind, alone)
	}
}

// scriptedZoom is the account's Zoom (which tells budgets and totals)
// with Fetch answered by fetch.
type scriptedZoom struct {
	*zoomclient.Source
	fetch func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error)
}

func (z *scriptedZoom) Fetch(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
	return z.fetch(ctx, subject, section, part, cur)
}

// hold blocks a fetch until the test ends: a part that never answers
// keeps its estimate as it was.
func hold(ctx context.Context) (dsar.Fetched, error) {
	<-ctx.Done()
	return dsar.Fetched{}, ctx.Err()
}

// estimateEnv starts a processor whose Zoom answers fetch once start is
// closed, and signals on committed the commits of section/part. It
// returns the request created and its estimate before any page.
func estimateEnv(t testing.TB, section, part string, fetch func(ctx context.Context, section, part string, cur dsar.Cursor) (dsar.Fetched, error)) (e *env, r *dsar.Request, zoom *scriptedZoom, before dsar.Estimate, start chan struct{}, committed chan struct{}) {
	start, committed = make(chan struct{}), make(chan struct{}, 100)
	e = newEnv(t, envConfig{proc: func(c *dsar.Config) {
		zoom = &scriptedZoom{Source: c.Accounts["main"].(*zoomclient.Source), fetch: func(ctx context.Context, _ dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
			select {
			case <-start:
			case <-ctx.Done():
				return dsar.Fetched{}, ctx.Err()
			}
			return fetch(ctx, section, part, cur)
		}}
		c.Accounts["main"] = zoom
		c.Hooks.AfterCommit = func(s, p string) {
			if s == section && p == part {
				committed <- struct{}{}
			}
		}
	}})
	r = e.create(jane)
	// After the lookup, whose profile names the groups' items.
	e.wait(r.ID, func(r *dsar.Request) bool { return r.ZoomUserID != "" })
	before = estimateOf(t, e, r.ID)
	return e, r, zoom, before, start, committed
}

// estimateOf returns the estimate of request id as Get shows it.
func estimateOf(t testing.TB, e *env, id string) dsar.Estimate {
	t.Helper()
	r, secs, err := e.proc.Request(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	est, err := e.proc.Estimate(t.Context(), r, secs)
	if err != nil {
		t.Fatal(err)
	}
	return est
}

// TestEstimateFromTotals: once the first page of a windowed list is
// stored, its window's remaining pages come from Zoom's total_records
// (250 records at 100 a page: two more) and each window not started is
// expected to take as many pages as the windows whose totals are known
// (three), where at creation each window was expected to take one.
func TestEstimateFromTotals(t *testing.T) {
	section, part := dsar.SectionPhoneCallHistory, dsar.SectionPhoneCallHistory
	e, r, zoom, before, start, committed := estimateEnv(t, section, part, func(ctx context.Context, s, p string, cur dsar.Cursor) (dsar.Fetched, error) {
		if s != section || cur.Window != 0 || cur.PageToken != "" {
			return hold(ctx)
		}
		return dsar.Fetched{Body: []byte(`{"page_size":100,"total_records":250,"next_page_token":"p2","call_logs":[{"id":"a"}]}`),
			IDs: []string{"a"}, NextPageToken: "p2", Calls: 1}, nil
	})
	windows := int64(len(zoom.Windows(section, part, r.CreatedAt)))
	if windows < 2 {
		t.Fatalf("%d windows: the test needs windows not started", windows)
	}
	close(start)
	<-committed
	after := estimateOf(t, e, r.ID)
	bucket := zoom.Budget(section, part).Bucket
	// Before: one call a window. After: the one made, two more pages, and
	// three for each other window.
	if got, want := after.Calls[bucket]-before.Calls[bucket], (1+2+3*(windows-1))-windows; got != want {
		t.Fatalf("%s calls: %d at creation, %d after the first page; want %d more", bucket, before.Calls[bucket], after.Calls[bucket], want)
	}
}

// TestEstimateExtrapolatesItems: a part fetched item by item whose
// lists give no total for an item (a chat conversation's messages) is
// expected to make, once its items are listed and some done, the mean
// calls of the items of the same kind done (three, for channels) for
// each item of that kind, one for an item of a kind none is done of; at
// creation, the table's handful.
func TestEstimateExtrapolatesItems(t *testing.T) {
	section, part := dsar.SectionTeamChat, dsar.PartMessages
	const conversations = 10
	var sessions []string
	for i := range conversations {
		// Channels first, then 1:1 conversations.
		typ := "groupchat"
		if i >= conversations/2 {
			typ = "1:1"
		}
		sessions = append(sessions, fmt.Sprintf(`{"channel_id":"c%d","name":"x","type":%q}`, i, typ))
	}
	e, r, zoom, before, start, committed := estimateEnv(t, section, part, func(ctx context.Context, s, p string, cur dsar.Cursor) (dsar.Fetched, error) {
		switch {
		case s != section:
			return hold(ctx)
		case p == dsar.PartSessions:
			// Team Chat's sessions give no total_records.
			return dsar.Fetched{Body: []byte(`{"page_size":50,"sessions":[` + strings.Join(sessions, ",") + `]}`), IDs: make([]string, conversations), Calls: 1}, nil
		case p == dsar.PartChannels:
			return dsar.Fetched{Body: []byte(`{"page_size":50,"total_records":0,"channels":[]}`), Calls: 1}, nil
		case cur.Window < 2:
			// Three calls an item: a retry and two pages.
			if cur.PageToken == "" {
				return dsar.Fetched{Body: []byte(`{"messages":[]}`), NextPageToken: "n", Calls: 2}, nil
			}
			return dsar.Fetched{Body: []byte(`{"messages":[]}`), Calls: 1}, nil
		}
		return hold(ctx)
	})
	close(start)
	for range 4 { // two pages of two items
		<-committed
	}
	after := estimateOf(t, e, r.ID)
	bucket := zoom.Budget(section, part).Bucket
	// Before: one call for each list, six for the messages. After: the
	// lists' calls made, three for each channel, and one, the least, for
	// each 1:1 conversation, a kind of which none is done.
	if got, want := after.Calls[bucket]-before.Calls[bucket], int64(3*conversations/2+conversations/2-6); got != want {
		t.Fatalf("%s calls: %d at creation, %d after two conversations; want %d more", bucket, before.Calls[bucket], after.Calls[bucket], want)
	}
}

// BenchmarkEstimate is the estimate Get and Watch compute for a request
// for the reference subject stopped mid-run: its lists stored, its Team
// Chat messages under way (200 pages in), every fetch after that held.
func BenchmarkEstimate(b *testing.B) {
	var stop atomic.Bool
	var once sync.Once
	stopped := make(chan struct{})
	var chat atomic.Int64
	e := newEnv(b, envConfig{
		zoom: []zoomtest.Option{zoomtest.WithDataset("reference"), zoomtest.WithPlan(zoomtest.Business)},
		proc: func(c *dsar.Config) {
			src := c.Accounts["main"].(*zoomclient.Source)
			c.Accounts["main"] = &scriptedZoom{Source: src, fetch: func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
				if stop.Load() {
					return hold(ctx)
				}
				return src.Fetch(ctx, subject, section, part, cur)
			}}
			c.Hooks.AfterCommit = func(section, part string) {
				if section == dsar.SectionTeamChat && part == dsar.PartMessages && chat.Add(1) == 200 {
					stop.Store(true)
					once.Do(func() { close(stopped) })
				}
			}
		},
	})
	ctx := b.Context()
	id := e.create(jane).ID
	<-stopped
	r, secs, err := e.proc.Request(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	var made int64
	for _, s := range secs {
		made += s.Calls
	}
	var est dsar.Estimate
	for b.Loop() {
		if est, err = e.proc.Estimate(ctx, r, secs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(made), "calls-made")
	b.ReportMetric(float64(totalCalls(est.Calls)), "calls-estimated")
}

// TestAdmission: a request whose calls would make a request the account
// promised complete after its due date is deferred as it comes: flagged
// at risk (Config.AtRisk, the log) with a reason naming that request, and
// put behind it, whose estimate stays on time. Extending its due date far
// enough admits it again.
func TestAdmission(t *testing.T) {
	t.Parallel()
	// The Medium calls of a request at creation, from the defaults.
	probe := newEnv(t, envConfig{})
	medium := estimateOf(t, probe, probe.create(jane).ID).Calls["Medium"]
	if medium == 0 {
		t.Fatal("no Medium calls expected")
	}
	var logs bytes.Buffer
	var flagged []string
	e := newEnv(t, envConfig{
		// A request's Medium calls take 25 days: one alone completes
		// before a GDPR due date (30 days), two do not before a CCPA one
		// (45 days).
		client: func(c *zoomclient.Config) {
			c.Limits = map[zoomclient.Bucket]float64{{Category: zoomclient.Medium}: float64(medium) / (25 * 24 * 3600)}
		},
		proc: func(c *dsar.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			c.AtRisk = func(r *dsar.Request, _ dsar.Estimate) { flagged = append(flagged, r.ID) }
		},
	})
	ctx := t.Context()
	a, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "a", Regulation: dsar.CCPA})
	if err != nil {
		t.Fatal(err)
	}
	if a.Deferred != "" || len(flagged) != 0 {
		t.Fatalf("the first request was deferred (%q), flagged %v", a.Deferred, flagged)
	}
	// Due sooner, it would go first and make the first late.
	b, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "b", Regulation: dsar.GDPR})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Deferred, a.ID) || len(flagged) != 1 || flagged[0] != b.ID {
		t.Fatalf("the second request: deferred %q, flagged %v; want deferred for the first, %s", b.Deferred, flagged, a.ID)
	}
	if !b.Rank().After(a.Rank()) {
		t.Errorf("the deferred request ranks at %s, before the promised one at %s", b.Rank(), a.Rank())
	}
	if !strings.Contains(logs.String(), `"request":"`+b.ID+`"`) || !strings.Contains(logs.String(), "deferred") {
		t.Errorf("the log does not name the deferred request: %s", logs.String())
	}
	if strings.Contains(logs.String(), jane) {
		t.Error("the log names the subject's email")
	}
	if est := estimateOf(t, e, a.ID); est.AtRisk {
		t.Errorf("the promised request is at risk: %s", est.Reason)
	}
	if est := estimateOf(t, e, b.ID); !est.AtRisk {
		t.Errorf("the deferred request, behind the first, is not at risk: completion %s, due %s", est.Completion, b.DueAt)
	}
	got, _, err := e.proc.Request(ctx, b.ID)
	if err != nil || got.Deferred != b.Deferred {
		t.Fatalf("stored request: deferred %q, %v; want %q", got.Deferred, err, b.Deferred)
	}

	// GDPR's extension (60 days) puts its due date past both.
	ext, err := e.proc.Extend(ctx, b.ID, "many requests")
	if err != nil {
		t.Fatal(err)
	}
	if ext.Deferred != "" || ext.Rank() != ext.DueAt {
		t.Errorf("extended to %s, the request is still deferred: %q", ext.DueAt, ext.Deferred)
	}
}

// TestEstimateSubjectMost: a subject's request is planned at the most
// each part took in the subject's completed requests, not at the last
// request's calls: a request that took more once (its list stopped by a
// daily cap and fetched again) may again.
func TestEstimateSubjectMost(t *testing.T) {
	t.Parallel()
	e, z := newStubEnv(t)
	// The calls each part made, most of the two requests.
	most := map[string]int64{}
	var totals []int64
	for i, key := range []string{"first", "second"} {
		z.extra.Store(int64(5 * (1 - i))) // the first request's previous meetings take 5 calls more a page
		r := e.wait(e.createAs(john, key).ID, inState(dsar.StateCompleted))
		secs, err := e.db.Sections(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secs {
			for _, pt := range sec.Parts {
				k := sec.Name + "/" + pt.Name
				most[k] = max(most[k], pt.Calls)
			}
		}
		totals = append(totals, totalCalls(estimateOf(t, e, r.ID).Calls))
	}
	if totals[0] < totals[1]+5 {
		t.Fatalf("john's requests made %v calls: want the first 5 more", totals)
	}
	want := map[string]int64{}
	for k, n := range most {
		sec, part, _ := strings.Cut(k, "/")
		want[z.Budget(sec, part).Bucket] += n
	}
	z.hold() // the third request makes no call while it is estimated
	defer z.release()
	got := estimateOf(t, e, e.createAs(john, "third").ID).Calls
	if !maps.Equal(got, want) {
		t.Errorf("john's third request: %v calls expected, want %v, the most each part took", got, want)
	}
}

// TestEstimateBySubject: a new request for a subject the account answered
// before is expected to make the calls that subject's request made, not
// the mean of the account's requests.
func TestEstimateBySubject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	made := map[string]map[string]int64{}
	for _, email := range []string{jane, john} {
		r := e.completed(email)
		made[email] = estimateOf(t, e, r.ID).Calls
	}
	if totalCalls(made[jane]) <= totalCalls(made[john]) {
		t.Fatalf("jane's request made %v calls, john's %v: want jane's more", made[jane], made[john])
	}
	for _, email := range []string{john, jane} {
		r, err := e.proc.Create(ctx, dsar.CreateInput{Email: strings.ToUpper(email), Account: "main", IdempotencyKey: "again-" + email})
		if err != nil {
			t.Fatal(err)
		}
		got := estimateOf(t, e, r.ID).Calls
		for b, n := range made[email] {
			if got[b] != n {
				t.Errorf("%s again: %d %s calls expected, its first request made %d", r.ID, got[b], b, n)
			}
		}
	}
}

// TestEstimateWaitingZoom: a request waiting for Zoom (its breaker open)
// makes its calls once Zoom is tried again, not now: past a due date
// that its calls alone would meet.
func TestEstimateWaitingZoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	r := e.create(jane)
	_, secs, err := e.proc.Request(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	w := *r
	w.State, w.WaitingUntil = dsar.StateWaitingZoom, r.DueAt.Add(-time.Second)
	est, err := e.proc.Estimate(t.Context(), &w, secs)
	if err != nil {
		t.Fatal(err)
	}
	if !est.Completion.After(w.DueAt) || !est.AtRisk || !strings.Contains(est.Reason, "calls to make") {
		t.Fatalf("waiting for Zoom until a second before its due date: %+v, want its calls after that, at risk", est)
	}
}

// TestAdmissionUnknownSubject: admission counts a subject the account has
// not answered at the most calls one of its requests made, and a subject
// it has at that subject's calls. With the Medium calls of jane's
// request a little over 30 days and john's under, a new subject is
// deferred (the mean of the two would have fit), john is promised.
func TestAdmissionUnknownSubject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	medium := map[string]int64{}
	for _, email := range []string{jane, john} {
		r := e.completed(email)
		medium[email] = estimateOf(t, e, r.ID).Calls["Medium"]
	}
	big, small := medium[jane], medium[john]
	if big <= small+1 {
		t.Fatalf("Medium calls: jane %d, john %d; want jane's at least 2 more", big, small)
	}
	// big-0.5 calls take 30 days: big take longer, the mean less long.
	e.proc.Close()
	e.db.Close()
	e.open(envConfig{client: func(c *zoomclient.Config) {
		c.Share = 1
		c.Limits = map[zoomclient.Bucket]float64{{Category: zoomclient.Medium}: (float64(big) - 0.5) / (30 * 24 * 3600)}
	}})
	ctx := t.Context()
	other, err := e.proc.Create(ctx, dsar.CreateInput{Email: "basic.user@example.com", Account: "main", IdempotencyKey: "unknown"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(other.Deferred, fmt.Sprintf("%d Medium calls", big)) {
		t.Errorf("a subject not seen: deferred %q, want for jane's %d Medium calls", other.Deferred, big)
	}
	again, err := e.proc.Create(ctx, dsar.CreateInput{Email: john, Account: "main", IdempotencyKey: "john again"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Deferred != "" {
		t.Errorf("john again, at his %d Medium calls: deferred %q", small, again.Deferred)
	}
}

// TestReadmitInPlace: an extended deferred request is decided again where
// it would stand promised, by its new due date, not behind every promised
// request. Its Medium calls take 25 days: due in 20 it is deferred; due in
// 30 it fits before the promised request due in 55, which still fits
// after it (50 days), though not behind that one.
func TestReadmitInPlace(t *testing.T) {
	t.Parallel()
	probe := newEnv(t, envConfig{})
	medium := estimateOf(t, probe, probe.create(jane).ID).Calls["Medium"]
	e := newEnv(t, envConfig{
		client: func(c *zoomclient.Config) {
			c.Share = 1
			c.Limits = map[zoomclient.Bucket]float64{{Category: zoomclient.Medium}: float64(medium) / (25 * 24 * 3600)}
		},
		proc: func(c *dsar.Config) {
			c.Deadlines = dsar.Deadlines{dsar.GDPR: {Days: 20, Extension: 10}, dsar.CCPA: {Days: 55, Extension: 10}}
		},
	})
	ctx := t.Context()
	a, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "a", Regulation: dsar.CCPA})
	if err != nil || a.Deferred != "" {
		t.Fatalf("the first request: %v, deferred %q", err, a.Deferred)
	}
	b, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "b", Regulation: dsar.GDPR})
	if err != nil || !strings.Contains(b.Deferred, "after its due date") {
		t.Fatalf("the second request: %v, deferred %q; want deferred for its own due date", err, b.Deferred)
	}
	ext, err := e.proc.Extend(ctx, b.ID, "many requests")
	if err != nil {
		t.Fatal(err)
	}
	if ext.Deferred != "" {
		t.Errorf("extended to 30 days, the request is still deferred: %q", ext.Deferred)
	}
}

// TestExtendUnderWay: a request extended while it runs takes its new
// place in due order at its next call, not at its next claim.
func TestExtendUnderWay(t *testing.T) {
	t.Parallel()
	e, z := newStubEnv(t)
	z.hold()
	r := e.wait(e.create(jane).ID, inState(dsar.StateRunning))
	ext, err := e.proc.Extend(t.Context(), r.ID, "many requests")
	if err != nil {
		t.Fatal(err)
	}
	z.release()
	e.wait(r.ID, inState(dsar.StateCompleted))
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.dues) == 0 {
		t.Fatal("no fetch")
	}
	for _, d := range z.dues {
		if !d.Equal(ext.Rank()) {
			t.Fatalf("a fetch after the extension carried due %s, want the new %s (was %s)", d, ext.Rank(), r.Rank())
		}
	}
}
