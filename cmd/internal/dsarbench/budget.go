package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// runBudget measures one reference request at Business and at Pro limits
// against T_min, the time the rate limits allow.
func runBudget(ctx context.Context, e *env) ([]row, error) {
	var rows []row
	for _, plan := range []string{"business", "pro"} {
		r, err := budgetOnce(ctx, e, plan)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", plan, err)
		}
	}
	return rows, nil
}

func budgetOnce(ctx context.Context, e *env, plan string) ([]row, error) {
	z, err := startZoomfake(ctx, e, plan)
	if err != nil {
		return nil, err
	}
	defer z.stop(5 * time.Second)
	lat, err := probeLatency(ctx, z)
	if err != nil {
		return nil, err
	}
	srv, err := serve(ctx, e, z, "budget-"+plan, primaryAccount(z))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	stopSampling := srv.d.samplePeaks(wctx)
	start := time.Now()
	_, r, err := srv.c.requestJane(wctx, "budget-"+plan, nil)
	peakHeap, _ := stopSampling()
	if err != nil {
		return nil, err
	}
	wall := time.Since(start)
	if err := completed(r); err != nil {
		return nil, err
	}
	log, _, err := z.log(ctx, srv.from)
	if err != nil {
		return nil, err
	}
	b := computeBudget(log, map[string]string{z.account.ID: plan}, lat)
	if b.u == nil {
		return nil, errors.New("the emulator logged no API calls")
	}
	var minCalls map[string]int
	if err := z.getJSON(ctx, "/_zoomfake/min_calls?user="+url.QueryEscape(zoomtest.JaneEmail), &minCalls); err != nil {
		return nil, err
	}
	made, least := callsAgainstMinimum(log, minCalls)
	s := "budget/" + plan
	ratio := wall.Seconds() / b.tmin.Seconds()
	achieved := b.u.rate() / b.limit
	tooMany := float64(b.tooMany) / float64(max(b.calls, 1))
	rows := []row{
		{scenario: s, figure: "API calls by bucket", value: bucketSummary(b.buckets, plan)},
		{scenario: s, figure: "wall time / T_min", value: fmt.Sprintf("%s / %s = %.2f", secs(wall), secs(b.tmin), ratio),
			goal: "≤ 1.10 (+1 s)", verdict: judge(wall <= time.Duration(1.10*float64(b.tmin))+time.Second),
			note: fmt.Sprintf("T_min = %d %s calls / (%.1f/s) + chain of %d pages × %s measured latency", b.u.calls, b.binding, b.limit, b.chain, lat.Round(10*time.Microsecond))},
		{scenario: s, figure: "calls made / the fewest the data needs", value: fmt.Sprintf("%d / %d = %.2f", made, least, float64(made)/float64(max(least, 1))),
			goal: "≤ 1.05", verdict: judge(float64(made) <= 1.05*float64(least)),
			note: "the fewest: Zoom's largest pages, one call per window Zoom requires, each item and file once (the emulator's MinCalls); Team Chat's files are left out of both, since the account's policy downloads only those of the messages it keeps"},
		{scenario: s, figure: "binding bucket achieved / configured rate", value: fmt.Sprintf("%s: %.1f/s / %.1f/s = %.2f", b.binding, b.u.rate(), b.limit, achieved),
			goal: "≥ 0.9", verdict: judge(achieved >= 0.9)},
		{scenario: s, figure: "dsard peak Go heap", value: fmt.Sprintf("%.1f MiB", peakHeap/(1<<20)),
			goal: "≤ 128 MiB", verdict: judge(peakHeap <= 128<<20)},
		{scenario: s, figure: "429s we caused / calls", value: fmt.Sprintf("%d / %d = %s", b.tooMany, b.calls, pct(tooMany)),
			goal: "≤ 1 %", verdict: judge(tooMany <= 0.01)},
	}
	return rows, nil
}

// bucketSummary lists calls and achieved rates per bucket, busiest first.
func bucketSummary(m map[bucket]*usage, plan string) string {
	keys := make([]bucket, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b bucket) int { return m[b].calls - m[a].calls })
	var parts []string
	for _, k := range keys {
		u := m[k]
		parts = append(parts, fmt.Sprintf("%s %d calls at %.1f/s (limit %.0f/s)", k, u.calls, u.rate(), publishedRate(plan, k.phone, k.cat)))
	}
	return strings.Join(parts, "; ")
}

// probeLatency measures the median time of one page of meetings (300
// records) from the emulator, with a token of its own. Its calls come
// before the scenario's part of the log.
func probeLatency(ctx context.Context, z *zoomfake) (time.Duration, error) {
	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {z.account.ID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, z.url+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(z.account.ClientID, z.account.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := z.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("latency probe: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		return 0, fmt.Errorf("latency probe: no token (%s)", resp.Status)
	}
	var ds []time.Duration
	for range 5 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, z.url+"/v2/users/"+zoomtest.JaneEmail+"/meetings?type=previous_meetings&page_size=300", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		t := time.Now()
		resp, err := z.hc.Do(req)
		if err != nil {
			return 0, fmt.Errorf("latency probe: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("latency probe: %s", resp.Status)
		}
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	// Let the bucket refill before the scenario starts.
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(time.Second):
	}
	return ds[len(ds)/2], nil
}

// callsAgainstMinimum counts the API calls and file downloads of a log
// (a download's redirect and the fetch it leads to as one) and the fewest
// the emulator says the data needs, Team Chat's files left out of both.
func callsAgainstMinimum(log []zoomtest.LogEntry, least map[string]int) (made, fewest int) {
	for _, le := range log {
		if strings.HasPrefix(le.Path, "/rec/file/") || strings.HasPrefix(le.Path, chatFiles) ||
			strings.HasPrefix(le.Path, "/_zoomfake") || strings.HasPrefix(le.Path, "/oauth/") {
			continue
		}
		made++
	}
	for op, n := range least {
		if !strings.HasPrefix(op, "GET "+chatFiles) {
			fewest += n
		}
	}
	return made, fewest
}

// chatFiles is where Team Chat's files are downloaded: the emulator's
// minimum counts every file of the subject's conversations, of which the
// account's chat policy downloads only those of the messages it keeps, so
// both counts leave them out.
const chatFiles = "/file/chat/"
