package store

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	goleak.VerifyTestMain(m)
}

// testClock is a clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *testClock) AfterFunc(time.Duration, func()) func() bool { return func() bool { return false } }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openTest opens a store in a temp dir, closed at the end of the test.
// testMasterKey seals the stores of the tests, as dsard's master key does.
var testMasterKey = []byte("zoom-dsar test master key 32 by.")

func openTest(t testing.TB) (*DB, *testClock, string) {
	t.Helper()
	clock := &testClock{t: t0}
	path := filepath.Join(t.TempDir(), "dsar.db")
	db, err := Open(path, Options{Clock: clock, MasterKey: testMasterKey})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, clock, path
}

func TestOpenLocked(t *testing.T) {
	db, _, path := openTest(t)
	_ = db
	start := time.Now()
	second, err := Open(path, Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("second Open of a held file succeeded")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second Open took %v, want about the timeout", time.Since(start))
	}
	msg := err.Error()
	for _, want := range []string{"another process holds it", path} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if got := dsar.ErrorCode(err); got != dsar.EUNAVAILABLE {
		t.Errorf("code = %q, want %q", got, dsar.EUNAVAILABLE)
	}
}

func TestOpenSchema(t *testing.T) {
	tests := []struct {
		name  string
		setup func(tx *bolt.Tx) error
		want  string // in the error; "" for success
	}{
		{"current", func(tx *bolt.Tx) error { return putSchema(tx, SchemaVersion) }, ""},
		{"newer", func(tx *bolt.Tx) error { return putSchema(tx, SchemaVersion+1) }, "newer than this build"},
		{"older", func(tx *bolt.Tx) error { return putSchema(tx, 0) }, "older than this build"},
		{"malformed", func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			return b.Put(keySchema, []byte("x"))
		}, "missing or malformed"},
		{"foreign", func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte("widgets"))
			return err
		}, "not a zoom-dsar store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			bdb, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := bdb.Update(tt.setup); err != nil {
				t.Fatal(err)
			}
			if err := bdb.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := Open(path, Options{})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				db.Close()
				return
			}
			if err == nil {
				db.Close()
				t.Fatalf("Open succeeded, want error with %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want %q and the path", err, tt.want)
			}
			if got := dsar.ErrorCode(err); got != dsar.EPRECONDITION {
				t.Errorf("code = %q, want %q", got, dsar.EPRECONDITION)
			}
		})
	}
}

func putSchema(tx *bolt.Tx, v uint32) error {
	b, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return b.Put(keySchema, binary.BigEndian.AppendUint32(nil, v))
}

func TestOpenNotBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := writeFile(path, strings.Repeat("not a database ", 1000)); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open of a non-bbolt file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "dsar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateRequest(ctx, newRequest("r1", "k1", "a@example.com"), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open: %v", err)
	}
	defer ro.Close()
	if _, err := ro.Request(ctx, "r1"); err != nil {
		t.Errorf("Request on read-only store: %v", err)
	}
	if _, _, err := ro.CreateRequest(ctx, newRequest("r2", "k2", "a@example.com"), nil); err == nil {
		t.Error("CreateRequest on a read-only store succeeded")
	}
}

func TestNotFound(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	if _, _, err := db.CreateRequest(ctx, newRequest("r1", "", "a@example.com"), dsar.NewSections("r1")); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Request":  func() error { _, err := db.Request(ctx, "nope"); return err },
		"Sections": func() error { _, err := db.Sections(ctx, "nope"); return err },
		"Section":  func() error { _, err := db.Section(ctx, "r1", "nope"); return err },
		"UpdateRequest": func() error {
			_, err := db.UpdateRequest(ctx, "nope", func(*dsar.Request) error { return nil })
			return err
		},
		"UpdateSection": func() error {
			_, err := db.UpdateSection(ctx, "r1", "nope", func(*dsar.Section) error { return nil })
			return err
		},
		"Claim": func() error { _, err := db.Claim(ctx, "nope", "p1", t0.Add(time.Hour)); return err },
		"CommitPage": func() error {
			return db.CommitPage(ctx, "r1", dsar.SectionSettings, "nope", dsar.Page{}, dsar.Cursor{}, true)
		},
		"ResetSection": func() error { _, err := db.ResetSection(ctx, "r1", "nope"); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
			if got := dsar.ErrorCode(err); got != dsar.ENOTFOUND {
				t.Errorf("code = %q, want %q", got, dsar.ENOTFOUND)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	db, _, _ := openTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, err := db.CreateRequest(ctx, newRequest("r1", "k", "a@example.com"), nil)
	if err == nil {
		t.Fatal("CreateRequest with a cancelled context succeeded")
	}
	if _, err := db.Request(t.Context(), "r1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("request written despite a cancelled context: %v", err)
	}
}

func newRequest(id, key, email string) *dsar.Request {
	return &dsar.Request{ID: id, Account: "acme", Email: email, Regulation: dsar.GDPR,
		IdempotencyKey: key, State: dsar.StateQueued}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
