package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// rawFile is every key and value of the bbolt file at path, by bucket.
func rawFile(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	out := map[string]map[string]string{}
	err = bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			m := map[string]string{}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error { m[string(k)] = string(v); return nil })
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func updateFile(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if err := bdb.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateAtomic fails the migration of the version 1 fixture part way,
// as a crash would stop it, and checks that the file is left as it was;
// the next Open migrates it, and the one after changes nothing.
func TestMigrateAtomic(t *testing.T) {
	path := copyFile(t, fixturePath(1))
	before := rawFile(t, path)
	errStop := errors.New("stopped")
	for _, after := range []int{1, 10, 30} {
		n := 0
		testHookMigrate = func() error {
			if n++; n == after {
				return errStop
			}
			return nil
		}
		db, err := Open(path, Options{})
		testHookMigrate = nil
		if err == nil {
			db.Close()
			t.Fatalf("Open succeeded though the migration stopped after %d records", after)
		}
		if !errors.Is(err, errStop) || !strings.Contains(err.Error(), path) {
			t.Errorf("Open: %v, want the migration's error naming the file", err)
		}
		if !maps.EqualFunc(rawFile(t, path), before, maps.Equal) {
			t.Fatalf("a migration stopped after %d records changed the file", after)
		}
	}

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := fileVersion(t, db); v != SchemaVersion {
		t.Errorf("version %d after migration, want %d", v, SchemaVersion)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	migrated := rawFile(t, path)
	if maps.EqualFunc(migrated, before, maps.Equal) {
		t.Fatal("the migration changed nothing")
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(rawFile(t, path), migrated, maps.Equal) {
		t.Error("opening a migrated file changed it")
	}
}

// TestMigrateReadOnly: a file of an older version cannot be migrated
// read-only, and the error says what to do.
func TestMigrateReadOnly(t *testing.T) {
	path := copyFile(t, fixturePath(1))
	db, err := Open(path, Options{ReadOnly: true})
	if err == nil {
		db.Close()
		t.Fatal("read-only Open of a version 1 file succeeded")
	}
	if !strings.Contains(err.Error(), "open it once read-write") || dsar.ErrorCode(err) != dsar.EPRECONDITION {
		t.Errorf("Open: %v (%s), want EPRECONDITION saying to open it read-write", err, dsar.ErrorCode(err))
	}
}

// TestMigrateKeepsUndecodable: a version 1 record that does not decode is
// left as it was and fails only its own request, as before.
func TestMigrateKeepsUndecodable(t *testing.T) {
	path := copyFile(t, fixturePath(1))
	bad := `{"ID":"r-bad","State":`
	updateFile(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRequests).Put([]byte("r-bad"), []byte(bad))
	})
	var skipped []string
	db, err := Open(path, Options{OnSkip: func(id string, _ error) { skipped = append(skipped, id) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Request(t.Context(), "r-bad"); !errors.Is(err, ErrDamaged) {
		t.Errorf("Request of the bad record: %v, want ErrDamaged", err)
	}
	reqs, _, err := db.ListRequests(t.Context(), dsar.RequestFilter{})
	if err != nil || len(reqs) != 4 || len(skipped) != 1 || skipped[0] != "r-bad" {
		t.Errorf("ListRequests: %d requests, skipped %q, %v; want the 4 others and r-bad skipped", len(reqs), skipped, err)
	}
	var got []byte
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		got = tx.Bucket(bucketRequests).Get([]byte("r-bad"))
		return nil
	})
	if string(got) != bad {
		t.Errorf("the bad record became %q, want it kept as it was", got)
	}
}

// TestMigrateBatches migrates more audit events than one batch of
// rewrite holds, each exactly once.
func TestMigrateBatches(t *testing.T) {
	path := copyFile(t, fixturePath(1))
	const extra = 2500
	updateFile(t, path, func(tx *bolt.Tx) error {
		ab := tx.Bucket(bucketAudit)
		for i := range uint64(extra) {
			v := fmt.Sprintf(`{"Seq":%d,"Time":"2026-03-02T00:00:00Z","Request":"","Actor":{"Name":"system","Role":""},"Action":"retry","Detail":"d%d"}`, 100+i, i)
			if err := ab.Put(seqKey(100+i), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			ev, err := decodeAudit(v)
			seq := binary.BigEndian.Uint64(k)
			switch {
			case err != nil:
				return err
			case ev.Seq != seq || ev.Action == "" || ev.Time.IsZero():
				return fmt.Errorf("event %d came back as %+v", seq, ev)
			case seq >= 100 && (ev.Detail != fmt.Sprintf("d%d", seq-100) || ev.Actor != dsar.System):
				return fmt.Errorf("event %d came back as %+v", seq, ev)
			}
			n++
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 16+extra {
		t.Errorf("%d audit events, want %d", n, 16+extra)
	}
}

// TestMigrateIdempotencyKeys runs migrate3 on keys stored alone, as
// schema version 2 did: each moves under the actor of its request's
// "create" event, or under dsar.System when the request has none.
func TestMigrateIdempotencyKeys(t *testing.T) {
	db, _, _ := openTest(t)
	plat := dsar.WithActor(t.Context(), dsar.Actor{Name: "plat", Role: "platform"})
	if _, _, err := db.CreateRequest(plat, newRequest("r1", "k1", "a@example.com"), nil); err != nil {
		t.Fatal(err)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		idem := tx.Bucket(bucketIdem)
		if err := idem.Delete(idemKey(plat, "k1")); err != nil {
			return err
		}
		if err := idem.Put([]byte("k1"), []byte("r1")); err != nil {
			return err
		}
		if err := idem.Put([]byte("orphan"), []byte("r9")); err != nil {
			return err
		}
		return migrate3(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIdem).ForEach(func(k, v []byte) error { got[string(k)] = string(v); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		string(idemKey(plat, "k1")):            "r1",
		string(idemKey(t.Context(), "orphan")): "r9",
	}
	if !maps.Equal(got, want) {
		t.Errorf("idempotency keys after migrate3: %q, want %q", got, want)
	}
	// The platform's retry finds its request.
	if r, created, err := db.CreateRequest(plat, newRequest("r2", "k1", "a@example.com"), nil); err != nil || created || r.ID != "r1" {
		t.Errorf("retry after the migration: %v %v %v; want r1", r, created, err)
	}
}

// TestMigrateMediaDone: the migration to version 6 counts each section's
// settled media files and done bytes from its media records, a damaged
// record as a file without bytes; a section without records (a purged
// request's) keeps its counts, and a damaged section record is left as it
// is.
func TestMigrateMediaDone(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	rec := func(f dsar.MediaFile) []byte {
		v, err := json.Marshal(toMediaRecord(&f))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	kept := dsar.MediaProgress{FilesDone: 4, BytesDone: 40, FilesTotal: 4, BytesTotal: 40}
	badSection := sectionKey("r1", dsar.SectionPhoneRecordings)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		mb, sb := tx.Bucket(bucketMedia), tx.Bucket(bucketSections)
		for name, v := range map[string][]byte{
			"a.mp4": rec(dsar.MediaFile{Name: "a.mp4", Size: 10, SHA256: sum("a"), Done: true}),
			"b.mp4": rec(dsar.MediaFile{Name: "b.mp4", Size: 7, Missing: "gone"}),
			"c.mp4": []byte("{damaged"),
		} {
			if err := mb.Put(joinKey(false, "r1", dsar.SectionCloudRecordings, name), v); err != nil {
				return err
			}
		}
		if err := mb.Put(joinKey(false, "r1", dsar.SectionPhoneRecordings, "d.mp3"), rec(dsar.MediaFile{Name: "d.mp3", Size: 1, SHA256: sum("d"), Done: true})); err != nil {
			return err
		}
		if err := sb.Put(badSection, []byte("{damaged")); err != nil {
			return err
		}
		s, err := getSection(sb, "r1", dsar.SectionPhoneVoicemails)
		if err != nil {
			return err
		}
		s.Media = kept
		if err := putSection(sb, sectionKey("r1", s.Name), s); err != nil {
			return err
		}
		return migrateMediaDone(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	for sec, want := range map[string]dsar.MediaProgress{
		dsar.SectionCloudRecordings: {FilesDone: 3, BytesDone: 10},
		dsar.SectionPhoneVoicemails: kept,
		dsar.SectionMeetings:        {},
	} {
		if s, err := db.Section(ctx, "r1", sec); err != nil || s.Media != want {
			t.Errorf("%s: media %+v (%v), want %+v", sec, s.Media, err, want)
		}
	}
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSections).Get(badSection); string(v) != "{damaged" {
			t.Errorf("damaged section record rewritten: %q", v)
		}
		return nil
	})
}
