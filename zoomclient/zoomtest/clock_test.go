package zoomtest_test

import (
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// dsarClock is dsar.Clock, declared here so the test does not import the
// domain package.
type dsarClock interface {
	Now() time.Time
	AfterFunc(time.Duration, func()) func() bool
}

var _ dsarClock = (*zoomtest.Clock)(nil)

func newClock(t *testing.T, frozen bool) *zoomtest.Clock {
	opts := []zoomtest.Option{zoomtest.WithStartTime(start)}
	if frozen {
		opts = append(opts, zoomtest.WithFrozenClock())
	}
	e, err := zoomtest.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e.Clock()
}

func TestClockAdvanceAndSet(t *testing.T) {
	c := newClock(t, true)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now %v, want %v", got, start)
	}
	c.Advance(90 * time.Minute)
	c.Advance(-time.Hour) // ignored
	c.Set(start)          // backwards: ignored
	if got, want := c.Now(), start.Add(90*time.Minute); !got.Equal(want) {
		t.Errorf("Now %v, want %v", got, want)
	}
	midnight := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	c.Set(midnight)
	if got := c.Now(); !got.Equal(midnight) {
		t.Errorf("Now %v, want %v", got, midnight)
	}
}

func TestClockRunsWithRealTime(t *testing.T) {
	c := newClock(t, false)
	a := c.Now()
	c.Advance(time.Hour)
	if b := c.Now(); b.Sub(a) < time.Hour {
		t.Errorf("clock moved %v, want at least 1h", b.Sub(a))
	}
}

func TestClockAfterFunc(t *testing.T) {
	tests := []struct {
		name    string
		frozen  bool
		d       time.Duration
		advance []time.Duration
		fires   bool
	}{
		{"advance past", true, time.Hour, []time.Duration{time.Hour}, true},
		{"advance in steps", true, time.Hour, []time.Duration{30 * time.Minute, 30 * time.Minute}, true},
		{"advance short", true, time.Hour, []time.Duration{59 * time.Minute}, false},
		{"real time", false, 5 * time.Millisecond, nil, true},
		{"zero", true, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock(t, tt.frozen)
			fired := make(chan time.Time, 1)
			stop := c.AfterFunc(tt.d, func() { fired <- c.Now() })
			for _, d := range tt.advance {
				c.Advance(d)
			}
			if !tt.fires {
				select {
				case <-fired:
					t.Fatal("fired early")
				default:
				}
				if !stop() {
					t.Error("stop of a pending timer returned false")
				}
				c.Advance(time.Hour)
				select {
				case <-fired:
					t.Error("fired after stop")
				default:
				}
				return
			}
			select {
			case at := <-fired:
				if at.Before(start.Add(tt.d)) {
					t.Errorf("fired at %v, before %v", at, start.Add(tt.d))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("did not fire")
			}
			if stop() {
				t.Error("stop after firing returned true")
			}
		})
	}
}

func TestClockAfterFuncManyTimers(t *testing.T) {
	c := newClock(t, true)
	fired := make(chan int, 10)
	for i := range 10 {
		c.AfterFunc(time.Duration(i+1)*time.Minute, func() { fired <- i })
	}
	c.Advance(5 * time.Minute)
	got := map[int]bool{}
	for range 5 {
		got[<-fired] = true
	}
	for i := range 5 {
		if !got[i] {
			t.Errorf("timer %d did not fire", i)
		}
	}
	select {
	case i := <-fired:
		t.Errorf("timer %d fired early", i)
	default:
	}
	c.Advance(time.Hour)
	for range 5 {
		<-fired
	}
}
