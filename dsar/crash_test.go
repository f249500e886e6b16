package dsar_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// The crash test runs the processor in child processes (this test binary
// again, told so by crashChildEnv) against an emulator served by the
// parent, and kills them with SIGKILL.
const (
	crashChildEnv = "DSAR_CRASH_CHILD"
	crashDataSeed = 7 // the emulator's data, the same in every run
)

// The seed of TestCrash's kill plan is random and logged; the flag, or
// DSAR_CRASH_SEED where the flag cannot go (go test ./...), repeats a plan
// that failed. The moments of the timed kills still vary with the
// scheduler: a seed repeats the plan, not every interleaving.
var crashSeedFlag = flag.String("crash.seed", "", "seed of TestCrash's kill plan (default: $DSAR_CRASH_SEED, else random)")

// crashPoints are the named points where a crash matters, in the form of
// CRASH_KILL: a page fetched but not committed, a commit just made, a file
// downloaded and renamed but not recorded, the bundle being written. Every
// plan kills at each of them, first, so that none is left to chance. A
// point may name the one part it counts in: "fetch:2:phone_sms/messages"
// kills between the message pages of the SMS sessions, and likewise of
// Team Chat's conversations (first, while the first subject, who has both,
// still has them to fetch).
var crashPoints = []string{"fetch:2:" + dsar.SectionPhoneSMS + "/" + dsar.PartMessages, "fetch:2:" + dsar.SectionTeamChat + "/" + dsar.PartMessages,
	"fetch:1", "commit:1", "media:1", "assemble"}

// crashPlan returns the kills of TestCrash in order: the named points,
// then kills drawn from seed, at the named points or after a random time,
// up to n in all.
func crashPlan(seed uint64, n int) []string {
	plan := slices.Clone(crashPoints)
	rng := mrand.New(mrand.NewPCG(seed, crashDataSeed))
	for len(plan) < n {
		switch rng.IntN(5) {
		case 0:
			plan = append(plan, "fetch:"+strconv.Itoa(1+rng.IntN(3)))
		case 1:
			plan = append(plan, "commit:"+strconv.Itoa(1+rng.IntN(3)))
		case 2:
			plan = append(plan, "assemble")
		case 3:
			plan = append(plan, "media:"+strconv.Itoa(1+rng.IntN(2)))
		default:
			plan = append(plan, "after:"+strconv.Itoa(rng.IntN(150))+"ms")
		}
	}
	return plan
}

// crashSeed returns the seed the flag or else the environment gives, and
// whether one was given.
func crashSeed(flagValue, envValue string) (uint64, bool, error) {
	v, from := flagValue, "-crash.seed"
	if v == "" {
		v, from = envValue, "DSAR_CRASH_SEED"
	}
	if v == "" {
		return 0, false, nil
	}
	seed, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%s: want an unsigned integer, got %q", from, v)
	}
	return seed, true, nil
}

// TestCrash kills the processor at the named points where a crash matters
// (crashPoints) and then at random ones, restarts it each time, and checks
// after every kill that the store is consistent, and at the end that no
// committed page was fetched again and that every bundle holds exactly
// what an uninterrupted run collects.
func TestCrash(t *testing.T) {
	t.Parallel()
	kills := 50
	if testing.Short() {
		kills = 8
	}
	seed, given, err := crashSeed(*crashSeedFlag, os.Getenv("DSAR_CRASH_SEED"))
	if err != nil {
		t.Fatal(err)
	}
	if !given {
		seed = mrand.Uint64()
	}
	t.Logf("kill plan seed %d; repeat it with go test ./dsar -run '^TestCrash$' -crash.seed=%d", seed, seed)
	plan := crashPlan(seed, kills)
	// No rate limits (crashChild's client is unthrottled too): the kills
	// are what is tested, and the children go as fast as they can.
	srv := zoomtest.NewServer(t, zoomtest.WithDataset("reference"), zoomtest.WithSeed(crashDataSeed), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "signing.key")
	if err := os.WriteFile(keyFile, key.Seed(), 0o600); err != nil {
		t.Fatal(err)
	}
	a := srv.Account()
	child := func(dataDir, email, killAt string) *exec.Cmd {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(),
			crashChildEnv+"=1",
			"CRASH_DIR="+dataDir, "CRASH_EMAIL="+email, "CRASH_KILL="+killAt, "CRASH_KEY="+keyFile,
			"CRASH_API="+srv.APIURL, "CRASH_TOKEN_URL="+srv.TokenURL,
			"CRASH_ACCOUNT="+a.ID, "CRASH_CLIENT_ID="+a.ClientID, "CRASH_CLIENT_SECRET="+a.ClientSecret,
		)
		cmd.Stderr = os.Stderr
		return cmd
	}

	// Subjects with Phone data and many pages, jane first.
	subjects := []string{jane}
	for _, u := range srv.Dataset().Accounts[0].Users {
		if u.Phone != nil && u.Status == "active" && !strings.EqualFold(u.Email, jane) {
			subjects = append(subjects, u.Email)
		}
	}

	// A planned kill that does not come (the request ends first) is
	// planned again for the next run, on the next subject if need be.
	crashDir := filepath.Join(dir, "crashed")
	killed, done := 0, []string(nil)
	killedAt := map[string]int{} // kills by point: fetch, commit, media, assemble, after
	for _, email := range subjects {
		if killed >= len(plan) {
			break
		}
		seen := map[string]bool{}       // pages fetched for this subject so far
		allowed := 0                    // refetches the kills so far excuse
		allowedFiles := 0               // downloads begun again the kills so far excuse
		downloaded := map[string]bool{} // files whose download began, by id
		committed := map[string]bool{}  // files recorded done or missing, or whole on disk
		for run := 0; ; run++ {
			if run > 200 {
				t.Fatalf("subject %d did not complete after %d runs", len(done), run)
			}
			killAt := ""
			if killed < len(plan) {
				killAt = plan[killed]
			}
			from := len(srv.Log())
			cmd := child(crashDir, email, killAt)
			var timer *time.Timer
			if ms, ok := strings.CutPrefix(killAt, "after:"); ok {
				d, _ := time.ParseDuration(ms)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				timer = time.AfterFunc(d, func() { cmd.Process.Kill() })
				err = cmd.Wait()
			} else {
				err = cmd.Run()
			}
			if timer != nil {
				timer.Stop()
			}
			refetch, redownload := 0, 0
			for _, le := range srv.Log()[from:] {
				if id, ok := downloadID(le); ok {
					switch {
					case (le.Status != http.StatusOK && le.Status != http.StatusPartialContent) || le.Fault != "":
					case committed[id]:
						t.Errorf("run %d (%s) downloaded file %s again, which was recorded done or whole", run, killAt, id)
					case downloaded[id]:
						redownload++ // resumed after the kill
					}
					downloaded[id] = true
					continue
				}
				if le.Category == "" || le.Status != http.StatusOK || le.Fault != "" {
					continue
				}
				k := le.Path + "?" + le.Query
				if seen[k] {
					refetch++
				}
				seen[k] = true
			}
			if refetch > allowed {
				t.Errorf("run %d (%s) fetched %d committed pages again; the kill before excused %d", run, killAt, refetch, allowed)
			}
			// A file being downloaded at the kill is resumed: at most one
			// per download slot of each section running.
			if redownload > allowedFiles {
				t.Errorf("run %d (%s) downloaded %d unfinished files again; the kill before excused %d", run, killAt, redownload, allowedFiles)
			}
			allowed, allowedFiles = 0, 0
			running := checkStore(t, filepath.Join(crashDir, "dsar.db"))
			for id := range committedMedia(t, filepath.Join(crashDir, "dsar.db")) {
				committed[id] = true
			}
			// A file renamed to its name when the kill came is whole: it
			// must be recorded without a download.
			if b, err := os.ReadFile(filepath.Join(crashDir, "killed-at-media")); err == nil {
				committed[fileID(string(b))] = true
				os.Remove(filepath.Join(crashDir, "killed-at-media"))
			}
			if err == nil {
				done = append(done, email)
				break
			}
			if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child %s: %v", killAt, err)
			}
			killed++
			point, _, _ := strings.Cut(killAt, ":")
			killedAt[point]++
			// Each section running at the kill may have had one page in
			// flight, and the user lookup one more.
			allowed = running + 1
			allowedFiles = running * dsar.MediaWorkers
		}
	}
	if killed < len(plan) {
		t.Fatalf("only %d kills: the dataset ran out of subjects", killed)
	}

	// The same subjects, uninterrupted, in another store: the bundles'
	// data entries must be identical.
	cleanDir := filepath.Join(dir, "clean")
	for _, email := range done {
		if err := child(cleanDir, email, "").Run(); err != nil {
			t.Fatalf("clean run: %v", err)
		}
	}
	crashed, clean := dataEntries(t, crashDir, key.Public().(ed25519.PublicKey)), dataEntries(t, cleanDir, key.Public().(ed25519.PublicKey))
	if len(crashed) != len(done) || len(clean) != len(done) {
		t.Fatalf("%d crashed and %d clean bundles for %d subjects", len(crashed), len(clean), len(done))
	}
	for email, want := range clean {
		if got := crashed[email]; got != want {
			t.Errorf("subject %d: bundle data differs after crashes:\n got %s\nwant %s", indexOf(done, email), got, want)
		}
	}
	files := 0
	for _, entries := range clean {
		files += strings.Count(entries, "media/")
	}
	if files == 0 {
		t.Errorf("no media files in the bundles: media went untested")
	}
	for _, p := range crashPoints {
		point, _, _ := strings.Cut(p, ":")
		if killedAt[point] == 0 {
			t.Errorf("no kill at %s (kills by point: %v): it went untested", point, killedAt)
		}
	}
	t.Logf("%d kills over %d subjects, by point %v; %d media files", killed, len(done), killedAt, files)
}

// TestCrashPlan checks that a seed repeats TestCrash's kill plan, and that
// every plan kills at each named point whatever the seed.
func TestCrashPlan(t *testing.T) {
	tests := []struct {
		name      string
		flag, env string
		want      uint64
		wantGiven bool
		wantErr   bool
	}{
		{"none: random", "", "", 0, false, false},
		{"flag", "42", "", 42, true, false},
		{"environment", "", "43", 43, true, false},
		{"flag before environment", "42", "43", 42, true, false},
		{"not a number", "x", "", 0, false, true},
		{"negative", "", "-1", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed, given, err := crashSeed(tt.flag, tt.env)
			if (err != nil) != tt.wantErr || seed != tt.want || given != tt.wantGiven {
				t.Errorf("crashSeed(%q, %q) = %d, %t, %v; want %d, %t, error %t", tt.flag, tt.env, seed, given, err, tt.want, tt.wantGiven, tt.wantErr)
			}
		})
	}
	for _, n := range []int{0, 8, 50} {
		a, b := crashPlan(42, n), crashPlan(42, n)
		if !slices.Equal(a, b) {
			t.Errorf("seed 42, %d kills: two plans differ:\n%v\n%v", n, a, b)
		}
		if want := max(n, len(crashPoints)); len(a) != want {
			t.Errorf("seed 42, %d kills: %d in the plan, want %d", n, len(a), want)
		}
		if !slices.Equal(a[:len(crashPoints)], crashPoints) {
			t.Errorf("seed 42, %d kills: plan begins %v, want the named points %v", n, a[:len(crashPoints)], crashPoints)
		}
	}
	if a, b := crashPlan(42, 50), crashPlan(43, 50); slices.Equal(a, b) {
		t.Errorf("seeds 42 and 43 give the same plan %v: the seed is ignored", a)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// checkStore runs bbolt's consistency check on a store no process holds
// and returns how many sections were RUNNING.
func checkStore(t *testing.T, path string) int {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("bbolt check after kill: %v", err)
	}
	reqs, _, err := db.ListRequests(t.Context(), dsar.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, r := range reqs {
		secs, err := db.Sections(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secs {
			if s.State == dsar.SectionRunning {
				running++
			}
		}
	}
	return running
}

// dataEntries verifies every bundle of a store and returns, by subject,
// the paths and SHA-256 of its data entries.
func dataEntries(t *testing.T, dir string, pub ed25519.PublicKey) map[string]string {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "dsar.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reqs, _, err := db.ListRequests(t.Context(), dsar.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range reqs {
		if r.State != dsar.StateCompleted {
			t.Fatalf("request %s is %s", r.ID, r.State)
		}
		f, err := os.Open(r.Bundle.Path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := bundle.Verify(f, r.Bundle.Size, pub)
		f.Close()
		if err != nil {
			t.Fatalf("verify %s: %v", r.ID, err)
		}
		var b strings.Builder
		for _, e := range m.Entries {
			if strings.HasPrefix(e.Path, "data/") || strings.HasPrefix(e.Path, "media/") {
				fmt.Fprintf(&b, "%s=%s ", e.Path, e.SHA256[:12])
			}
		}
		out[r.Email] = b.String()
	}
	return out
}

// committedMedia returns the ids of the files recorded done or missing in
// a store no process holds.
func committedMedia(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reqs, _, err := db.ListRequests(t.Context(), dsar.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range reqs {
		files, err := db.Media(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			out[fileID(f.Name)] = true
		}
	}
	return out
}

// fileID is the Zoom id in a media file's name: its base name without the
// extension.
func fileID(name string) string {
	base := name[strings.LastIndexByte(name, '/')+1:]
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	return base
}

// downloadID returns the file id of a log entry that downloads a file's
// bytes (a cloud recording behind its signed link, a voicemail, a phone
// recording).
func downloadID(le zoomtest.LogEntry) (string, bool) {
	for _, prefix := range []string{"/rec/file/", "/v2/phone/voice_mails/download/", "/v2/phone/recording/download/"} {
		if id, ok := strings.CutPrefix(le.Path, prefix); ok {
			return id, true
		}
	}
	return "", false
}

// sampledZoom collects the first two media files of each page: the
// reference dataset's jane alone has 470 MB of them.
type sampledZoom struct{ dsar.Zoom }

func (z sampledZoom) Files(section, part string, page []byte) ([]dsar.MediaFile, error) {
	files, err := z.Zoom.Files(section, part, page)
	return files[:min(len(files), 2)], err
}

// crashChild runs one request to completion, or dies where CRASH_KILL
// says: "fetch:N" after the Nth fetched page (of the part named after a
// second colon, if one is), "commit:N" after the Nth
// commit, "media:N" after the Nth media file is downloaded and renamed but
// before it is recorded, "assemble" when the bundle is being written.
func crashChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seed, err := os.ReadFile(os.Getenv("CRASH_KEY"))
	if err != nil {
		return fail(err)
	}
	dir := os.Getenv("CRASH_DIR")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	db, err := store.Open(filepath.Join(dir, "dsar.db"), store.Options{})
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	c, err := zoomclient.New(zoomclient.Config{
		AccountID: os.Getenv("CRASH_ACCOUNT"), ClientID: os.Getenv("CRASH_CLIENT_ID"), ClientSecret: os.Getenv("CRASH_CLIENT_SECRET"),
		APIURL: os.Getenv("CRASH_API"), TokenURL: os.Getenv("CRASH_TOKEN_URL"), Limits: zoomclient.EveryBucket(1000),
	})
	if err != nil {
		return fail(err)
	}
	die := func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	var hooks dsar.Hooks
	kind, n, _ := strings.Cut(os.Getenv("CRASH_KILL"), ":")
	n, only, _ := strings.Cut(n, ":")
	limit, _ := strconv.Atoi(n)
	var count atomic.Int32
	at := func(section, part string) {
		if only != "" && section+"/"+part != only {
			return
		}
		if int(count.Add(1)) == limit {
			die()
		}
	}
	switch kind {
	case "fetch":
		hooks.AfterFetch = at
	case "commit":
		hooks.AfterCommit = at
	case "assemble":
		hooks.Assembling = die
	case "media":
		hooks.AfterDownload = func(_, name string) {
			if int(count.Add(1)) == limit {
				os.WriteFile(filepath.Join(dir, "killed-at-media"), []byte(name), 0o600)
				die()
			}
		}
	}
	media := &bundle.MediaDir{Dir: filepath.Join(dir, "media"), Key: testDataKey}
	p, err := dsar.NewProcessor(dsar.Config{
		Store:     db,
		Accounts:  map[string]dsar.Zoom{"main": sampledZoom{zoomclient.NewSource(c)}},
		Assembler: &bundle.Assembler{Store: db, Dir: filepath.Join(dir, "bundles"), Media: media, Key: ed25519.NewKeyFromSeed(seed), Version: "test"},
		Owner:     "crash",
		Media:     media,
		Hooks:     hooks,
	})
	if err != nil {
		return fail(err)
	}
	defer p.Close()
	if err := p.Start(ctx); err != nil {
		return fail(err)
	}
	email := os.Getenv("CRASH_EMAIL")
	r, err := p.Create(ctx, dsar.CreateInput{Email: email, Account: "main", IdempotencyKey: "crash-" + email})
	if err != nil {
		return fail(err)
	}
	ch, stop := p.Watch(r.ID)
	defer stop()
	for {
		r, _, err := p.Request(ctx, r.ID)
		if err != nil {
			return fail(err)
		}
		switch r.State {
		case dsar.StateCompleted:
			return 0
		case dsar.StateFailed, dsar.StateCancelled:
			return fail(fmt.Errorf("request %s: %s", r.State, r.Reason))
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
}
