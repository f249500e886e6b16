package store

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// migrations[v] turns a file of schema version v into one of version v+1,
// within the transaction of Open that then sets the new version: a crash
// leaves the old version whole, and a migrated file is not migrated again.
// A migration that needs a key takes it from migrations' arguments.
func migrations(hashKey []byte) map[uint32]func(tx *bolt.Tx) error {
	return map[uint32]func(tx *bolt.Tx) error{
		1: migrate1,
		2: migrate2,
		3: migrate3,
		4: func(tx *bolt.Tx) error {
			if err := migrateDataKeys(tx); err != nil {
				return err
			}
			return migrateEmailHash(tx, hashKey)
		},
		5: migrateMediaDone,
	}
}

// testHookMigrate, when set by a test, runs after each record a migration
// rewrites; an error aborts the migration.
var testHookMigrate func() error

// migrate runs the migrations from version from to SchemaVersion and sets
// the version.
func migrate(tx *bolt.Tx, from uint32, hashKey []byte) error {
	ms := migrations(hashKey)
	for v := from; v < SchemaVersion; v++ {
		m := ms[v]
		if m == nil {
			return fmt.Errorf("schema version %d is older than this build's %d and there is no migration", from, SchemaVersion)
		}
		if err := m(tx); err != nil {
			return fmt.Errorf("migrating schema version %d to %d: %w", v, v+1, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion))
}

// Schema version 1 stored the JSON of package dsar's structs, keyed by
// their Go field names. These types freeze those keys.
type (
	requestV1 struct {
		ID             string       `json:"ID"`
		Account        string       `json:"Account"`
		Email          string       `json:"Email"`
		Regulation     string       `json:"Regulation"`
		IdempotencyKey string       `json:"IdempotencyKey"`
		State          string       `json:"State"`
		Reason         string       `json:"Reason"`
		Outcome        string       `json:"Outcome"`
		ZoomUserID     string       `json:"ZoomUserID"`
		CreatedAt      time.Time    `json:"CreatedAt"`
		UpdatedAt      time.Time    `json:"UpdatedAt"`
		DueAt          time.Time    `json:"DueAt"`
		Extension      *extensionV1 `json:"Extension"`
		WaitingUntil   time.Time    `json:"WaitingUntil"`
		Lease          struct {
			Owner string    `json:"Owner"`
			Until time.Time `json:"Until"`
		} `json:"Lease"`
		Bundle struct {
			Path           string    `json:"Path"`
			Size           int64     `json:"Size"`
			SHA256         string    `json:"SHA256"`
			KeyFingerprint string    `json:"KeyFingerprint"`
			Finished       time.Time `json:"Finished"`
		} `json:"Bundle"`
	}
	extensionV1 struct {
		Reason      string    `json:"Reason"`
		By          string    `json:"By"`
		At          time.Time `json:"At"`
		PreviousDue time.Time `json:"PreviousDue"`
		NewDue      time.Time `json:"NewDue"`
	}
	sectionV1 struct {
		Request      string    `json:"Request"`
		Name         string    `json:"Name"`
		State        string    `json:"State"`
		Reason       string    `json:"Reason"`
		ReasonCode   int       `json:"ReasonCode"`
		Parts        []partV1  `json:"Parts"`
		Calls        int64     `json:"Calls"`
		Records      int64     `json:"Records"`
		Pages        int64     `json:"Pages"`
		WaitingUntil time.Time `json:"WaitingUntil"`
		StartedAt    time.Time `json:"StartedAt"`
		FinishedAt   time.Time `json:"FinishedAt"`
	}
	partV1 struct {
		Name   string `json:"Name"`
		Cursor struct {
			Window    int    `json:"Window"`
			From      string `json:"From"`
			To        string `json:"To"`
			PageToken string `json:"PageToken"`
		} `json:"Cursor"`
		Done    bool `json:"Done"`
		Covered struct {
			From string `json:"From"`
			To   string `json:"To"`
		} `json:"Covered"`
		Calls   int64 `json:"Calls"`
		Records int64 `json:"Records"`
		Pages   int64 `json:"Pages"`
	}
	auditV1 struct {
		Seq     uint64    `json:"Seq"`
		Time    time.Time `json:"Time"`
		Request string    `json:"Request"`
		Actor   struct {
			Name string `json:"Name"`
			Role string `json:"Role"`
		} `json:"Actor"`
		Action string `json:"Action"`
		Detail string `json:"Detail"`
	}
)

func (r *requestV1) record() any {
	rec := requestRecord{ID: r.ID, Account: r.Account, Email: r.Email, Regulation: r.Regulation,
		IdempotencyKey: r.IdempotencyKey, State: r.State, Reason: r.Reason, Outcome: r.Outcome,
		ZoomUserID: r.ZoomUserID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DueAt: r.DueAt,
		WaitingUntil: r.WaitingUntil,
		Lease:        leaseRecord{Owner: r.Lease.Owner, Until: r.Lease.Until},
		Bundle: bundleRecord{Path: r.Bundle.Path, Size: r.Bundle.Size, SHA256: r.Bundle.SHA256,
			KeyFingerprint: r.Bundle.KeyFingerprint, Finished: r.Bundle.Finished}}
	if e := r.Extension; e != nil {
		rec.Extension = &extensionRecord{Reason: e.Reason, By: e.By, At: e.At, PreviousDue: e.PreviousDue, NewDue: e.NewDue}
	}
	return rec
}

func (s *sectionV1) record() any {
	rec := sectionRecord{Request: s.Request, Name: s.Name, State: s.State, Reason: s.Reason,
		ReasonCode: s.ReasonCode, Calls: s.Calls, Records: s.Records, Pages: s.Pages,
		WaitingUntil: s.WaitingUntil, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt}
	if s.Parts != nil {
		rec.Parts = make([]partRecord, len(s.Parts))
	}
	for i, p := range s.Parts {
		rec.Parts[i] = partRecord{Name: p.Name,
			Cursor:  cursorRecord{Window: p.Cursor.Window, From: p.Cursor.From, To: p.Cursor.To, PageToken: p.Cursor.PageToken},
			Done:    p.Done,
			Covered: spanRecord{From: p.Covered.From, To: p.Covered.To},
			Calls:   p.Calls, Records: p.Records, Pages: p.Pages}
	}
	return rec
}

func (a *auditV1) record() any {
	return auditRecord{Seq: a.Seq, Time: a.Time, Request: a.Request, ActorName: a.Actor.Name,
		ActorRole: a.Actor.Role, Action: a.Action, Detail: a.Detail}
}

// migrate1 rewrites requests, sections and audit events as the records of
// version 2 and adds the media bucket, which early files of version 1 lack
// (TestMediaOlderFile).
// Pages, media records, idempotency keys and the indexes keep their format.
// A record that does not decode is left as it is: as before, it fails only
// its own request (badRecord).
func migrate1(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketMedia); err != nil {
		return err
	}
	for _, b := range []struct {
		name []byte
		old  func() interface{ record() any }
	}{
		{bucketRequests, func() interface{ record() any } { return new(requestV1) }},
		{bucketSections, func() interface{ record() any } { return new(sectionV1) }},
		{bucketAudit, func() interface{ record() any } { return new(auditV1) }},
	} {
		bucket := tx.Bucket(b.name)
		if bucket == nil {
			return fmt.Errorf("bucket %s is missing", b.name)
		}
		if err := rewrite(bucket, b.old); err != nil {
			return err
		}
	}
	return nil
}

// rewrite re-encodes the records of a bucket of version 1 as records of
// version 2 (rewriteEach). A record that does not decode is left as it is.
func rewrite(bucket *bolt.Bucket, old func() interface{ record() any }) error {
	return rewriteEach(bucket, func(_, v []byte) ([]byte, error) {
		rec := old()
		if json.Unmarshal(v, rec) != nil {
			return nil, nil
		}
		return json.Marshal(rec.record())
	})
}

// rewriteEach replaces each value of a bucket by fn's result for it; a nil
// result leaves the value as it is. A bucket is not written while a cursor
// walks it, so the values are read in batches, then written, then the walk
// goes on after the batch's last key. The batches bound only the list of
// pending writes; bbolt holds every changed page of the one migrating
// transaction in memory until it commits.
func rewriteEach(bucket *bolt.Bucket, fn func(k, v []byte) ([]byte, error)) error {
	const batch = 1024
	type put struct{ k, v []byte }
	var (
		puts []put
		last []byte
	)
	for {
		puts = puts[:0]
		c := bucket.Cursor()
		k, v := c.First()
		if last != nil {
			k, v = c.Seek(last)
			if bytes.Equal(k, last) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(puts) < batch; k, v = c.Next() {
			last = bytes.Clone(k)
			if v == nil { // a nested bucket
				continue
			}
			nv, err := fn(last, v)
			if err != nil {
				return err
			}
			if nv != nil {
				puts = append(puts, put{last, nv})
			}
		}
		for _, p := range puts {
			if err := bucket.Put(p.k, p.v); err != nil {
				return err
			}
			if testHookMigrate != nil {
				if err := testHookMigrate(); err != nil {
					return err
				}
			}
		}
		if k == nil {
			return nil
		}
	}
}

// migrate2 adds the grants bucket of OAuth apps (grant.go).
func migrate2(tx *bolt.Tx) error {
	_, err := tx.CreateBucketIfNotExists(bucketGrants)
	return err
}

// migrate3 scopes each idempotency key to the caller that sent it
// (idemKey): the actor of its request's first audit event, the "create"
// written in the transaction that stored the request. A key whose
// request has no such event (a damaged log) goes to dsar.System, the
// actor of a call without a caller, as CreateRequest would scope it.
func migrate3(tx *bolt.Tx) error {
	idem, byReq, audit := tx.Bucket(bucketIdem), tx.Bucket(bucketAuditReq), tx.Bucket(bucketAudit)
	if idem == nil || byReq == nil || audit == nil {
		return fmt.Errorf("bucket %s, %s or %s is missing", bucketIdem, bucketAuditReq, bucketAudit)
	}
	type move struct{ key, scoped, id []byte }
	var moves []move
	err := idem.ForEach(func(k, v []byte) error {
		actor := dsar.System
		prefix := joinKey(true, string(v))
		if ik, _ := byReq.Cursor().Seek(prefix); ik != nil && bytes.HasPrefix(ik, prefix) {
			if ev, err := decodeAudit(audit.Get(ik[len(prefix):])); err == nil && ev.Action == dsar.ActionCreate {
				actor = ev.Actor
			}
		}
		moves = append(moves, move{bytes.Clone(k), joinKey(false, "", actor.Name, actor.Role, string(k)), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range moves {
		if err := idem.Delete(m.key); err != nil {
			return err
		}
		if err := idem.Put(m.scoped, m.id); err != nil {
			return err
		}
	}
	return nil
}

// migrateDataKeys adds the bucket of the requests' data keys (crypt.go). Sealing
// the records under a master key is sealAll's, run whenever a store not
// sealed yet is opened with one.
func migrateDataKeys(tx *bolt.Tx) error {
	_, err := tx.CreateBucketIfNotExists(bucketDataKeys)
	return err
}

// sealAll seals a store under the master key: it gives every request a
// data key and seals its email and pages under it, and seals the grants.
// A record that does not decode is left as it is (it fails only its own
// request, see badRecord). The plain values stay in the file's free pages
// until it is compacted, which Open does next.
func (db *DB) sealAll(tx *bolt.Tx) error {
	keys := map[string]cipher.AEAD{}
	// key returns the data key of request id, created if it has none.
	key := func(id string) (cipher.AEAD, error) {
		if aead, ok := keys[id]; ok {
			return aead, nil
		}
		aead, err := db.requestKey(tx, id)
		if errors.Is(err, ErrPurged) {
			aead, err = db.createDataKey(tx, id)
		}
		keys[id] = aead
		return aead, err
	}
	err := rewriteRequests(tx, func(id string, rec *requestRecord) (bool, error) {
		if _, err := key(id); err != nil {
			return false, err
		}
		if rec.Email == "" {
			return false, nil
		}
		var err error
		if rec.SealedEmail, err = db.sealEmail(tx, id, rec.Email); err != nil {
			return false, err
		}
		// A store written without a master key hashed under the empty
		// key: the hash is made again under the master's.
		rec.EmailHash = emailHash(db.hashKey, rec.Email)
		rec.Email = ""
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	err = rewriteEach(tx.Bucket(bucketPages), func(k, v []byte) ([]byte, error) {
		id, _, _, _, err := parsePageKey(k)
		if err != nil {
			return nil, nil
		}
		f, w, z, err := pageHeader(v)
		if err != nil || f == pageFormatSealed {
			return nil, nil
		}
		aead, err := key(id)
		if err != nil {
			return nil, err
		}
		if f == pageFormat {
			// Format 3 seals format 2's compressed payload as it is.
			return sealPage(aead, k, w, z), nil
		}
		// Format 1 has no item list: its payload is encoded again
		// in format 2's layout before it is sealed.
		page, err := db.decodePage(nil, k, v)
		if err != nil {
			return nil, nil
		}
		payload, err := encodePayload(page)
		if err != nil {
			return nil, nil
		}
		return sealPage(aead, k, w, db.enc.EncodeAll(payload, nil)), nil
	})
	if err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	err = rewriteEach(tx.Bucket(bucketGrants), func(k, v []byte) ([]byte, error) {
		if len(v) == 0 || v[0] == sealedTag {
			return nil, nil
		}
		return db.sealGrant(string(k), v), nil
	})
	if err != nil {
		return fmt.Errorf("grants: %w", err)
	}
	return nil
}

// migrateEmailHash sets the keyed hash of its email (emailHash) in each
// request record that has none, so that every request stays findable by
// its address once purged.
func migrateEmailHash(tx *bolt.Tx, key []byte) error {
	return rewriteRequests(tx, func(_ string, rec *requestRecord) (bool, error) {
		if rec.EmailHash != "" || rec.Email == "" {
			return false, nil
		}
		rec.EmailHash = emailHash(key, rec.Email)
		return true, nil
	})
}

// rewriteRequests applies fn to each request record of version 2 or later
// and stores those it changed (rewriteEach). A record that does not decode
// is left as it is, as by migrate1.
func rewriteRequests(tx *bolt.Tx, fn func(id string, rec *requestRecord) (changed bool, err error)) error {
	rb := tx.Bucket(bucketRequests)
	if rb == nil {
		return fmt.Errorf("bucket %s is missing", bucketRequests)
	}
	return rewriteEach(rb, func(k, v []byte) ([]byte, error) {
		var rec requestRecord
		if json.Unmarshal(v, &rec) != nil {
			return nil, nil
		}
		changed, err := fn(string(k), &rec)
		if err != nil || !changed {
			return nil, err
		}
		return json.Marshal(rec)
	})
}

// migrateMediaDone sets in each section record the media files settled and
// the bytes of those done, counted from its media records, as Sections
// counted them before version 6: a section without media records keeps
// its counts (those of a purged request, set at the purge). A media record
// that does not decode counts as a file without bytes; a section record
// that does not decode is left as it is, as by migrate1.
func migrateMediaDone(tx *bolt.Tx) error {
	mb, sb := tx.Bucket(bucketMedia), tx.Bucket(bucketSections)
	if mb == nil || sb == nil {
		return fmt.Errorf("bucket %s or %s is missing", bucketMedia, bucketSections)
	}
	// By section key: a media key is request, section, name.
	counts := map[string]dsar.MediaProgress{}
	err := mb.ForEach(func(k, v []byte) error {
		id, rest, ok1 := bytes.Cut(k, []byte{sep})
		section, _, ok2 := bytes.Cut(rest, []byte{sep})
		if !ok1 || !ok2 {
			return nil
		}
		key := string(sectionKey(string(id), string(section)))
		var rec mediaRecord
		ok := json.Unmarshal(v, &rec) == nil
		m := counts[key]
		m.FilesDone++
		if ok && rec.Done {
			m.BytesDone += rec.Size
		}
		counts[key] = m
		return nil
	})
	if err != nil {
		return err
	}
	for k, m := range counts {
		v := sb.Get([]byte(k))
		if v == nil {
			continue
		}
		s, err := decodeSection(v)
		if err != nil {
			continue
		}
		s.Media.FilesDone, s.Media.BytesDone = m.FilesDone, m.BytesDone
		if err := putSection(sb, []byte(k), &s); err != nil {
			return err
		}
	}
	return nil
}
