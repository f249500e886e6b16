package store

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

var (
	damageSeed = flag.Uint64("damage.seed", 0, "seed of TestDamagedFile (default: DSAR_DAMAGE_SEED, else random)")
	damageRuns = flag.Int("damage.runs", 80, "damaged copies TestDamagedFile tries")
)

// damage is one way to damage a file.
type damage struct {
	name string
	do   func(rng *rand.Rand, b []byte) []byte
}

var damages = []damage{
	{"flip 1 byte", func(rng *rand.Rand, b []byte) []byte { return flip(rng, b, 1) }},
	{"flip 10 bytes", func(rng *rand.Rand, b []byte) []byte { return flip(rng, b, 10) }},
	{"flip 200 bytes", func(rng *rand.Rand, b []byte) []byte { return flip(rng, b, 200) }},
	{"truncate", func(rng *rand.Rand, b []byte) []byte { return b[:1+rng.IntN(len(b)-1)] }},
	{"truncate to a page", func(rng *rand.Rand, b []byte) []byte {
		return b[:max(4096, 4096*rng.IntN(len(b)/4096))]
	}},
	{"zero a page", func(rng *rand.Rand, b []byte) []byte {
		p := rng.IntN(len(b) / 4096)
		clear(b[p*4096 : (p+1)*4096])
		return b
	}},
}

// flip replaces n bytes at random places with random values.
func flip(rng *rand.Rand, b []byte, n int) []byte {
	for range n {
		b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
	}
	return b
}

// TestDamagedFile damages copies of a real store (flipped bytes,
// truncation) and checks that Open, Request, ListRequests, Sections, Pages
// and Audit never panic or fault, and either work or say that the file is
// damaged. Reproduce a failure with -damage.seed or DSAR_DAMAGE_SEED.
func TestDamagedFile(t *testing.T) {
	seed := *damageSeed
	if v := os.Getenv("DSAR_DAMAGE_SEED"); v != "" && seed == 0 {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("DSAR_DAMAGE_SEED=%q: %v", v, err)
		}
		seed = s
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (reproduce: go test ./store -run TestDamagedFile -damage.seed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	fillStore(t, orig, 3, 3, 60)
	healthy, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(orig, Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := db.ListRequests(t.Context(), dsar.RequestFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("fixture has %d requests, want 6", len(all))
	}
	t.Logf("fixture: %d bytes, %d requests", len(healthy), len(all))

	var opened, refused int
	for i := range *damageRuns {
		d := damages[i%len(damages)]
		b := d.do(rng, append([]byte(nil), healthy...))
		path := filepath.Join(dir, fmt.Sprintf("damaged-%d.db", i))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		ok := exercise(t, path, all)
		if ok {
			opened++
		} else {
			refused++
		}
		if t.Failed() {
			t.Fatalf("run %d (%s) failed; seed %d", i, d.name, seed)
		}
		os.Remove(path)
	}
	t.Logf("%d runs: %d damaged copies refused by Open, %d opened (their reads checked)", *damageRuns, refused, opened)
	if refused == 0 {
		t.Error("no damaged copy was refused: the check on open finds nothing")
	}
}

// exercise opens path and reads every request; it reports whether Open
// accepted the file. Every error must say the file or record is damaged,
// or that something is not found (a flipped key).
func exercise(t *testing.T, path string, reqs []dsar.Request) bool {
	t.Helper()
	ctx := t.Context()
	db, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		if !errors.Is(err, ErrDamaged) && dsar.ErrorCode(err) != dsar.EPRECONDITION {
			t.Errorf("Open: %v; want a damage or schema error", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("Open: %v does not name the file", err)
		}
		return false
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	want := func(call string, err error) {
		if err == nil || errors.Is(err, ErrDamaged) || errors.Is(err, ErrNotFound) {
			return
		}
		t.Errorf("%s: %v; want success, damage or not found", call, err)
	}
	for _, r := range reqs {
		_, err := db.Request(ctx, r.ID)
		want("Request "+r.ID, err)
		secs, err := db.Sections(ctx, r.ID)
		want("Sections "+r.ID, err)
		for _, s := range secs {
			for _, p := range s.Parts {
				// A page that does not decode is the page adapter's error;
				// here it must only not panic.
				_ = db.Pages(ctx, r.ID, s.Name, p.Name, func(dsar.Page) error { return nil })
			}
		}
	}
	_, _, err = db.ListRequests(ctx, dsar.RequestFilter{})
	want("ListRequests", err)
	_, _, err = db.ListRequests(ctx, dsar.RequestFilter{States: []dsar.State{dsar.StateRunning, dsar.StateWaitingQuota, dsar.StateAssembling}})
	want("ListRequests by state", err)
	_, err = db.Audit(ctx, dsar.AuditFilter{})
	want("Audit", err)
	return true
}

// TestDamagedOpen names the file and the damage for damage that Open must
// find, whatever the seed.
func TestDamagedOpen(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	fillStore(t, orig, 2, 2, 20)
	healthy, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt grows a file in steps: half of it may hold every page in use.
	used := usedSize(t, orig)
	tests := []struct {
		name string
		do   func([]byte) []byte
	}{
		{"truncated to 100 bytes", func(b []byte) []byte { return b[:100] }},
		{"truncated to half", func(b []byte) []byte { return b[:used/2/4096*4096] }},
		{"meta pages zeroed", func(b []byte) []byte { clear(b[:2*4096]); return b }},
		{"every page after the metas zeroed", func(b []byte) []byte { clear(b[2*4096:]); return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dsar.db")
			if err := os.WriteFile(path, tt.do(append([]byte(nil), healthy...)), 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := Open(path, Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open of a damaged file succeeded")
			}
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("err = %v, want ErrDamaged", err)
			}
			if msg := err.Error(); !strings.Contains(msg, path+" is damaged: restore it from a backup") {
				t.Errorf("err = %q, want it to name the file and the cure", msg)
			}
		})
	}
}

// TestUndecodableRequest: one request record that does not decode fails
// its own request and is skipped, and reported, by ListRequests.
func TestUndecodableRequest(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "dsar.db")
	var skipped []string
	db, err := Open(path, Options{OnSkip: func(id string, err error) { skipped = append(skipped, id) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"r1", "r2", "r3"} {
		if _, _, err := db.CreateRequest(ctx, newRequest(id, "", "a@example.com"), nil); err != nil {
			t.Fatal(err)
		}
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRequests).Put([]byte("r2"), []byte(`{"ID":"r2","State":`))
	})
	if err != nil {
		t.Fatal(err)
	}

	_, err = db.Request(ctx, "r2")
	if !errors.Is(err, ErrDamaged) || dsar.ErrorCode(err) != dsar.EINTERNAL {
		t.Errorf("Request(r2) = %v, want an internal damage error", err)
	}
	if msg := dsar.ErrorMessage(err); !strings.Contains(msg, "request r2") {
		t.Errorf("message %q does not name the request", msg)
	}
	if _, err := db.Request(ctx, "r1"); err != nil {
		t.Errorf("Request(r1): %v", err)
	}
	for _, f := range []dsar.RequestFilter{{}, {States: []dsar.State{dsar.StateQueued}}} {
		skipped = nil
		got, _, err := db.ListRequests(ctx, f)
		if err != nil {
			t.Fatalf("ListRequests(%v): %v", f.States, err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		if strings.Join(ids, ",") != "r3,r1" {
			t.Errorf("ListRequests(%v) = %v, want r3,r1 (newest first)", f.States, ids)
		}
		if strings.Join(skipped, ",") != "r2" {
			t.Errorf("skipped = %v, want r2", skipped)
		}
	}
}

// TestCheckTimeout: a check that outlives its time does not hold up Open;
// its outcome arrives later, before Close returns.
func TestCheckTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsar.db")
	fillStore(t, path, 1, 1, 20)
	late := make(chan error, 1)
	db, err := Open(path, Options{CheckTimeout: time.Nanosecond, OnLateCheck: func(err error) { late <- err }})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-late:
		if err != nil {
			t.Errorf("late check of a healthy file: %v", err)
		}
	default:
		// The check beat the nanosecond: Open waited for it.
	}
}

// TestWalkFile: the damage that makes tx.Check fault, loop for hours or
// never end is found by walkFile first, and Open refuses the file.
func TestWalkFile(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.db")
	fillStore(t, orig, 2, 2, 200)
	healthy, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := walkFile(orig); err != nil {
		t.Fatalf("walkFile of a healthy file: %v", err)
	}
	// The pages the tree reaches: a free page that still looks like a
	// branch would make damage that nothing reads.
	f, err := os.Open(orig)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &walker{f: f, size: int64(len(healthy)), seen: map[uint64]bool{}}
	root, _, err := w.meta()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.tree(root, 0); err != nil {
		t.Fatal(err)
	}
	const psz = 4096
	le := binary.LittleEndian
	// branch finds the first branch page with a child that the tree reaches.
	branch := func(b []byte) int {
		for off := 2 * psz; off+psz <= len(b); off += psz {
			if w.seen[uint64(off/psz)] && le.Uint64(b[off:]) == uint64(off/psz) && flags(b[off:]) == branchFlag && count(b[off:]) > 0 {
				return off
			}
		}
		t.Fatal("no branch page in the fixture")
		return 0
	}
	tests := []struct {
		name string
		do   func(b []byte)
		want string
	}{
		{"a cycle", func(b []byte) {
			off := branch(b)
			le.PutUint64(b[off+headerSize+8:], uint64(off/psz))
		}, "reached twice"},
		{"a wild page id", func(b []byte) {
			off := branch(b)
			le.PutUint64(b[off+headerSize+8:], 1<<40)
		}, "is outside"},
		{"a wild overflow count", func(b []byte) {
			off := branch(b)
			child := le.Uint64(b[off+headerSize+8:])
			le.PutUint32(b[int(child)*psz+12:], 0xFFFFFFFF)
		}, "overflow pages run past"},
		{"a key outside its page", func(b []byte) {
			off := branch(b)
			le.PutUint32(b[off+headerSize:], 1<<30)
		}, "outside the page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dsar.db")
			b := append([]byte(nil), healthy...)
			tt.do(b)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := walkFile(path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("walkFile = %v, want %q", err, tt.want)
			}
			db, err := Open(path, Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("Open = %v, want ErrDamaged", err)
			}
		})
	}
}

// TestGuardPassesOtherPanics: a panic that does not come from reading the
// file stays a panic, not "damaged".
func TestGuardPassesOtherPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "a bug" {
			t.Errorf("recovered %v, want the panic a bug", r)
		}
	}()
	err := guard(func() error { panic("a bug") })
	t.Errorf("guard returned %v instead of panicking", err)
}

// usedSize is the size of the pages in use of the bbolt file at path.
func usedSize(t *testing.T, path string) int64 {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var n int64
	if err := bdb.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDamagedSectionRecord: a request with a section record that does not
// decode can still end FAILED or CANCELLED; reading its sections names the
// damage.
func TestDamagedSectionRecord(t *testing.T) {
	for _, to := range []dsar.State{dsar.StateFailed, dsar.StateCancelled} {
		t.Run(string(to), func(t *testing.T) {
			ctx := t.Context()
			db, err := Open(filepath.Join(t.TempDir(), "dsar.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			secs := []dsar.Section{{Name: "a", State: dsar.SectionRunning}, {Name: "b", State: dsar.SectionRunning}}
			if _, _, err := db.CreateRequest(ctx, newRequest("r1", "k1", "a@example.com"), secs); err != nil {
				t.Fatal(err)
			}
			err = db.bolt.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketSections).Put(joinKey(false, "r1", "b"), []byte(`{"name":`))
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateRequest(ctx, "r1", func(r *dsar.Request) error { r.State, r.Reason = to, "x"; return nil }); err != nil {
				t.Fatalf("UpdateRequest to %s: %v", to, err)
			}
			r, err := db.Request(ctx, "r1")
			if err != nil || r.State != to {
				t.Fatalf("request %v, %v; want %s", r, err, to)
			}
			if _, err := db.Sections(ctx, "r1"); !errors.Is(err, ErrDamaged) {
				t.Errorf("Sections = %v, want the damage named", err)
			}
		})
	}
}
