package zoomtest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

const (
	lightPath  = "/users/" + zoomtest.JaneEmail                                                    // Light
	mediumPath = "/users/" + zoomtest.JaneEmail + "/settings"                                      // Medium
	heavyPath  = "/report/users/" + zoomtest.JaneEmail + "/meetings?from=2026-02-01&to=2026-02-28" // Heavy
	phonePath  = "/phone/users/" + zoomtest.JaneEmail + "/call_history"                            // Phone Medium
)

// burst calls path n times and returns the statuses.
func burst(t *testing.T, srv *zoomtest.Server, tok, path string, n int) (ok int, last response) {
	t.Helper()
	for range n {
		last = get(t, srv, tok, path)
		if last.status == http.StatusOK {
			ok++
		}
	}
	return ok, last
}

func wantQPS(t *testing.T, r response, category string) {
	t.Helper()
	code, msg := zoomErr(t, r)
	h := r.header
	if r.status != 429 || code != 429 || h.Get("X-RateLimit-Type") != "QPS" || h.Get("X-RateLimit-Category") != category {
		t.Errorf("got %d %d %q type %q category %q, want a %s QPS 429", r.status, code, msg, h.Get("X-RateLimit-Type"), h.Get("X-RateLimit-Category"), category)
	}
	if h.Get("Retry-After") != "" {
		t.Errorf("QPS 429 has Retry-After %q", h.Get("Retry-After"))
	}
}

func TestPerSecondPublishedLimits(t *testing.T) {
	tests := []struct {
		plan     zoomtest.Plan
		path     string
		category string
		n        int
	}{
		{zoomtest.Business, mediumPath, "Medium", 60},
		{zoomtest.Business, lightPath, "Light", 80},
		{zoomtest.Business, phonePath, "Medium", 20},
		{zoomtest.Pro, mediumPath, "Medium", 20},
		{zoomtest.Pro, phonePath, "Medium", 10},
		{zoomtest.Free, lightPath, "Light", 4},
		{zoomtest.Free, heavyPath, "Heavy", 0}, // report: not on a free plan, but the call still counts
	}
	for _, tt := range tests {
		t.Run(string(tt.plan)+" "+tt.category+" "+tt.path, func(t *testing.T) {
			srv := zoomtest.NewServer(t, zoomtest.WithPlan(tt.plan), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
			tok := token(t, srv, srv.Account())
			if tt.n == 0 {
				get(t, srv, tok, tt.path)
				r := get(t, srv, tok, tt.path)
				wantQPS(t, r, tt.category) // free Heavy: 1/s
				return
			}
			ok, _ := burst(t, srv, tok, tt.path, tt.n)
			if ok != tt.n {
				t.Fatalf("%d of %d admitted", ok, tt.n)
			}
			wantQPS(t, get(t, srv, tok, tt.path), tt.category)
			srv.Clock().Advance(time.Second)
			if r := get(t, srv, tok, tt.path); r.status != 200 {
				t.Errorf("after a second: %d", r.status)
			}
		})
	}
}

func TestPerSecondModes(t *testing.T) {
	three := map[string]zoomtest.Rate{zoomtest.Medium: {N: 3, Per: time.Second}}
	tests := []struct {
		mode        zoomtest.RateMode
		afterHalf   int // admitted after 0.5 s
		afterSecond int // admitted after one more 0.5 s
	}{
		{zoomtest.TokenBucket, 1, 2}, // 1.5 tokens, then 0.5 + 1.5
		{zoomtest.FixedWindow, 0, 3}, // same window, then a new one
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(),
				zoomtest.WithLimits(zoomtest.Limits{Mode: tt.mode, Rate: three}))
			tok := token(t, srv, srv.Account())
			if ok, last := burst(t, srv, tok, mediumPath, 4); ok != 3 {
				t.Fatalf("burst: %d admitted, want 3", ok)
			} else {
				wantQPS(t, last, "Medium")
			}
			srv.Clock().Advance(500 * time.Millisecond)
			if ok, _ := burst(t, srv, tok, mediumPath, 3); ok != tt.afterHalf {
				t.Errorf("after 0.5s: %d admitted, want %d", ok, tt.afterHalf)
			}
			srv.Clock().Advance(500 * time.Millisecond)
			if ok, _ := burst(t, srv, tok, mediumPath, 3); ok != tt.afterSecond {
				t.Errorf("after 1s: %d admitted, want %d", ok, tt.afterSecond)
			}
			if got := srv.RateLimited()["QPS"]; got == 0 {
				t.Error("no QPS 429 counted")
			}
		})
	}
}

// attendedPath is issue 14's meetings attended: the Heavy report.
const attendedPath = "/report/users/" + zoomtest.JaneEmail + "/meetings?type=pastJoined&from=2026-02-15&to=2026-03-14"

func TestDailyLimit(t *testing.T) {
	fast := map[string]zoomtest.Rate{zoomtest.Light: {N: 1000, Per: time.Second}, zoomtest.Heavy: {N: 1000, Per: time.Second}, zoomtest.Medium: {N: 1000, Per: time.Second}}
	tests := []struct {
		name     string
		plan     zoomtest.Plan
		limits   zoomtest.Limits
		path     string
		category string
		cap      int
		other    string // a path in another category that must still pass
	}{
		{"free light", zoomtest.Free, zoomtest.Limits{Rate: fast, Daily: map[string]int{zoomtest.Light: 5}}, lightPath, "Light", 5, mediumPath},
		{"business heavy shared cap", zoomtest.Business, zoomtest.Limits{Rate: fast, Daily: map[string]int{zoomtest.Heavy: 3}}, heavyPath, "Heavy", 3, lightPath},
		{"business RI override sets the shared cap", zoomtest.Business, zoomtest.Limits{Rate: fast, Daily: map[string]int{zoomtest.ResourceIntensive: 2}}, heavyPath, "Heavy", 2, mediumPath},
		{"heavy cap during meetings attended", zoomtest.Business, zoomtest.Limits{Rate: fast, Daily: map[string]int{zoomtest.Heavy: 3}}, attendedPath, "Heavy", 3, "/phone/users/" + zoomtest.JaneEmail + "/sms/sessions"},
		{"pro heavy cap during meetings attended", zoomtest.Pro, zoomtest.Limits{Rate: fast, Daily: map[string]int{zoomtest.Heavy: 2}}, attendedPath, "Heavy", 2, "/meetings/meeting_summaries"},
		{"phone medium own cap", zoomtest.Business, zoomtest.Limits{PhoneDaily: map[string]int{zoomtest.Medium: 4}}, phonePath, "Medium", 4, mediumPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := zoomtest.NewServer(t, zoomtest.WithPlan(tt.plan), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(), zoomtest.WithLimits(tt.limits))
			tok := token(t, srv, srv.Account())
			for i := range tt.cap {
				r := get(t, srv, tok, tt.path)
				if r.status == 429 {
					t.Fatalf("call %d: 429 before the cap", i+1)
				}
				if got := r.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(tt.cap-i-1) {
					t.Errorf("call %d: X-RateLimit-Remaining %q, want %d", i+1, got, tt.cap-i-1)
				}
			}
			srv.Clock().Set(time.Date(2026, 3, 15, 23, 59, 59, 0, time.UTC))
			tok = token(t, srv, srv.Account())
			r := get(t, srv, tok, tt.path)
			h := r.header
			code, _ := zoomErr(t, r)
			if r.status != 429 || code != 429 || h.Get("X-RateLimit-Type") != "Daily-limit" || h.Get("X-RateLimit-Category") != tt.category ||
				h.Get("X-RateLimit-Limit") != strconv.Itoa(tt.cap) || h.Get("X-RateLimit-Remaining") != "0" ||
				h.Get("Retry-After") != "2026-03-16T00:00:00Z" {
				t.Errorf("over the cap: %d %d headers %v", r.status, code, h)
			}
			if d := h.Get("Date"); d != "Sun, 15 Mar 2026 23:59:59 GMT" {
				t.Errorf("Date %q, want the emulator clock", d)
			}
			if r := get(t, srv, tok, tt.other); r.status == 429 {
				t.Errorf("%s limited too: %v", tt.other, r.header)
			}
			srv.Clock().Advance(time.Second) // 00:00 UTC
			if r := get(t, srv, tok, tt.path); r.status == 429 {
				t.Errorf("after midnight: still 429 %v", r.header)
			}
			if got := srv.RateLimited(); got["Daily-limit"] != 1 {
				t.Errorf("RateLimited %v, want one Daily-limit", got)
			}
			var logged int
			for _, e := range srv.Log() {
				if e.RateLimit == "Daily-limit" && e.Status == 429 && e.Category == tt.category {
					logged++
				}
			}
			if logged != 1 {
				t.Errorf("%d Daily-limit entries in the log, want 1", logged)
			}
		})
	}
}

// TestPhoneBucketsIndependent: exhausting the general Medium bucket leaves
// the Phone Medium bucket untouched and the other way round, and accounts
// do not share buckets.
func TestPhoneBucketsIndependent(t *testing.T) {
	two := map[string]zoomtest.Rate{zoomtest.Medium: {N: 2, Per: time.Second}}
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(), zoomtest.WithLimits(zoomtest.Limits{Rate: two, PhoneRate: two}))
	tok := token(t, srv, srv.Account())
	if ok, last := burst(t, srv, tok, mediumPath, 3); ok != 2 {
		t.Fatalf("general: %d admitted", ok)
	} else {
		wantQPS(t, last, "Medium")
	}
	if ok, last := burst(t, srv, tok, phonePath, 3); ok != 2 {
		t.Errorf("phone after general exhausted: %d admitted, want 2", ok)
	} else {
		wantQPS(t, last, "Medium")
	}
	other := srv.Accounts()[3] // business, no Phone
	if r := get(t, srv, token(t, srv, other), "/users/"+other.ID+"/settings"); r.status == 429 {
		t.Errorf("another account shares the bucket")
	}
	var phone429, general429 int
	for _, e := range srv.Log() {
		if e.Status == 429 && e.Phone {
			phone429++
		} else if e.Status == 429 {
			general429++
		}
	}
	if phone429 != 1 || general429 != 1 {
		t.Errorf("429s: phone %d general %d, want 1 and 1", phone429, general429)
	}
}

func TestLimitsValidation(t *testing.T) {
	for _, l := range []zoomtest.Limits{
		{Mode: "sometimes"},
		{Rate: map[string]zoomtest.Rate{"Tiny": {N: 1, Per: time.Second}}},
		{Rate: map[string]zoomtest.Rate{zoomtest.Light: {N: 0, Per: time.Second}}},
		{Daily: map[string]int{zoomtest.Light: -1}},
	} {
		if _, err := zoomtest.New(zoomtest.WithLimits(l)); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}
