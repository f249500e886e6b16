package dsar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// failingSettings makes every call of the user's settings (Medium) fail
// with a 503.
var failingSettings = zoomtest.Faults{Endpoints: map[string]map[zoomtest.Fault]float64{
	"GET /users/{userId}/settings": {zoomtest.Fault503: 1},
}}

// TestOutageWaitsForZoom: while Zoom keeps failing, the request waits
// (WAITING_ZOOM) behind the Medium bucket's breaker instead of failing:
// no call is made until the next probe time, one call probes then, and
// once Zoom answers again the request completes by itself, no page
// fetched twice.
func TestOutageWaitsForZoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithFrozenClock(), zoomtest.WithFaults(failingSettings)}})
	clock := e.srv.Clock()
	r := e.wait(e.create(jane).ID, inState(dsar.StateWaitingZoom, dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateWaitingZoom || !r.WaitingUntil.After(clock.Now()) {
		t.Fatalf("state %s until %v (%s), want WAITING_ZOOM until after now", r.State, r.WaitingUntil, r.Reason)
	}
	s := section(t, e, r.ID, dsar.SectionSettings)
	if s.State != dsar.SectionWaitingZoom || !strings.Contains(s.Reason, "Zoom keeps failing") || !s.WaitingUntil.Equal(r.WaitingUntil) {
		t.Errorf("settings: %s until %v (%s); want WAITING_ZOOM until the request's time", s.State, s.WaitingUntil, s.Reason)
	}
	if ph := section(t, e, r.ID, dsar.SectionPhoneProfile); !ph.State.Done() {
		t.Errorf("phone_profile (another bucket): %s (%s), want it collected", ph.State, ph.Reason)
	}
	// Zoom fails every call now: at the next probe time the Medium bucket
	// makes one call, its probe, and waits twice as long after it fails.
	e.srv.SetFaults(zoomtest.Faults{Rates: map[zoomtest.Fault]float64{zoomtest.Fault503: 1}})
	medium := func() int {
		n := 0
		for _, le := range e.srv.Log() {
			if le.Category == zoomtest.Medium && !le.Phone {
				n++
			}
		}
		return n
	}
	first, calls := r.WaitingUntil, medium()
	clock.Set(first)
	r = e.wait(r.ID, func(r *dsar.Request) bool { return r.State == dsar.StateWaitingZoom && r.WaitingUntil.After(first) })
	if n := medium() - calls; n != 1 {
		t.Errorf("%d Medium calls at the probe time, want the one probe", n)
	}
	a, err := e.proc.Account(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range a.Status.Buckets {
		if b.Name == "Medium" && (b.Breaker != "open" || b.NextProbe.Sub(first) != 2*first.Sub(t0)) {
			t.Errorf("Medium bucket: breaker %s until %v, want open for twice the first interval", b.Breaker, b.NextProbe)
		}
	}
	// Zoom recovers: the request goes on at each bucket's probe time.
	e.srv.SetFaults(zoomtest.Faults{})
	r = e.throughOutage(r.ID)
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s), want COMPLETED", r.State, r.Reason)
	}
	if d := refetched(e.srv); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}
	trail := strings.Join(stateTrail(t, e, r.ID), "\n")
	if !strings.Contains(trail, "RUNNING -> WAITING_ZOOM") || strings.Contains(trail, "FAILED") {
		t.Errorf("state trail:\n%s\nwant WAITING_ZOOM and no FAILED", trail)
	}
}

// TestOutageGivesUp: past the give-up point before the due date an outage
// fails the section, with a reason that says why, instead of waiting.
func TestOutageGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{
		zoom: []zoomtest.Option{zoomtest.WithFrozenClock(), zoomtest.WithFaults(failingSettings)},
		proc: func(c *dsar.Config) { c.GiveUp = 60 * 24 * time.Hour }, // more than the time to the due date
	})
	r := e.wait(e.create(jane).ID, inState(dsar.StateWaitingZoom, dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateFailed || !strings.Contains(r.Reason, "before its due date") {
		t.Fatalf("state %s (%s), want FAILED saying it gave up before the due date", r.State, r.Reason)
	}
	if s := section(t, e, r.ID, dsar.SectionSettings); s.State != dsar.SectionFailed || !strings.Contains(s.Reason, "Zoom keeps failing") {
		t.Errorf("settings: %s (%s)", s.State, s.Reason)
	}
}

// throughOutage waits until a request is final, moving the emulator's
// clock to each probe time it waits for (WAITING_ZOOM).
func (e *env) throughOutage(id string) *dsar.Request {
	e.t.Helper()
	var last time.Time
	for {
		r := e.wait(id, func(r *dsar.Request) bool {
			return r.State.Final() || r.State == dsar.StateWaitingZoom && r.WaitingUntil.After(last)
		})
		if r.State.Final() {
			return r
		}
		last = r.WaitingUntil
		e.srv.Clock().Set(last)
	}
}
