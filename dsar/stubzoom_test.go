package dsar_test

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// stubZoom is the account's Zoom for the tests of scheduling and
// estimates, the real client with these changes that the test sets:
//   - every fetch waits between hold and release;
//   - each fetch's due date is recorded (dues);
//   - each page of previous meetings counts extra calls more, as retries
//     would;
//   - once capped, every part in the previous meetings' bucket has a
//     daily cap of 1,000 with left calls left today and, if perSecond is
//     not zero (math.Float64bits), that rate;
//   - after stopWindow, the next previous meetings window committed waits
//     after its second page.
type stubZoom struct {
	*zoomclient.Source
	extra           atomic.Int64
	capped          atomic.Bool
	left, perSecond atomic.Uint64

	mu   sync.Mutex
	held chan struct{} // closed by release
	dues []time.Time
	stop *windowStop
}

type windowStop struct {
	pages          int
	second, resume chan struct{}
}

// newStubEnv returns an env on the dataset and options given whose
// account's Zoom is a stubZoom.
func newStubEnv(t *testing.T, opts ...zoomtest.Option) (*env, *stubZoom) {
	var z *stubZoom
	e := newEnv(t, envConfig{zoom: opts, proc: func(c *dsar.Config) {
		z = &stubZoom{Source: c.Accounts["main"].(*zoomclient.Source)}
		c.Accounts["main"] = z
		c.Hooks.AfterCommit = z.afterCommit
	}})
	return e, z
}

func (z *stubZoom) hold() {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.held = make(chan struct{})
}

func (z *stubZoom) release() {
	z.mu.Lock()
	defer z.mu.Unlock()
	close(z.held)
	z.held = nil
}

// capTo caps the previous meetings' bucket with left calls left today.
func (z *stubZoom) capTo(left uint64) {
	z.left.Store(left)
	z.capped.Store(true)
}

// stopWindow makes the next previous meetings window committed wait
// after its second page: at is closed once it does, and goOn (called at
// the test's end too) lets it go on.
func (z *stubZoom) stopWindow(t *testing.T) (at <-chan struct{}, goOn func()) {
	ws := &windowStop{second: make(chan struct{}), resume: make(chan struct{})}
	var once sync.Once
	goOn = func() { once.Do(func() { close(ws.resume) }) }
	t.Cleanup(goOn)
	z.mu.Lock()
	z.stop = ws
	z.mu.Unlock()
	return ws.second, goOn
}

func (z *stubZoom) afterCommit(section, part string) {
	if section != dsar.SectionMeetings || part != dsar.PartPrevious {
		return
	}
	z.mu.Lock()
	ws := z.stop
	if ws != nil {
		if ws.pages++; ws.pages == 2 {
			z.stop = nil
		} else {
			ws = nil
		}
	}
	z.mu.Unlock()
	if ws != nil {
		close(ws.second)
		<-ws.resume
	}
}

func (z *stubZoom) Fetch(ctx context.Context, s dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
	z.mu.Lock()
	held := z.held
	z.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-ctx.Done():
			return dsar.Fetched{}, ctx.Err()
		}
	}
	z.mu.Lock()
	z.dues = append(z.dues, dsar.DueOf(ctx))
	z.mu.Unlock()
	f, err := z.Source.Fetch(ctx, s, section, part, cur)
	if err == nil && section == dsar.SectionMeetings && part == dsar.PartPrevious {
		f.Calls += int(z.extra.Load())
	}
	return f, err
}

func (z *stubZoom) Budget(section, part string) dsar.Budget {
	b := z.Source.Budget(section, part)
	if z.capped.Load() && b.Bucket == z.Source.Budget(dsar.SectionMeetings, dsar.PartPrevious).Bucket {
		b.Daily, b.Remaining = 1000, int64(z.left.Load())
		if r := math.Float64frombits(z.perSecond.Load()); r > 0 {
			b.PerSecond = r
		}
	}
	return b
}
