package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
)

// zoomPage returns a page of about size bytes shaped like Zoom's
// /users/{id}/recordings answer, with ids and text that vary like real data
// (zstd gets about 4:1 on it, not the 100:1 of repeated padding).
func zoomPage(rng *rand.Rand, size int) ([]byte, []string) {
	words := []string{"weekly", "sync", "roadmap", "review", "customer", "onboarding", "retro",
		"planning", "design", "incident", "all-hands", "interview", "budget", "quarterly", "demo"}
	type file struct {
		ID, MeetingID, RecordingStart, RecordingEnd, FileType, FileExtension string
		FileSize                                                             int64
		PlayURL, DownloadURL, Status, RecordingType                          string
	}
	type meeting struct {
		UUID      string
		ID        int64
		AccountID string
		HostID    string
		Topic     string
		Type      int
		StartTime string
		Timezone  string
		Duration  int
		TotalSize int64
		Files     []file `json:"recording_files"`
	}
	hex := func(n int) string {
		const digits = "0123456789abcdefABCDEF"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[rng.IntN(len(digits))]
		}
		return string(b)
	}
	var ms []meeting
	var ids []string
	for n := 0; n < size; {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(90*24*60)) * time.Minute)
		m := meeting{UUID: hex(22) + "==", ID: rng.Int64N(1e11), AccountID: "acct" + hex(18), HostID: hex(22),
			Topic: words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))] + " " + hex(4),
			Type:  2, StartTime: start.Format(time.RFC3339), Timezone: "Europe/Paris", Duration: 15 + rng.IntN(90),
			TotalSize: rng.Int64N(1 << 30)}
		for range 2 + rng.IntN(3) {
			id := hex(36)
			m.Files = append(m.Files, file{ID: id, MeetingID: m.UUID, RecordingStart: m.StartTime,
				RecordingEnd: start.Add(time.Duration(m.Duration) * time.Minute).Format(time.RFC3339),
				FileType:     "MP4", FileExtension: "MP4", FileSize: rng.Int64N(1 << 28),
				PlayURL:     "https://example.zoom.us/rec/play/" + hex(64),
				DownloadURL: "https://example.zoom.us/rec/download/" + hex(64),
				Status:      "completed", RecordingType: "shared_screen_with_speaker_view"})
		}
		b, _ := json.Marshal(m)
		n += len(b) + 1
		ms = append(ms, m)
		ids = append(ids, m.UUID)
	}
	body, _ := json.Marshal(map[string]any{"from": "2026-01-01", "to": "2026-01-31", "page_size": 300,
		"next_page_token": hex(32), "total_records": len(ms), "meetings": ms})
	return body, ids
}

// BenchmarkCommitPage measures the checkpoint: one ~23 KiB page and its
// cursor in one synced transaction. It reports p50 and p99 latency and
// commits per second. workers=8 commits from 8 goroutines at once, as
// concurrent sections do; nosync leaves out the fsyncs to show the CPU cost.
// Each case runs on a plain store and on one sealed under a master key.
func BenchmarkCommitPage(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	type body struct {
		b   []byte
		ids []string
	}
	var bodies []body
	var raw, packed int
	enc := func() *DB { db, _, _ := openTest(b); return db }()
	for range 16 {
		bb, ids := zoomPage(rng, 23<<10)
		bodies = append(bodies, body{bb, ids})
		p, _ := encodePayload(dsar.Page{Body: bb, IDs: ids})
		raw += len(p)
		packed += len(enc.enc.EncodeAll(p, nil))
	}
	b.Logf("page %d bytes raw, %d compressed", raw/len(bodies), packed/len(bodies))

	for _, bc := range []struct {
		workers int
		noSync  bool
		sealed  bool
	}{{1, false, false}, {1, false, true}, {8, false, false}, {8, false, true}, {1, true, false}, {1, true, true}} {
		workers := bc.workers
		name := fmt.Sprintf("workers=%d", workers)
		if bc.noSync {
			name += "/nosync" // our CPU cost alone, without the disk
		}
		name += map[bool]string{false: "/plain", true: "/sealed"}[bc.sealed]
		b.Run(name, func(b *testing.B) {
			db := openBench(b, bc.sealed)
			db.bolt.NoSync = bc.noSync
			ctx := b.Context()
			createTest(b, db)
			secs := dsar.Sections[:workers]
			var (
				mu   sync.Mutex
				lat  []time.Duration
				next atomic.Int64
			)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					sec := secs[w]
					part := dsar.PartsOf(sec)[0]
					var mine []time.Duration
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						bd := bodies[int(i)%len(bodies)]
						t0 := time.Now()
						err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{Body: bd.b, IDs: bd.ids},
							dsar.Cursor{PageToken: fmt.Sprint(i)}, false)
						mine = append(mine, time.Since(t0))
						if err != nil {
							b.Error(err)
							return
						}
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "commits/s")
			}
		})
	}
}

// fillStore writes, fast and without syncs, a store like one that has
// worked for a while: inFlight requests RUNNING or WAITING_QUOTA with half
// their sections collected, done requests COMPLETED, and pages stored pages
// spread evenly over all of them. It returns the in-flight ids.
func fillStore(tb testing.TB, path string, inFlight, done, pages int) []string {
	tb.Helper()
	ctx := context.Background()
	db, err := Open(path, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	db.bolt.NoSync = true // a fixture: the benchmark reopens it, synced
	rng := rand.New(rand.NewPCG(3, 4))
	var values [][]byte
	for range 64 {
		body, ids := zoomPage(rng, 23<<10)
		p, err := encodePayload(dsar.Page{Body: body, IDs: ids})
		if err != nil {
			tb.Fatal(err)
		}
		values = append(values, append([]byte{pageFormat, 0}, db.enc.EncodeAll(p, nil)...))
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids, live []string
	for i := range inFlight + done {
		id, err := dsar.NewID("eu1", base.Add(time.Duration(i)*time.Minute))
		if err != nil {
			tb.Fatal(err)
		}
		r := &dsar.Request{ID: id, Account: "acme", Email: fmt.Sprintf("user%d@example.com", i),
			Regulation: dsar.GDPR, IdempotencyKey: "k" + id, State: dsar.StateQueued}
		if _, _, err := db.CreateRequest(ctx, r, dsar.NewSections(id)); err != nil {
			tb.Fatal(err)
		}
		path := []dsar.State{dsar.StateRunning, dsar.StateWaitingQuota}
		if i >= inFlight {
			path = []dsar.State{dsar.StateRunning, dsar.StateAssembling, dsar.StateCompleted}
		} else {
			live = append(live, id)
		}
		for _, s := range path {
			if _, err := db.UpdateRequest(ctx, id, func(r *dsar.Request) error { r.State = s; return nil }); err != nil {
				tb.Fatal(err)
			}
		}
		ids = append(ids, id)
	}
	// Pages go to the windowed parts, where the volume is.
	heavy := []string{dsar.SectionCloudRecordings, dsar.SectionPhoneCallHistory, dsar.SectionMeetings}
	per := pages / len(ids)
	const batch = 2000
	for _, id := range ids {
		for start := 0; start < per; start += batch {
			err := db.bolt.Update(func(tx *bolt.Tx) error {
				pb := tx.Bucket(bucketPages)
				for j := start; j < min(start+batch, per); j++ {
					sec := heavy[j%len(heavy)]
					if err := pb.Put(pageKey(id, sec, dsar.PartsOf(sec)[0], uint64(j/len(heavy))), values[j%len(values)]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
		for k, sec := range heavy {
			n := int64(per / len(heavy))
			if k < per%len(heavy) {
				n++
			}
			_, err := db.UpdateSection(ctx, id, sec, func(s *dsar.Section) error {
				p := &s.Parts[0]
				p.Pages, p.Calls, p.Records = n, n, n*25
				p.Cursor = dsar.Cursor{Window: 3, From: "2025-10-01", To: "2025-10-31", PageToken: "tok"}
				s.State, s.Pages, s.Calls, s.Records = dsar.SectionRunning, n, n, n*25
				return nil
			})
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
	return live
}

// resume is the store's part of dsard's start-up: open, list the requests
// to resume and read their sections' cursors.
func resume(ctx context.Context, path string) (requests, parts int, err error) {
	db, err := Open(path, Options{})
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	f := dsar.RequestFilter{States: []dsar.State{dsar.StateRunning, dsar.StateWaitingQuota, dsar.StateAssembling}}
	for {
		list, next, err := db.ListRequests(ctx, f)
		if err != nil {
			return 0, 0, err
		}
		for _, r := range list {
			secs, err := db.Sections(ctx, r.ID)
			if err != nil {
				return 0, 0, err
			}
			for _, s := range secs {
				parts += len(s.Parts)
			}
			requests++
		}
		if next == "" {
			return requests, parts, nil
		}
		f.PageToken = next
	}
}

// BenchmarkResume measures resume on a store of 10 in-flight requests, 90
// completed ones and 100,000 pages (filled once per run, about 0.5 GB).
func BenchmarkResume(b *testing.B) {
	path := filepath.Join(b.TempDir(), "dsar.db")
	t0 := time.Now()
	live := fillStore(b, path, 10, 90, 100_000)
	b.Logf("filled in %v", time.Since(t0))
	db, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		b.Logf("file %d MiB, %d pages stored", tx.Size()>>20, tx.Bucket(bucketPages).Stats().KeyN)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	db.Close()
	wantParts := 0
	for _, s := range dsar.NewSections("x") {
		wantParts += len(s.Parts)
	}
	b.ResetTimer()
	for b.Loop() {
		n, parts, err := resume(b.Context(), path)
		if err != nil {
			b.Fatal(err)
		}
		if n != len(live) || parts != len(live)*wantParts {
			b.Fatalf("resumed %d requests with %d parts, want %d", n, parts, len(live))
		}
	}
}

// BenchmarkFsync times what the disk alone gives a bbolt commit: a 4 KiB
// write and an fdatasync, twice (data pages, then the meta page). The
// commit p99 cannot be lower than this one's.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		for j := range 2 {
			if _, err := f.WriteAt(buf, int64(i%256+j*256)*4096); err != nil {
				b.Fatal(err)
			}
			if err := syscall.Fdatasync(int(f.Fd())); err != nil {
				b.Fatal(err)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// openBench opens a new store, sealed under a master key or plain.
func openBench(b *testing.B, sealed bool) *DB {
	b.Helper()
	opts := Options{Clock: &testClock{t: t0}}
	if sealed {
		opts.MasterKey = testMasterKey
	}
	db, err := Open(filepath.Join(b.TempDir(), "dsar.db"), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// pagesSource gives bundle.Write the pages of a store and no media.
type pagesSource struct{ *DB }

func (pagesSource) Media(context.Context, string, func(dsar.MediaFile, io.Reader) error) error {
	return nil
}

// BenchmarkSealing compares a plain store and a sealed one holding the
// same pages, alternating between them on every iteration so that both
// see the same load of a shared machine. It reports for each the median
// ("p50") or p99 time and their ratio, sealed over plain:
//
//   - commit: CommitPage of a ~23 KiB page, synced (the checkpoint), p99;
//   - pages: reading 1,000 pages of ~23 KiB (Pages, the read path of
//     assembly), p50;
//   - bundle: writing the whole bundle from them (bundle.Write, signed, to
//     io.Discard), p50.
func BenchmarkSealing(b *testing.B) {
	const n = 1000
	sec, part := dsar.SectionCloudRecordings, dsar.PartRecordings
	rng := rand.New(rand.NewPCG(5, 6))
	var bodies [][]byte
	for range 64 {
		body, _ := zoomPage(rng, 23<<10)
		bodies = append(bodies, body)
	}
	var dbs [2]*DB // plain, sealed
	for i := range dbs {
		dbs[i] = openBench(b, i == 1)
		dbs[i].bolt.NoSync = true // filling only
		createTest(b, dbs[i])
		for j := range n {
			if err := dbs[i].CommitPage(b.Context(), "r1", sec, part, dsar.Page{Body: bodies[j%len(bodies)]}, dsar.Cursor{}, j == n-1); err != nil {
				b.Fatal(err)
			}
		}
		dbs[i].bolt.NoSync = false
	}
	// alternate runs fn on the plain store then the sealed one, b.N times,
	// and reports the q quantile of each and the ratio.
	alternate := func(b *testing.B, q float64, unit string, fn func(db *DB, i int) error) {
		var lat [2][]time.Duration
		for i := 0; b.Loop(); i++ {
			for k, db := range dbs {
				t0 := time.Now()
				if err := fn(db, i); err != nil {
					b.Fatal(err)
				}
				lat[k] = append(lat[k], time.Since(t0))
			}
		}
		var at [2]float64
		for k := range lat {
			slices.Sort(lat[k])
			at[k] = float64(lat[k][int(q*float64(len(lat[k])-1))].Microseconds()) / 1000
		}
		b.ReportMetric(at[0], "plain-"+unit)
		b.ReportMetric(at[1], "sealed-"+unit)
		b.ReportMetric(at[1]/at[0], "sealed/plain")
	}
	b.Run("commit", func(b *testing.B) {
		alternate(b, 0.99, "p99-ms", func(db *DB, i int) error {
			return db.CommitPage(b.Context(), "r1", dsar.SectionMeetings, dsar.PartPrevious,
				dsar.Page{Body: bodies[i%len(bodies)]}, dsar.Cursor{PageToken: fmt.Sprint(i)}, false)
		})
	})
	b.Run("pages", func(b *testing.B) {
		alternate(b, 0.5, "p50-ms", func(db *DB, _ int) error {
			got := 0
			err := db.Pages(b.Context(), "r1", sec, part, func(dsar.Page) error { got++; return nil })
			if err == nil && got != n {
				err = fmt.Errorf("read %d pages of %d", got, n)
			}
			return err
		})
	})
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	var ins [2]bundle.Input
	for i, db := range dbs {
		s, err := db.Section(b.Context(), "r1", sec)
		if err != nil {
			b.Fatal(err)
		}
		r, err := db.Request(b.Context(), "r1")
		if err != nil {
			b.Fatal(err)
		}
		// Zoom's list field of recordings is "meetings" (zoomPage).
		ins[i] = bundle.Input{Request: r, Version: "bench",
			Sections: []bundle.Section{{Section: s, Lists: map[string]string{part: "meetings"}}}}
	}
	b.Run("bundle", func(b *testing.B) {
		alternate(b, 0.5, "p50-ms", func(db *DB, _ int) error {
			in := ins[0]
			if db == dbs[1] {
				in = ins[1]
			}
			_, err := bundle.Write(b.Context(), io.Discard, in, pagesSource{db}, key)
			return err
		})
	})
}

// BenchmarkSectionsMedia measures Sections, which dsard reads for every
// Get and every update of a Watch, on a request with n media files
// recorded: it reads the counts CommitMedia keeps in the section, not the
// media records.
func BenchmarkSectionsMedia(b *testing.B) {
	for _, n := range []int{0, 1_000, 10_000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			db, _, _ := openTest(b)
			createTest(b, db)
			db.bolt.NoSync = true // filling only
			for i := range n {
				f := dsar.MediaFile{Name: fmt.Sprintf("m%05d.mp4", i), Size: 1 << 20, SHA256: sum("x"), Done: true}
				if err := db.CommitMedia(b.Context(), "r1", dsar.SectionCloudRecordings, f); err != nil {
					b.Fatal(err)
				}
			}
			db.bolt.NoSync = false
			for b.Loop() {
				secs, err := db.Sections(b.Context(), "r1")
				if err != nil {
					b.Fatal(err)
				}
				if s := secs[slices.IndexFunc(secs, func(s dsar.Section) bool { return s.Name == dsar.SectionCloudRecordings })]; s.Media.FilesDone != int64(n) {
					b.Fatalf("%d files done, want %d", s.Media.FilesDone, n)
				}
			}
		})
	}
}

// BenchmarkListRequests lists 1,000 sealed requests with a filter that
// matches 10 of them (one account), as the metrics scrape and the
// processor's scans do: the filter reads the plain fields of each record.
func BenchmarkListRequests(b *testing.B) {
	const n, match = 1000, 10
	db := openBench(b, true)
	db.bolt.NoSync = true // filling only
	for i := range n {
		r := newRequest(fmt.Sprintf("r%04d", i), "", fmt.Sprintf("s%d@example.com", i))
		if i%(n/match) == 0 {
			r.Account = "other"
		}
		if _, _, err := db.CreateRequest(b.Context(), r, nil); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		reqs, _, err := db.ListRequests(b.Context(), dsar.RequestFilter{Account: "other", Limit: maxLimit})
		if err != nil {
			b.Fatal(err)
		}
		if len(reqs) != match || reqs[0].Email != "s900@example.com" {
			b.Fatalf("listed %d requests, the first of %q; want %d, s900@example.com", len(reqs), reqs[0].Email, match)
		}
	}
}
