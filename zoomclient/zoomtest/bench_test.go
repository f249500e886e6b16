package zoomtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// benchPaths is a DSAR-like mix: profile, settings, and first pages (30
// records) of the big lists of the reference dataset.
var benchPaths = []string{
	"/users/" + zoomtest.JaneEmail,
	"/users/" + zoomtest.JaneEmail + "/settings",
	"/users/" + zoomtest.JaneEmail + "/meetings?type=previous_meetings",
	"/users/" + zoomtest.JaneEmail + "/recordings?from=2026-02-01&to=2026-02-28",
	"/phone/users/" + zoomtest.JaneEmail,
	"/phone/users/" + zoomtest.JaneEmail + "/call_history?from=2026-02-01&to=2026-02-28",
	"/phone/users/" + zoomtest.JaneEmail + "/voice_mails?from=2026-02-01&to=2026-02-28",
	"/report/users/" + zoomtest.JaneEmail + "/meetings?from=2026-02-01&to=2026-02-28",
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds CPU milliseconds per 1,000 requests and the share of one
// core needed at Business+'s aggregate 250 requests/s.
func reportCPU(b *testing.B, cpu time.Duration) {
	perReq := cpu / time.Duration(b.N)
	b.ReportMetric(float64(perReq.Microseconds()), "cpu-ms/1000req")
	b.ReportMetric(100*250*perReq.Seconds(), "%core@250rps")
}

// BenchmarkServeLoopback: many concurrent clients over loopback HTTP, rate
// limits off. CPU is the whole process's, clients included, so it bounds
// the emulator's share from above.
func BenchmarkServeLoopback(b *testing.B) {
	srv := zoomtest.NewServer(b, zoomtest.WithDataset("reference"), zoomtest.WithStartTime(start), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	tok := token(b, srv, srv.Account())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	var n atomic.Int64
	b.SetParallelism(16) // 16 x GOMAXPROCS clients
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req, _ := http.NewRequest(http.MethodGet, srv.APIURL+benchPaths[int(i)%len(benchPaths)], nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("%d", resp.StatusCode)
				return
			}
		}
	})
	reportCPU(b, cpuTime()-cpu0)
}

// BenchmarkServeHandler: the emulator alone through ServeHTTP, without the
// network or a client; rate limits off, as b.N exceeds them.
func BenchmarkServeHandler(b *testing.B) {
	e, err := zoomtest.New(zoomtest.WithDataset("reference"), zoomtest.WithStartTime(start), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	hs := httptest.NewServer(e)
	defer hs.Close()
	srv := &zoomtest.Server{Emulator: e, URL: hs.URL, APIURL: hs.URL + "/v2", TokenURL: hs.URL + "/oauth/token"}
	tok := token(b, srv, e.Account())
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest(http.MethodGet, "/v2"+benchPaths[i%len(benchPaths)], nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	reportCPU(b, cpuTime()-cpu0)
}
