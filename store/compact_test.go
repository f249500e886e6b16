package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// fillForCompact stores requests k0..k{n-1} with pages of random bytes
// (which zstd cannot shrink), and returns the ids.
func fillForCompact(t *testing.T, db *DB, n, pages int) []string {
	t.Helper()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []string
	for i := range n {
		id := fmt.Sprintf("k%d", i)
		if _, _, err := db.CreateRequest(ctx, newRequest(id, "", id+"@example.com"), dsar.NewSections(id)); err != nil {
			t.Fatal(err)
		}
		for j := range pages {
			body := make([]byte, 32<<10)
			for k := range body {
				body[k] = byte(rng.UintN(256))
			}
			if err := db.CommitPage(ctx, id, dsar.SectionCloudRecordings, dsar.PartRecordings, dsar.Page{Body: body}, dsar.Cursor{}, j == pages-1); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, id)
	}
	return ids
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// lowerThreshold makes a test's few MiB of free pages enough to compact.
func lowerThreshold(t *testing.T) {
	old := compactMinFree
	compactMinFree = 1 << 20
	t.Cleanup(func() { compactMinFree = old })
}

// TestCompact purges most of a store's pages: Compact shrinks the file,
// everything left reads the same, and the DB goes on working; below the
// threshold it does nothing.
func TestCompact(t *testing.T) {
	lowerThreshold(t)
	db, _, path := openTest(t)
	ctx := t.Context()
	ids := fillForCompact(t, db, 8, 16)
	if did, err := db.Compact(ctx); err != nil || did {
		t.Fatalf("Compact of a store with no free space: %t, %v; want nothing done", did, err)
	}
	for _, id := range ids[1:] {
		if _, err := db.ResetSection(ctx, id, dsar.SectionCloudRecordings); err != nil {
			t.Fatal(err)
		}
	}
	want := dumpStore(t, db)
	before := fileSize(t, path)
	did, err := db.Compact(ctx)
	if err != nil || !did {
		t.Fatalf("Compact: %t, %v; want done", did, err)
	}
	after := fileSize(t, path)
	if after > before/2 {
		t.Errorf("file of %d bytes after Compact, was %d: want less than half", after, before)
	}
	dumpsEqual(t, dumpStore(t, db), want)
	// It goes on: a write, and a reopen.
	if _, _, err := db.CreateRequest(ctx, newRequest("after", "", "x@example.com"), nil); err != nil {
		t.Fatalf("CreateRequest after Compact: %v", err)
	}
	if did, err := db.Compact(ctx); err != nil || did {
		t.Errorf("second Compact: %t, %v; want nothing done", did, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path, Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if _, err := again.Request(ctx, "after"); err != nil {
		t.Errorf("request written after Compact, after reopen: %v", err)
	}
	if _, err := os.Stat(compactPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the compaction's copy is left: %v", err)
	}
}

// dumpsEqual compares any two dumps (compareDumps wants the fixture's).
func dumpsEqual(t *testing.T, got, want storeDump) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the store changed:\n got %d requests, %d page lists\nwant %d requests, %d page lists",
			len(got.Requests), len(got.Pages), len(want.Requests), len(want.Pages))
	}
}

// TestCompactCrash cuts a compaction short where a crash could: before
// the copy replaces the file nothing is lost and the copy is removed (by
// Compact, or by the next Open if the process died); after, the copy
// alone holds everything.
func TestCompactCrash(t *testing.T) {
	lowerThreshold(t)
	db, _, path := openTest(t)
	ctx := t.Context()
	ids := fillForCompact(t, db, 4, 16)
	for _, id := range ids[1:] {
		if _, err := db.ResetSection(ctx, id, dsar.SectionCloudRecordings); err != nil {
			t.Fatal(err)
		}
	}
	want := dumpStore(t, db)
	before := fileSize(t, path)

	// A failure before the rename: Compact says so, the file is as it was.
	testHookCompact = func() error { return errors.New("crash") }
	t.Cleanup(func() { testHookCompact = nil })
	if did, err := db.Compact(ctx); err == nil || did {
		t.Fatalf("Compact with a failing copy: %t, %v; want an error", did, err)
	}
	testHookCompact = nil
	if _, err := os.Stat(compactPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed compaction's copy is left: %v", err)
	}
	if got := fileSize(t, path); got != before {
		t.Errorf("file of %d bytes after a failed Compact, was %d", got, before)
	}
	dumpsEqual(t, dumpStore(t, db), want)

	// A crash before the rename leaves the copy: the next Open removes it
	// and reads the old file.
	if err := db.copyTo(compactPath(path)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn copy, as a crash while writing it leaves.
	if err := os.Truncate(compactPath(path), 8192); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(compactPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open left a compaction's copy: %v", err)
	}
	dumpsEqual(t, dumpStore(t, db), want)

	// A crash after the rename: the file is the whole copy.
	if err := db.copyTo(compactPath(path)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(compactPath(path), path); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dumpsEqual(t, dumpStore(t, db), want)
	if got := fileSize(t, path); got > before/2 {
		t.Errorf("the copy is %d bytes, the file was %d: want less than half", got, before)
	}
}

// TestCompactOnOpen reopens a store whose free pages pass the threshold:
// Open compacts it.
func TestCompactOnOpen(t *testing.T) {
	lowerThreshold(t)
	db, _, path := openTest(t)
	ctx := t.Context()
	ids := fillForCompact(t, db, 4, 16)
	for _, id := range ids {
		if _, err := db.ResetSection(ctx, id, dsar.SectionCloudRecordings); err != nil {
			t.Fatal(err)
		}
	}
	want := dumpStore(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	again, err := Open(path, Options{MasterKey: testMasterKey})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := fileSize(t, path); got > before/2 {
		t.Errorf("file of %d bytes after Open, was %d: want it compacted", got, before)
	}
	dumpsEqual(t, dumpStore(t, again), want)
}
