package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// updateFixture rewrites testdata/schema<SchemaVersion>.db with the code of
// this build: go test ./store -run TestSchemaFixture -update-fixture.
// The fixtures of older versions are kept as written by their builds.
var updateFixture = flag.Bool("update-fixture", false, "write testdata/schema<SchemaVersion>.db")

// fixturePath is the fixture written by the build of schema version v.
func fixturePath(v int) string { return filepath.Join("testdata", fmt.Sprintf("schema%d.db", v)) }

// fixtureParts are the sections and parts a request had when the fixtures
// were written; sections added since are not in them.
var fixtureParts = map[string][]string{
	dsar.SectionProfile:          {dsar.PartUser, dsar.PartAssistants, dsar.PartSchedulers},
	dsar.SectionSettings:         {dsar.SectionSettings},
	dsar.SectionMeetings:         {dsar.PartScheduled, dsar.PartUpcoming, dsar.PartPrevious},
	dsar.SectionWebinars:         {dsar.SectionWebinars},
	dsar.SectionCloudRecordings:  {dsar.PartRecordings, dsar.PartTrash},
	dsar.SectionPhoneProfile:     {dsar.SectionPhoneProfile},
	dsar.SectionPhoneSettings:    {dsar.SectionPhoneSettings},
	dsar.SectionPhoneCallHistory: {dsar.SectionPhoneCallHistory},
	dsar.SectionPhoneVoicemails:  {dsar.SectionPhoneVoicemails},
	dsar.SectionPhoneRecordings:  {dsar.SectionPhoneRecordings},
}

// fixtureSections returns the new sections of a request as the fixtures'
// builds made them.
func fixtureSections(id string) []dsar.Section {
	var out []dsar.Section
	for _, s := range dsar.NewSections(id) {
		names, ok := fixtureParts[s.Name]
		if !ok {
			continue
		}
		s.Parts = nil
		for _, n := range names {
			s.Parts = append(s.Parts, dsar.Part{Name: n})
		}
		out = append(out, s)
	}
	return out
}

// buildFixture fills db with a few requests in different states, through
// the store's own methods only, so that it builds the same values with the
// code of any schema version. The clock moves a minute per step.
func buildFixture(t testing.TB, db *DB, clock *testClock) {
	t.Helper()
	ctx := dsar.WithActor(context.Background(), dsar.Actor{Name: "ops", Role: "admin"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	step := func() { clock.Add(time.Minute) }
	create := func(id, key string, reg dsar.Regulation) {
		t.Helper()
		r := &dsar.Request{ID: id, Account: "acme", Email: id + "@example.com", Regulation: reg,
			IdempotencyKey: key, State: dsar.StateQueued}
		_, _, err := db.CreateRequest(ctx, r, fixtureSections(id))
		must(err)
		step()
	}
	update := func(id string, fn func(*dsar.Request) error) {
		t.Helper()
		_, err := db.UpdateRequest(ctx, id, fn)
		must(err)
		step()
	}
	state := func(s dsar.State) func(*dsar.Request) error {
		return func(r *dsar.Request) error { r.State = s; return nil }
	}
	section := func(id, name string, fn func(*dsar.Section)) {
		t.Helper()
		_, err := db.UpdateSection(ctx, id, name, func(s *dsar.Section) error { fn(s); return nil })
		must(err)
		step()
	}
	page := func(id, sec, part string, p dsar.Page, next dsar.Cursor, done bool) {
		t.Helper()
		must(db.CommitPage(ctx, id, sec, part, p, next, done))
		step()
	}

	// A completed request: extended, leased and released, with pages in
	// windows (one fetched again, with dropped ids), media done and
	// missing, and its bundle.
	create("r-done", "key-done", dsar.GDPR)
	update("r-done", state(dsar.StateRunning))
	_, err := db.Claim(ctx, "r-done", "proc-1", clock.Now().Add(time.Hour))
	must(err)
	update("r-done", func(r *dsar.Request) error {
		r.ZoomUserID = "zu-123"
		return r.Extend(dsar.Actor{Name: "ops"}, "complex request", clock.Now(), 60)
	})
	section("r-done", dsar.SectionProfile, func(s *dsar.Section) {
		s.State, s.StartedAt = dsar.SectionRunning, clock.Now()
	})
	page("r-done", dsar.SectionProfile, dsar.PartUser,
		dsar.Page{Body: []byte(`{"id":"zu-123","type":1}`), IDs: []string{"zu-123"}, Calls: 2}, dsar.Cursor{}, true)
	section("r-done", dsar.SectionMeetings, func(s *dsar.Section) {
		s.State, s.StartedAt = dsar.SectionRunning, clock.Now()
		s.Part(dsar.PartPrevious).Cursor = dsar.Cursor{Window: 0, From: "2026-02-01", To: "2026-03-01"}
	})
	page("r-done", dsar.SectionMeetings, dsar.PartPrevious,
		dsar.Page{Body: []byte(`[{"id":"m1"},{"id":"m2"}]`), IDs: []string{"m1", "m2"}, Calls: 1},
		dsar.Cursor{Window: 0, From: "2026-02-01", To: "2026-03-01", PageToken: "tok-2"}, false)
	page("r-done", dsar.SectionMeetings, dsar.PartPrevious,
		dsar.Page{Body: []byte(`[{"id":"m2"},{"id":"m3"},{}]`), IDs: []string{"m2", "m3", ""}, Drop: []string{"m2"}, Calls: 3},
		dsar.Cursor{Window: 1, From: "2026-01-01", To: "2026-01-31"}, false)
	page("r-done", dsar.SectionMeetings, dsar.PartPrevious,
		dsar.Page{Body: []byte(`[]`), Calls: 1}, dsar.Cursor{Window: 2, From: "2025-12-01", To: "2025-12-31"}, true)
	section("r-done", dsar.SectionCloudRecordings, func(s *dsar.Section) {
		s.State, s.StartedAt = dsar.SectionRunning, clock.Now()
	})
	page("r-done", dsar.SectionCloudRecordings, dsar.PartRecordings,
		dsar.Page{Body: []byte(`{"meetings":[{"uuid":"u1"}]}`), IDs: []string{"u1"}, Calls: 1}, dsar.Cursor{}, true)
	must(db.CommitMedia(ctx, "r-done", dsar.SectionCloudRecordings, dsar.MediaFile{Name: "u1/a.mp4", Size: 1234,
		SHA256: strings.Repeat("ab", 32), Done: true, Calls: 2}))
	must(db.CommitMedia(ctx, "r-done", dsar.SectionCloudRecordings, dsar.MediaFile{Name: "u1/b.m4a",
		Missing: "3301: the file does not exist"}))
	section("r-done", dsar.SectionWebinars, func(s *dsar.Section) {
		s.State, s.Reason, s.ReasonCode = dsar.SectionNotApplicable, "Webinar plan is missing", 200
	})
	for _, name := range []string{dsar.SectionProfile, dsar.SectionMeetings, dsar.SectionCloudRecordings} {
		section("r-done", name, func(s *dsar.Section) { s.State, s.FinishedAt = dsar.SectionComplete, clock.Now() })
	}
	update("r-done", state(dsar.StateAssembling))
	update("r-done", func(r *dsar.Request) error {
		r.State = dsar.StateCompleted
		r.Bundle = dsar.Bundle{Path: "/var/lib/dsar/bundles/r-done.zip", Size: 98765,
			SHA256: strings.Repeat("cd", 32), KeyFingerprint: "SHA256:fixturekey", Finished: clock.Now()}
		return nil
	})
	must(db.Release(ctx, "r-done", "proc-1"))
	_, err = db.AppendAudit(ctx, dsar.AuditEvent{Request: "r-done", Action: dsar.ActionDownload, Detail: "bundle"})
	must(err)

	// A failed request: a section failed with Zoom's code, the request
	// with a reason, which stops its sections in progress.
	create("r-failed", "key-failed", dsar.CCPA)
	update("r-failed", state(dsar.StateRunning))
	section("r-failed", dsar.SectionSettings, func(s *dsar.Section) {
		s.State, s.StartedAt = dsar.SectionRunning, clock.Now()
	})
	section("r-failed", dsar.SectionProfile, func(s *dsar.Section) {
		s.State, s.Reason, s.ReasonCode, s.FinishedAt = dsar.SectionFailed, "Invalid access token.", 124, clock.Now()
	})
	update("r-failed", func(r *dsar.Request) error {
		r.State, r.Reason = dsar.StateFailed, "section profile failed"
		return nil
	})

	// A request parked until Zoom's daily quota resets, its lease held.
	create("r-wait", "", dsar.GDPR)
	update("r-wait", state(dsar.StateRunning))
	_, err = db.Claim(ctx, "r-wait", "proc-2", clock.Now().Add(2*time.Hour))
	must(err)
	section("r-wait", dsar.SectionPhoneCallHistory, func(s *dsar.Section) {
		s.State, s.StartedAt = dsar.SectionWaitingQuota, clock.Now()
		s.WaitingUntil = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		p := s.Part(dsar.SectionPhoneCallHistory)
		p.Cursor = dsar.Cursor{Window: 3, From: "2025-11-01", To: "2025-11-30", PageToken: "tok-9"}
	})
	update("r-wait", func(r *dsar.Request) error {
		r.State, r.WaitingUntil = dsar.StateWaitingQuota, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		return nil
	})

	// A request of a subject Zoom does not know.
	create("r-nouser", "key-nouser", dsar.CCPA)
	update("r-nouser", state(dsar.StateRunning))
	update("r-nouser", state(dsar.StateAssembling))
	update("r-nouser", func(r *dsar.Request) error {
		r.State, r.Outcome = dsar.StateCompleted, dsar.OutcomeNoZoomUser
		return nil
	})

	// An event of no request, by the system.
	_, err = db.AppendAudit(context.Background(), dsar.AuditEvent{Action: dsar.ActionDenied, Detail: "ListRequests: role viewer"})
	must(err)
}

// storeDump is everything a store holds, read through its methods, with
// the raw index buckets whose format the schema does not change.
type storeDump struct {
	Requests []dsar.Request
	Sections map[string][]dsar.Section
	Pages    map[string][]dsar.Page // by request/section/part
	Media    map[string][]dsar.MediaFile
	Audit    []dsar.AuditEvent
	Raw      map[string]map[string]string // bucket -> key -> value
}

func dumpStore(t testing.TB, db *DB) storeDump {
	t.Helper()
	ctx := context.Background()
	d := storeDump{Sections: map[string][]dsar.Section{}, Pages: map[string][]dsar.Page{},
		Media: map[string][]dsar.MediaFile{}, Raw: map[string]map[string]string{}}
	var err error
	d.Requests, _, err = db.ListRequests(ctx, dsar.RequestFilter{Limit: maxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Requests {
		secs, err := db.Sections(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		d.Sections[r.ID] = secs
		for _, s := range secs {
			for _, p := range s.Parts {
				k := r.ID + "/" + s.Name + "/" + p.Name
				err := db.Pages(ctx, r.ID, s.Name, p.Name, func(pg dsar.Page) error {
					d.Pages[k] = append(d.Pages[k], pg)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if d.Media[r.ID], err = db.Media(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if d.Audit, err = db.Audit(ctx, dsar.AuditFilter{Limit: maxLimit}); err != nil {
		t.Fatal(err)
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketIdem, bucketByState, bucketAuditReq} {
			m := map[string]string{}
			if err := tx.Bucket(name).ForEach(func(k, v []byte) error { m[string(k)] = string(v); return nil }); err != nil {
				return err
			}
			d.Raw[string(name)] = m
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// copyFile copies the fixture to a temp dir, where it may be migrated.
func copyFile(t testing.TB, src string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeFixture builds the fixture of this build's schema version and
// compacts it into testdata.
func writeFixture(t *testing.T) {
	db, clock, _ := openTest(t)
	buildFixture(t, db, clock)
	src := db.bolt
	dst := fixturePath(SchemaVersion)
	if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out, err := bolt.Open(dst, 0o600, &bolt.Options{PageSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if err := bolt.Compact(out, src, 0); err != nil {
		t.Fatal(err)
	}
	// bbolt grows a file in steps; the pages in use are enough.
	var size int64
	if err := out.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(dst, size); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaFixture opens the fixture written by the build of each schema
// version, migrating the older ones, and checks that it holds exactly what
// buildFixture stores with this build. Opened with the master key, the
// older ones (written plain) are sealed: their file no longer holds an
// email nor a page's text, not even in free pages.
func TestSchemaFixture(t *testing.T) {
	if *updateFixture {
		writeFixture(t)
	}
	fresh, clock, _ := openTest(t)
	buildFixture(t, fresh, clock)
	want := dumpStore(t, fresh)
	markers := []string{"@example.com", `"type":1`, `{"id":"m1"}`}
	for v := 1; v <= SchemaVersion; v++ {
		t.Run(fmt.Sprintf("schema%d", v), func(t *testing.T) {
			path := copyFile(t, fixturePath(v))
			if v < 5 {
				if found := rawFind(t, path, markers...); len(found) != len(markers) {
					t.Fatalf("the plain fixture holds %q of %q: the scan below proves nothing", found, markers)
				}
			}
			db, err := Open(path, Options{MasterKey: testMasterKey})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			compareDumps(t, dumpStore(t, db), want)
			if got := fileVersion(t, db); got != SchemaVersion {
				t.Errorf("schema version %d after Open, want %d", got, SchemaVersion)
			}
			if found := rawFind(t, path, markers...); len(found) > 0 {
				t.Errorf("the sealed file still holds %q", found)
			}
		})
	}
}

// rawFind returns the markers found in the raw bytes of the file at path.
func rawFind(t testing.TB, path string, markers ...string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, m := range markers {
		if bytes.Contains(b, []byte(m)) {
			found = append(found, m)
		}
	}
	return found
}

func fileVersion(t testing.TB, db *DB) uint32 {
	t.Helper()
	var v uint32
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint32(tx.Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// compareDumps reports every value of got that differs from want, after
// checking that want holds what buildFixture wrote (an empty dump must not
// pass).
func compareDumps(t *testing.T, got, want storeDump) {
	t.Helper()
	nPages := 0
	for _, ps := range want.Pages {
		nPages += len(ps)
	}
	if len(want.Requests) != 4 || nPages != 5 || len(want.Media["r-done"]) != 2 || len(want.Audit) != 16 ||
		len(want.Raw[string(bucketIdem)]) != 3 {
		t.Fatalf("the fixture built %d requests, %d pages, %d media files, %d audit events, %d keys; want 4, 5, 2, 16, 3",
			len(want.Requests), nPages, len(want.Media["r-done"]), len(want.Audit), len(want.Raw[string(bucketIdem)]))
	}
	diff := func(what string, g, w any) {
		t.Helper()
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
		}
	}
	if len(got.Requests) != len(want.Requests) {
		t.Errorf("%d requests, want %d", len(got.Requests), len(want.Requests))
	}
	for i := range min(len(got.Requests), len(want.Requests)) {
		diff("request "+want.Requests[i].ID, got.Requests[i], want.Requests[i])
	}
	for id, secs := range want.Sections {
		if len(got.Sections[id]) != len(secs) {
			t.Errorf("request %s: %d sections, want %d", id, len(got.Sections[id]), len(secs))
			continue
		}
		for i := range secs {
			diff("section "+id+"/"+secs[i].Name, got.Sections[id][i], secs[i])
		}
	}
	diff("pages", got.Pages, want.Pages)
	diff("media", got.Media, want.Media)
	if len(got.Audit) != len(want.Audit) {
		t.Errorf("%d audit events, want %d", len(got.Audit), len(want.Audit))
	}
	for i := range min(len(got.Audit), len(want.Audit)) {
		diff(fmt.Sprintf("audit event %d", want.Audit[i].Seq), got.Audit[i], want.Audit[i])
	}
	diff("index buckets", got.Raw, want.Raw)
}
