package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// walkFile checks the structure of a bbolt file by reading it with ReadAt,
// never through the memory map: every page reachable from the root has an
// id below the high-water mark, lies inside the file, has a known type and
// is reached once; every element lies inside its page. bbolt's tx.Check
// trusts all of this (a wild page id faults, a wild overflow count loops for
// hours, a cycle never ends), so it runs only on a file that passes.
//
// It knows bbolt's on-disk format (version 2, little-endian, as written on
// amd64 and arm64): the page header, branch and leaf elements, bucket
// headers with inline pages, and the meta page.
func walkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	w := &walker{f: f, size: fi.Size(), seen: map[uint64]bool{}}
	root, freelist, err := w.meta()
	if err != nil {
		return err
	}
	if freelist != noFreelist {
		p, err := w.page(freelist)
		if err != nil {
			return fmt.Errorf("freelist: %w", err)
		}
		if flags(p) != freelistFlag {
			return fmt.Errorf("freelist page %d has type %#x", freelist, flags(p))
		}
	}
	return w.tree(root, 0)
}

const (
	headerSize   = 16 // page header: id, flags, count, overflow
	elemSize     = 16 // branch and leaf elements
	branchFlag   = 0x01
	leafFlag     = 0x02
	freelistFlag = 0x10
	bucketFlag   = 0x01 // of a leaf element
	maxDepth     = 64   // far deeper than any real tree
	noFreelist   = ^uint64(0)
	boltMagic    = 0xED0CDAED
	boltVersion  = 2
)

type walker struct {
	f    io.ReaderAt
	size int64
	psz  uint64
	hwm  uint64 // pages below it are in use or free
	seen map[uint64]bool
}

// meta reads both meta pages and returns the root and freelist page of the
// one bbolt uses: the valid one with the higher transaction id.
func (w *walker) meta() (root, freelist uint64, err error) {
	type meta struct {
		psz, root, freelist, hwm, txid uint64
		err                            error
	}
	read := func(off int64) meta {
		b := make([]byte, headerSize+64)
		if _, err := w.f.ReadAt(b, off); err != nil {
			return meta{err: err}
		}
		m := b[headerSize:]
		le := binary.LittleEndian
		h := fnv.New64a()
		h.Write(m[:56])
		switch {
		case le.Uint32(m[0:]) != boltMagic:
			return meta{err: errors.New("not a bbolt meta page")}
		case le.Uint32(m[4:]) != boltVersion:
			return meta{err: fmt.Errorf("bbolt version %d", le.Uint32(m[4:]))}
		case le.Uint64(m[56:]) != h.Sum64():
			return meta{err: errors.New("meta page checksum mismatch")}
		}
		return meta{psz: uint64(le.Uint32(m[8:])), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]),
			hwm: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}
	}
	a := read(0)
	psz := a.psz
	if a.err != nil || psz < 512 || psz > 1<<20 {
		// Page 0 names where page 1 is; without it try the usual size.
		psz = 4096
	}
	b := read(int64(psz))
	if b.txid > a.txid || a.err != nil {
		a, b = b, a
	}
	m := a
	if m.err != nil {
		m = b
	}
	if m.err != nil {
		return 0, 0, fmt.Errorf("both meta pages are invalid: %v", m.err)
	}
	if m.psz < 512 || m.psz > 1<<20 {
		return 0, 0, fmt.Errorf("page size %d", m.psz)
	}
	w.psz, w.hwm = m.psz, m.hwm
	if m.hwm < 2 || m.hwm > uint64(w.size)/m.psz {
		return 0, 0, fmt.Errorf("the file ends at %d bytes but its pages run to %d bytes", w.size, m.hwm*m.psz)
	}
	return m.root, m.freelist, nil
}

func flags(p []byte) uint16 { return binary.LittleEndian.Uint16(p[8:]) }
func count(p []byte) int    { return int(binary.LittleEndian.Uint16(p[10:])) }

// page reads page id with its overflow pages.
func (w *walker) page(id uint64) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, fmt.Errorf("page id %d is outside 2..%d", id, w.hwm-1)
	}
	h := make([]byte, headerSize)
	if _, err := w.f.ReadAt(h, int64(id*w.psz)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := binary.LittleEndian.Uint64(h); got != id {
		return nil, fmt.Errorf("page %d has id %d", id, got)
	}
	over := uint64(binary.LittleEndian.Uint32(h[12:]))
	if id+over >= w.hwm {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the last page %d", id, over, w.hwm-1)
	}
	for i := id; i <= id+over; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d is reached twice", i)
		}
		w.seen[i] = true
	}
	p := make([]byte, (1+over)*w.psz)
	if _, err := w.f.ReadAt(p, int64(id*w.psz)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return p, nil
}

// tree checks the page id and every page and bucket below it.
func (w *walker) tree(id uint64, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("page %d: tree deeper than %d", id, maxDepth)
	}
	p, err := w.page(id)
	if err != nil {
		return err
	}
	return w.elements(id, p, depth)
}

// elements checks the elements of page p (a page of the file, or an inline
// bucket's page, then id is 0).
func (w *walker) elements(id uint64, p []byte, depth int) error {
	le := binary.LittleEndian
	n := count(p)
	if headerSize+n*elemSize > len(p) {
		if id == 0 {
			return fmt.Errorf("%d elements do not fit", n)
		}
		return fmt.Errorf("page %d: %d elements do not fit", id, n)
	}
	switch flags(p) {
	case branchFlag:
		if id == 0 {
			return errors.New("an inline bucket holds a branch page")
		}
		for i := range n {
			off := headerSize + i*elemSize
			e := p[off:]
			pos, ksize := int(le.Uint32(e)), int(le.Uint32(e[4:]))
			if off+pos+ksize > len(p) {
				return fmt.Errorf("page %d: key %d lies outside the page", id, i)
			}
			if err := w.tree(le.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		}
	case leafFlag:
		for i := range n {
			off := headerSize + i*elemSize
			e := p[off:]
			fl, pos, ksize, vsize := le.Uint32(e), int(le.Uint32(e[4:])), int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
			if pos < 0 || ksize < 0 || vsize < 0 || off+pos+ksize+vsize > len(p) {
				return fmt.Errorf("page %d: element %d lies outside the page", id, i)
			}
			if fl&bucketFlag == 0 {
				continue
			}
			v := p[off+pos+ksize : off+pos+ksize+vsize]
			if len(v) < 16 {
				return fmt.Errorf("page %d: bucket %d has a short header", id, i)
			}
			if root := le.Uint64(v); root != 0 {
				if err := w.tree(root, depth+1); err != nil {
					return err
				}
				continue
			}
			inline := v[16:]
			if len(inline) < headerSize {
				return fmt.Errorf("page %d: inline bucket %d is short", id, i)
			}
			if err := w.elements(0, inline, depth+1); err != nil {
				return fmt.Errorf("inline bucket in page %d: %w", id, err)
			}
		}
	default:
		return fmt.Errorf("page %d has type %#x, want branch or leaf", id, flags(p))
	}
	return nil
}
