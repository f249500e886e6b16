package daemon

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), storeName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestBucketLabels(t *testing.T) {
	for _, tc := range []struct {
		bucket           zoomclient.Bucket
		family, category string
	}{
		{zoomclient.Bucket{Category: zoomclient.Medium}, "api", "Medium"},
		{zoomclient.Bucket{Category: zoomclient.ResourceIntensive}, "api", "Resource-intensive"},
		{zoomclient.Bucket{Category: zoomclient.Light, Phone: true}, "phone", "Light"},
		{zoomclient.Bucket{Category: zoomclient.Heavy, Phone: true}, "phone", "Heavy"},
	} {
		family, category := bucketLabels(tc.bucket.String())
		if family != tc.family || category != tc.category {
			t.Errorf("bucketLabels(%q) = %q, %q; want %q, %q", tc.bucket.String(), family, category, tc.family, tc.category)
		}
	}
}

// TestHistogramBuckets checks that every histogram's upper bounds print as
// the decimals they are meant to be, and the section durations' exactly.
func TestHistogramBuckets(t *testing.T) {
	m := newMetrics(openStore(t))
	m.sectionTime.WithLabelValues("meetings", "COMPLETE").Observe(1)
	m.throttleWait.WithLabelValues("main", "api", "Medium").Observe(0)
	families, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	histograms := 0
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			h := mt.GetHistogram()
			if h == nil {
				continue
			}
			histograms++
			var les []string
			for _, b := range h.GetBucket() {
				le := strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)
				if len(le) > 8 {
					t.Errorf("%s: bucket le=%q is float noise", f.GetName(), le)
				}
				les = append(les, le)
			}
			if f.GetName() == "dsar_section_duration_seconds" {
				want := "0.1 0.3 0.9 2.7 8.1 24.3 72.9 218.7 656.1 1968.3 5904.9 17714.7"
				if got := strings.Join(les, " "); got != want {
					t.Errorf("section duration buckets %s, want %s", got, want)
				}
			}
		}
	}
	if histograms < 2 {
		t.Errorf("gathered %d histograms, want the 2 observed at least", histograms)
	}
}

func TestBreakerMetrics(t *testing.T) {
	c := breakers{statuses: func() map[string]dsar.AccountStatus {
		return map[string]dsar.AccountStatus{
			"main": {Buckets: []dsar.BucketStatus{
				{Name: "Medium", Breaker: "closed"},
				{Name: "phone/Light", Breaker: "open"},
				{Name: "Heavy", Breaker: "half-open"},
			}},
			"idle": {},
		}
	}}
	want := `
# HELP dsar_zoom_breaker_state Circuit breaker of each rate-limit bucket an account has used: 0 closed, 1 half-open (one call probes Zoom), 2 open (Zoom kept failing; no call until the next probe).
# TYPE dsar_zoom_breaker_state gauge
dsar_zoom_breaker_state{account="main",category="Heavy",family="api"} 1
dsar_zoom_breaker_state{account="main",category="Light",family="phone"} 2
dsar_zoom_breaker_state{account="main",category="Medium",family="api"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	bad := breakers{statuses: func() map[string]dsar.AccountStatus {
		return map[string]dsar.AccountStatus{"main": {Buckets: []dsar.BucketStatus{{Name: "Medium", Breaker: "ajar"}}}}
	}}
	if _, err := testutil.CollectAndLint(bad); err == nil {
		t.Error("an unknown breaker state was collected without an error")
	}
}

// emailsSeen counts the emails in the requests a lister returns.
type emailsSeen struct {
	requestLister
	n atomic.Int64
}

func (l *emailsSeen) ListRequests(ctx context.Context, f dsar.RequestFilter) ([]dsar.Request, string, error) {
	reqs, next, err := l.requestLister.ListRequests(ctx, f)
	for _, r := range reqs {
		if r.Email != "" {
			l.n.Add(1)
		}
	}
	return reqs, next, err
}

// TestDueRequests: the due metrics count the requests not final due soon
// and late by account, log and count each newly late one once, and open
// no subject's email.
func TestDueRequests(t *testing.T) {
	ctx := t.Context()
	db := openStore(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, r := range []dsar.Request{
		{ID: "late1", Account: "main", State: dsar.StateQueued, DueAt: now.Add(-time.Hour)},
		{ID: "soon1", Account: "main", State: dsar.StateRunning, DueAt: now.Add(48 * time.Hour)},
		{ID: "soon2", Account: "main", State: dsar.StateWaitingQuota, DueAt: now.Add(dueSoon - time.Minute)},
		{ID: "later", Account: "main", State: dsar.StateQueued, DueAt: now.Add(30 * 24 * time.Hour)},
		{ID: "donelate", Account: "main", State: dsar.StateCompleted, DueAt: now.Add(-24 * time.Hour)},
		{ID: "late2", Account: "gone", State: dsar.StateWaitingZoom, DueAt: now.Add(-2 * time.Hour)},
	} {
		r.Email, r.Regulation = "subject@example.com", dsar.GDPR
		if _, _, err := db.CreateRequest(ctx, &r, nil); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	lister := &emailsSeen{requestLister: db}
	d := newDueRequests(lister, func() []string { return []string{"main", "idle"} }, func() time.Time { return now },
		slog.New(slog.NewJSONHandler(logs, nil)))
	d.flagged(&dsar.Request{ID: "soon1", Account: "main"}, dsar.Estimate{AtRisk: true}) // as the processor does at creation
	const head = `
# HELP dsar_requests_at_risk_total Requests deferred when created, by account: the account could not promise to complete them by their due date; each is logged by id.
# TYPE dsar_requests_at_risk_total counter
dsar_requests_at_risk_total{account="idle"} 0
dsar_requests_at_risk_total{account="main"} 1
# HELP dsar_requests_due_soon Requests not final whose due date is within the next 7 days, by account.
# TYPE dsar_requests_due_soon gauge
dsar_requests_due_soon{account="gone"} 0
dsar_requests_due_soon{account="idle"} 0
dsar_requests_due_soon{account="main"} 2
# HELP dsar_requests_missed_due_total Requests found not final past their due date, by account; each is logged by id, once per dsard process.
# TYPE dsar_requests_missed_due_total counter
dsar_requests_missed_due_total{account="gone"} 1
dsar_requests_missed_due_total{account="idle"} 0
dsar_requests_missed_due_total{account="main"} 1
# HELP dsar_requests_overdue Requests not final whose due date has passed, by account: each will miss its due date.
# TYPE dsar_requests_overdue gauge
dsar_requests_overdue{account="gone"} 1
dsar_requests_overdue{account="idle"} 0
`
	// Twice: the second scrape logs and counts nothing new.
	for range 2 {
		if err := testutil.CollectAndCompare(d, strings.NewReader(head+`dsar_requests_overdue{account="main"} 1`+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"late1", "late2"} {
		if n := strings.Count(logs.String(), `"request":"`+id+`"`); n != 1 {
			t.Errorf("request %s logged %d times past its due date, want once", id, n)
		}
	}
	for _, id := range []string{"soon1", "soon2", "later", "donelate"} {
		if strings.Contains(logs.String(), `"request":"`+id+`"`) {
			t.Errorf("request %s logged as past its due date", id)
		}
	}
	if strings.Contains(logs.String(), "example.com") {
		t.Error("the log names the subject's email")
	}

	// Once late1 is final it is no longer overdue; the counter stays.
	if _, err := db.UpdateRequest(ctx, "late1", func(r *dsar.Request) error {
		r.State, r.Reason = dsar.StateCancelled, "withdrawn"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := testutil.CollectAndCompare(d, strings.NewReader(head+`dsar_requests_overdue{account="main"} 0`+"\n")); err != nil {
		t.Error(err)
	}
	if n := strings.Count(logs.String(), "past its due date"); n != 2 {
		t.Errorf("%d requests logged past their due date, want 2", n)
	}
	if n := lister.n.Load(); n > 0 {
		t.Errorf("the scans opened %d subjects' emails", n)
	}
}

func TestProbes(t *testing.T) {
	health := rpc.NewHealth()
	mux := http.NewServeMux()
	probes(mux, health.Serving)
	get := func(path string) int {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Code
	}
	for _, step := range []struct {
		name           string
		do             func()
		healthz, ready int
	}{
		{"starting", func() {}, 200, 503},
		{"serving", health.SetServing, 200, 200},
		{"shutting down", health.Shutdown, 200, 503},
	} {
		step.do()
		if got := get("/healthz"); got != step.healthz {
			t.Errorf("%s: /healthz %d, want %d", step.name, got, step.healthz)
		}
		if got := get("/readyz"); got != step.ready {
			t.Errorf("%s: /readyz %d, want %d", step.name, got, step.ready)
		}
	}
}
