package daemon

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
)

// metrics are dsard's Prometheus metrics, in a registry of their own.
// Labels name accounts, rate-limit buckets, sections and states: never an
// email or a request id.
type metrics struct {
	reg          *prometheus.Registry
	zoomCalls    *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	throttleWait *prometheus.HistogramVec
	sectionTime  *prometheus.HistogramVec
	bundleBytes  prometheus.Counter
	// skippedRecords counts request records that did not decode and were
	// left out of a list (the log names them by id).
	skippedRecords prometheus.Counter
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
		}, []string{"account", "category", "status"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_zoom_rate_limited_total",
			Help: "Zoom 429 responses by account and X-RateLimit-Type (QPS, Daily-limit).",
		}, []string{"account", "type"}),
		throttleWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dsar_zoom_throttle_wait_seconds",
			Help:    "Time a Zoom call waited in the client's throttle, by account and category.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"account", "category"}),
		sectionTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dsar_section_duration_seconds",
			Help:    "Time from a section's start to its end, by section and final state.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 12),
		}, []string{"section", "state"}),
		bundleBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dsar_bundle_bytes_served_total",
			Help: "Bytes of bundles sent by DownloadBundle.",
		}),
		skippedRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dsar_store_skipped_records_total",
			Help: "Request records that did not decode and were skipped by a list; the log names each by id. Run dsard check.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dsar_auth_failures_total",
			Help: "Failed authentications by peer address (\"other\" past 256 addresses) and whether the peer was blocked for too many.",
		}, []string{"peer", "limited"}),
		authPeers: make(map[string]bool),
	}
	m.reg.MustRegister(m.zoomCalls, m.rateLimited, m.throttleWait, m.sectionTime, m.bundleBytes, m.skippedRecords, m.authFailures,
		&requestStates{store: store},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe returns the zoomclient hook of one account.
func (m *metrics) observe(account string) func(zoomclient.Event) {
	return func(e zoomclient.Event) {
		cat := e.Bucket.String()
		status := "error"
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		}
		m.zoomCalls.WithLabelValues(account, cat, status).Inc()
		if e.Status == 429 {
			typ := e.RateLimit
			if typ == "" {
				typ = "unknown"
			}
			m.rateLimited.WithLabelValues(account, typ).Inc()
		}
		m.throttleWait.WithLabelValues(account, cat).Observe(e.Wait.Seconds())
	}
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
