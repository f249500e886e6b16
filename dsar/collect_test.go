package dsar_test

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
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
			// After the reset the window starts again from its first
			// page, not from a token that will have expired.
			if pt.Cursor.PageToken != "" {
				t.Errorf("the parked window goes on from page token %q", pt.Cursor.PageToken)
			}
		})
	}
}

// heldWindow creates a request for jane on the reference data (without
// Zoom Phone), the previous meetings' bucket of its stubZoom capped with
// 1,000 calls left today at the rate perSecond, and returns once her
// previous meetings' window (1,200 meetings: four pages of 300) has
// committed its second page, with its last two pages kept. The window
// waits there until release is called.
func heldWindow(t *testing.T, perSecond float64) (e *env, z *stubZoom, r *dsar.Request, release func()) {
	e, z = newStubEnv(t, zoomtest.WithDataset("reference"), zoomtest.WithPhoneEnabled(false))
	z.capTo(1000)
	z.perSecond.Store(math.Float64bits(perSecond))
	at, release := z.stopWindow(t)
	r = e.createAs(jane, "jane")
	<-at
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
	z.capTo(2)
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
	if r := e.createAs(john, "john"); !strings.Contains(r.Deferred, "after its due date") {
		t.Errorf("john's request: deferred %q; want deferred, the kept calls counted first", r.Deferred)
	}
}

// TestPlanBegunAtSubjectMost: a request under way, whose stored pages
// plans for other requests do not read, counts a part begun at no less
// than the most its subject's requests took, not at the account's mean
// a window: requests behind it are planned after all of it.
func TestPlanBegunAtSubjectMost(t *testing.T) {
	t.Parallel()
	// Without Team Chat, whose messages are most of jane's calls.
	e, z := newStubEnv(t, zoomtest.WithDataset("reference"), zoomtest.WithPhoneEnabled(false), zoomtest.WithTeamChat(false))
	z.capTo(1000)
	// jane's first request takes 50 calls more a page of her 4 pages of
	// previous meetings; john's three, one page each, bring the
	// account's mean a window down to a quarter of that.
	z.extra.Store(50)
	first := e.wait(e.createAs(jane, "jane1").ID, inState(dsar.StateCompleted))
	z.extra.Store(0)
	for i := range 3 {
		e.wait(e.createAs(john, fmt.Sprint("john", i)).ID, inState(dsar.StateCompleted))
	}
	meetings := section(t, e, first.ID, dsar.SectionMeetings)
	most := meetings.Part(dsar.PartPrevious).Calls
	// jane's second request stops after two pages of them, its other
	// sections done: its Medium calls left are that part's.
	at, _ := z.stopWindow(t)
	a := e.createAs(jane, "jane2")
	<-at
	e.wait(a.ID, func(*dsar.Request) bool {
		secs, err := e.db.Sections(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secs {
			if !s.State.Done() && s.Name != dsar.SectionMeetings {
				return false
			}
		}
		return true
	})
	// At a call a day, john's next request is at risk, and its estimate
	// says how many calls of requests ahead of it it waits for.
	z.perSecond.Store(math.Float64bits(1.0 / (24 * 3600)))
	b := e.createAs(john, "john3")
	est := estimateOf(t, e, b.ID)
	m := regexp.MustCompile(`(\d+) of requests ahead`).FindStringSubmatch(est.Reason)
	if m == nil {
		t.Fatalf("john's request: at risk %v (%q); want at risk behind jane's", est.AtRisk, est.Reason)
	}
	ahead, _ := strconv.ParseInt(m[1], 10, 64)
	// Her window's last 2 pages are kept, and planned first.
	if want := most - 2 - 2; ahead < want {
		t.Errorf("john's request waits for %d Medium calls of jane's under way; want at least %d, the %d her first request's previous meetings took less the 2 made and the 2 kept",
			ahead, want, most)
	}
}
