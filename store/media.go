package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// CommitMedia records a media file of a section as done (downloaded, with
// its size and SHA-256) or missing (Zoom no longer has it), and in the same
// transaction counts it in the section's settled files (Media.FilesDone,
// and the bytes of one done in Media.BytesDone), adds f.Calls to the
// section's calls and, for a file Zoom listed without a size, its bytes to
// the section's media total. A file already recorded done cannot be
// recorded again: it is never downloaded twice; one recorded missing may
// be recorded again, done or missing, and is counted once.
func (db *DB) CommitMedia(ctx context.Context, id, section string, f dsar.MediaFile) error {
	const op = "store.CommitMedia"
	if err := checkSection(op, id, section); err != nil {
		return err
	}
	if err := checkMedia(f); err != nil {
		return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
	}
	v, err := json.Marshal(toMediaRecord(&f))
	if err != nil {
		return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err}
	}
	return db.update(ctx, op, func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSections)
		sec, err := getSection(sb, id, section)
		if err != nil {
			return err
		}
		mb := tx.Bucket(bucketMedia)
		k := joinKey(false, id, section, f.Name)
		old := mb.Get(k)
		if old != nil {
			var r mediaRecord
			if err := json.Unmarshal(old, &r); err != nil {
				return badRecord(op, fmt.Sprintf("media file %s/%s of request %s", section, f.Name, id), err)
			}
			if r.Done {
				return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("media file %s/%s is already done", section, f.Name)}
			}
		}
		if err := mb.Put(k, v); err != nil {
			return err
		}
		// A file recorded missing before counts already, without bytes.
		if old == nil {
			sec.Media.FilesDone++
		}
		if f.Done {
			sec.Media.BytesDone += f.Size
			if f.Unsized {
				sec.Media.BytesTotal += f.Size
			}
		}
		sec.Calls += f.Calls
		return putSection(sb, sectionKey(id, section), sec)
	})
}

// checkMedia rejects a file that cannot be stored or that is neither done
// nor missing.
func checkMedia(f dsar.MediaFile) error {
	switch {
	case !dsar.ValidMediaName(f.Name):
		return fmt.Errorf("media file name %q is not a safe relative path", f.Name)
	case f.Done == (f.Missing != ""):
		return fmt.Errorf("media file %s must be either done or missing", f.Name)
	case f.Size < 0 || f.Calls < 0:
		return fmt.Errorf("media file %s: negative size or calls", f.Name)
	case f.Done && !isSHA256(f.SHA256):
		return fmt.Errorf("media file %s: done without a hex SHA-256", f.Name)
	}
	return nil
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && strings.ToLower(s) == s
}

// Media returns the recorded media files of a request, done and missing,
// sorted by their path in the bundle.
func (db *DB) Media(ctx context.Context, id string) ([]dsar.MediaFile, error) {
	const op = "store.Media"
	if err := checkComponent("request id", id); err != nil {
		return nil, &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
	}
	var out []dsar.MediaFile
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		if _, err := getRequestRecord(tx, id); err != nil {
			return err
		}
		mb := tx.Bucket(bucketMedia)
		prefix := joinKey(true, id)
		c := mb.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			section, name, ok := bytes.Cut(k[len(prefix):], []byte{sep})
			if !ok {
				return fmt.Errorf("malformed media key under request %s", id)
			}
			f, err := decodeMedia(string(section), string(name), v)
			if err != nil {
				return badRecord(op, fmt.Sprintf("media file %s/%s of request %s", section, name, id), err)
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Keys sort by (section, name); the bundle by "section/name".
	slices.SortFunc(out, func(a, b dsar.MediaFile) int { return strings.Compare(a.Path(), b.Path()) })
	return out, nil
}
