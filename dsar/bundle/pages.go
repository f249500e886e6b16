package bundle

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// pager writes the further pages of a part's table (every row after the
// first reportRows, which index.html shows), a row at a time, to aside.
// It is fed by the scan that writes the part's CSV entry: the stored pages
// are read and their records parsed once for both.
type pager struct {
	r       *report
	out     *aside
	s       Section
	part    string
	total   int64 // the part's records: the pages' count and their links
	n       int64 // rows seen
	started bool
	buf     []byte     // a row's HTML
	files   []fileLink // a row's links
}

func (p *pager) row(headers []string, files bool, row rowView) error {
	p.n++
	if p.n <= reportRows {
		return nil // shown in index.html
	}
	if (p.n-1)%reportRows == 0 {
		if err := p.endPage(); err != nil {
			return err
		}
		if err := p.startPage((p.n-1)/reportRows+1, headers, files); err != nil {
			return err
		}
	}
	if len(row.Files) > 0 {
		// The scan is the CSV's, whose links lead from the bundle's root:
		// a page's lead from pages/.
		p.files = p.files[:0]
		for _, f := range row.Files {
			f.Href = "../" + f.Href
			p.files = append(p.files, f)
		}
		row.Files = p.files
	}
	p.buf = appendRow(p.buf[:0], row)
	_, err := p.out.w.Write(p.buf)
	return err
}

func (p *pager) startPage(pg int64, headers []string, files bool) error {
	r, s := p.r, p.s
	if err := p.out.start(s.Name+"/"+p.part, pagePath(s.Name, p.part, pg)); err != nil {
		return err
	}
	p.started = true
	v := pageView{
		Title: title(sectionTitles, s.Name), Part: title(partTitles, p.part), Zone: r.zone(),
		Index: "../" + IndexPath + "#s-" + s.Name, From: p.n, To: min(p.n+reportRows-1, p.total), Total: p.total,
	}
	if pg == 2 {
		v.Prev = v.Index
	} else {
		v.Prev = path.Base(pagePath(s.Name, p.part, pg-1))
	}
	if pages := (p.total + reportRows - 1) / reportRows; pg < pages {
		v.Next = path.Base(pagePath(s.Name, p.part, pg+1))
	}
	if err := reportTmpl.ExecuteTemplate(p.out.w, "page", v); err != nil {
		return err
	}
	return reportTmpl.ExecuteTemplate(p.out.w, "tableStart", tableView{Headers: headers, Files: files, Part: s.Name + "/" + p.part})
}

// endPage ends the page being written, if any; close ends the last.
func (p *pager) endPage() error {
	if !p.started {
		return nil
	}
	p.started = false
	if err := reportTmpl.ExecuteTemplate(p.out.w, "pageEnd", nil); err != nil {
		return err
	}
	return p.out.end()
}

func (p *pager) close() error { return p.endPage() }

// aside holds the report's further pages, uncompressed, in a temporary
// file until their turn in the bundle, after every CSV entry: memory
// stays bounded however many records a part has. The pages are personal
// data: each is sealed (seal.go) as a stream of its own under a random
// key of this assembly's, never stored, so that the file a crash leaves
// is unreadable. The file is created by the first page and removed by
// close; one a crash left is named <request>.pages.*.tmp, which the next
// assembly of the request removes.
type aside struct {
	dir   string // "" for os.TempDir
	id    string // the request's
	f     *os.File
	aead  cipher.AEAD
	w     *sealWriter             // onto f, the entry being written
	r     *openReader             // reuses its buffers entry after entry
	off   int64                   // of the next entry
	seq   uint64                  // entries started
	parts map[string][]asideEntry // by section/part, in page order
	key   string                  // of the entry being written
}

type asideEntry struct {
	path   string
	off, n int64
	seq    uint64 // its stream's number
}

// asideStream is the additional data of entry seq's segments.
func asideStream(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// start begins entry name of part key; end ends it.
func (a *aside) start(key, name string) error {
	if a.f == nil {
		secret := make([]byte, 32)
		rand.Read(secret)
		aead, err := newAEAD(secret, nil, "zoom-dsar report pages")
		if err != nil {
			return fmt.Errorf("report pages: %w", err)
		}
		f, err := os.CreateTemp(a.dir, a.id+".pages.*.tmp")
		if err != nil {
			return fmt.Errorf("report pages: %w", err)
		}
		a.f, a.aead, a.w = f, aead, newSealWriter(f, aead, nil, 0)
		if a.parts == nil {
			a.parts = map[string][]asideEntry{}
		}
	}
	a.key = key
	a.w.reset(asideStream(a.seq))
	a.parts[key] = append(a.parts[key], asideEntry{path: name, off: a.off, seq: a.seq})
	a.seq++
	return nil
}

func (a *aside) end() error {
	if err := a.w.Close(); err != nil {
		return fmt.Errorf("report pages: %w", err)
	}
	off, err := a.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("report pages: %w", err)
	}
	e := &a.parts[a.key][len(a.parts[a.key])-1]
	e.n, a.off = off-e.off, off
	return nil
}

// open returns the plaintext of entry e.
func (a *aside) open(e asideEntry) io.Reader {
	if a.r == nil {
		a.r = newOpenReader(nil, a.aead, nil)
	}
	a.r.reset(io.NewSectionReader(a.f, e.off, e.n), asideStream(e.seq))
	return a.r
}

func (a *aside) close() {
	if a.f != nil {
		a.f.Close()
		os.Remove(a.f.Name())
	}
}

// writePages writes the further pages set aside, each an entry of its
// own, the parts in the report's order.
func (r *report) writePages(bw *writer, a *aside) error {
	for _, s := range r.in.Sections {
		if s.State == dsar.SectionNotApplicable {
			continue
		}
		for _, p := range s.Parts {
			for _, e := range a.parts[s.Name+"/"+p.Name] {
				if err := bw.entryStart(e.path, zip.Deflate); err != nil {
					return err
				}
				if _, err := io.Copy(bw.buf, a.open(e)); err != nil {
					return fmt.Errorf("entry %s: %w", e.path, err)
				}
				if err := bw.entryEnd(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
