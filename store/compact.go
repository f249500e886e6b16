package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// bbolt never gives its free pages back to the disk, nor overwrites them
// until it reuses them: purged requests leave their sealed pages there
// (unreadable once their keys are destroyed, but taking room), and a store
// just sealed leaves its plain records there. Compaction copies the live
// records into a new file and renames it over the old one.

// The file is compacted when its free pages hold more than compactRatio of
// it and more than compactMinFree bytes: a busy store always has some.
var (
	compactMinFree int64 = 64 << 20
	compactRatio         = 0.5
)

// compactTxSize bounds the transactions of the copy, so that a big file
// is not copied in one transaction held in memory.
const compactTxSize = 64 << 20

// testHookCompact, when set by a test, runs after the copy is written and
// before it replaces the file; an error aborts the compaction there, as a
// crash would.
var testHookCompact func() error

// compactPath is the copy a compaction writes; Open removes one left by a
// compaction cut short.
func compactPath(path string) string { return path + ".compact" }

// Compact compacts the file if its free space passes the threshold (more
// than half the file and 64 MiB), and reports whether it did. It waits for
// the transactions in flight and holds every other call of the DB until it
// is done: call it with requests paused, after purges. A crash at any
// point leaves the old file or the new one, whole. Open does the same.
func (db *DB) Compact(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, &dsar.Error{Code: dsar.EUNAVAILABLE, Op: "store.Compact", Err: err}
	}
	return db.compact(false)
}

// compact compacts the file when force is set or its free space passes
// the threshold.
func (db *DB) compact(force bool) (bool, error) {
	const op = "store.Compact"
	if db.readOnly {
		return false, &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: "the store is read-only"}
	}
	if !force {
		// Checked first under the read lock, so that the calls after
		// every purge hold nothing up when there is nothing to do.
		db.mu.RLock()
		need := db.broken == nil && db.needsCompact()
		db.mu.RUnlock()
		if !need {
			return false, nil
		}
	}
	db.checks.Wait() // a check in the background reads the old file
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.broken != nil {
		return false, &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Err: db.broken, Message: "the store is unusable: restart dsard"}
	}
	if !force && !db.needsCompact() {
		return false, nil
	}
	tmp := compactPath(db.path)
	if err := guard(func() error { return db.copyTo(tmp) }); err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, ErrDamaged) {
			return false, damaged(op, db.path, err)
		}
		return false, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err, Message: "compaction failed; the store is as it was"}
	}
	if err := os.Rename(tmp, db.path); err != nil {
		_ = os.Remove(tmp)
		return false, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err, Message: "compaction failed; the store is as it was"}
	}
	// From here the file is the copy: writes to the old one would be lost.
	if err := syncDir(filepath.Dir(db.path)); err != nil {
		db.broken = err
		return false, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err}
	}
	nb, err := bolt.Open(db.path, 0o600, db.boltOpts)
	if err != nil {
		db.broken = err
		return false, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err, Message: "the compacted store cannot be opened: restart dsard"}
	}
	_ = db.bolt.Close() // the old file, gone from the directory
	db.bolt = nb
	return true, nil
}

// needsCompact reports whether the free pages pass the threshold.
func (db *DB) needsCompact() bool {
	var size int64
	if err := db.bolt.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		return false
	}
	st := db.bolt.Stats()
	free := int64(st.FreePageN+st.PendingPageN) * int64(db.bolt.Info().PageSize)
	return free > compactMinFree && float64(free) > compactRatio*float64(size)
}

// copyTo writes the live records into a new file at tmp, synced.
func (db *DB) copyTo(tmp string) error {
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: db.boltOpts.Timeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return err
	}
	if err := bolt.Compact(dst, db.bolt, compactTxSize); err != nil {
		_ = dst.Close()
		return fmt.Errorf("copying: %w", err)
	}
	// Every transaction of the copy was synced as it committed.
	if err := dst.Close(); err != nil {
		return err
	}
	if testHookCompact != nil {
		return testHookCompact()
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
