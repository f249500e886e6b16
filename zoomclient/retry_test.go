package zoomclient

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// transient spreads rate p over the emulator's transient faults.
func transient(p float64) zoomtest.Faults {
	kinds := []zoomtest.Fault{zoomtest.Fault500, zoomtest.Fault502, zoomtest.Fault503, zoomtest.Fault504,
		zoomtest.FaultReset, zoomtest.FaultTruncate, zoomtest.FaultGarble}
	f := zoomtest.Faults{Rates: map[zoomtest.Fault]float64{}}
	for _, k := range kinds {
		f.Rates[k] = p / float64(len(kinds))
	}
	return f
}

// TestRetries: at a 5 % fault rate every call succeeds; at 50 % the
// account's retry budget holds the calls Zoom sees to about 1.2 per
// logical call, and no call makes more than 5 attempts.
func TestRetries(t *testing.T) {
	tests := []struct {
		rate     float64
		allOK    bool
		minFails int
	}{
		{0.05, true, 0},
		{0.5, false, 1},
	}
	for _, tt := range tests {
		t.Run(pct(tt.rate), func(t *testing.T) {
			// Rate limits are not under test here: lift them.
			srv := newServer(t, zoomtest.WithFaults(transient(tt.rate)), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
			var mu sync.Mutex
			attempts := 0
			c := newClient(t, srv, func(cfg *Config) {
				cfg.Limits = map[Bucket]float64{{Medium, false}: 1000}
				cfg.Observe = func(e Event) {
					mu.Lock()
					attempts = max(attempts, e.Attempt)
					mu.Unlock()
				}
			})
			const callers, calls = 4, 50
			ctx := t.Context()
			win := c.Windows(EndpointRecordings)[0]
			errs := hammer(callers, calls, func() error {
				_, err := c.Page(ctx, EndpointRecordings, jane, win)
				return err
			})
			for _, err := range errs {
				var e *Error
				if !errors.As(err, &e) || e.Kind != Unavailable || !Retryable(err) {
					t.Fatalf("failure %v is not Unavailable", err)
				}
			}
			if tt.allOK && len(errs) > 0 {
				t.Errorf("%d of %d calls failed at %s faults: %v", len(errs), callers*calls, pct(tt.rate), errs[0])
			}
			if len(errs) < tt.minFails {
				t.Errorf("%d failures, want at least %d", len(errs), tt.minFails)
			}
			if attempts > 5 {
				t.Errorf("a call made %d attempts, want at most 5", attempts)
			}
			n := count(srv, isAPI)
			limit := int(float64(callers*calls)*1.2) + 10
			if n > limit {
				t.Errorf("emulator served %d API calls for %d logical calls, want at most %d", n, callers*calls, limit)
			}
			t.Logf("fault rate %s: %d logical calls, %d HTTP calls, %d failed", pct(tt.rate), callers*calls, n, len(errs))
		})
	}
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// TestGarbledPageRetried: a truncated or garbled 200 is retried, and the
// page returned is the intact one.
func TestGarbledPageRetried(t *testing.T) {
	for _, f := range []zoomtest.Fault{zoomtest.FaultTruncate, zoomtest.FaultGarble, zoomtest.FaultReset, zoomtest.Fault502} {
		t.Run(string(f), func(t *testing.T) {
			srv := newServer(t)
			c := newClient(t, srv, nil)
			win := c.Windows(EndpointRecordings)[0]
			clean, err := c.Page(t.Context(), EndpointRecordings, jane, win)
			if err != nil {
				t.Fatal(err)
			}
			srv.SetFaults(zoomtest.Faults{Script: map[string][]zoomtest.Fault{"GET /users/{userId}/recordings": {f, f}}})
			p, err := c.Page(t.Context(), EndpointRecordings, jane, win)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p.Body, clean.Body) {
				t.Errorf("page after %s differs from the clean page", f)
			}
			if n := count(srv, func(e zoomtest.LogEntry) bool { return e.Fault == string(f) }); n != 2 {
				t.Errorf("%d %s faults served, want 2", n, f)
			}
		})
	}
}

// TestTimeoutRetried: an answer slower than CallTimeout is abandoned and
// retried.
func TestTimeoutRetried(t *testing.T) {
	srv := newServer(t, zoomtest.WithFaults(zoomtest.Faults{
		Script:    map[string][]zoomtest.Fault{"GET /users/{userId}/settings": {zoomtest.FaultSlow}},
		SlowDelay: time.Second,
	}))
	c := newClient(t, srv, func(cfg *Config) { cfg.CallTimeout = 100 * time.Millisecond })
	if _, err := c.Get(t.Context(), EndpointUserSettings, jane); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if n := count(srv, func(e zoomtest.LogEntry) bool { return e.Category == "Medium" }); n != 2 {
		t.Errorf("%d settings calls, want 2 (slow, then retried)", n)
	}
}

// TestAttemptLimit: a call that keeps failing stops after MaxAttempts
// with a retryable error of the right kind.
func TestAttemptLimit(t *testing.T) {
	tests := []struct {
		name string
		opt  zoomtest.Option
		kind Kind
	}{
		{"always 500", zoomtest.WithFaults(zoomtest.Faults{Rates: map[zoomtest.Fault]float64{zoomtest.Fault500: 1}}), Unavailable},
		{"always QPS 429", zoomtest.WithLimits(zoomtest.Limits{Rate: map[string]zoomtest.Rate{
			zoomtest.Medium: {N: 1, Per: time.Hour}}}), RateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.opt)
			c := newClient(t, srv, nil)
			ctx := t.Context()
			if tt.kind == RateLimited { // use up the one call an hour
				if _, err := c.Get(ctx, EndpointUserSettings, jane); err != nil {
					t.Fatal(err)
				}
			}
			before := count(srv, isAPI)
			_, err := c.Get(ctx, EndpointUserSettings, jane)
			var e *Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Attempts != 5 || !Retryable(err) {
				t.Fatalf("err = %v, want %v after 5 attempts", err, tt.kind)
			}
			if n := count(srv, isAPI) - before; n != 5 {
				t.Errorf("emulator served %d calls, want 5", n)
			}
		})
	}
}
