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
// time, and compares every bundle with that of a clean run. Its phases:
// the clean run, the kills, the last request finished on a dsard that
// lives, and the comparison.
func runCrash(ctx context.Context, e *env) ([]row, error) {
	z, err := startZoomfake(ctx, e, "business")
	if err != nil {
		return nil, err
	}
	defer z.stop(5 * time.Second)
	dir, err := e.tempDir("crash")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()

	s := &crashState{z: z, acct: primaryAccount(z), dir: dir, data: filepath.Join(dir, "data")}
	clean, cleanTime, err := crashClean(ctx, e, z, s.acct, dir)
	if err != nil {
		return nil, fmt.Errorf("clean run: %w", err)
	}
	// Each kill comes at a random moment up to about half a clean
	// request's time after dsard serves, and at most 3 s, so that 50 kills
	// fit in a few minutes (a request spans several kills).
	maxDelay := min(max(cleanTime/2, 300*time.Millisecond), 3*time.Second)
	e.logf("crash: kill moments from seed %d; repeat them with -seed=%d", e.seed, e.seed)
	if err := s.killAll(ctx, e, newKillMoments(e.seed, maxDelay)); err != nil {
		return nil, err
	}
	if err := s.finishLast(ctx, e); err != nil {
		return nil, err
	}
	t, err := crashCompare(ctx, z, clean, s.runs)
	if err != nil {
		return nil, err
	}
	return t.rows(e, s), nil
}

// killMoments draws how long each dsard of the crash scenario serves
// before its kill, up to limit, from -seed: a seed repeats the plan, though
// where each kill lands still varies with the scheduler.
type killMoments struct {
	rng   *rand.Rand
	limit time.Duration
}

func newKillMoments(seed int64, limit time.Duration) *killMoments {
	return &killMoments{rng: rand.New(rand.NewPCG(uint64(seed), 0xd5a7)), limit: limit}
}

func (k *killMoments) next() time.Duration {
	return time.Duration(k.rng.Int64N(int64(k.limit))) + 20*time.Millisecond
}

// crashState is what the kill phase leaves for the comparison: the
// requests run, the one under way, and the bbolt checks after each kill.
type crashState struct {
	z             *zoomfake
	acct          []daemon.Account
	dir           string // the scenario's directory, where bundles are fetched
	data          string // dsard's data directory, the same across kills
	runs          []*crashRun
	cur           *crashRun // the request under way, nil between requests
	checkFailures int
	checkErr      error
}

// killAll launches dsard, keeps a request under way while it serves, and
// kills it, e.kills times; a kill that comes between requests does not
// count. After each kill, bbolt checks the store.
func (s *crashState) killAll(ctx context.Context, e *env, moments *killMoments) error {
	for kills := 0; kills < e.kills; {
		srv, err := launch(ctx, e, dsardConfig{dataDir: s.data, accounts: s.acct})
		if err != nil {
			return fmt.Errorf("after %d kills: %w", kills, err)
		}
		err = s.serveUntil(ctx, srv.c, time.Now().Add(moments.next()))
		srv.kill()
		if err != nil {
			return err
		}
		if s.cur == nil {
			continue // the request ended just before: this kill does not count
		}
		kills++
		n, err := s.z.logLen(ctx)
		if err != nil {
			return err
		}
		s.cur.kills = append(s.cur.kills, n-s.cur.from)
		// dsard is dead: the file lock is free for bbolt's check.
		if err := checkStore(filepath.Join(s.data, "dsar.db")); err != nil {
			s.checkFailures++
			s.checkErr = err
		}
	}
	return nil
}

// serveUntil keeps a request under way on c until deadline: it creates
// one when none is, and finishes it when it ends.
func (s *crashState) serveUntil(ctx context.Context, c *client, deadline time.Time) error {
	for time.Now().Before(deadline) {
		if s.cur == nil {
			from, err := s.z.logLen(ctx)
			if err != nil {
				return err
			}
			id, err := c.createJane(ctx, fmt.Sprintf("crash-%d", len(s.runs)))
			if err != nil {
				return err
			}
			s.cur = &crashRun{id: id, from: from}
		}
		r, err := c.api.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: s.cur.id})
		if err != nil {
			return err
		}
		if final(r.GetAccessRequest().GetState()) {
			if err := s.finish(ctx, c); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// finish waits for the request under way to end and records it, with its
// bundle if it completed.
func (s *crashState) finish(ctx context.Context, c *client) error {
	r, err := c.wait(ctx, s.cur.id, nil)
	if err != nil {
		return err
	}
	if s.cur.to, err = s.z.logLen(ctx); err != nil {
		return err
	}
	if r.GetState() == dsarv1.RequestState_REQUEST_STATE_COMPLETED {
		if _, s.cur.manifest, err = c.fetchBundle(ctx, s.cur.id, s.dir); err != nil {
			return err
		}
	}
	s.runs = append(s.runs, s.cur)
	s.cur = nil
	return nil
}

// finishLast lets the request the last kill interrupted finish on a
// dsard that lives.
func (s *crashState) finishLast(ctx context.Context, e *env) error {
	srv, err := launch(ctx, e, dsardConfig{dataDir: s.data, accounts: s.acct})
	if err != nil {
		return err
	}
	defer srv.stop()
	if s.cur == nil {
		return nil
	}
	return s.finish(ctx, srv.c)
}

// crashTally is the comparison of the crashed requests with the clean run.
type crashTally struct {
	runs, completed, identical int
	lost, dup                  int64
	refetched, excused         int // pages fetched again, and those a kill excuses
}

// crashCompare compares each crashed request's bundle with the clean one
// and counts, from the emulator's log, the pages it fetched again.
func crashCompare(ctx context.Context, z *zoomfake, clean *bundle.Manifest, runs []*crashRun) (crashTally, error) {
	t := crashTally{runs: len(runs)}
	if len(runs) == 0 {
		return t, nil
	}
	base := runs[0].from
	all, _, err := z.log(ctx, base)
	if err != nil {
		return t, err
	}
	for _, r := range runs {
		total, excused := refetches(all[r.from-base:r.to-base], r.kills)
		t.refetched, t.excused = t.refetched+total, t.excused+excused
		if r.manifest == nil {
			continue
		}
		t.completed++
		same, lost, dup := compareManifests(clean, r.manifest)
		if same {
			t.identical++
		}
		t.lost, t.dup = t.lost+lost, t.dup+dup
	}
	return t, nil
}

// rows gives the crash scenario's figures.
func (t crashTally) rows(e *env, s *crashState) []row {
	const sc = "crash"
	return []row{
		{scenario: sc, figure: "SIGKILLs / requests", value: fmt.Sprintf("%d kills over %d requests, %d COMPLETED", e.kills, t.runs, t.completed),
			goal: "all COMPLETED", verdict: judge(t.completed == t.runs)},
		{scenario: sc, figure: "bundles whose data entries match the clean run (SHA-256)", value: fmt.Sprintf("%d / %d", t.identical, t.completed), goal: "all", verdict: judge(t.identical == t.completed)},
		{scenario: sc, figure: "records lost / duplicated vs clean run", value: fmt.Sprintf("%d / %d", t.lost, t.dup), goal: "0 / 0", verdict: judge(t.lost == 0 && t.dup == 0)},
		{scenario: sc, figure: "completed pages refetched beyond in-flight", value: fmt.Sprint(t.refetched - t.excused), goal: "0", verdict: judge(t.refetched == t.excused),
			note: fmt.Sprintf("%d refetches in all, %d of them the last page of its cursor before a kill (in flight)", t.refetched, t.excused)},
		{scenario: sc, figure: "bbolt check after each kill", value: fmt.Sprintf("%d failed / %d", s.checkFailures, e.kills), goal: "0 failed", verdict: judge(s.checkFailures == 0),
			note: noteIf(s.checkErr != nil, fmt.Sprint(s.checkErr))},
	}
}

// crashClean runs one request without kills, on a data directory of its
// own under dir, and returns its manifest and duration.
func crashClean(ctx context.Context, e *env, z *zoomfake, acct []daemon.Account, dir string) (*bundle.Manifest, time.Duration, error) {
	srv, err := launch(ctx, e, dsardConfig{dataDir: filepath.Join(dir, "clean"), accounts: acct})
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
	_, m, err := srv.c.fetchBundle(ctx, id, dir)
	return m, took, err
}

// checkStore runs bbolt's consistency check on a store no process holds.
func checkStore(path string) error {
	key, err := daemon.StoreKey(filepath.Dir(path), "")
	if err != nil {
		return err
	}
	db, err := store.Open(path, store.Options{Timeout: 5 * time.Second, MasterKey: key})
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
