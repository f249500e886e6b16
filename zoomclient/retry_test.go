package zoomclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
// logical call, no call makes more than 5 attempts, and the calls that
// give up open the bucket's breaker: they fail with an *OutageError that
// names the next probe.
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
				var oe *OutageError
				if !errors.As(err, &oe) || !oe.Until.After(srv.Clock().Now()) {
					t.Fatalf("failure %v is not an outage with the next probe", err)
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

// retryCall is a kind of call that the one retry policy serves: an API
// call, or a file download. Both are in the general Phone Medium bucket,
// so that the emulator's rate limits reach them alike.
type retryCall struct {
	name  string
	route string // the emulator's name for the route, for scripted faults
	// call makes the call and returns what it got: the page's body or the
	// file's bytes.
	call func(ctx context.Context, c *Client) ([]byte, error)
}

// retryCalls returns an API call (a page of jane's phone recordings) and a
// download (one of those recordings) in the dataset of srv.
func retryCalls(t *testing.T, srv *zoomtest.Server) []retryCall {
	t.Helper()
	var file zoomtest.PhoneRecording
	for _, u := range srv.Dataset().Accounts[0].Users {
		if strings.EqualFold(u.Email, jane) && u.Phone != nil && len(u.Phone.Recordings) > 0 {
			file = u.Phone.Recordings[0]
		}
	}
	if file.ID == "" {
		t.Fatal("jane has no phone recording")
	}
	return []retryCall{
		{"API call", "GET /phone/users/{userId}/recordings", func(ctx context.Context, c *Client) ([]byte, error) {
			p, err := c.Page(ctx, EndpointPhoneRecordings, jane, c.Windows(EndpointPhoneRecordings)[0])
			return p.Body, err
		}},
		{"download", "GET /phone/recording/download/{fileId}", func(ctx context.Context, c *Client) ([]byte, error) {
			var b bytes.Buffer
			_, err := c.Download(ctx, c.api+"/phone/recording/download/"+file.ID, 0, &b, file.FileSize)
			return b.Bytes(), err
		}},
	}
}

// front stands between the client and the emulator: it records the Range
// header of every file request and, once armed, answers the next API or
// file request itself with a 401 of a code the emulator never sends.
type front struct {
	srv *zoomtest.Server

	mu     sync.Mutex
	refuse int      // Zoom code of the 401 to answer once; 0 for none
	ranges []string // Range header of each file request, "" for none
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if strings.Contains(r.URL.Path, "/download/") {
		f.ranges = append(f.ranges, r.Header.Get("Range"))
	}
	code := 0
	if r.URL.Path != "/oauth/token" {
		code, f.refuse = f.refuse, 0
	}
	f.mu.Unlock()
	if code != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"code":%d,"message":"Unauthorized request."}`, code)
		return
	}
	f.srv.ServeHTTP(w, r)
}

// TestRetryPolicy runs every case of the retry policy against an API call
// and a download: the same answers get the same treatment, in attempts
// made, tokens fetched and retry budget spent.
func TestRetryPolicy(t *testing.T) {
	phoneMedium := Bucket{Medium, true}
	perMinute := zoomtest.Limits{PhoneRate: map[string]zoomtest.Rate{zoomtest.Medium: {N: 1, Per: time.Minute}}}
	perHour := zoomtest.Limits{PhoneRate: map[string]zoomtest.Rate{zoomtest.Medium: {N: 1, Per: time.Hour}}}
	tests := []struct {
		name   string
		only   string // "API call" or "download" when the case has no meaning for the other
		limits zoomtest.Limits
		faults []zoomtest.Fault // scripted on the call's route
		refuse int              // the front answers 401 with this code
		on429  time.Duration    // a 429 moves the emulator clock on by this
		cfg    func(*Config)

		want     func(error) bool // nil: the call succeeds
		attempts int              // HTTP attempts of the call
		renewals int              // token requests during the call
		spent    float64          // retry budget spent by the call
	}{
		{name: "5xx", faults: []zoomtest.Fault{zoomtest.Fault500, zoomtest.Fault502, zoomtest.Fault503},
			attempts: 4, spent: 3},
		{name: "5xx until the attempts run out", faults: []zoomtest.Fault{zoomtest.Fault500, zoomtest.Fault503,
			zoomtest.Fault504, zoomtest.Fault500, zoomtest.Fault500, zoomtest.Fault500},
			want: fails(Unavailable), attempts: 5, spent: 4},
		{name: "5xx beyond the retry budget", faults: []zoomtest.Fault{zoomtest.Fault500, zoomtest.Fault500},
			cfg:  func(cfg *Config) { cfg.RetryReserve = 1 },
			want: fails(Unavailable), attempts: 2, spent: 1},
		{name: "connection reset", faults: []zoomtest.Fault{zoomtest.FaultReset}, attempts: 2, spent: 1},
		{name: "per-second 429", limits: perMinute, on429: time.Minute, attempts: 2},
		{name: "per-second 429 until the attempts run out", limits: perHour,
			want: fails(RateLimited), attempts: 5},
		{name: "Daily-limit 429", limits: zoomtest.Limits{PhoneDaily: map[string]int{zoomtest.Medium: 1}},
			want:     func(err error) bool { q, ok := IsQuota(err); return ok && q.Category == Medium && q.Phone },
			attempts: 1},
		{name: "401 code 124 renews the token once", faults: []zoomtest.Fault{zoomtest.FaultRevoke},
			attempts: 2, renewals: 1},
		{name: "401 code 124 after renewal", faults: []zoomtest.Fault{zoomtest.FaultRevoke, zoomtest.FaultRevoke},
			want: fails(Unauthorized), attempts: 2, renewals: 1},
		{name: "401 of another code", refuse: 200, want: fails(Unauthorized), attempts: 1},
		{name: "garbled body", only: "API call", faults: []zoomtest.Fault{zoomtest.FaultGarble, zoomtest.FaultTruncate},
			attempts: 3, spent: 2},
		{name: "resume with Range after a mid-body reset", only: "download",
			faults: []zoomtest.Fault{zoomtest.FaultReset}, attempts: 2, spent: 1},
	}
	// Every emulator of newServer holds the same dataset.
	calls := retryCalls(t, newServer(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rc := range calls {
				if tt.only != "" && tt.only != rc.name {
					continue
				}
				t.Run(rc.name, func(t *testing.T) {
					srv := newServer(t, zoomtest.WithLimits(tt.limits))
					f := &front{srv: srv}
					hs := httptest.NewServer(f)
					t.Cleanup(hs.Close)
					var mu sync.Mutex
					var events []Event
					c := newClient(t, srv, func(cfg *Config) {
						cfg.APIURL, cfg.TokenURL = hs.URL+"/v2", hs.URL+"/oauth/token"
						cfg.Observe = func(e Event) {
							mu.Lock()
							events = append(events, e)
							mu.Unlock()
							if e.Status == http.StatusTooManyRequests {
								srv.Clock().Advance(tt.on429)
							}
						}
						if tt.cfg != nil {
							tt.cfg(cfg)
						}
					})
					ctx := t.Context()
					// A clean call first: the answer to compare with, and
					// the one call the shrunk limits allow.
					clean, err := rc.call(ctx, c)
					if err != nil || len(clean) == 0 {
						t.Fatalf("clean call: %d bytes, %v", len(clean), err)
					}
					srv.SetFaults(zoomtest.Faults{Script: map[string][]zoomtest.Fault{rc.route: tt.faults}})
					f.mu.Lock()
					f.refuse, f.ranges = tt.refuse, nil
					f.mu.Unlock()
					mu.Lock()
					events = nil
					mu.Unlock()
					tokens, budget := count(srv, isToken), c.budget.tokens
					rate := c.Rate(phoneMedium)

					got, err := rc.call(ctx, c)

					switch {
					case tt.want == nil && (err != nil || !bytes.Equal(got, clean)):
						t.Errorf("err = %v, answer equal to the clean one %v; want the clean answer", err, bytes.Equal(got, clean))
					case tt.want != nil && !tt.want(err):
						t.Errorf("err = %v, not the error wanted", err)
					}
					var e *Error
					if errors.As(err, &e) && e.Attempts != tt.attempts {
						t.Errorf("Error.Attempts = %d, want %d", e.Attempts, tt.attempts)
					}
					mu.Lock()
					n := len(events)
					mu.Unlock()
					if n != tt.attempts {
						t.Errorf("%d HTTP attempts, want %d", n, tt.attempts)
					}
					if n := count(srv, isToken) - tokens; n != tt.renewals {
						t.Errorf("%d token requests, want %d", n, tt.renewals)
					}
					if spent := budget - c.budget.tokens; spent != tt.spent {
						t.Errorf("retry budget spent %v, want %v", spent, tt.spent)
					}
					if tt.limits.PhoneRate != nil {
						if r := c.Rate(phoneMedium); tt.on429 == 0 && r >= rate {
							t.Errorf("rate %.1f/s after per-second 429s, want below %.1f/s", r, rate)
						}
					}
					if _, ok := IsQuota(err); ok {
						// Blocked until the reset: the next call makes no request.
						if _, err := rc.call(ctx, c); err == nil {
							t.Error("a call after the Daily-limit succeeded")
						}
						mu.Lock()
						n := len(events)
						mu.Unlock()
						if n != tt.attempts {
							t.Errorf("%d HTTP attempts after the Daily-limit, want none", n-tt.attempts)
						}
					}
					if rc.name == "download" && tt.faults != nil && tt.faults[0] == zoomtest.FaultReset {
						checkResumed(t, f, int64(len(clean)))
					}
				})
			}
		})
	}
}

// checkResumed checks that a download cut mid-body asked for the rest
// only: a first request without Range, then one from inside the file.
func checkResumed(t *testing.T, f *front, size int64) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ranges) != 2 || f.ranges[0] != "" {
		t.Fatalf("Range headers %q, want none then one", f.ranges)
	}
	from, ok := strings.CutPrefix(f.ranges[1], "bytes=")
	n, err := strconv.ParseInt(strings.TrimSuffix(from, "-"), 10, 64)
	if !ok || err != nil || n <= 0 || n >= size {
		t.Errorf("resumed with Range %q, want bytes=N- inside the file of %d bytes", f.ranges[1], size)
	}
}

// fails returns a check that an error is an *Error of kind k.
func fails(k Kind) func(error) bool {
	return func(err error) bool { return isKind(err, k) }
}
