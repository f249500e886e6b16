package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// fillPurgeTest stores two requests with pages, cursors and media: r1 is
// purged by the tests, r2 must keep everything.
func fillPurgeTest(t *testing.T, db *DB) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{"r1", "r2"} {
		if _, _, err := db.CreateRequest(ctx, newRequest(id, "k-"+id, "Jane.Doe@Example.com"), dsar.NewSections(id)); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			ids := []string{fmt.Sprintf("a%d", i)}
			next := dsar.Cursor{Window: 1, From: "2026-01-01", To: "2026-01-31", Item: "it", PageToken: fmt.Sprintf("tok%d", i), Refs: ids}
			if err := db.CommitPage(ctx, id, dsar.SectionCloudRecordings, dsar.PartRecordings,
				dsar.Page{Body: jsonPage(ids, 200), IDs: ids, Calls: 1}, next, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CommitMedia(ctx, id, dsar.SectionCloudRecordings, dsar.MediaFile{Name: "m/f.mp4", Size: 2, SHA256: sum("f"), Done: true}); err != nil {
			t.Fatal(err)
		}
	}
}

func countPages(t *testing.T, db *DB, id string) int {
	t.Helper()
	n := 0
	err := db.Pages(t.Context(), id, dsar.SectionCloudRecordings, dsar.PartRecordings, func(dsar.Page) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countPurges(t *testing.T, db *DB, id string) int {
	t.Helper()
	evs, err := db.Audit(t.Context(), dsar.AuditFilter{Request: id})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Action == dsar.ActionPurge {
			n++
		}
	}
	return n
}

func TestPurgeCollected(t *testing.T) {
	db, clock, _ := openTest(t)
	ctx := t.Context()
	fillPurgeTest(t, db)
	before, err := db.Section(ctx, "r1", dsar.SectionCloudRecordings)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	r, err := db.PurgeCollected(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Purge.CollectedAt.Equal(clock.Now()) || r.Purged() || r.Email == "" {
		t.Errorf("after PurgeCollected: purge %+v, email kept %v; want collected at %v, bundle and email kept", r.Purge, r.Email != "", clock.Now())
	}
	if n := countPages(t, db, "r1"); n != 0 {
		t.Errorf("%d pages left, want 0", n)
	}
	if m, err := db.Media(ctx, "r1"); err != nil || len(m) != 0 {
		t.Errorf("media records left: %v %v", m, err)
	}
	s, err := db.Section(ctx, "r1", dsar.SectionCloudRecordings)
	if err != nil {
		t.Fatal(err)
	}
	p, pb := s.Part(dsar.PartRecordings), before.Part(dsar.PartRecordings)
	if p.Cursor.PageToken != "" || p.Cursor.Refs != nil || p.Cursor.Item != "" {
		t.Errorf("cursor keeps page data: %+v", p.Cursor)
	}
	if p.Pages != 3 || s.Pages != 3 || s.Calls != before.Calls || p.Cursor.Window != 1 || p.Cursor.From != pb.Cursor.From ||
		p.Covered != pb.Covered || s.State != before.State {
		t.Errorf("section metadata changed: %+v, was %+v", s, before)
	}
	// The media counts outlive the media records.
	secs, err := db.Sections(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(secs, func(s dsar.Section) bool { return s.Name == dsar.SectionCloudRecordings }); i < 0 ||
		secs[i].Media.FilesDone != 1 || secs[i].Media.BytesDone != 2 {
		t.Errorf("media counts after the purge: %+v, want 1 file and 2 bytes done", secs)
	}
	// The other request keeps everything.
	if n := countPages(t, db, "r2"); n != 3 {
		t.Errorf("r2 has %d pages, want 3", n)
	}
	if m, _ := db.Media(ctx, "r2"); len(m) != 1 {
		t.Errorf("r2 has %d media records, want 1", len(m))
	}
	// Once is enough: a second call changes nothing and audits nothing.
	clock.Add(time.Hour)
	again, err := db.PurgeCollected(ctx, "r1")
	if err != nil || !again.Purge.CollectedAt.Equal(r.Purge.CollectedAt) {
		t.Errorf("second PurgeCollected: %+v %v", again, err)
	}
	if n := countPurges(t, db, "r1"); n != 1 {
		t.Errorf("%d purge events, want 1", n)
	}
	if _, err := db.PurgeCollected(ctx, "nope"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("PurgeCollected of an unknown request: %v, want not found", err)
	}
}

func TestPurgeRequest(t *testing.T) {
	db, clock, path := openTest(t)
	ctx := t.Context()
	fillPurgeTest(t, db)
	if _, err := db.PurgeRequest(ctx, "r1", " ", nil); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("PurgeRequest without a reason: %v, want invalid", err)
	}
	clock.Add(time.Hour)
	r, err := db.PurgeRequest(ctx, "r1", "retention: 30 days after completion", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := dsar.Purge{CollectedAt: clock.Now(), BundleAt: clock.Now(), Reason: "retention: 30 days after completion"}
	if r.Purge != want || r.Email != "" || !r.Purged() {
		t.Errorf("after PurgeRequest: purge %+v, email kept %v; want %+v and no email", r.Purge, r.Email != "", want)
	}
	if h := db.EmailHash(" jane.doe@example.COM"); r.EmailHash != h || !strings.HasPrefix(h, "hmac-sha256:") {
		t.Errorf("email hash %q, want %q", r.EmailHash, h)
	}
	if n := countPages(t, db, "r1"); n != 0 {
		t.Errorf("%d pages left, want 0", n)
	}
	stored, err := db.Request(ctx, "r1")
	if err != nil || stored.Purge != want || stored.Email != "" {
		t.Errorf("stored request: %+v %v", stored, err)
	}
	if n := countPurges(t, db, "r1"); n != 2 {
		t.Errorf("%d purge events, want 2 (collected data, bundle)", n)
	}
	// Idempotent.
	clock.Add(time.Hour)
	again, err := db.PurgeRequest(ctx, "r1", "deleted", nil)
	if err != nil || again.Purge != want {
		t.Errorf("second PurgeRequest: %+v %v", again, err)
	}
	if n := countPurges(t, db, "r1"); n != 2 {
		t.Errorf("%d purge events after a second purge, want 2", n)
	}
	// The platform's retry with its key still finds the purged request by
	// the hash; another address under the key is still a conflict.
	if got, created, err := db.CreateRequest(ctx, newRequest("r3", "k-r1", "JANE.DOE@example.com"), nil); err != nil || created || got.ID != "r1" {
		t.Errorf("retry after the purge: %v %v %v; want r1", got, created, err)
	}
	if _, _, err := db.CreateRequest(ctx, newRequest("r3", "k-r1", "other@example.com"), nil); dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("other email under a purged request's key: %v, want conflict", err)
	}
	// Listing by the address still finds it, by its hash, beside r2.
	if rs, _, err := db.ListRequests(ctx, dsar.RequestFilter{Email: " jane.doe@example.COM"}); err != nil || len(rs) != 2 || rs[1].ID != "r1" {
		t.Errorf("list by email after the purge: %v %v, want r2 and r1", rs, err)
	}
	// A purge cannot be undone or forged through UpdateRequest.
	if _, err := db.UpdateRequest(ctx, "r2", func(r *dsar.Request) error { r.Purge.Reason = "x"; return nil }); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("UpdateRequest changing the purge: %v, want invalid", err)
	}
	// r1's data key is gone with its bundle, r2's is not.
	if _, err := db.DataKey(ctx, "r1"); !errors.Is(err, ErrPurged) {
		t.Errorf("DataKey of the purged request: %v, want ErrPurged", err)
	}
	if _, err := db.DataKey(ctx, "r2"); err != nil {
		t.Errorf("DataKey of the other request: %v", err)
	}
	// No live record of r1 holds the address any more; r2's still does.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw := rawFile(t, path)
	for bucket, kv := range raw {
		for k, v := range kv {
			if strings.Contains(strings.ToLower(v), "jane.doe") && !strings.Contains(k, "r2") {
				t.Errorf("bucket %s key %q still holds the email", bucket, k)
			}
		}
	}
	db2, err := Open(path, Options{Clock: clock, MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := db2.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestEmailHashKeyed: the hash depends on the key, so that it cannot be
// computed from a list of addresses without it.
func TestEmailHashKeyed(t *testing.T) {
	a, b := emailHash([]byte("k1"), "jane@example.com"), emailHash([]byte("k2"), "jane@example.com")
	if a == b || a != emailHash([]byte("k1"), " JANE@example.com ") {
		t.Errorf("hashes %q %q: want one per key, the same for the same address in any case", a, b)
	}
}

// TestMigrateEmailHash runs the migration on request records of schema
// version 4, which have no hash: each gets the hash under the key of
// Open, and a purged record (no email) or a damaged one is left as it is.
func TestMigrateEmailHash(t *testing.T) {
	// Plain, as a store of schema version 4 was: Open seals it after the
	// migrations.
	db, err := Open(filepath.Join(t.TempDir(), "dsar.db"), Options{Clock: &testClock{t: t0}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	for _, id := range []string{"r1", "r2"} {
		if _, _, err := db.CreateRequest(ctx, newRequest(id, "", id+"@example.com"), nil); err != nil {
			t.Fatal(err)
		}
	}
	key := []byte("a key of the daemon")
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRequests)
		for _, id := range []string{"r1", "r2"} {
			var rec map[string]any
			if err := json.Unmarshal(rb.Get([]byte(id)), &rec); err != nil {
				return err
			}
			delete(rec, "email_hash")
			v, _ := json.Marshal(rec)
			if err := rb.Put([]byte(id), v); err != nil {
				return err
			}
		}
		if err := rb.Put([]byte("bad"), []byte("{not json")); err != nil {
			return err
		}
		return migrateEmailHash(tx, key)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		r, err := db.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := emailHash(key, id+"@example.com"); r.EmailHash != want {
			t.Errorf("%s: hash %q, want %q", id, r.EmailHash, want)
		}
	}
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRequests).Get([]byte("bad")); !bytes.Equal(v, []byte("{not json")) {
			t.Errorf("damaged record rewritten: %q", v)
		}
		return nil
	})
}

// TestPurgeKeepsManifest: PurgeRequest keeps the redacted manifest in its
// transaction, outside the data key it destroys; one that still holds the
// email is refused and purges nothing; a purge without one says so.
func TestPurgeKeepsManifest(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	fillPurgeTest(t, db)
	// A store of schema 5 written before the bucket existed.
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketManifests) }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Manifest(ctx, "r1"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("Manifest before the purge: %v, want not found", err)
	}
	leaky := []byte(`{"subject": "jane.doe@example.com", "request_id": "r1"}`)
	if _, err := db.PurgeRequest(ctx, "r1", "retention", leaky); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("PurgeRequest with the email in the manifest: %v, want invalid", err)
	}
	if r, err := db.Request(ctx, "r1"); err != nil || r.Purged() || r.Email == "" || countPages(t, db, "r1") != 3 {
		t.Errorf("a refused purge changed the request: purged %v, err %v", r.Purged(), err)
	}

	manifest := []byte(fmt.Sprintf(`{"subject": %q, "request_id": "r1"}`, db.EmailHash("jane.doe@example.com")))
	if r, err := db.PurgeRequest(ctx, "r1", "retention", manifest); err != nil || !r.Purge.Manifest {
		t.Fatalf("PurgeRequest with a manifest: purge %+v, %v; want it to say one is kept", r.Purge, err)
	}
	if _, err := db.DataKey(ctx, "r1"); !errors.Is(err, ErrPurged) {
		t.Fatalf("DataKey after the purge: %v, want it destroyed", err)
	}
	got, err := db.Manifest(ctx, "r1")
	if err != nil || !bytes.Equal(got, manifest) {
		t.Errorf("Manifest after the purge: %q %v, want %q", got, err, manifest)
	}
	if bytes.Contains(bytes.ToLower(got), []byte("example.com")) {
		t.Error("the kept manifest holds the email")
	}
	// A second purge keeps the first manifest.
	if _, err := db.PurgeRequest(ctx, "r1", "deleted", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if again, _ := db.Manifest(ctx, "r1"); !bytes.Equal(again, manifest) {
		t.Errorf("a second purge replaced the manifest with %q", again)
	}

	if r, err := db.PurgeRequest(ctx, "r2", "deleted", nil); err != nil || r.Purge.Manifest {
		t.Fatalf("PurgeRequest without a manifest: purge %+v, %v; want none kept", r.Purge, err)
	}
	if _, err := db.Manifest(ctx, "r2"); dsar.ErrorCode(err) != dsar.ENOTFOUND || !strings.Contains(err.Error(), "keeps no manifest") {
		t.Errorf("Manifest of a request purged without one: %v, want not found", err)
	}
	evs, err := db.Audit(ctx, dsar.AuditFilter{Request: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(ev dsar.AuditEvent) bool {
		return ev.Action == dsar.ActionPurge && strings.Contains(ev.Detail, "no manifest kept")
	}) {
		t.Errorf("no audit event says that r2 keeps no manifest: %+v", evs)
	}
	if _, err := db.Manifest(ctx, "nope"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("Manifest of an unknown request: %v, want not found", err)
	}
}
