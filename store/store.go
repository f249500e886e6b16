// Package store keeps access requests, their sections, the pages fetched
// from Zoom, the audit log and the grants of OAuth apps in one bbolt file.
//
// A page and its part's next cursor are written in one transaction (see
// DB.CommitPage), so after a crash the stored cursor and the stored pages
// always agree. Every write is synced before it returns.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// SchemaVersion is the layout of the buckets this build reads and writes
// (record.go). A file written by a newer build is refused rather than
// misread; one written by an older build is migrated at Open (migrate.go).
//
//	1: the JSON of package dsar's structs
//	2: the store's own records, with tagged fields
//	3: the grants bucket (OAuth apps' tokens, grant.go)
//	4: idempotency keys scoped to their caller (idemKey)
//	5: every request record has its email's keyed hash (EmailHash), and
//	   the data keys bucket; with a master key, sealed pages (format 3),
//	   emails and grants (crypt.go)
//	6: every section record counts its settled media files and bytes
//	   (CommitMedia), which Sections read from the media records before
const SchemaVersion = 6

// ErrNotFound is wrapped in a dsar.Error with code ENOTFOUND when a request,
// section or part does not exist.
var ErrNotFound = errors.New("not found")

// Bucket names.
var (
	bucketMeta     = []byte("meta")
	bucketRequests = []byte("requests") // id -> JSON requestRecord
	bucketIdem     = []byte("idem")     // sep, caller name, sep, role, sep, idempotency key -> id (idemKey)
	bucketByState  = []byte("by_state") // state \0 id -> nil
	bucketSections = []byte("sections") // id \0 section -> JSON sectionRecord
	bucketPages    = []byte("pages")    // id \0 section \0 part \0 seq -> page
	bucketAudit    = []byte("audit")    // seq -> JSON auditRecord
	bucketAuditReq = []byte("audit_by_request")
	bucketMedia    = []byte("media")     // id \0 section \0 name -> JSON mediaRecord
	bucketGrants   = []byte("grants")    // account name -> JSON grantRecord, or it sealed
	bucketDataKeys = []byte("data_keys") // id -> wrapped data key (crypt.go)
	// bucketManifests is created when missing (purge.go), so that stores
	// of schema 5 need no migration.
	bucketManifests = []byte("manifests") // id -> a purged request's manifest.json, email redacted

	keySchema      = []byte("schema")
	keyMasterCheck = []byte("master_check") // with a master key: its check value

	allBuckets = [][]byte{bucketMeta, bucketRequests, bucketIdem, bucketByState,
		bucketSections, bucketPages, bucketAudit, bucketAuditReq, bucketMedia, bucketGrants, bucketDataKeys, bucketManifests}
)

// Options configure Open. The zero value is usable.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process.
	// Zero means one second.
	Timeout time.Duration
	// Clock stamps updates, audit events and lease checks. Nil means the
	// system clock.
	Clock dsar.Clock
	// ReadOnly opens the file with a shared lock and allows no writes.
	ReadOnly bool
	// InitialMmapSize, in bytes, lets the file grow that far without a
	// remap, which waits for open read transactions.
	InitialMmapSize int
	// NoSync skips fsync on commit: for bulk loads in benchmarks only, as
	// a crash may then lose or corrupt committed pages.
	NoSync bool
	// CheckTimeout bounds how long Open waits for the consistency check of
	// the file (DB.Check). Zero means DefaultCheckTimeout; negative, no
	// check. When it runs out Open returns and the check goes on in the
	// background, holding writes until done, and OnLateCheck receives its
	// outcome.
	CheckTimeout time.Duration
	// OnLateCheck receives the outcome (nil: healthy) of a check that
	// outlived CheckTimeout.
	OnLateCheck func(error)
	// OnSkip is called by ListRequests for each request record it skips
	// because it does not decode; the others are listed.
	OnSkip func(id string, err error)
	// MasterKey (KeySize bytes) seals what the store holds of each
	// request and the grants (crypt.go). A store opened once with it is
	// sealed then, and opens only with it after. Nil seals nothing: for
	// tests and benchmarks.
	MasterKey []byte
}

var _ dsar.Store = (*DB)(nil)

// DB is an open store. Its methods are safe for concurrent use.
type DB struct {
	// mu is held for reading by every transaction and for writing while
	// Compact swaps the file.
	mu       sync.RWMutex
	bolt     *bolt.DB
	boltOpts *bolt.Options // to open the file again after Compact
	broken   error         // set when Compact could not open the compacted file
	sealer   *sealer       // nil without a master key
	path     string
	readOnly bool
	clock    dsar.Clock
	enc      *zstd.Encoder
	dec      *zstd.Decoder
	onSkip   func(id string, err error)
	hashKey  []byte
	checks   sync.WaitGroup // the consistency check of Open
}

// Open opens or creates the store at path. When another process holds the
// file, Open fails after opts.Timeout with an error that says so. A
// damaged file gives an error wrapping ErrDamaged that names the file; no
// panic or memory fault escapes from reading it.
func Open(path string, opts Options) (*DB, error) {
	const op = "store.Open"
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.Clock == nil {
		opts.Clock = dsar.SystemClock{}
	}
	var sl *sealer
	var hashKey []byte // without a master key, an empty key (tests)
	if opts.MasterKey != nil {
		var err error
		if sl, err = newSealer(opts.MasterKey); err != nil {
			return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Err: err, Message: "bad master key"}
		}
		// The key of the emails' hashes (EmailHash): without it a hash
		// cannot be tested against a list of addresses.
		if hashKey, err = DeriveKey(opts.MasterKey, "subject hash"); err != nil {
			return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Err: err, Message: "bad master key"}
		}
	}
	if !opts.ReadOnly {
		// What a compaction cut short left behind (compact.go).
		if err := os.Remove(compactPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err, Message: "cannot remove an unfinished compaction"}
		}
	}
	bopts := &bolt.Options{
		Timeout:         opts.Timeout,
		FreelistType:    bolt.FreelistMapType,
		ReadOnly:        opts.ReadOnly,
		InitialMmapSize: opts.InitialMmapSize,
		NoSync:          opts.NoSync,
		// Read the freelist here, under guard, and not first in
		// tx.Check's goroutine.
		PreLoadFreelist: true,
	}
	var bdb *bolt.DB
	err := guard(func() error {
		var err error
		bdb, err = bolt.Open(path, 0o600, bopts)
		return err
	})
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Err: err,
			Message: fmt.Sprintf("%s is locked: another process holds it (is dsard already running?)", path)}
	case errors.As(err, &pathErr):
		return nil, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err,
			Message: fmt.Sprintf("cannot open store %s", path)}
	case err != nil:
		// bbolt read the file and did not like it: bad meta pages, a
		// wrong checksum, a truncated file, a panic.
		return nil, damaged(op, path, err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithLowerEncoderMem(true))
	if err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("%s: zstd encoder: %w", op, err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxPageSize), zstd.WithDecoderConcurrency(0))
	if err != nil {
		_ = bdb.Close()
		_ = enc.Close()
		return nil, fmt.Errorf("%s: zstd decoder: %w", op, err)
	}
	db := &DB{bolt: bdb, boltOpts: bopts, sealer: sl, path: path, readOnly: opts.ReadOnly, clock: opts.Clock,
		enc: enc, dec: dec, onSkip: opts.OnSkip, hashKey: hashKey}
	var sealedNow bool
	if err := guard(func() (err error) { sealedNow, err = db.checkSchema(); return err }); err != nil {
		_ = db.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, damaged(op, path, err)
		}
		return nil, &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Err: err,
			Message: fmt.Sprintf("store %s", path)}
	}
	late, err := db.checkOnOpen(opts.CheckTimeout, opts.OnLateCheck)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	// A store just sealed still holds its plain records in free pages: it
	// is compacted at once. A check still running holds the file: the
	// compaction waits for the next start, or Compact.
	if !opts.ReadOnly && !late {
		if _, err := db.compact(sealedNow); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return db, nil
}

// checkSchema creates the buckets of a new file, or checks the version of
// an existing one and migrates an older one, in one transaction. With a
// master key it checks the key, or seals a store not sealed yet
// (sealedNow); without one it refuses a sealed store.
func (db *DB) checkSchema() (sealedNow bool, err error) {
	bdb := db.bolt
	// version returns the file's version, 0 for a new file.
	version := func(tx *bolt.Tx) (uint32, error) {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return 0, errors.New("not a zoom-dsar store (no schema version)")
			}
			return 0, nil
		}
		v := meta.Get(keySchema)
		if len(v) != 4 {
			return 0, errors.New("schema version is missing or malformed")
		}
		got := binary.BigEndian.Uint32(v)
		switch {
		case got > SchemaVersion:
			return 0, fmt.Errorf("schema version %d is newer than this build's %d: run a newer dsard", got, SchemaVersion)
		case got == 0:
			return 0, fmt.Errorf("schema version 0 is older than this build's %d and there is no migration", SchemaVersion)
		}
		return got, nil
	}
	if db.readOnly {
		return false, bdb.View(func(tx *bolt.Tx) error {
			got, err := version(tx)
			switch {
			case err != nil:
				return err
			case got == 0:
				return errors.New("empty file opened read-only")
			case got < SchemaVersion:
				return fmt.Errorf("schema version %d is older than this build's %d: open it once read-write to migrate it", got, SchemaVersion)
			}
			_, err = db.checkSealed(tx)
			return err
		})
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		got, err := version(tx)
		switch {
		case err != nil:
			return err
		case got > 0 && got < SchemaVersion:
			if err := migrate(tx, got, db.hashKey); err != nil {
				return err
			}
		case got == 0:
			for _, name := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			if err := tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion)); err != nil {
				return err
			}
		}
		sealed, err := db.checkSealed(tx)
		if err != nil || sealed || db.sealer == nil {
			return err
		}
		if err := db.sealAll(tx); err != nil {
			return fmt.Errorf("sealing the store under the master key: %w", err)
		}
		// A new store has nothing to seal, nor free pages to compact.
		sealedNow = got > 0
		return tx.Bucket(bucketMeta).Put(keyMasterCheck, db.sealer.check)
	})
	return sealedNow, err
}

// checkSealed reports whether the store is sealed, checking the master key
// against it; a sealed store without a master key is an error.
func (db *DB) checkSealed(tx *bolt.Tx) (bool, error) {
	meta := tx.Bucket(bucketMeta)
	if db.sealer == nil {
		if meta.Get(keyMasterCheck) != nil {
			return true, errors.New("the store is sealed under a master key and none was given")
		}
		return false, nil
	}
	return db.sealer.checkMaster(meta)
}

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

// Close closes the file. It waits for running transactions, and for the
// check of Open if it still runs.
func (db *DB) Close() error {
	db.checks.Wait()
	db.mu.Lock()
	defer db.mu.Unlock()
	err := db.bolt.Close()
	_ = db.enc.Close()
	db.dec.Close()
	if err != nil {
		return fmt.Errorf("store.Close: %w", err)
	}
	return nil
}

// view and update run fn in a read or write transaction after checking ctx:
// bbolt transactions cannot be interrupted, so a cancelled context only
// stops work that has not started. A panic or memory fault while reading
// a damaged file is an error naming the file (see guard).
func (db *DB) view(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Err: err}
	}
	return db.guarded(op, func(b *bolt.DB) error { return b.View(fn) })
}

func (db *DB) update(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Err: err}
	}
	return db.guarded(op, func(b *bolt.DB) error { return b.Update(fn) })
}

// guarded runs fn on the file under guard, holding mu for reading; a
// panic while reading is damage to the file.
func (db *DB) guarded(op string, fn func(*bolt.DB) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.broken != nil {
		return &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Err: db.broken, Message: "the store is unusable: restart dsard"}
	}
	err := guard(func() error { return fn(db.bolt) })
	var de *dsar.Error
	if errors.Is(err, ErrDamaged) && !errors.As(err, &de) {
		return damaged(op, db.path, err)
	}
	return wrapInternal(op, err)
}

// wrapInternal passes domain errors through and wraps the rest (bbolt's,
// a full disk) as internal.
func wrapInternal(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *dsar.Error
	if errors.As(err, &de) {
		return err
	}
	return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err}
}

func notFound(op, what string) error {
	return &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Message: what + " not found", Err: ErrNotFound}
}

var _ dsar.Store = (*DB)(nil)
