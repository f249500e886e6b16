//lint:file-ignore SA1019 the DOS date and time fields, set directly, keep entries free of the extended-timestamp extra field that Modified adds, so bundles stay byte-for-byte deterministic.

package bundle

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// deflateLevel is pinned: another level, or another version of
// klauspost/compress, gives other bytes and breaks the golden test. The
// entries derived from the data (the CSV files and the report's pages)
// are compressed at derivedLevel, faster: they repeat what the JSON holds,
// so assembly stays close to the compressor's speed.
const (
	deflateLevel = 5
	derivedLevel = 1
)

// Every entry carries this modification time (the MS-DOS epoch, 1980-01-01
// 00:00) so that the time of day never reaches the bundle.
const (
	dosDate = 1<<5 | 1 // 1980-01-01
	dosTime = 0
)

// Write streams the bundle of in to w, reading the records from src and
// signing the manifest with key. It never needs the bundle's size in
// advance and holds at most one page in memory at a time. The same request
// and pages give the same bytes. On error w holds a partial bundle that
// the caller discards.
func Write(ctx context.Context, w io.Writer, in Input, src Source, key ed25519.PrivateKey) (Result, error) {
	if len(key) != ed25519.PrivateKeySize {
		return Result{}, errors.New("bundle: write: no valid Ed25519 signing key")
	}
	if in.Request == nil {
		return Result{}, errors.New("bundle: write: no request")
	}
	bw := newWriter(w)
	m, err := bw.write(ctx, in, src, key)
	bw.async.wait() // after an error, the goroutine of an entry left open
	if err != nil {
		return Result{}, fmt.Errorf("bundle: write request %s: %w", in.Request.ID, err)
	}
	return Result{Size: bw.out.n, SHA256: hex.EncodeToString(bw.out.h.Sum(nil)), Manifest: m}, nil
}

// writer is the state of one bundle being written.
type writer struct {
	out     *hashWriter // the whole bundle
	zw      *zip.Writer
	fw      *flate.Writer // the encoder of the data entries, reset per entry
	fast    *flate.Writer // the encoder of the derived entries
	derived bool          // the current entry is derived: fast encodes it
	entry   hashWriter    // the current entry
	async   *asyncWriter  // passes buf's bytes on to entry
	buf     *bufio.Writer // buffers writes to entry, through async
	entries []ManifestEntry
	counts  map[string]int64 // listings per section/part, for the report
}

func newWriter(w io.Writer) *writer {
	bw := &writer{out: &hashWriter{w: w, h: sha256.New()}, counts: map[string]int64{}}
	bw.zw = zip.NewWriter(bw.out)
	bw.fw, _ = flate.NewWriter(nil, deflateLevel) // the levels are valid
	bw.fast, _ = flate.NewWriter(nil, derivedLevel)
	bw.zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		fw := bw.fw
		if bw.derived {
			fw = bw.fast
		}
		fw.Reset(w)
		return fw, nil
	})
	bw.entry.h = sha256.New()
	bw.async = &asyncWriter{w: &bw.entry}
	bw.buf = bufio.NewWriterSize(bw.async, 64<<10)
	return bw
}

func (bw *writer) write(ctx context.Context, in Input, src Source, key ed25519.PrivateKey) (Manifest, error) {
	m, err := manifest(in, key)
	if err != nil {
		return m, err
	}

	// Data entries, sorted by path; the manifest keeps the request's order.
	order := make([]int, len(in.Sections))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(in.Sections[a].Name, in.Sections[b].Name) })
	for _, i := range order {
		n, l, err := bw.writeSection(ctx, in.Request.ID, in.Sections[i], src)
		if err != nil {
			return m, fmt.Errorf("section %s: %w", in.Sections[i].Name, err)
		}
		m.Sections[i].Records, m.Sections[i].Listings = n, l
	}

	loc, names, err := bundleNames(ctx, in, src)
	if err != nil {
		return m, err
	}
	if err := bw.writeMedia(ctx, in.Request.ID, src, names, &m); err != nil {
		return m, err
	}

	r, err := newReport(ctx, in, &m, src, bw.counts, bw.entries, loc, names)
	if err != nil {
		return m, fmt.Errorf("report: %w", err)
	}
	bw.derived = true
	pages := &aside{dir: in.TempDir, id: in.Request.ID}
	defer pages.close()
	for _, i := range order {
		if err := bw.writeCSV(ctx, r, in.Sections[i], pages); err != nil {
			return m, fmt.Errorf("section %s: %w", in.Sections[i].Name, err)
		}
	}
	r.csvEntries(bw.entries)
	if err := r.writePages(bw, pages); err != nil {
		return m, fmt.Errorf("report: %w", err)
	}
	bw.derived = false
	if err := bw.entryStart(IndexPath, zip.Deflate); err != nil {
		return m, err
	}
	if err := r.writeIndex(ctx, bw.buf); err != nil {
		return m, fmt.Errorf("report: %w", err)
	}
	if err := bw.entryEnd(); err != nil {
		return m, err
	}

	m.Entries = bw.entries
	mb, err := m.marshal()
	if err != nil {
		return m, err
	}
	if err := bw.rawEntry(ManifestPath, zip.Deflate, mb); err != nil {
		return m, err
	}
	if err := bw.rawEntry(SignaturePath, zip.Store, ed25519.Sign(key, mb)); err != nil {
		return m, err
	}
	if err := bw.zw.Close(); err != nil {
		return m, fmt.Errorf("close zip: %w", err)
	}
	return m, nil
}

// manifest maps the request and its sections into the manifest, the one
// place the domain's values become the file format; the counts and the
// entries are filled in as they are written.
func manifest(in Input, key ed25519.PrivateKey) (Manifest, error) {
	r := in.Request
	m := Manifest{
		Format:    ManifestFormat,
		RequestID: r.ID,
		Account:   r.Account,
		Subject:   r.Email,
		Outcome:   OutcomeComplete,
		Started:   formatTime(r.CreatedAt),
		Finished:  formatTime(in.Finished),
		Version:   in.Version,
		PublicKey: Fingerprint(key.Public().(ed25519.PublicKey)),
		Sections:  make([]ManifestSection, 0, len(in.Sections)),
	}
	if r.Outcome != "" {
		m.Outcome = r.Outcome
	}
	if m.Version == "" {
		m.Version = Version
	}
	seen := map[string]bool{}
	for _, s := range in.Sections {
		if s.Section == nil {
			return m, errors.New("a section without its dsar.Section")
		}
		if s.Name == "" || strings.ContainsAny(s.Name, "/\\") || seen[s.Name] {
			return m, fmt.Errorf("invalid or repeated section name %q", s.Name)
		}
		seen[s.Name] = true
		windows := make([]ManifestWindow, 0, len(s.Windows))
		for _, w := range s.Windows {
			windows = append(windows, ManifestWindow{From: w.From, To: w.To})
		}
		m.Sections = append(m.Sections, ManifestSection{
			Name: s.Name, State: string(s.State), ReasonCode: s.ReasonCode, Reason: s.Reason,
			Windows: windows, Note: s.Note, Calls: int(s.Calls), Entry: DataPath(s.Name),
		})
	}
	return m, nil
}

// writeSection writes data/<section>.json and returns its record count
// and its listings. Every listing Zoom sent is written; a record counts
// once: a record without an id each time, one with an id the first time a
// part of the section lists it. Parts that hold their records under the
// same list field are views of one list, so a meeting Zoom lists as both
// scheduled and upcoming is one record with two listings, while a person
// who is both an assistant and a scheduler is two records. Repeats within
// a part are left out by the page's Drop, decided when it was fetched.
// Only the ids of parts before the last are held in memory.
func (bw *writer) writeSection(ctx context.Context, reqID string, s Section, src Source) (records, listings int64, err error) {
	if err := bw.entryStart(DataPath(s.Name), zip.Deflate); err != nil {
		return 0, 0, err
	}
	var earlier map[string]struct{} // ids listed by the parts before
	writePart := func(i int, indent string) error {
		var mine map[string]struct{}
		last := i == len(s.Parts)-1
		list := s.Lists[s.Parts[i].Name]
		detail := dsar.IsDetail(s.Name, s.Parts[i].Name)
		n, err := bw.writePart(ctx, src, reqID, s.Name, s.Parts[i].Name, list, indent, func(id string) {
			if detail {
				return // counted with the record it details
			}
			if id != "" {
				key := list + "\x00" + id
				if _, ok := earlier[key]; ok {
					return
				}
				if !last {
					if mine == nil {
						mine = map[string]struct{}{}
					}
					mine[key] = struct{}{}
				}
			}
			records++
		})
		if !detail {
			listings += n // a detail is no listing of the record
		}
		if len(mine) > 0 && earlier == nil {
			earlier = map[string]struct{}{}
		}
		for id := range mine {
			earlier[id] = struct{}{}
		}
		return err
	}
	switch len(s.Parts) {
	case 0:
		bw.buf.WriteString("null\n")
	case 1:
		if err := writePart(0, ""); err != nil {
			return 0, 0, err
		}
		bw.buf.WriteByte('\n')
	default:
		bw.buf.WriteString("{\n")
		for i, p := range s.Parts {
			name, _ := json.Marshal(p.Name) // a string always encodes
			bw.buf.WriteString("  ")
			bw.buf.Write(name)
			bw.buf.WriteString(": ")
			if err := writePart(i, "  "); err != nil {
				return 0, 0, err
			}
			if i < len(s.Parts)-1 {
				bw.buf.WriteByte(',')
			}
			bw.buf.WriteByte('\n')
		}
		bw.buf.WriteString("}\n")
	}
	return records, listings, bw.entryEnd()
}

// writePart writes one part's records as a JSON array (a list part, whose
// records sit in the page field list) or its object, indenting the array's lines by indent, calls count with the
// stored id of each record written ("" for none) and returns how many it
// wrote.
func (bw *writer) writePart(ctx context.Context, src Source, reqID, section, part, list, indent string, count func(id string)) (int64, error) {
	if dsar.ItemsFrom(section, part) != nil {
		return bw.writeItems(ctx, src, reqID, section, part, list, indent, count)
	}
	var n int64
	page := 0
	err := src.Pages(ctx, reqID, section, part, func(pg dsar.Page) error {
		page++
		if err := ctx.Err(); err != nil {
			return err
		}
		if list == "" {
			if page > 1 {
				return fmt.Errorf("part %s: object part has more than one page", part)
			}
			body, err := objectBody(pg)
			if err != nil {
				return fmt.Errorf("part %s page %d: %w", part, page, err)
			}
			n = 1
			id := ""
			if len(pg.IDs) > 0 {
				id = pg.IDs[0]
			}
			count(id)
			_, err = bw.buf.Write(body)
			return err
		}
		err := pageRecords(pg, list, func(rec []byte, id string) error {
			bw.element(n == 0, indent+"  ", rec)
			n++
			count(id)
			return nil
		})
		if err != nil {
			return fmt.Errorf("part %s page %d: %w", part, page, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	switch {
	case list == "" && n == 0:
		bw.buf.WriteString("null")
	case list != "" && n == 0:
		bw.buf.WriteString("[]")
	case list != "":
		bw.buf.WriteByte('\n')
		bw.buf.WriteString(indent)
		bw.buf.WriteByte(']')
	}
	bw.counts[section+"/"+part] = n
	return n, nil
}

// writeItems writes a part fetched item by item (dsar.ItemsFrom) as a
// JSON object keyed by item: for each, its object, or its records across
// its pages as one array. Pages come in item order, so an item's pages
// follow each other.
func (bw *writer) writeItems(ctx context.Context, src Source, reqID, section, part, list, indent string, count func(id string)) (int64, error) {
	var n, recs int64 // records written, of the current item
	cur, open := "", false
	closeItem := func() {
		switch {
		case list != "" && recs == 0:
			bw.buf.WriteString("[]")
		case list != "":
			bw.buf.WriteString("\n" + indent + "  ]")
		}
	}
	bw.buf.WriteByte('{')
	page := 0
	err := src.Pages(ctx, reqID, section, part, func(pg dsar.Page) error {
		page++
		if err := ctx.Err(); err != nil {
			return err
		}
		if open && pg.Item == cur {
			if list == "" {
				return fmt.Errorf("part %s: item has more than one page", part)
			}
		} else {
			if open {
				closeItem()
				bw.buf.WriteByte(',')
			}
			key, _ := json.Marshal(pg.Item) // a string always encodes
			bw.buf.WriteString("\n" + indent + "  ")
			bw.buf.Write(key)
			bw.buf.WriteString(": ")
			cur, open, recs = pg.Item, true, 0
		}
		err := records(pg, list, func(rec []byte, id string) error {
			if list == "" {
				bw.buf.Write(rec) // an item's object
			} else {
				bw.element(recs == 0, indent+"    ", rec)
			}
			n++
			recs++
			count(id)
			return nil
		})
		if err != nil {
			return fmt.Errorf("part %s page %d: %w", part, page, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if open {
		closeItem()
		bw.buf.WriteString("\n" + indent)
	}
	bw.buf.WriteByte('}')
	bw.counts[section+"/"+part] = n
	return n, nil
}

// element writes a record of a JSON array, opening the array before the
// first.
func (bw *writer) element(first bool, indent string, rec []byte) {
	if first {
		bw.buf.WriteString("[\n")
	} else {
		bw.buf.WriteString(",\n")
	}
	bw.buf.WriteString(indent)
	bw.buf.Write(rec)
}

// bundleNames returns the subject's time zone and the bundle path of each
// media file by its stored path (mediaNames).
func bundleNames(ctx context.Context, in Input, src Source) (*time.Location, map[string]string, error) {
	loc, err := subjectZone(ctx, in, src)
	if err != nil {
		return nil, nil, err
	}
	names, err := mediaNames(ctx, in, src, loc)
	return loc, names, err
}

// writeMedia stores the request's media files, uncompressed, each under
// its name in names (by stored path), else its stored path.
func (bw *writer) writeMedia(ctx context.Context, reqID string, src Source, names map[string]string, m *Manifest) error {
	files := map[string]int{}
	last := ""
	copyBuf := make([]byte, 256<<10)
	err := src.Media(ctx, reqID, func(f dsar.MediaFile, body io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := f.Path()
		if path <= last {
			return fmt.Errorf("media %s: not in ascending path order", path)
		}
		last = path
		if n, ok := names[path]; ok {
			path = n
		}
		if !validMediaPath(path) {
			return fmt.Errorf("invalid media path %q", path)
		}
		if f.Size < 0 || body == nil {
			return fmt.Errorf("media %s: negative size or no body", path)
		}
		if err := bw.entryStart(path, zip.Store); err != nil {
			return err
		}
		n, err := io.CopyBuffer(&bw.entry, io.LimitReader(body, f.Size+1), copyBuf)
		if err != nil {
			return fmt.Errorf("media %s: %w", path, err)
		}
		if n != f.Size {
			return fmt.Errorf("media %s: got %d bytes, want %d", path, n, f.Size)
		}
		if err := bw.entryEnd(); err != nil {
			return err
		}
		if sum := bw.entries[len(bw.entries)-1].SHA256; f.SHA256 != "" && sum != f.SHA256 {
			return fmt.Errorf("media %s: SHA-256 is %s, want %s", path, sum, f.SHA256)
		}
		files[strings.Split(path, "/")[1]]++
		return nil
	})
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	for i := range m.Sections {
		m.Sections[i].MediaFiles = files[m.Sections[i].Name]
	}
	return nil
}

// validMediaPath reports whether p is media/<section>/<name...> and safe
// to extract: Verify would flag a bundle holding any other name.
func validMediaPath(p string) bool {
	return strings.HasPrefix(p, "media/") && strings.Count(p, "/") >= 2 && dsar.UnsafePath(p) == ""
}

func (bw *writer) entryStart(name string, method uint16) error {
	zf, err := bw.zw.CreateHeader(&zip.FileHeader{
		Name:         name,
		Method:       method,
		ModifiedDate: dosDate,
		ModifiedTime: dosTime,
	})
	if err != nil {
		return fmt.Errorf("entry %s: %w", name, err)
	}
	bw.entry.w, bw.entry.n = zf, 0
	bw.entry.h.Reset()
	bw.async.start()
	bw.buf.Reset(bw.async)
	bw.entries = append(bw.entries, ManifestEntry{Path: name})
	return nil
}

func (bw *writer) entryEnd() error {
	err := bw.buf.Flush()
	if werr := bw.async.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("entry %s: %w", bw.entries[len(bw.entries)-1].Path, err)
	}
	e := &bw.entries[len(bw.entries)-1]
	e.Size = bw.entry.n
	e.SHA256 = hex.EncodeToString(bw.entry.h.Sum(nil))
	return nil
}

// rawEntry writes an entry that the manifest does not list.
func (bw *writer) rawEntry(name string, method uint16, b []byte) error {
	zf, err := bw.zw.CreateHeader(&zip.FileHeader{
		Name: name, Method: method, ModifiedDate: dosDate, ModifiedTime: dosTime,
	})
	if err == nil {
		_, err = zf.Write(b)
	}
	if err != nil {
		return fmt.Errorf("entry %s: %w", name, err)
	}
	return nil
}

// hashWriter counts and hashes what it passes on.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// asyncWriter passes what is written to it on to w from a goroutine of
// its own, a buffer at a time, so that producing an entry's bytes
// (scanning records, rendering rows) and hashing and compressing them
// overlap on two cores. w gets the same bytes in the same order, so the
// bundle's bytes do not change. Between start and wait, only the
// goroutine touches w.
type asyncWriter struct {
	w      io.Writer
	full   chan []byte   // to the goroutine
	free   chan []byte   // buffers it is done with
	failed chan struct{} // closed when w fails, err set
	done   chan struct{} // closed when the goroutine returns
	err    error
}

// asyncBuffers is how many buffers are in flight: one being written
// while the next fills.
const asyncBuffers = 2

// start starts the goroutine; wait stops it.
func (a *asyncWriter) start() {
	if a.free == nil {
		a.free = make(chan []byte, asyncBuffers)
		for range asyncBuffers {
			a.free <- make([]byte, 0, 64<<10)
		}
	}
	a.full, a.failed, a.done, a.err = make(chan []byte, asyncBuffers), make(chan struct{}), make(chan struct{}), nil
	go func(full <-chan []byte) {
		defer close(a.done)
		for b := range full {
			if a.err == nil {
				if _, err := a.w.Write(b); err != nil {
					a.err = err
					close(a.failed)
				}
			}
			a.free <- b[:0]
		}
	}(a.full)
}

// Write copies p into free buffers, for the goroutine to write; once w
// has failed, it returns w's error.
func (a *asyncWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		select {
		case <-a.failed:
			return n, a.err
		default:
		}
		b := <-a.free
		m := min(len(p), cap(b))
		a.full <- append(b, p[:m]...)
		p, n = p[m:], n+m
	}
	return n, nil
}

// wait returns once the goroutine has written everything, with w's error.
func (a *asyncWriter) wait() error {
	if a.full == nil {
		return nil
	}
	close(a.full)
	a.full = nil
	<-a.done
	return a.err
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
