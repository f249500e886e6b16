package store

import (
	"bytes"
	"context"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// A stored page is a format byte, the window as a uvarint (readable without
// decompressing, for PageIDs), then zstd of: the ids, the dropped ids, the
// item (each a uvarint count of uvarint-length strings; the item a list of
// none or one) and the body. Format 1, which older builds wrote, has no
// item. Format 3 is format 2 with the zstd sealed under the request's data
// key (sealPage), bound to the page's key and header.
const (
	pageFormat       = 2
	pageFormatSealed = 3
	maxPageSize      = 64 << 20 // a decoded page; Zoom's pages are far smaller

	// Pages reads this many pages, or this many stored bytes, per read
	// transaction, so that a slow consumer does not hold one open.
	pagesPerChunk = 64
	bytesPerChunk = 4 << 20
)

// testHookCommitPage, when set by a test, runs between writing the page and
// writing the cursor of CommitPage; an error aborts the transaction.
var testHookCommitPage func() error

// CommitPage stores page as the next page of a part and, in the same
// transaction, moves the part's cursor to next (and marks it done). The
// page's ids are stored with it: they are the only record ids the bundle
// uses. It counts the page's calls (at least one), the page, and the
// records it keeps (dsar.Page.Records) on the part and the section. The
// page's window is the part's cursor window before the move; that
// cursor's dates widen the part's covered span.
func (db *DB) CommitPage(ctx context.Context, id, section, part string, page dsar.Page, next dsar.Cursor, done bool) error {
	const op = "store.CommitPage"
	if err := checkPart(op, id, section, part); err != nil {
		return err
	}
	payload, err := encodePayload(page)
	if err != nil {
		return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: "page cannot be stored", Err: err}
	}
	z := db.enc.EncodeAll(payload, nil)
	return db.update(ctx, op, func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSections)
		sec, err := getSection(sb, id, section)
		if err != nil {
			return err
		}
		p := sec.Part(part)
		if p == nil {
			return notFound(op, "part")
		}
		if p.Done {
			return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("part %s/%s is already done", section, part)}
		}
		pb := tx.Bucket(bucketPages)
		seq, err := nextSeq(pb.Cursor(), id, section, part)
		if err != nil {
			return err
		}
		k := pageKey(id, section, part, seq)
		v := pageValue(p.Cursor.Window, z)
		if db.sealer != nil {
			aead, err := db.requestKey(tx, id)
			if err != nil {
				return purgedOr(op, id, err)
			}
			v = sealPage(aead, k, p.Cursor.Window, z)
		}
		if err := pb.Put(k, v); err != nil {
			return err
		}
		if testHookCommitPage != nil {
			if err := testHookCommitPage(); err != nil {
				return err
			}
		}
		// A page costs the calls its fetch made: none for one picked from
		// a list already held (zoomclient's account-wide groups).
		records, calls := page.Records(), page.Calls
		p.Covered = p.Covered.Add(dsar.Span{From: p.Cursor.From, To: p.Cursor.To})
		p.Cursor = next
		p.Done = done
		p.Calls += calls
		p.Pages++
		p.Records += records
		sec.Calls += calls
		sec.Pages++
		sec.Records += records
		return putSection(sb, sectionKey(id, section), sec)
	})
}

// nextSeq returns one past the last page's seq of a part, or 0.
func nextSeq(c *bolt.Cursor, id, section, part string) (uint64, error) {
	prefix := pagePrefix(id, section, part)
	k, _ := c.Seek(pageKey(id, section, part, math.MaxUint64))
	if k == nil {
		k, _ = c.Last()
	} else if !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		return 0, nil
	}
	seq := binary.BigEndian.Uint64(k[len(prefix):])
	if seq == math.MaxUint64 {
		return 0, errors.New("page sequence exhausted")
	}
	return seq + 1, nil
}

// Pages calls fn with every page of a part, in order, decoding one at a
// time. fn runs outside any transaction and may use the DB. An error from fn
// stops the walk and is returned as is.
func (db *DB) Pages(ctx context.Context, id, section, part string, fn func(dsar.Page) error) error {
	const op = "store.Pages"
	if err := checkPart(op, id, section, part); err != nil {
		return err
	}
	prefix := pagePrefix(id, section, part)
	from := pageKey(id, section, part, 0)
	type raw struct {
		seq uint64
		v   []byte
	}
	var (
		chunk []raw
		aead  cipher.AEAD // the request's data key, read with the first sealed page
	)
	for {
		chunk = chunk[:0] // the next view checks ctx
		err := db.view(ctx, op, func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketPages).Cursor()
			size := 0
			for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if len(chunk) == pagesPerChunk || size >= bytesPerChunk {
					break
				}
				if len(k) != len(prefix)+8 {
					return fmt.Errorf("malformed page key under %s/%s", section, part)
				}
				var err error
				if aead, err = db.pageCipher(tx, op, id, aead, v); err != nil {
					return err
				}
				chunk = append(chunk, raw{binary.BigEndian.Uint64(k[len(prefix):]), bytes.Clone(v)})
				size += len(v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range chunk {
			page, err := db.decodePage(aead, pageKey(id, section, part, r.seq), r.v)
			if err != nil {
				return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: fmt.Errorf("page %s/%s/%d: %w", section, part, r.seq, err)}
			}
			page.Section, page.Part, page.Seq = section, part, r.seq
			if err := fn(page); err != nil {
				return err
			}
		}
		if len(chunk) == 0 {
			return nil
		}
		last := chunk[len(chunk)-1].seq
		if last == math.MaxUint64 {
			return nil
		}
		from = pageKey(id, section, part, last+1)
	}
}

// pageCipher returns the cipher that opens the sealed pages of request
// id: aead once read, so that a walk over a request's pages unwraps its
// data key once, with its first sealed page; nil for a plain page, or in a
// store without a master key.
func (db *DB) pageCipher(tx *bolt.Tx, op, id string, aead cipher.AEAD, v []byte) (cipher.AEAD, error) {
	if aead != nil || db.sealer == nil || len(v) == 0 || v[0] != pageFormatSealed {
		return aead, nil
	}
	aead, err := db.requestKey(tx, id)
	if err != nil {
		return nil, purgedOr(op, id, err)
	}
	return aead, nil
}

// PageIDs returns the record ids held by the pages of a part fetched in
// window: the ids a redone window must not store again.
func (db *DB) PageIDs(ctx context.Context, id, section, part string, window int) (map[string]struct{}, error) {
	const op = "store.PageIDs"
	if err := checkPart(op, id, section, part); err != nil {
		return nil, err
	}
	ids := make(map[string]struct{})
	prefix := pagePrefix(id, section, part)
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		var aead cipher.AEAD
		c := tx.Bucket(bucketPages).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			f, w, _, err := pageHeader(v)
			if err != nil {
				return err
			}
			if w != window {
				continue
			}
			if f == pageFormatSealed {
				v = bytes.Clone(v) // opened in place, and v is the file's
			}
			if aead, err = db.pageCipher(tx, op, id, aead, v); err != nil {
				return err
			}
			page, err := db.decodePage(aead, k, v)
			if err != nil {
				return err
			}
			for _, x := range page.IDs {
				ids[x] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// PageWindows returns how many pages of a part each window holds, read
// from the pages' headers alone (nothing is decompressed or opened): what
// an estimate needs of a part fetched item by item, at each Get/Watch.
func (db *DB) PageWindows(ctx context.Context, id, section, part string) (map[int]int64, error) {
	const op = "store.PageWindows"
	if err := checkPart(op, id, section, part); err != nil {
		return nil, err
	}
	out := map[int]int64{}
	prefix := pagePrefix(id, section, part)
	err := db.view(ctx, op, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPages).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			_, w, _, err := pageHeader(v)
			if err != nil {
				return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: fmt.Errorf("page of %s/%s: %w", section, part, err)}
			}
			out[w]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ResetSection deletes a section's pages and media records and sets it
// back to PENDING with empty cursors and counters, for a retry from the
// start.
func (db *DB) ResetSection(ctx context.Context, id, section string) (*dsar.Section, error) {
	const op = "store.ResetSection"
	if err := checkSection(op, id, section); err != nil {
		return nil, err
	}
	var out *dsar.Section
	err := db.update(ctx, op, func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSections)
		sec, err := getSection(sb, id, section)
		if err != nil {
			return err
		}
		if _, err := deletePrefix(tx.Bucket(bucketPages), pagePrefix(id, section, "")); err != nil {
			return err
		}
		// Its media records go too: the files are fetched again.
		if _, err := deletePrefix(tx.Bucket(bucketMedia), joinKey(true, id, section)); err != nil {
			return err
		}
		parts := make([]dsar.Part, len(sec.Parts))
		for i, p := range sec.Parts {
			parts[i] = dsar.Part{Name: p.Name}
		}
		*sec = dsar.Section{Request: id, Name: section, State: dsar.SectionPending, Parts: parts}
		out = sec
		return putSection(sb, sectionKey(id, section), sec)
	})
	return out, err
}

func encodePayload(p dsar.Page) ([]byte, error) {
	n := len(p.Body) + 3*binary.MaxVarintLen64
	var item []string
	if p.Item != "" {
		item = []string{p.Item}
	}
	lists := [][]string{p.IDs, p.Drop, item}
	for _, l := range lists {
		for _, s := range l {
			n += len(s) + binary.MaxVarintLen64
		}
	}
	if n > maxPageSize {
		return nil, fmt.Errorf("page of %d bytes is over the limit of %d", n, maxPageSize)
	}
	b := make([]byte, 0, n)
	for _, l := range lists {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return append(b, p.Body...), nil
}

// pageValue is a stored page: the format, the window, the compressed
// payload (encodePayload).
func pageValue(window int, z []byte) []byte {
	return append(pageHeaderBytes(pageFormat, window, len(z)), z...)
}

// pageHeaderBytes returns a page's format and window, with room for n
// more bytes.
func pageHeaderBytes(format byte, window, n int) []byte {
	v := make([]byte, 0, 1+binary.MaxVarintLen64+n)
	v = append(v, format)
	return binary.AppendUvarint(v, uint64(window))
}

// pageHeader returns the format and window of a stored page and the rest:
// compressed, or sealed (format 3).
func pageHeader(v []byte) (byte, int, []byte, error) {
	if len(v) < 2 || v[0] < 1 || v[0] > pageFormatSealed {
		return 0, 0, nil, errors.New("unknown page format")
	}
	w, n := binary.Uvarint(v[1:])
	if n <= 0 || w > math.MaxInt32 {
		return 0, 0, nil, errors.New("malformed page window")
	}
	return v[0], int(w), v[1+n:], nil
}

// decodePage decodes the stored page v of key k, opening it with aead
// when it is sealed, in place: v must not be the file's own bytes then. It
// never panics on corrupt input.
func (db *DB) decodePage(aead cipher.AEAD, k, v []byte) (dsar.Page, error) {
	f, w, z, err := pageHeader(v)
	if err != nil {
		return dsar.Page{}, err
	}
	if f == pageFormatSealed {
		if aead == nil {
			return dsar.Page{}, errors.New("the page is sealed and the store has no master key")
		}
		if z, err = openTo(aead, z, pageAD(k, v[:len(v)-len(z)]), true); err != nil {
			return dsar.Page{}, err
		}
	}
	b, err := db.dec.DecodeAll(z, nil)
	if err != nil {
		return dsar.Page{}, fmt.Errorf("zstd: %w", err)
	}
	page := dsar.Page{Window: w}
	var item []string
	lists := []*[]string{&page.IDs, &page.Drop, &item}
	if f == 1 {
		lists = lists[:2]
	}
	for _, dst := range lists {
		count, n := binary.Uvarint(b)
		if n <= 0 || count > uint64(len(b)) {
			return dsar.Page{}, errors.New("malformed id list")
		}
		b = b[n:]
		if count > 0 {
			*dst = make([]string, 0, count)
		}
		for range count {
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return dsar.Page{}, errors.New("malformed id")
			}
			*dst = append(*dst, string(b[n:n+int(l)]))
			b = b[n+int(l):]
		}
	}
	if len(item) > 1 {
		return dsar.Page{}, errors.New("malformed item")
	}
	if len(item) == 1 {
		page.Item = item[0]
	}
	page.Body = b
	return page, nil
}

func checkSection(op, id, section string) error {
	for _, c := range [][2]string{{"request id", id}, {"section", section}} {
		if err := checkComponent(c[0], c[1]); err != nil {
			return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
		}
	}
	return nil
}

func checkPart(op, id, section, part string) error {
	if err := checkSection(op, id, section); err != nil {
		return err
	}
	if err := checkComponent("part", part); err != nil {
		return &dsar.Error{Code: dsar.EINVALID, Op: op, Message: err.Error()}
	}
	return nil
}

// deletePrefix deletes the keys of b that start with prefix and returns
// how many it deleted.
func deletePrefix(b *bolt.Bucket, prefix []byte) (int, error) {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
