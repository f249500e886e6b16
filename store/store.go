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
//	5: every request record has its email's keyed hash (EmailHash)
const SchemaVersion = 5

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
	bucketMedia    = []byte("media")  // id \0 section \0 name -> JSON mediaRecord
	bucketGrants   = []byte("grants") // account name -> JSON grantRecord

	keySchema = []byte("schema")

	allBuckets = [][]byte{bucketMeta, bucketRequests, bucketIdem, bucketByState,
		bucketSections, bucketPages, bucketAudit, bucketAuditReq, bucketMedia, bucketGrants}
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
	// HashKey keys the hash of each request's email (EmailHash), which
	// replaces the email when the request is purged: without the key the
	// hash cannot be tested against a list of addresses. dsard passes a
	// key of 32 random bytes kept beside the store; nil is an empty key,
	// for tests.
	HashKey []byte
	// OnSkip is called by ListRequests for each request record it skips
	// because it does not decode; the others are listed.
	OnSkip func(id string, err error)
}

var _ dsar.Store = (*DB)(nil)

// DB is an open store. Its methods are safe for concurrent use.
type DB struct {
	bolt     *bolt.DB
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
	var bdb *bolt.DB
	err := guard(func() error {
		var err error
		bdb, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:         opts.Timeout,
			FreelistType:    bolt.FreelistMapType,
			ReadOnly:        opts.ReadOnly,
			InitialMmapSize: opts.InitialMmapSize,
			NoSync:          opts.NoSync,
			// Read the freelist here, under guard, and not first in
			// tx.Check's goroutine.
			PreLoadFreelist: true,
		})
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
	if err := guard(func() error { return checkSchema(bdb, opts) }); err != nil {
		_ = bdb.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, damaged(op, path, err)
		}
		return nil, &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Err: err,
			Message: fmt.Sprintf("store %s", path)}
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
	db := &DB{bolt: bdb, path: path, readOnly: opts.ReadOnly, clock: opts.Clock, enc: enc, dec: dec, onSkip: opts.OnSkip, hashKey: opts.HashKey}
	if err := db.checkOnOpen(opts.CheckTimeout, opts.OnLateCheck); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// checkSchema creates the buckets of a new file, or checks the version of
// an existing one and migrates an older one, in one transaction.
func checkSchema(bdb *bolt.DB, opts Options) error {
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
	if opts.ReadOnly {
		return bdb.View(func(tx *bolt.Tx) error {
			got, err := version(tx)
			switch {
			case err != nil:
				return err
			case got == 0:
				return errors.New("empty file opened read-only")
			case got < SchemaVersion:
				return fmt.Errorf("schema version %d is older than this build's %d: open it once read-write to migrate it", got, SchemaVersion)
			}
			return nil
		})
	}
	return bdb.Update(func(tx *bolt.Tx) error {
		got, err := version(tx)
		switch {
		case err != nil:
			return err
		case got == SchemaVersion:
			return nil
		case got > 0:
			return migrate(tx, got, opts)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion))
	})
}

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

// Close closes the file. It waits for running transactions, and for the
// check of Open if it still runs.
func (db *DB) Close() error {
	db.checks.Wait()
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
	return db.guarded(op, func() error { return db.bolt.View(fn) })
}

func (db *DB) update(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return &dsar.Error{Code: dsar.EUNAVAILABLE, Op: op, Err: err}
	}
	return db.guarded(op, func() error { return db.bolt.Update(fn) })
}

// guarded runs fn under guard; a panic while reading is damage to the file.
func (db *DB) guarded(op string, fn func() error) error {
	err := guard(fn)
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
