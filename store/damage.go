package store

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// ErrDamaged is in the chain of every error that comes from a damaged
// file or record: a failed consistency check, a panic or memory fault while
// reading the file, a record that does not decode. The cure is a backup.
var ErrDamaged = errors.New("damaged store")

// DefaultCheckTimeout is how long Open waits for the consistency check
// unless Options.CheckTimeout says otherwise. A healthy 174 MB file is
// checked in about 0.3 s on a small machine, so this covers a few GB; a
// bigger file is checked on in the background (see Options.CheckTimeout).
const DefaultCheckTimeout = 10 * time.Second

// damageError marks its cause as damage (errors.Is(err, ErrDamaged))
// without repeating ErrDamaged's text in the message.
type damageError struct{ cause error }

func (e *damageError) Error() string        { return e.cause.Error() }
func (e *damageError) Unwrap() error        { return e.cause }
func (e *damageError) Is(target error) bool { return target == ErrDamaged }

// damaged is the error of a damaged file: it names the file and says what
// to do, with the cause as detail.
func damaged(op, path string, cause error) error {
	return &dsar.Error{Code: dsar.EINTERNAL, Op: op,
		Message: path + " is damaged: restore it from a backup", Err: &damageError{cause}}
}

// badRecord is the error of one record that does not decode: it fails only
// the request it belongs to.
func badRecord(op, what string, cause error) error {
	return &dsar.Error{Code: dsar.EINTERNAL, Op: op,
		Message: what + " cannot be decoded: its record in the store is damaged", Err: &damageError{cause}}
}

// guard runs fn and turns a panic of bbolt into an error wrapping
// ErrDamaged. bbolt reads the file through a memory map and trusts what it
// finds: garbage makes it panic, or read outside the map, which
// SetPanicOnFault turns from a crash of the process into a panic of this
// goroutine. Other panics (a bug in fn's callers) go on as panics.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if !fromFile(r) {
			panic(r)
		}
		err = &damageError{fmt.Errorf("reading the file panicked: %v", r)}
	}()
	return fn()
}

// fromFile reports whether the panic being recovered, r, comes from the
// file: a fault at a wild address (only SetPanicOnFault makes those
// panics), or a panic raised inside bbolt. It runs in the deferred call,
// before the stack unwinds, so the panicking frame is still on it.
func fromFile(r any) bool {
	if _, ok := r.(interface{ Addr() uintptr }); ok {
		return true
	}
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

// errCheckDone rolls back the write transaction of a check.
var errCheckDone = errors.New("check done")

// Check reads every record of the file and runs bbolt's consistency check
// (tx.Check) on it. A damaged file gives an error wrapping ErrDamaged that
// names the file and the first problems found; it never panics.
//
// Unless the store is read-only the check holds the write lock, as
// tx.Check must not run beside a writer: writes wait for it, reads do not.
func (db *DB) Check() error {
	const op = "store.Check"
	const shown = 5
	var problems []string
	n := 0
	check := func(tx *bolt.Tx) error {
		// tx.Check runs in a goroutine of its own, where no fault can be
		// recovered, and trusts the page structure: check that first,
		// outside the memory map.
		if err := walkFile(db.path); err != nil {
			return err
		}
		for err := range tx.Check() {
			if n < shown {
				problems = append(problems, err.Error())
			}
			n++
		}
		return errCheckDone
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	err := guard(func() error {
		if db.readOnly {
			return db.bolt.View(check)
		}
		return db.bolt.Update(check)
	})
	if errors.Is(err, errCheckDone) {
		err = nil
	}
	if err != nil {
		return damaged(op, db.path, err)
	}
	if n > 0 {
		detail := strings.Join(problems, "; ")
		if n > shown {
			detail += fmt.Sprintf("; and %d more", n-shown)
		}
		return damaged(op, db.path, errors.New(detail))
	}
	return nil
}

// checkOnOpen runs Check for at most timeout. When the check takes longer
// it goes on in the background, where it holds the write lock until done,
// and onLate receives its outcome: a big healthy file must not hold up
// start, and reads are guarded meanwhile (see view).
func (db *DB) checkOnOpen(timeout time.Duration, onLate func(error)) (late bool, err error) {
	if timeout < 0 {
		return false, nil
	}
	if timeout == 0 {
		timeout = DefaultCheckTimeout
	}
	done := make(chan error, 1)
	db.checks.Add(1)
	go func() {
		defer db.checks.Done()
		done <- db.Check()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return false, err
	case <-t.C:
	}
	db.checks.Add(1)
	go func() {
		defer db.checks.Done()
		err := <-done
		if onLate != nil {
			onLate(err)
		}
	}()
	return true, nil
}
