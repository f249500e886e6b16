package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Sections returns the sections of a request in report order
// (dsar.Sections), any others after them by name.
func (db *DB) Sections(ctx context.Context, id string) ([]dsar.Section, error) {
	const op = "store.Sections"
	var out []dsar.Section
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		if _, err := getRequestRecord(tx, id); err != nil {
			return err
		}
		prefix := joinKey(true, id)
		c := tx.Bucket(bucketSections).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			s, err := decodeSection(v)
			if err != nil {
				return badRecord(op, fmt.Sprintf("section %s of request %s", k[len(prefix):], id), err)
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b dsar.Section) int {
		return sectionRank(a.Name) - sectionRank(b.Name)
	})
	return out, nil
}

// sectionRank orders sections as dsar.Sections, unknown ones last; the
// stable sort keeps those in key order, by name.
func sectionRank(name string) int {
	if i := slices.Index(dsar.Sections, name); i >= 0 {
		return i
	}
	return len(dsar.Sections)
}

// Section returns one section of a request.
func (db *DB) Section(ctx context.Context, id, name string) (*dsar.Section, error) {
	const op = "store.Section"
	if err := checkSection(op, id, name); err != nil {
		return nil, err
	}
	var out *dsar.Section
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		var err error
		out, err = getSection(tx.Bucket(bucketSections), id, name)
		return err
	})
	return out, err
}

// UpdateSection applies fn to a section and stores the result. The request
// and name cannot change, nor the settled media files and bytes, which
// CommitMedia counts; parts may be added or their cursors set. An error
// from fn is returned as is and nothing is written.
func (db *DB) UpdateSection(ctx context.Context, id, name string, fn func(*dsar.Section) error) (*dsar.Section, error) {
	const op = "store.UpdateSection"
	if err := checkSection(op, id, name); err != nil {
		return nil, err
	}
	var out *dsar.Section
	err := db.update(ctx, op, func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSections)
		s, err := getSection(sb, id, name)
		if err != nil {
			return err
		}
		done := [2]int64{s.Media.FilesDone, s.Media.BytesDone}
		if err := fn(s); err != nil {
			return err
		}
		if s.Request != id || s.Name != name {
			return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "a section's request and name cannot change"}
		}
		if done != [2]int64{s.Media.FilesDone, s.Media.BytesDone} {
			return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "a section's settled media files and bytes cannot change (CommitMedia counts them)"}
		}
		if err := checkParts(op, s); err != nil {
			return err
		}
		out = s
		return putSection(sb, sectionKey(id, name), s)
	})
	return out, err
}

func getSection(sb *bolt.Bucket, id, name string) (*dsar.Section, error) {
	v := sb.Get(sectionKey(id, name))
	if v == nil {
		return nil, notFound("store.Section", "section")
	}
	s, err := decodeSection(v)
	if err != nil {
		return nil, badRecord("store.Section", fmt.Sprintf("section %s of request %s", name, id), err)
	}
	return &s, nil
}
