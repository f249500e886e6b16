package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// AppendAudit adds ev to the audit log and returns it with its sequence
// number. A zero Time is now; a zero Actor is the actor of ctx
// (dsar.ActorFrom). The log is append-only: nothing here edits or deletes.
func (db *DB) AppendAudit(ctx context.Context, ev dsar.AuditEvent) (dsar.AuditEvent, error) {
	const op = "store.AppendAudit"
	if ev.Action == "" {
		return dsar.AuditEvent{}, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "audit event has no action"}
	}
	if ev.Request != "" {
		if err := checkComponent("request id", ev.Request); err != nil {
			return dsar.AuditEvent{}, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
		}
	}
	err := db.update(ctx, op, func(tx *bolt.Tx) error {
		var err error
		ev, err = db.appendAudit(ctx, tx, ev)
		return err
	})
	return ev, err
}

func (db *DB) appendAudit(ctx context.Context, tx *bolt.Tx, ev dsar.AuditEvent) (dsar.AuditEvent, error) {
	ab := tx.Bucket(bucketAudit)
	seq, err := ab.NextSequence()
	if err != nil {
		return ev, err
	}
	ev.Seq = seq
	if ev.Time.IsZero() {
		ev.Time = db.clock.Now()
	}
	if ev.Actor == (dsar.Actor{}) {
		ev.Actor = dsar.ActorFrom(ctx)
	}
	if err := putRecord(ab, seqKey(seq), toAuditRecord(&ev)); err != nil {
		return ev, err
	}
	if ev.Request != "" {
		if err := tx.Bucket(bucketAuditReq).Put(auditReqKey(ev.Request, seq), nil); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// Audit returns audit events in the order they were written. Events are
// written in time order, so the first one at or after f.Until ends the
// listing.
func (db *DB) Audit(ctx context.Context, f dsar.AuditFilter) ([]dsar.AuditEvent, error) {
	const op = "store.Audit"
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	var out []dsar.AuditEvent
	var end bool // an event at or after f.Until was read
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		ab := tx.Bucket(bucketAudit)
		add := func(seq uint64, v []byte) error {
			ev, err := decodeAudit(v)
			if err != nil {
				return badRecord(op, fmt.Sprintf("audit event %d", seq), err)
			}
			switch {
			case !f.Until.IsZero() && !ev.Time.Before(f.Until):
				end = true
			case !ev.Time.Before(f.Since):
				out = append(out, ev)
			}
			return nil
		}
		if f.Request == "" {
			c := ab.Cursor()
			for k, v := c.Seek(seqKey(f.After + 1)); k != nil && !end && len(out) < limit; k, v = c.Next() {
				if err := add(binary.BigEndian.Uint64(k), v); err != nil {
					return err
				}
			}
			return nil
		}
		if err := checkComponent("request id", f.Request); err != nil {
			return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
		}
		prefix := joinKey(true, f.Request)
		c := tx.Bucket(bucketAuditReq).Cursor()
		for k, _ := c.Seek(auditReqKey(f.Request, f.After+1)); k != nil && bytes.HasPrefix(k, prefix) && !end && len(out) < limit; k, _ = c.Next() {
			seq := binary.BigEndian.Uint64(k[len(prefix):])
			v := ab.Get(seqKey(seq))
			if v == nil {
				return fmt.Errorf("audit index names missing event %d", seq)
			}
			if err := add(seq, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
