package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// emailHash is the keyed hash a request keeps of its email: HMAC-SHA256,
// under a key derived from the store's master key, of the address trimmed
// and in lower case, so that the addresses dsar.SameEmail takes for one give one hash.
func emailHash(key []byte, email string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// EmailHash returns the hash that a request for email keeps (its
// EmailHash), to find the requests of an address after their purge.
func (db *DB) EmailHash(email string) string { return emailHash(db.hashKey, email) }

// PurgeCollected deletes what was collected for a request once its bundle
// holds it: the stored pages, the cursors' page tokens and record ids, and
// the media records. The sections keep their states, counts and the
// windows they covered. The purge is recorded in the request
// (Purge.CollectedAt) and the audit log in the same transaction; a request
// purged already is returned as it is.
func (db *DB) PurgeCollected(ctx context.Context, id string) (*dsar.Request, error) {
	return db.purge(ctx, "store.PurgeCollected", id, "", nil)
}

// PurgeRequest does what PurgeCollected does, then replaces the request's
// email by its hash (EmailHash), records the purge of its bundle with the
// reason (Purge.BundleAt, Purge.Reason) and keeps manifest, the bundle's
// manifest.json with the email already replaced, in one transaction. The
// manifest is stored as it is, not sealed under the data key the purge
// destroys: it must stay readable, and holds no personal data. A nil
// manifest (no readable bundle) keeps none, and the audit event says so.
// The caller deletes the bundle file. A request purged already is
// returned as it is.
func (db *DB) PurgeRequest(ctx context.Context, id, reason string, manifest []byte) (*dsar.Request, error) {
	const op = "store.PurgeRequest"
	if strings.TrimSpace(reason) == "" {
		return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "a purge needs a reason"}
	}
	return db.purge(ctx, op, id, reason, manifest)
}

// Manifest returns the manifest a purged request keeps (PurgeRequest).
// ENOTFOUND when there is no such request, or it keeps none: it is not
// purged, or its bundle was missing or damaged at the purge.
func (db *DB) Manifest(ctx context.Context, id string) ([]byte, error) {
	const op = "store.Manifest"
	var out []byte
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		if _, err := getRequestRecord(tx, id); err != nil {
			return err
		}
		if b := tx.Bucket(bucketManifests); b != nil {
			out = bytes.Clone(b.Get([]byte(id)))
		}
		if out == nil {
			return &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Message: fmt.Sprintf("request %s keeps no manifest", id)}
		}
		return nil
	})
	return out, err
}

// putManifest keeps the redacted manifest of request r, refusing one that
// still holds its email.
func putManifest(tx *bolt.Tx, r *dsar.Request, manifest []byte) error {
	if r.Email != "" && bytes.Contains(bytes.ToLower(manifest), []byte(strings.ToLower(r.Email))) {
		return &dsar.Error{Code: dsar.EINVALID, Op: "store.PurgeRequest", Message: "the manifest to keep still holds the subject's email"}
	}
	b, err := tx.CreateBucketIfNotExists(bucketManifests)
	if err != nil {
		return err
	}
	return b.Put([]byte(r.ID), manifest)
}

// purge purges the collected data of a request and, with a reason, its
// email and bundle, keeping the bundle's manifest if there is one.
func (db *DB) purge(ctx context.Context, op, id, reason string, manifest []byte) (*dsar.Request, error) {
	var out *dsar.Request
	err := db.update(ctx, op, func(tx *bolt.Tx) error {
		r, err := db.getRequest(tx, id)
		if err != nil {
			return err
		}
		out = r
		bundle := reason != ""
		if r.Purged() || (!bundle && !r.Purge.CollectedAt.IsZero()) {
			return nil
		}
		now := db.clock.Now()
		if r.Purge.CollectedAt.IsZero() {
			pages, err := purgeCollected(tx, id)
			if err != nil {
				return err
			}
			r.Purge.CollectedAt = now
			if _, err := db.appendAudit(ctx, tx, dsar.AuditEvent{Request: id, Action: dsar.ActionPurge,
				Detail: fmt.Sprintf("collected data: %d pages deleted", pages)}); err != nil {
				return err
			}
		}
		if bundle {
			detail := "bundle and email: " + reason
			if manifest != nil {
				if err := putManifest(tx, r, manifest); err != nil {
					return err
				}
			} else {
				detail += "; no manifest kept: no readable bundle"
			}
			if r.EmailHash == "" {
				r.EmailHash = emailHash(db.hashKey, r.Email)
			}
			r.Email = ""
			r.Purge.BundleAt, r.Purge.Reason, r.Purge.Manifest = now, reason, manifest != nil
			if _, err := db.appendAudit(ctx, tx, dsar.AuditEvent{Request: id, Action: dsar.ActionPurge,
				Detail: detail}); err != nil {
				return err
			}
		}
		r.UpdatedAt = now
		if err := db.putRequest(tx, r); err != nil {
			return err
		}
		if !bundle {
			return nil
		}
		// The data key goes with the bundle: what free pages of the file
		// still hold of the request's pages and email cannot be opened.
		return db.destroyDataKey(tx, id)
	})
	return out, err
}

// purgeCollected deletes the pages and media records of a request and
// clears its cursors' tokens and record ids, and returns the pages
// deleted.
func purgeCollected(tx *bolt.Tx, id string) (int, error) {
	// The sections keep their media counts (CommitMedia's), not the
	// records deleted here.
	prefix := joinKey(true, id)
	pages, err := deletePrefix(tx.Bucket(bucketPages), prefix)
	if err != nil {
		return 0, err
	}
	if _, err := deletePrefix(tx.Bucket(bucketMedia), prefix); err != nil {
		return 0, err
	}
	err = rewriteSections(tx, id, func(s *dsar.Section, err error) (bool, error) {
		if err != nil {
			// A damaged section record stays as it is: it must not keep
			// the pages from being deleted.
			return false, nil
		}
		for i := range s.Parts {
			cur := &s.Parts[i].Cursor
			cur.PageToken, cur.Refs, cur.Item = "", nil, ""
		}
		return true, nil
	})
	return pages, err
}
