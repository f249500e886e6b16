package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/daemon"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// crashRun is one request of the crash scenario and the kills it saw.
type crashRun struct {
	id       string
	from     int              // log index at its creation
	kills    []int            // log indexes at which dsard was killed, relative to from
	to       int              // log index once it was final
	manifest *bundle.Manifest // nil unless it ended COMPLETED
}

// runCrash kills dsard with SIGKILL at random moments of reference
// requests at Business limits, restarts it on the same data directory each
// time, and compares every bundle with that of a clean run.
func runCrash(ctx context.Context, e *env) ([]row, error) {
	z, err := startZoomfake(ctx, e, "business")
	if err != nil {
		return nil, err
	}
	defer z.stop(5 * time.Second)
	acct := primaryAccount(z)
	dir, err := e.tempDir("crash")
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()

	// The clean run.
	clean, cleanTime, err := crashClean(wctx, e, z, acct, filepath.Join(dir, "clean"))
	if err != nil {
		return nil, fmt.Errorf("clean run: %w", err)
	}

	// The runs with kills: each kill comes at a random moment up to about
	// half a clean request's time after dsard serves, and at most 3 s, so
	// that 50 kills fit in a few minutes (a request spans several kills).
	rng := rand.New(rand.NewPCG(uint64(e.seed), 0xd5a7))
	maxDelay := min(max(cleanTime/2, 300*time.Millisecond), 3*time.Second)
	data := filepath.Join(dir, "data")
	var runs []*crashRun
	var cur *crashRun
	checkFailures := 0
	var checkErr error
	finish := func(c *client) error {
		r, err := c.wait(wctx, cur.id, nil)
		if err != nil {
			return err
		}
		if cur.to, err = z.logLen(wctx); err != nil {
			return err
		}
		if r.GetState() == dsarv1.RequestState_REQUEST_STATE_COMPLETED {
			if _, cur.manifest, err = c.fetchBundle(wctx, cur.id); err != nil {
				return err
			}
		}
		runs = append(runs, cur)
		cur = nil
		return nil
	}
	for kills := 0; kills < e.kills; {
		srv, err := launch(wctx, e, dsardConfig{dataDir: data, accounts: acct})
		if err != nil {
			return nil, fmt.Errorf("after %d kills: %w", kills, err)
		}
		c := srv.c
		deadline := time.Now().Add(time.Duration(rng.Int64N(int64(maxDelay))) + 20*time.Millisecond)
		err = func() error {
			for time.Now().Before(deadline) {
				if cur == nil {
					from, err := z.logLen(wctx)
					if err != nil {
						return err
					}
					id, err := c.createJane(wctx, fmt.Sprintf("crash-%d", len(runs)))
					if err != nil {
						return err
					}
					cur = &crashRun{id: id, from: from}
				}
				r, err := c.api.GetAccessRequest(wctx, &dsarv1.GetAccessRequestRequest{Id: cur.id})
				if err != nil {
					return err
				}
				if final(r.GetAccessRequest().GetState()) {
					if err := finish(c); err != nil {
						return err
					}
					continue
				}
				select {
				case <-wctx.Done():
					return wctx.Err()
				case <-time.After(10 * time.Millisecond):
				}
			}
			return nil
		}()
		srv.kill()
		if err != nil {
			return nil, err
		}
		if cur == nil {
			continue // the request ended just before: this kill does not count
		}
		kills++
		n, err := z.logLen(wctx)
		if err != nil {
			return nil, err
		}
		cur.kills = append(cur.kills, n-cur.from)
		// dsard is dead: the file lock is free for bbolt's check.
		if err := checkStore(filepath.Join(data, "dsar.db")); err != nil {
			checkFailures++
			checkErr = err
		}
	}
	// Let the last request finish on a dsard that lives.
	srv, err := launch(wctx, e, dsardConfig{dataDir: data, accounts: acct})
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if cur != nil {
		if err := finish(srv.c); err != nil {
			return nil, err
		}
	}

	// Compare.
	completed, identical, lost, dup, refetched, excused := 0, 0, int64(0), int64(0), 0, 0
	var all []zoomtest.LogEntry
	base := 0
	if len(runs) > 0 {
		base = runs[0].from
		if all, _, err = z.log(wctx, base); err != nil {
			return nil, err
		}
	}
	for _, r := range runs {
		log := all[r.from-base : r.to-base]
		t, x := refetches(log, r.kills)
		refetched, excused = refetched+t, excused+x
		if r.manifest == nil {
			continue
		}
		completed++
		same, l, dd := compareManifests(clean, r.manifest)
		if same {
			identical++
		}
		lost, dup = lost+l, dup+dd
	}
	s := "crash"
	rows := []row{
		{scenario: s, figure: "SIGKILLs / requests", value: fmt.Sprintf("%d kills over %d requests, %d COMPLETED", e.kills, len(runs), completed),
			goal: "all COMPLETED", verdict: judge(completed == len(runs))},
		{scenario: s, figure: "bundles whose data entries match the clean run (SHA-256)", value: fmt.Sprintf("%d / %d", identical, completed), goal: "all", verdict: judge(identical == completed)},
		{scenario: s, figure: "records lost / duplicated vs clean run", value: fmt.Sprintf("%d / %d", lost, dup), goal: "0 / 0", verdict: judge(lost == 0 && dup == 0)},
		{scenario: s, figure: "completed pages refetched beyond in-flight", value: fmt.Sprint(refetched - excused), goal: "0", verdict: judge(refetched == excused),
			note: fmt.Sprintf("%d refetches in all, %d of them the last page of its cursor before a kill (in flight)", refetched, excused)},
		{scenario: s, figure: "bbolt check after each kill", value: fmt.Sprintf("%d failed / %d", checkFailures, e.kills), goal: "0 failed", verdict: judge(checkFailures == 0),
			note: noteIf(checkErr != nil, fmt.Sprint(checkErr))},
	}
	return rows, nil
}

// crashClean runs one request without kills and returns its manifest and
// duration.
func crashClean(ctx context.Context, e *env, z *zoomfake, acct []daemon.Account, data string) (*bundle.Manifest, time.Duration, error) {
	srv, err := launch(ctx, e, dsardConfig{dataDir: data, accounts: acct})
	if err != nil {
		return nil, 0, err
	}
	defer srv.stop()
	start := time.Now()
	id, r, err := srv.c.requestJane(ctx, "crash-clean", nil)
	if err != nil {
		return nil, 0, err
	}
	took := time.Since(start)
	if err := completed(r); err != nil {
		return nil, 0, err
	}
	_, m, err := srv.c.fetchBundle(ctx, id)
	return m, took, err
}

// checkStore runs bbolt's consistency check on a store no process holds.
func checkStore(path string) error {
	db, err := store.Open(path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	cerr := db.Check()
	if err := db.Close(); err != nil && cerr == nil {
		cerr = err
	}
	return cerr
}

// compareManifests compares the data entries of got with want by SHA-256,
// and the record counts of their sections.
func compareManifests(want, got *bundle.Manifest) (same bool, lost, dup int64) {
	sums := map[string]string{}
	for _, en := range want.Entries {
		if isData(en.Path) {
			sums[en.Path] = en.SHA256
		}
	}
	same = true
	n := 0
	for _, en := range got.Entries {
		if !isData(en.Path) {
			continue
		}
		n++
		if sums[en.Path] != en.SHA256 {
			same = false
		}
	}
	same = same && n == len(sums)
	recs := map[string]int64{}
	for _, s := range want.Sections {
		recs[s.Name] = s.Records
	}
	for _, s := range got.Sections {
		switch d := s.Records - recs[s.Name]; {
		case d > 0:
			dup += d
		case d < 0:
			lost -= d
		}
	}
	return same, lost, dup
}

func isData(p string) bool { return len(p) > 5 && p[:5] == "data/" }
