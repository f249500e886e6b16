package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/daemon"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// runScale runs 20 access requests at once on one account, then spread
// over four, and checks that the shared throttle keeps each account inside
// its limits.
func runScale(ctx context.Context, e *env) ([]row, error) {
	n, spreads := 20, []int{1, 4}
	if e.short {
		// The four accounts include a free one, whose 2/s Medium limit
		// takes most of a minute: -short keeps to one account.
		n, spreads = 6, []int{1}
	}
	var rows []row
	for _, accounts := range spreads {
		r, err := scaleOnce(ctx, e, n, accounts)
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("%d accounts: %w", accounts, err)
		}
	}
	return rows, nil
}

// subject is one request of the scale scenario.
type subject struct{ account, email string }

func scaleOnce(ctx context.Context, e *env, n, accounts int) ([]row, error) {
	z, err := startZoomfake(ctx, e, "business")
	if err != nil {
		return nil, err
	}
	defer z.stop(5 * time.Second)
	lat, err := probeLatency(ctx, z)
	if err != nil {
		return nil, err
	}
	// The emulator's data: the same name, seed and day give the same users.
	now, err := z.now(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := zoomtest.Generate(e.dataset(), zoomtest.GenerateOptions{Seed: e.seed, Start: now})
	if err != nil {
		return nil, err
	}
	if len(ds.Accounts) < accounts {
		return nil, fmt.Errorf("dataset has %d accounts, want %d", len(ds.Accounts), accounts)
	}
	var accts []daemon.Account
	plans := map[string]string{}
	for i, a := range ds.Accounts[:accounts] {
		accts = append(accts, zoomAccount(z, fmt.Sprintf("acct%d", i), string(a.Plan), a.Account))
		plans[a.ID] = string(a.Plan)
	}
	// Subjects: round robin over the accounts, each account's users in
	// order (jane first on the primary), repeating users when an account
	// has fewer than its share.
	var subs []subject
	for i := range n {
		a := ds.Accounts[i%accounts]
		subs = append(subs, subject{accts[i%accounts].Name, a.Users[(i/accounts)%len(a.Users)].Email})
	}
	srv, err := serve(ctx, e, z, "scale", accts)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	d, c, from := srv.d, srv.c, srv.from
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	stopSampling := d.samplePeaks(wctx)
	start := time.Now()
	states := make([]dsarv1.RequestState, len(subs))
	g, gctx := errgroup.WithContext(wctx)
	for i, s := range subs {
		g.Go(func() error {
			id, err := c.create(gctx, s.account, s.email, fmt.Sprintf("scale-%d", i))
			if err != nil {
				return err
			}
			r, err := c.wait(gctx, id, nil)
			if err != nil {
				return err
			}
			states[i] = r.GetState()
			return nil
		})
	}
	err = g.Wait()
	wall := time.Since(start)
	peakHeap, peakG := stopSampling()
	if err != nil {
		return nil, err
	}
	completed := 0
	for _, st := range states {
		if st == dsarv1.RequestState_REQUEST_STATE_COMPLETED {
			completed++
		}
	}
	log, _, err := z.log(ctx, from)
	if err != nil {
		return nil, err
	}
	b := computeBudget(log, plans, lat)
	if b.u == nil {
		return nil, errors.New("the emulator logged no API calls")
	}
	tooMany := float64(b.tooMany) / float64(max(b.calls, 1))
	s := fmt.Sprintf("scale/%d-account", accounts)
	if accounts > 1 {
		s += "s"
	}
	return []row{
		{scenario: s, figure: "requests COMPLETED", value: fmt.Sprintf("%d / %d", completed, len(subs)), goal: "all", verdict: judge(completed == len(subs))},
		{scenario: s, figure: "wall time / T_min (combined calls)", value: fmt.Sprintf("%s / %s = %.2f", secs(wall), secs(b.tmin), wall.Seconds()/b.tmin.Seconds()),
			goal: "≤ 1.15 (+1 s)", verdict: judge(wall <= time.Duration(1.15*float64(b.tmin))+time.Second),
			note: fmt.Sprintf("%d calls; binding bucket %s of %s: %d calls at %.1f/s, configured %.1f/s", b.calls, b.binding, planOf(plans, b.binding.account), b.u.calls, b.u.rate(), b.limit)},
		{scenario: s, figure: "429s we caused / calls", value: fmt.Sprintf("%d / %d = %s", b.tooMany, b.calls, pct(tooMany)), goal: "≤ 1 %", verdict: judge(tooMany <= 0.01)},
		{scenario: s, figure: "dsard peak Go heap / goroutines", value: fmt.Sprintf("%.1f MiB / %.0f", peakHeap/(1<<20), peakG)},
	}, nil
}

func planOf(plans map[string]string, account string) string { return plans[account] + " account" }
