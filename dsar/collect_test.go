package dsar_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

const john = "john.smith@example.com" // far less data than jane

// cappedZoom is the account's Zoom with the budget of the previous
// meetings' bucket replaced: a daily cap with left calls left today.
type cappedZoom struct {
	*zoomclient.Source
	left int64
}

func (z *cappedZoom) Budget(section, part string) dsar.Budget {
	b := z.Source.Budget(section, part)
	if section == dsar.SectionMeetings && part == dsar.PartPrevious {
		b.Daily, b.Remaining = 1000, z.left
	}
	return b
}

// TestWindowOutlastsCap: a list whose first page says more pages are left
// than today's daily cap allows waits for the reset after that page,
// rather than be stopped halfway and fetch every page again once its
// token has expired overnight; with enough left it goes on.
func TestWindowOutlastsCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		left  int64
		parks bool
	}{{left: 2, parks: true}, {left: 3, parks: false}} {
		t.Run(fmt.Sprint(tc.left), func(t *testing.T) {
			t.Parallel()
			// The reference subject's 1,200 previous meetings: four pages
			// of 300, three left after the first.
			e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithDataset("reference"), zoomtest.WithPhoneEnabled(false)},
				proc: func(c *dsar.Config) {
					c.Accounts["main"] = &cappedZoom{Source: c.Accounts["main"].(*zoomclient.Source), left: tc.left}
				}})
			r := e.create(jane)
			r = e.wait(r.ID, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
			s := section(t, e, r.ID, dsar.SectionMeetings)
			pt := s.Part(dsar.PartPrevious)
			if !tc.parks {
				if r.State != dsar.StateCompleted || pt.Pages != 4 {
					t.Fatalf("with 3 calls left: %s, %d pages, want COMPLETED with 4", r.State, pt.Pages)
				}
				return
			}
			midnight := t0.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
			if s.State != dsar.SectionWaitingQuota || !s.WaitingUntil.Equal(midnight) || pt.Pages != 1 || pt.Calls != 1 ||
				!strings.Contains(s.Reason, "3 pages left") {
				t.Fatalf("with 2 calls left: section %s until %s (%s), %d pages in %d calls; want WAITING_QUOTA until %s after 1 page",
					s.State, s.WaitingUntil, s.Reason, pt.Pages, pt.Calls, midnight)
			}
		})
	}
}

// keptZoom gives every part in the previous meetings' bucket a daily
// cap of 1,000 with left calls left today, and the rate perSecond if not
// zero (math.Float64bits), which the test sets.
type keptZoom struct {
	*zoomclient.Source
	left, perSecond atomic.Uint64
}

func (z *keptZoom) Budget(section, part string) dsar.Budget {
	b := z.Source.Budget(section, part)
	if b.Bucket == z.Source.Budget(dsar.SectionMeetings, dsar.PartPrevious).Bucket {
		b.Daily, b.Remaining = 1000, int64(z.left.Load())
		if r := math.Float64frombits(z.perSecond.Load()); r > 0 {
			b.PerSecond = r
		}
	}
	return b
}

// heldWindow creates a request for jane on the reference data, its
// previous meetings' bucket capped by the keptZoom returned (at first
// with 1,000 calls left today and the rate perSecond), and returns
// once her previous meetings' window (1,200 meetings: four pages of 300)
// has committed its second page, with its last two pages kept. The
// window waits there until release is called.
func heldWindow(t *testing.T, perSecond float64) (e *env, z *keptZoom, r *dsar.Request, release func()) {
	var (
		pages  atomic.Int32
		second = make(chan struct{})
		resume = make(chan struct{})
	)
	e = newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithDataset("reference"), zoomtest.WithPhoneEnabled(false)},
		proc: func(c *dsar.Config) {
			z = &keptZoom{Source: c.Accounts["main"].(*zoomclient.Source)}
			z.left.Store(1000)
			z.perSecond.Store(math.Float64bits(perSecond))
			c.Accounts["main"] = z
			c.Hooks.AfterCommit = func(section, part string) {
				if section == dsar.SectionMeetings && part == dsar.PartPrevious && pages.Add(1) == 2 {
					close(second)
					<-resume
				}
			}
		}})
	var once sync.Once
	release = func() { once.Do(func() { close(resume) }) }
	t.Cleanup(release)
	r, err := e.proc.Create(t.Context(), dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "jane"})
	if err != nil {
		t.Fatal(err)
	}
	<-second
	return e, z, r, release
}

// TestWindowKeepsCap: once a window's first page gives its total, the
// pages left are kept out of today's cap for it. A request that comes
// while the cap has only those left parks its calls of the bucket until
// the reset, saying why, and the window completes in one call a page
// rather than be stopped halfway and fetched again.
func TestWindowKeepsCap(t *testing.T) {
	t.Parallel()
	e, z, r, release := heldWindow(t, 0)
	// Two calls are left today: the two pages jane's window has left.
	z.left.Store(2)
	b := e.wait(e.create(john).ID, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
	release()
	midnight := t0.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	if b.State != dsar.StateWaitingQuota {
		t.Fatalf("john's request %s (%s), want WAITING_QUOTA", b.State, b.Reason)
	}
	s := section(t, e, b.ID, dsar.SectionMeetings)
	if s.State != dsar.SectionWaitingQuota || !s.WaitingUntil.Equal(midnight) || !strings.Contains(s.Reason, "kept for lists under way") {
		t.Errorf("john's meetings: %s until %s (%q); want WAITING_QUOTA until %s, the calls kept", s.State, s.WaitingUntil, s.Reason, midnight)
	}
	if pt := s.Part(dsar.PartPrevious); pt.Pages != 0 {
		t.Errorf("john's previous meetings: %d pages fetched on calls kept for jane's", pt.Pages)
	}
	a := e.wait(r.ID, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
	s = section(t, e, a.ID, dsar.SectionMeetings)
	pt := s.Part(dsar.PartPrevious)
	if !pt.Done || pt.Pages != 4 || pt.Calls != 4 {
		t.Errorf("jane's previous meetings: done %v, %d pages in %d calls; want done, 4 in 4", pt.Done, pt.Pages, pt.Calls)
	}
}

// TestAdmissionCountsKept: admission plans the calls kept for a window
// under way as made first, even when the window's request comes later in
// due order (here deferred): a request whose calls would just complete by
// its due date without them is deferred.
func TestAdmissionCountsKept(t *testing.T) {
	t.Parallel()
	// A request's Medium calls at creation, from the defaults.
	probe := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithDataset("reference"), zoomtest.WithPhoneEnabled(false)}})
	n := estimateOf(t, probe, probe.create(john).ID).Calls["Medium"]
	if n == 0 {
		t.Fatal("no Medium calls expected")
	}
	month := 30 * 24 * time.Hour.Seconds()
	// At n calls in 40 days jane's request is deferred: ranked after
	// john's.
	e, z, a, release := heldWindow(t, float64(n)/(40*24*time.Hour.Seconds()))
	defer release()
	if a.Deferred == "" {
		t.Fatal("jane's request was promised")
	}
	// At n+1 calls in a month, john's n calls complete by his due date,
	// not with the two kept for jane's window before them.
	z.perSecond.Store(math.Float64bits(float64(n+1) / month))
	r, err := e.proc.Create(t.Context(), dsar.CreateInput{Email: john, Account: "main", IdempotencyKey: "john"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Deferred, "after its due date") {
		t.Errorf("john's request: deferred %q; want deferred, the kept calls counted first", r.Deferred)
	}
}
