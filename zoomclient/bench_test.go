package zoomclient

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkThrottle measures, per bucket, the rate achieved by 8
// concurrent callers against the emulator (at the published Business
// limits) as a share of the configured rate (goal ≥ 0.9), and the share of
// calls answered 429 (goal ≤ 1 %).
//
//	go test -run '^$' -bench Throttle -benchtime 200x ./zoomclient/
func BenchmarkThrottle(b *testing.B) {
	buckets := []struct {
		name string
		call func(c *Client, win Cursor) error
		ep   Endpoint
	}{
		{"general-Light", func(c *Client, _ Cursor) error { _, _, err := c.User(b.Context(), jane); return err }, EndpointUser},
		{"general-Medium", func(c *Client, _ Cursor) error { _, err := c.Get(b.Context(), EndpointUserSettings, jane); return err }, EndpointUserSettings},
		{"phone-Light", func(c *Client, _ Cursor) error { _, err := c.Get(b.Context(), EndpointPhoneUser, jane); return err }, EndpointPhoneUser},
		{"phone-Medium", func(c *Client, w Cursor) error {
			_, err := c.Page(b.Context(), EndpointVoicemails, jane, w)
			return err
		}, EndpointVoicemails},
	}
	for _, bk := range buckets {
		b.Run(bk.name, func(b *testing.B) {
			srv := newServer(b)
			c := newClient(b, srv, nil)
			win := c.Windows(bk.ep)[0]
			if err := bk.call(c, win); err != nil { // token, and the burst of one
				b.Fatal(err)
			}
			start := len(srv.Log())
			var next atomic.Int64
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			began := time.Now()
			for range 8 {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := bk.call(c, win); err != nil {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(began)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d calls failed", n)
			}
			var calls, limited int
			for _, e := range srv.Log()[start:] {
				if e.Category != "" {
					calls++
					if e.Status == 429 {
						limited++
					}
				}
			}
			// The warm-up call spent the burst of one, so N calls at rate
			// r take N/r.
			achieved := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(achieved/c.Rate(bk.ep.Bucket()), "achieved/configured")
			b.ReportMetric(achieved, "calls/s")
			b.ReportMetric(float64(limited)/float64(calls), "429-share")
		})
	}
}
