package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// CreateRequest stores a new request, its sections and a "create" audit
// event in one transaction. A zero CreatedAt is set to now and a zero DueAt
// from dsar.DefaultDeadlines.
//
// A request whose idempotency key is already stored is not created again:
// with the same email (in any case, dsar.SameEmail), account and
// regulation the stored request is returned (created is false); with
// anything else the error has code ECONFLICT. An empty key is no key. A
// key belongs to the actor of ctx (dsar.ActorFrom) that sent it: another
// caller's same key neither returns nor blocks its request.
func (db *DB) CreateRequest(ctx context.Context, r *dsar.Request, sections []dsar.Section) (req *dsar.Request, created bool, err error) {
	const op = "store.CreateRequest"
	if err := r.Validate(); err != nil {
		return nil, false, err
	}
	if err := checkComponent("request id", r.ID); err != nil {
		return nil, false, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
	}
	secs, err := prepareSections(op, r.ID, sections)
	if err != nil {
		return nil, false, err
	}
	now := db.clock.Now()
	nr := *r
	if nr.CreatedAt.IsZero() {
		nr.CreatedAt = now
	}
	nr.UpdatedAt = nr.CreatedAt
	nr.EmailHash = emailHash(db.hashKey, nr.Email)
	if nr.DueAt.IsZero() {
		if nr.DueAt, err = dsar.DefaultDeadlines.Due(nr.Regulation, nr.CreatedAt); err != nil {
			return nil, false, err
		}
	}
	err = db.update(ctx, op, func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRequests)
		idem := tx.Bucket(bucketIdem)
		key := idemKey(ctx, nr.IdempotencyKey)
		if nr.IdempotencyKey != "" {
			if id := idem.Get(key); id != nil {
				old, err := db.getRequest(tx, string(id))
				if err != nil {
					return err
				}
				// The hashes compare as dsar.SameEmail does, and still
				// once the old request's email is purged.
				if old.EmailHash != nr.EmailHash || old.Account != nr.Account || old.Regulation != nr.Regulation {
					return &dsar.Error{Code: dsar.ECONFLICT, Op: op, Message: "idempotency key was already used for a different request"}
				}
				req = old
				return nil
			}
		}
		if rb.Get([]byte(nr.ID)) != nil {
			return &dsar.Error{Code: dsar.ECONFLICT, Op: op, Message: "request id already exists"}
		}
		if db.sealer != nil {
			if _, err := db.createDataKey(tx, nr.ID); err != nil {
				return err
			}
		}
		if err := db.putRequest(tx, &nr); err != nil {
			return err
		}
		if nr.IdempotencyKey != "" {
			if err := idem.Put(key, []byte(nr.ID)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketByState).Put(stateKey(string(nr.State), nr.ID), nil); err != nil {
			return err
		}
		sb := tx.Bucket(bucketSections)
		for i := range secs {
			if err := putSection(sb, sectionKey(nr.ID, secs[i].Name), &secs[i]); err != nil {
				return err
			}
		}
		_, err := db.appendAudit(ctx, tx, dsar.AuditEvent{Request: nr.ID, Action: dsar.ActionCreate,
			Detail: fmt.Sprintf("%s %s", nr.Regulation, nr.State)})
		req, created = &nr, true
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return req, created, nil
}

// idemKey is where the idempotency key sent by the actor of ctx is
// stored: the actor's name and role and the key, after a separator that
// no key of schema version 2 (the key alone) began with.
func idemKey(ctx context.Context, key string) []byte {
	a := dsar.ActorFrom(ctx)
	return joinKey(false, "", a.Name, a.Role, key)
}

// prepareSections checks and copies the sections of a new request.
func prepareSections(op, id string, sections []dsar.Section) ([]dsar.Section, error) {
	out := make([]dsar.Section, len(sections))
	seen := make(map[string]bool, len(sections))
	for i, s := range sections {
		if s.Request != "" && s.Request != id {
			return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: fmt.Sprintf("section %q belongs to another request", s.Name)}
		}
		if err := checkComponent("section", s.Name); err != nil {
			return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
		}
		if seen[s.Name] {
			return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: fmt.Sprintf("section %q given twice", s.Name)}
		}
		seen[s.Name] = true
		if err := checkParts(op, &s); err != nil {
			return nil, err
		}
		s.Request = id
		if s.State == "" {
			s.State = dsar.SectionPending
		}
		s.Parts = slices.Clone(s.Parts)
		out[i] = s
	}
	return out, nil
}

func checkParts(op string, s *dsar.Section) error {
	if s.State != "" && !s.State.Valid() {
		return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: fmt.Sprintf("section %q has unknown state %q", s.Name, string(s.State))}
	}
	seen := make(map[string]bool, len(s.Parts))
	for _, p := range s.Parts {
		if err := checkComponent("part", p.Name); err != nil {
			return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
		}
		if seen[p.Name] {
			return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: fmt.Sprintf("part %q of section %q given twice", p.Name, s.Name)}
		}
		seen[p.Name] = true
	}
	return nil
}

// Request returns the request with id.
func (db *DB) Request(ctx context.Context, id string) (*dsar.Request, error) {
	var r *dsar.Request
	err := db.view(ctx, "store.Request", func(tx *bolt.Tx) error {
		var err error
		r, err = db.getRequest(tx, id)
		return err
	})
	return r, err
}

const (
	defaultLimit = 100
	maxLimit     = 1000
)

// ListRequests returns the requests that match f, newest first, and the
// token of the next page ("" when there is none). Newest first is by id,
// which dsar.NewID makes sort by creation time (within a shard); the token
// is the last id of the page, and the next page holds the ids below it. A request whose record
// does not decode is skipped and reported to Options.OnSkip.
func (db *DB) ListRequests(ctx context.Context, f dsar.RequestFilter) ([]dsar.Request, string, error) {
	const op = "store.ListRequests"
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	for _, s := range f.States {
		if !s.Valid() {
			return nil, "", &dsar.Error{Code: dsar.EINVALID, Op: op, Message: fmt.Sprintf("unknown state %q", string(s))}
		}
	}
	// The email matches by its keyed hash, which a purged request keeps.
	var hash string
	if f.Email != "" {
		hash = db.EmailHash(f.Email)
	}
	match := func(r *filterRecord) bool {
		return (f.Account == "" || r.Account == f.Account) &&
			(hash == "" || r.EmailHash == hash) &&
			(f.CreatedAfter.IsZero() || r.CreatedAt.After(f.CreatedAfter)) &&
			(f.CreatedBefore.IsZero() || r.CreatedAt.Before(f.CreatedBefore)) &&
			(f.DueBefore.IsZero() || r.DueAt.Before(f.DueBefore))
	}
	var (
		out  []dsar.Request
		next string
	)
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		rb := tx.Bucket(bucketRequests)
		// skip reports a record that does not decode: one damaged record
		// fails its own request, not the list.
		skip := func(id string, err error) {
			if db.onSkip != nil {
				db.onSkip(id, err)
			}
		}
		// visit returns false to stop. The filter reads the few plain
		// fields it needs; only a request listed is decoded whole and its
		// email opened.
		visit := func(id []byte, v []byte) (bool, error) {
			var fr filterRecord
			if err := json.Unmarshal(v, &fr); err != nil {
				skip(string(id), err)
				return true, nil
			}
			if !match(&fr) {
				return true, nil
			}
			if len(out) == limit {
				next = out[len(out)-1].ID
				return false, nil
			}
			var rec requestRecord
			err := json.Unmarshal(v, &rec)
			var r dsar.Request
			switch {
			case err != nil:
			case f.SkipEmail:
				r = fromRequestRecord(&rec)
				r.Email = ""
			default:
				r, err = db.openRequest(tx, string(id), &rec)
			}
			if err != nil {
				skip(string(id), err)
				return true, nil
			}
			out = append(out, r)
			return true, nil
		}
		if len(f.States) == 0 {
			c := rb.Cursor()
			k, v := c.Last()
			if f.PageToken != "" {
				// The first id below the token.
				if k, _ = c.Seek([]byte(f.PageToken)); k == nil {
					k, v = c.Last()
				} else {
					k, v = c.Prev()
				}
			}
			for ; k != nil; k, v = c.Prev() {
				if more, err := visit(k, v); err != nil || !more {
					return err
				}
			}
			return nil
		}
		var ids []string
		c := tx.Bucket(bucketByState).Cursor()
		for _, s := range slices.Compact(slices.Sorted(slices.Values(f.States))) {
			prefix := joinKey(true, string(s))
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if id := string(k[len(prefix):]); f.PageToken == "" || id < f.PageToken {
					ids = append(ids, id)
				}
			}
		}
		slices.Sort(ids)
		slices.Reverse(ids)
		for _, id := range ids {
			v := rb.Get([]byte(id))
			if v == nil {
				skip(id, errors.New("the state index names a request that is not stored"))
				continue
			}
			if more, err := visit([]byte(id), v); err != nil || !more {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// UpdateRequest applies fn to the request with id and stores the result.
// A change of state must be allowed by dsar.CanTransition and is written to
// the audit log in the same transaction, with its reason and the actor of
// ctx (dsar.WithActor); a request that ends FAILED or CANCELLED stops its
// sections in progress in it too (dsar.Section.Stop). The id, account, email and idempotency key cannot
// change. An error from fn is returned as is and nothing is written.
func (db *DB) UpdateRequest(ctx context.Context, id string, fn func(*dsar.Request) error) (*dsar.Request, error) {
	const op = "store.UpdateRequest"
	var out *dsar.Request
	err := db.update(ctx, op, func(tx *bolt.Tx) error {
		r, err := db.getRequest(tx, id)
		if err != nil {
			return err
		}
		old := *r
		if err := fn(r); err != nil {
			return err
		}
		if r.ID != old.ID || r.Account != old.Account || r.Email != old.Email || r.EmailHash != old.EmailHash ||
			r.IdempotencyKey != old.IdempotencyKey || !r.CreatedAt.Equal(old.CreatedAt) || r.Purge != old.Purge {
			return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "a request's id, account, email, key, creation time and purge cannot change (PurgeRequest purges)"}
		}
		if r.State != old.State {
			if !dsar.CanTransition(old.State, r.State) {
				return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("a %s request cannot become %s", old.State, r.State)}
			}
			sb := tx.Bucket(bucketByState)
			if err := sb.Delete(stateKey(string(old.State), id)); err != nil {
				return err
			}
			if err := sb.Put(stateKey(string(r.State), id), nil); err != nil {
				return err
			}
			if _, err := db.appendAudit(ctx, tx, dsar.AuditEvent{Request: id, Action: dsar.ActionState,
				Detail: stateDetail(old.State, r)}); err != nil {
				return err
			}
			if err := stopSections(tx, id, r.State, db.clock.Now()); err != nil {
				return err
			}
		}
		r.UpdatedAt = db.clock.Now()
		out = r
		return db.putRequest(tx, r)
	})
	return out, err
}

// stopSections applies dsar.Section.Stop to every section of a request
// that has ended FAILED or CANCELLED, so that none looks in progress.
func stopSections(tx *bolt.Tx, id string, state dsar.State, now time.Time) error {
	if state != dsar.StateFailed && state != dsar.StateCancelled {
		return nil
	}
	return rewriteSections(tx, id, func(s *dsar.Section, err error) (bool, error) {
		// A damaged section record stays as it is: the request must
		// still be able to end, and reading the section names the
		// damage.
		return err == nil && s.Stop(state, now), nil
	})
}

// rewriteSections applies fn to each section of a request, with the error
// of a record that does not decode, and stores those fn changed.
func rewriteSections(tx *bolt.Tx, id string, fn func(s *dsar.Section, err error) (bool, error)) error {
	sb := tx.Bucket(bucketSections)
	prefix := joinKey(true, id)
	type put struct {
		k []byte
		s dsar.Section
	}
	var puts []put // a bucket is not written while a cursor walks it
	c := sb.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		s, err := decodeSection(v)
		changed, err := fn(&s, err)
		if err != nil {
			return err
		}
		if changed {
			puts = append(puts, put{bytes.Clone(k), s})
		}
	}
	for _, p := range puts {
		if err := putSection(sb, p.k, &p.s); err != nil {
			return err
		}
	}
	return nil
}

// stateDetail is the audit detail of a change of state: "FROM -> TO",
// then the reason when there is one, or when parked the time it waits for.
func stateDetail(from dsar.State, r *dsar.Request) string {
	d := fmt.Sprintf("%s -> %s", from, r.State)
	switch {
	case r.Reason != "":
		d += ": " + r.Reason
	case r.State.Waiting() && !r.WaitingUntil.IsZero():
		d += ": until " + r.WaitingUntil.UTC().Format(time.RFC3339)
	}
	return d
}

// Claim gives the lease of a request to owner until the given time, if no
// one else holds it now. The same owner may extend its lease.
func (db *DB) Claim(ctx context.Context, id, owner string, until time.Time) (*dsar.Request, error) {
	const op = "store.Claim"
	if owner == "" {
		return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "lease owner is empty"}
	}
	now := db.clock.Now()
	if !until.After(now) {
		return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "lease must end in the future"}
	}
	var out *dsar.Request
	err := db.update(ctx, op, func(tx *bolt.Tx) error {
		r, err := db.getRequest(tx, id)
		if err != nil {
			return err
		}
		if r.Lease.Held(now) && r.Lease.Owner != owner {
			return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("request is leased by %s until %s", r.Lease.Owner, r.Lease.Until.UTC().Format(time.RFC3339))}
		}
		r.Lease = dsar.Lease{Owner: owner, Until: until}
		r.UpdatedAt = now
		out = r
		return db.putRequest(tx, r)
	})
	return out, err
}

// Release ends owner's lease on a request. Releasing a lease that owner
// does not hold is an EPRECONDITION error, unless no one holds it.
func (db *DB) Release(ctx context.Context, id, owner string) error {
	const op = "store.Release"
	return db.update(ctx, op, func(tx *bolt.Tx) error {
		r, err := db.getRequest(tx, id)
		if err != nil {
			return err
		}
		switch {
		case r.Lease.Owner == owner:
		case !r.Lease.Held(db.clock.Now()):
			return nil
		default:
			return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("request is leased by %s", r.Lease.Owner)}
		}
		r.Lease = dsar.Lease{}
		r.UpdatedAt = db.clock.Now()
		return db.putRequest(tx, r)
	})
}

// getRequest returns the stored request with id, its email opened.
func (db *DB) getRequest(tx *bolt.Tx, id string) (*dsar.Request, error) {
	rec, err := getRequestRecord(tx, id)
	if err != nil {
		return nil, err
	}
	r, err := db.openRequest(tx, id, rec)
	if err != nil {
		return nil, badRecord("store.Request", "request "+id, err)
	}
	return &r, nil
}

// getRequestRecord returns the stored record of request id, its email
// still sealed: what a caller that needs only the plain fields, or to know
// that the request exists, reads without unwrapping the data key.
func getRequestRecord(tx *bolt.Tx, id string) (*requestRecord, error) {
	if err := checkComponent("request id", id); err != nil {
		return nil, &dsar.Error{Code: dsar.EINVALID, Op: "store.Request", Message: err.Error()}
	}
	v := tx.Bucket(bucketRequests).Get([]byte(id))
	if v == nil {
		return nil, notFound("store.Request", "request")
	}
	var rec requestRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, badRecord("store.Request", "request "+id, err)
	}
	return &rec, nil
}

// CountByState returns how many requests are in each state, from the state
// index alone (for metrics: it reads no request).
func (db *DB) CountByState(ctx context.Context) (map[dsar.State]int, error) {
	out := map[dsar.State]int{}
	err := db.view(ctx, "store.CountByState", func(tx *bolt.Tx) error {
		return tx.Bucket(bucketByState).ForEach(func(k, _ []byte) error {
			state, _, ok := bytes.Cut(k, []byte{sep})
			if !ok {
				return fmt.Errorf("state index key without separator")
			}
			out[dsar.State(state)]++
			return nil
		})
	})
	return out, err
}
