package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
)

// metrics are dsard's Prometheus metrics, in a registry of their own.
// Labels name accounts, rate-limit buckets (family "api" or "phone" and
// category "Medium"), sections, states and gRPC methods: never an email or
// a request id. Histogram buckets are written out as exact decimals, so
// that their le labels read as they are meant (0.3, not
// 0.30000000000000004 as a product of floats is).
type metrics struct {
	reg          *prometheus.Registry
	grpc         *grpcprom.ServerMetrics
	zoomCalls    *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	throttleWait *prometheus.HistogramVec
	sectionTime  *prometheus.HistogramVec
	bundleBytes  prometheus.Counter
	// skippedRecords counts request records that did not decode and were
	// left out of a list (the log names them by id), each once: lists run
	// at every scrape (dueRequests), so counting every skip would count
	// the scrapes.
	skippedRecords prometheus.Counter
	skippedMu      sync.Mutex
	skipped        map[string]bool // ids counted
	authFailures   *prometheus.CounterVec
	// authPeers are the peer addresses that have a label of their own.
	authPeersMu sync.Mutex
	authPeers   map[string]bool
}

// maxAuthPeers bounds the peer labels of dsar_auth_failures_total: past
// it, new addresses are counted under "other", so that a flood from many
// addresses cannot grow the metrics without bound.
const maxAuthPeers = 256

func newMetrics(store *store.DB) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		zoomCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_zoom_calls_total",
			Help: "Zoom API HTTP attempts by account, rate-limit category and HTTP status (\"error\" when there was no answer).",
		}, []string{"account", "family", "category", "status"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_zoom_rate_limited_total",
			Help: "Zoom 429 responses by account and X-RateLimit-Type (QPS, Daily-limit).",
		}, []string{"account", "type"}),
		throttleWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dsar_zoom_throttle_wait_seconds",
			Help:    "Time a Zoom call waited in the client's throttle, by account and rate-limit family and category.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"account", "family", "category"}),
		sectionTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dsar_section_duration_seconds",
			Help: "Time from a section's start to its end, by section and final state.",
			// 0.1 s times powers of 3, up to about 5 hours.
			Buckets: []float64{0.1, 0.3, 0.9, 2.7, 8.1, 24.3, 72.9, 218.7, 656.1, 1968.3, 5904.9, 17714.7},
		}, []string{"section", "state"}),
		bundleBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dsar_bundle_bytes_served_total",
			Help: "Bytes of bundles sent by DownloadBundle.",
		}),
		skippedRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dsar_store_skipped_records_total",
			Help: "Request records that did not decode and were skipped by a list, each counted once per process; the log names each by id. Run dsard check.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_auth_failures_total",
			Help: "Failed authentications by peer address (\"other\" past 256 addresses) and whether the peer was blocked for too many.",
		}, []string{"peer", "limited"}),
		authPeers: make(map[string]bool),
		skipped:   make(map[string]bool),
		// grpc_server_* by method and code; the handling time from 5 ms
		// (a Get) to 5 min (a large download).
		grpc: grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(
			[]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}))),
	}
	m.reg.MustRegister(m.zoomCalls, m.rateLimited, m.throttleWait, m.sectionTime, m.bundleBytes, m.skippedRecords, m.authFailures,
		m.grpc, &requestStates{store: store},
		collectors.NewBuildInfoCollector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe returns the zoomclient hook of one account.
func (m *metrics) observe(account string) func(zoomclient.Event) {
	return func(e zoomclient.Event) {
		family, cat := bucketLabels(e.Bucket.String())
		status := "error"
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		}
		m.zoomCalls.WithLabelValues(account, family, cat, status).Inc()
		if e.Status == 429 {
			typ := e.RateLimit
			if typ == "" {
				typ = "unknown"
			}
			m.rateLimited.WithLabelValues(account, typ).Inc()
		}
		m.throttleWait.WithLabelValues(account, family, cat).Observe(e.Wait.Seconds())
	}
}

// bucketLabels splits a rate-limit bucket's name (zoomclient.Bucket,
// "Medium" or "phone/Medium") into the family of APIs Zoom counts it in,
// "api" or "phone", and its category.
func bucketLabels(bucket string) (family, category string) {
	if c, ok := strings.CutPrefix(bucket, "phone/"); ok {
		return "phone", c
	}
	return "api", bucket
}

// skip counts request id's record as skipped, and reports whether it is
// the first time.
func (m *metrics) skip(id string) bool {
	m.skippedMu.Lock()
	defer m.skippedMu.Unlock()
	if m.skipped[id] {
		return false
	}
	m.skipped[id] = true
	m.skippedRecords.Inc()
	return true
}

// authFailed is rpc.Auth's OnFailure: it counts a failed authentication.
func (m *metrics) authFailed(peer string, limited bool) {
	m.authPeersMu.Lock()
	if !m.authPeers[peer] {
		if len(m.authPeers) < maxAuthPeers {
			m.authPeers[peer] = true
		} else {
			peer = "other"
		}
	}
	m.authPeersMu.Unlock()
	m.authFailures.WithLabelValues(peer, strconv.FormatBool(limited)).Inc()
}

// requestStates counts requests by state when scraped.
type requestStates struct{ store *store.DB }

var requestsDesc = prometheus.NewDesc("dsar_requests", "Access requests by state.", []string{"state"}, nil)

func (c *requestStates) Describe(ch chan<- *prometheus.Desc) { ch <- requestsDesc }

func (c *requestStates) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.store.CountByState(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(requestsDesc, err)
		return
	}
	for _, st := range dsar.States {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

// timedStore is the store with the duration of every section that ends
// observed as it is written. The processor stamps FinishedAt whenever a
// started section ends (COMPLETE, NOT_APPLICABLE or FAILED), so the
// duration needs no clock here.
type timedStore struct {
	dsar.Store
	m *metrics
}

func (s timedStore) UpdateSection(ctx context.Context, id, name string, fn func(*dsar.Section) error) (*dsar.Section, error) {
	var ended bool
	sec, err := s.Store.UpdateSection(ctx, id, name, func(sec *dsar.Section) error {
		before := sec.State
		if err := fn(sec); err != nil {
			return err
		}
		after := sec.State
		ended = before != after && (after.Done() || after == dsar.SectionFailed)
		return nil
	})
	if err == nil && ended && !sec.StartedAt.IsZero() && !sec.FinishedAt.IsZero() {
		s.m.sectionTime.WithLabelValues(sec.Name, string(sec.State)).Observe(sec.FinishedAt.Sub(sec.StartedAt).Seconds())
	}
	return sec, err
}

// breakerValues are the values of dsar_zoom_breaker_state, by
// dsar.BucketStatus.Breaker.
var breakerValues = map[string]float64{"closed": 0, "half-open": 1, "open": 2}

var breakerDesc = prometheus.NewDesc("dsar_zoom_breaker_state",
	"Circuit breaker of each rate-limit bucket an account has used: 0 closed, 1 half-open (one call probes Zoom), 2 open (Zoom kept failing; no call until the next probe).",
	[]string{"account", "family", "category"}, nil)

// breakers reports the breaker of every used bucket of every account when
// scraped; statuses returns the accounts' dsar.AccountStatus by name.
type breakers struct {
	statuses func() map[string]dsar.AccountStatus
}

func (c breakers) Describe(ch chan<- *prometheus.Desc) { ch <- breakerDesc }

func (c breakers) Collect(ch chan<- prometheus.Metric) {
	for account, st := range c.statuses() {
		for _, b := range st.Buckets {
			v, ok := breakerValues[b.Breaker]
			if !ok {
				ch <- prometheus.NewInvalidMetric(breakerDesc, fmt.Errorf("account %s bucket %s: unknown breaker state %q", account, b.Name, b.Breaker))
				continue
			}
			family, cat := bucketLabels(b.Name)
			ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, account, family, cat)
		}
	}
}

// dueSoon is how far ahead dsar_requests_due_soon looks.
const dueSoon = 7 * 24 * time.Hour

var (
	dueSoonDesc = prometheus.NewDesc("dsar_requests_due_soon",
		"Requests not final whose due date is within the next 7 days, by account.", []string{"account"}, nil)
	overdueDesc = prometheus.NewDesc("dsar_requests_overdue",
		"Requests not final whose due date has passed, by account: each will miss its due date.", []string{"account"}, nil)
)

// openStates are the states of requests not final.
var openStates = slices.DeleteFunc(slices.Clone(dsar.States), dsar.State.Final)

// requestLister lists requests: the store.
type requestLister interface {
	ListRequests(ctx context.Context, f dsar.RequestFilter) ([]dsar.Request, string, error)
}

// dueRequests reports, when scraped, the requests not final that are due
// soon and those past their due date, by account (every configured one,
// with zeros). A request not final past its due date will miss it: the
// first scan that finds it, at start or at a scrape, logs it by id and
// counts it in dsar_requests_missed_due_total, once per process. So the
// detection costs one list of the requests not final per scrape and
// nothing in the processor; a request that becomes overdue is noticed at
// the next scrape.
type dueRequests struct {
	store    requestLister
	accounts func() []string
	now      func() time.Time
	log      *slog.Logger
	missed   *prometheus.CounterVec
	atRisk   *prometheus.CounterVec // fed by the processor (flagged)

	mu   sync.Mutex      // serializes scans
	late map[string]bool // ids of the requests past due already logged
}

func newDueRequests(store requestLister, accounts func() []string, now func() time.Time, log *slog.Logger) *dueRequests {
	return &dueRequests{store: store, accounts: accounts, now: now, log: log, late: map[string]bool{},
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_requests_missed_due_total",
			Help: "Requests found not final past their due date, by account; each is logged by id, once per dsard process.",
		}, []string{"account"}),
		atRisk: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_requests_at_risk_total",
			Help: "Requests deferred when created, by account: the account could not promise to complete them by their due date; each is logged by id.",
		}, []string{"account"}),
	}
}

// flagged counts a request the processor deferred as it came
// (dsar.Config.AtRisk); the processor logs it.
func (d *dueRequests) flagged(r *dsar.Request, _ dsar.Estimate) {
	d.atRisk.WithLabelValues(r.Account).Inc()
}

// scan counts the requests not final due within dueSoon (soon) and past
// their due date (late) by account, and logs and counts those newly late.
func (d *dueRequests) scan(ctx context.Context) (soon, late map[string]int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	soon, late = map[string]int{}, map[string]int{}
	lateIDs := map[string]bool{}
	f := dsar.RequestFilter{States: openStates, DueBefore: now.Add(dueSoon), Limit: 1000, SkipEmail: true}
	for {
		reqs, next, err := d.store.ListRequests(ctx, f)
		if err != nil {
			return nil, nil, fmt.Errorf("list requests due soon: %w", err)
		}
		for _, r := range reqs {
			if !r.DueAt.Before(now) {
				soon[r.Account]++
				continue
			}
			late[r.Account]++
			lateIDs[r.ID] = true
			if !d.late[r.ID] {
				d.log.Warn("request not final past its due date: it will miss it", "request", r.ID, "account", r.Account,
					"state", string(r.State), "due", r.DueAt.UTC().Format(time.RFC3339))
				d.missed.WithLabelValues(r.Account).Inc()
			}
		}
		if next == "" {
			break
		}
		f.PageToken = next
	}
	d.late = lateIDs // forgets those final since
	return soon, late, nil
}

func (d *dueRequests) Describe(ch chan<- *prometheus.Desc) {
	ch <- dueSoonDesc
	ch <- overdueDesc
	d.missed.Describe(ch)
	d.atRisk.Describe(ch)
}

func (d *dueRequests) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	soon, late, err := d.scan(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(dueSoonDesc, err)
		ch <- prometheus.NewInvalidMetric(overdueDesc, err)
		return
	}
	accounts := map[string]bool{}
	for _, a := range d.accounts() {
		accounts[a] = true
		d.missed.WithLabelValues(a) // zero until the first
		d.atRisk.WithLabelValues(a)
	}
	for a := range soon {
		accounts[a] = true
	}
	for a := range late {
		accounts[a] = true
	}
	for _, a := range slices.Sorted(maps.Keys(accounts)) {
		ch <- prometheus.MustNewConstMetric(dueSoonDesc, prometheus.GaugeValue, float64(soon[a]), a)
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(late[a]), a)
	}
	d.missed.Collect(ch)
	d.atRisk.Collect(ch)
}
