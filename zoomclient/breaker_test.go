package zoomclient

import (
	"errors"
	"testing"
	"time"
)

// TestBreaker walks a bucket's breaker through an outage: it opens after
// tripAfter failures in a row, refuses calls until the probe time, lets
// one probe through, doubles its interval up to openMax when the probe
// fails, and closes when a probe succeeds; an answer to a call admitted
// before it opened does not close it; failing again soon after it closed
// doubles the pause only if Zoom answered few calls meanwhile.
func TestBreaker(t *testing.T) {
	var b breaker
	now := time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)
	bucket := Bucket{Medium, false}
	for i := 1; i <= tripAfter; i++ {
		if _, err := b.admit(now, "x", bucket); err != nil {
			t.Fatalf("failure %d: refused while closed: %v", i, err)
		}
		if open := b.failure(now, false); open != (i == tripAfter) {
			t.Fatalf("after %d failures open=%v", i, open)
		}
	}
	b.success(now, false) // a call admitted before it opened
	var oe *OutageError
	if _, err := b.admit(now.Add(openFirst-time.Millisecond), "x", bucket); !errors.As(err, &oe) || !oe.Until.Equal(now.Add(openFirst)) {
		t.Fatalf("while open: %v, want an outage until %v", err, now.Add(openFirst))
	}
	want := openFirst
	for at := now.Add(openFirst); want < openMax; {
		probe, err := b.admit(at, "x", bucket)
		if err != nil || !probe {
			t.Fatalf("at the probe time: probe=%v, %v", probe, err)
		}
		if _, err := b.admit(at, "x", bucket); !errors.As(err, &oe) || !oe.Until.Equal(at.Add(probeWait)) {
			t.Fatalf("a second call during the probe: %v, want an outage for probeWait", err)
		}
		b.failure(at, true)
		want = min(2*want, openMax)
		if st, next := b.state(at); st != "open" || next.Sub(at) != want {
			t.Fatalf("after a failed probe: %s until %v, want open for %v", st, next, want)
		}
		at = at.Add(want)
		if want == openMax {
			now = at
		}
	}
	if probe, err := b.admit(now, "x", bucket); err != nil || !probe {
		t.Fatalf("the last probe: %v, %v", probe, err)
	}
	b.success(now, true)
	if st, _ := b.state(now); st != "closed" {
		t.Fatalf("after a good probe: %s", st)
	}
	if _, err := b.admit(now, "x", bucket); err != nil {
		t.Fatalf("closed: %v", err)
	}
	// A probe whose call ends without an answer (cancelled, stopped by a
	// quota) passes to the next call.
	at := b.trip(now, "x", bucket, nil).Until
	if probe, _ := b.admit(at, "x", bucket); !probe {
		t.Fatal("no probe")
	}
	b.abandon()
	if probe, err := b.admit(at, "x", bucket); !probe || err != nil {
		t.Fatalf("after an abandoned probe: probe=%v, %v; want the next call to probe", probe, err)
	}
	// Zoom failing again soon after: twice the pause when it answered few
	// calls since (still down), the first pause when it answered many
	// (failing in part).
	for _, tc := range []struct {
		oks  int
		want time.Duration
	}{{1, 2 * openFirst}, {2 * tripAfter, openFirst}} {
		var b breaker
		b.trip(now, "x", bucket, nil)
		at := now.Add(openFirst)
		if probe, _ := b.admit(at, "x", bucket); !probe {
			t.Fatal("no probe")
		}
		b.success(at, true)
		for range tc.oks - 1 {
			b.success(at, false)
		}
		if oe := b.trip(at, "x", bucket, nil); oe.Until.Sub(at) != tc.want {
			t.Errorf("failing again after %d answers: open for %v, want %v", tc.oks, oe.Until.Sub(at), tc.want)
		}
	}
}
