package bundle

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// MediaDir keeps the media files of requests on disk, under
// <Dir>/<request>/<section>/<name>, until their bundles hold them, each
// sealed (seal.go) under a key derived from its request's data key, its
// own random id and its name. It satisfies dsar.MediaStore; the Assembler
// reads the same files.
//
// A sealed file starts with a header, mediaMagic and the file's id, the
// additional data of its segments. A partial file holds whole segments
// only: the tail a writer buffers is lost when it closes without a commit,
// as is a segment a crash tore; the download resumes after the last
// segment that opens.
type MediaDir struct {
	Dir string
	// Key returns the 32-byte data key of a request, and is called by
	// several downloads at once; its error (the request's data was
	// purged), wrapped with its code, fails the call. nil keeps the files
	// in plain, as before they were sealed.
	Key func(id string) ([]byte, error)
}

var _ dsar.MediaStore = (*MediaDir)(nil)

const (
	mediaMagic     = "DSARMF1\n"
	mediaHeaderLen = len(mediaMagic) + 16 // and the file's random id
)

// path joins the directory with a request id and, if given, a section and
// a file name. The id and section come from the store; one that could
// leave the directory is a bug.
func (d *MediaDir) path(id string, section ...string) (string, error) {
	for _, c := range append([]string{id}, section...) {
		if strings.Contains(c, "/") || dsar.UnsafePath(c) != "" {
			return "", &dsar.Error{Code: dsar.EINTERNAL, Op: "bundle.MediaDir", Message: fmt.Sprintf("unusable path component %q", c)}
		}
	}
	return filepath.Join(append([]string{d.Dir, id}, section...)...), nil
}

func (d *MediaDir) file(id, section, name string) (string, error) {
	dir, err := d.path(id, section)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.FromSlash(name)), nil
}

// aead returns the cipher of file name of a section whose header is
// header.
func (d *MediaDir) aead(id, section, name string, header []byte) (cipher.AEAD, error) {
	key, err := d.Key(id)
	if err != nil {
		return nil, fmt.Errorf("the data key of request %s: %w", id, err)
	}
	aead, err := newAEAD(key, header[len(mediaMagic):], "zoom-dsar media file\x00"+id+"\x00"+section+"\x00"+name)
	if err != nil {
		return nil, fmt.Errorf("the data key of request %s: %w", id, err)
	}
	return aead, nil
}

// stored is the size on disk of a whole file of size bytes.
func (d *MediaDir) stored(size int64) int64 {
	if d.Key == nil {
		return size
	}
	return int64(mediaHeaderLen) + sealedSize(size)
}

// Create opens the file name of a section for writing. A regular file
// already under the name with the expected size (size 0: any) is whole
// (renamed before a crash, never recorded): Create returns whole and no
// writer. Otherwise it returns the partial file, positioned after what an
// earlier attempt left for a Range request; one longer than size is not a
// prefix of this file and starts again.
//
// A whole file kept in plain, before the upgrade that gave dsard data
// keys, is whole too when its size is the one expected, and is sealed in
// place rather than downloaded again. A file is renamed to its name only
// once synced whole, and Zoom lists no hash of a file; nor does the store
// record one for a file not recorded yet. So the size is all there is to
// check against, for a plain file as for a sealed one (whose segments
// open, besides, when it is hashed), and the SHA-256 recorded next is the
// file's own.
func (d *MediaDir) Create(id, section, name string, size int64) (dsar.MediaWriter, bool, error) {
	final, err := d.file(id, section, name)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return nil, false, fmt.Errorf("media directory: %w", err)
	}
	if st, err := os.Lstat(final); err == nil {
		if st.Mode().IsRegular() {
			whole, err := d.whole(id, section, name, final, st.Size(), size)
			if err != nil || whole {
				return nil, whole, err
			}
		}
		if err := os.Remove(final); err != nil {
			return nil, false, fmt.Errorf("media file of the wrong size: %w", err)
		}
	}
	w, err := d.partial(id, section, name, final, size, false)
	return w, false, err
}

// partial opens the partial file of final for writing, after what it
// holds that can be kept; with restart, after nothing.
func (d *MediaDir) partial(id, section, name, final string, size int64, restart bool) (*mediaWriter, error) {
	flag := os.O_RDWR | os.O_CREATE
	if restart {
		flag |= os.O_TRUNC
	}
	fh, err := os.OpenFile(final+dsar.MediaPartialSuffix, flag, 0o600)
	if err != nil {
		return nil, fmt.Errorf("partial media file: %w", err)
	}
	w := &mediaWriter{f: fh, final: final}
	if d.Key == nil {
		err = w.resumePlain(size)
	} else {
		err = d.resume(w, id, section, name, size)
	}
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("partial media file: %w", err)
	}
	return w, nil
}

// whole reports whether the regular file final, of n bytes, is the whole
// file of size bytes (0: unknown), sealing it first if it is a plain one
// where files are sealed (see Create).
func (d *MediaDir) whole(id, section, name, final string, n, size int64) (bool, error) {
	if d.Key == nil {
		return size <= 0 || n == size, nil
	}
	f, err := os.Open(final)
	if err != nil {
		return false, fmt.Errorf("media file: %w", err)
	}
	defer f.Close()
	if _, sealed := readHeader(f); sealed {
		return size <= 0 || n == d.stored(size), nil
	}
	if size > 0 && n != size {
		return false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, fmt.Errorf("media file: %w", err)
	}
	// Sealed through a partial file renamed over it: a crash on the way
	// leaves the plain file whole, to be sealed again.
	w, err := d.partial(id, section, name, final, 0, true)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Close()
		return false, fmt.Errorf("seal a plain media file: %w", err)
	}
	return true, w.Commit()
}

// readHeader reads the header of a media file from r and reports whether
// it is one: a file without it was written in plain.
func readHeader(r io.Reader) ([]byte, bool) {
	header := make([]byte, mediaHeaderLen)
	_, err := io.ReadFull(r, header)
	return header, err == nil && string(header[:len(mediaMagic)]) == mediaMagic
}

// resume keeps the segments of w's partial file that open, in order, and
// positions w after them. A file without a header, or one holding more
// than size, starts again.
func (d *MediaDir) resume(w *mediaWriter, id, section, name string, size int64) error {
	header, sealed := readHeader(w.f)
	fresh := !sealed
	if fresh {
		copy(header, mediaMagic)
		rand.Read(header[len(mediaMagic):])
	}
	aead, err := d.aead(id, section, name, header)
	if err != nil {
		return err
	}
	var n int64
	if !fresh {
		n = int64(wholeSegments(w.f, aead, header))
		if size > 0 && n*segmentSize > size {
			n = 0
		}
	}
	end := int64(mediaHeaderLen) + n*sealedSegment
	if err := w.f.Truncate(end); err != nil {
		return err
	}
	if fresh {
		if _, err := w.f.WriteAt(header, 0); err != nil {
			return err
		}
	}
	if _, err := w.f.Seek(end, io.SeekStart); err != nil {
		return err
	}
	w.off = n * segmentSize
	w.seal = newSealWriter(w.f, aead, header, uint64(n))
	return nil
}

// mediaWriter is a partial media file being downloaded.
type mediaWriter struct {
	f     *os.File
	seal  *sealWriter // onto f; nil: plain
	final string
	off   int64
}

// resumePlain positions a plain partial file at its end, or truncates one
// longer than size.
func (w *mediaWriter) resumePlain(size int64) error {
	off, err := w.f.Seek(0, io.SeekEnd)
	if err == nil && size > 0 && off > size {
		if err = w.f.Truncate(0); err == nil {
			off, err = w.f.Seek(0, io.SeekStart)
		}
	}
	w.off = off
	return err
}

func (w *mediaWriter) Write(p []byte) (int, error) {
	if w.seal != nil {
		return w.seal.Write(p)
	}
	return w.f.Write(p)
}

func (w *mediaWriter) Offset() int64 { return w.off }

// Close keeps the whole segments written; a later Create resumes after
// them.
func (w *mediaWriter) Close() error {
	var err error
	if w.seal != nil {
		err = w.seal.Flush()
	}
	return errors.Join(err, w.f.Close())
}

// Discard closes and deletes the partial file.
func (w *mediaWriter) Discard() error {
	w.f.Close()
	return os.Remove(w.f.Name())
}

// Commit seals the last segment, syncs the partial file, closes it and
// renames it to its name, durably: after a crash the file is either
// partial or whole.
func (w *mediaWriter) Commit() error {
	if w.seal != nil {
		if err := w.seal.Close(); err != nil {
			w.f.Close()
			return fmt.Errorf("seal media file: %w", err)
		}
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return fmt.Errorf("sync media file: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close media file: %w", err)
	}
	if err := os.Rename(w.f.Name(), w.final); err != nil {
		return fmt.Errorf("rename media file: %w", err)
	}
	return syncDir(filepath.Dir(w.final))
}

// Sum returns the size and SHA-256 of the plaintext of the whole file
// name of a section: every segment is opened on the way.
func (d *MediaDir) Sum(id, section, name string) (int64, string, error) {
	rc, err := d.open(id, section, name)
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return 0, "", fmt.Errorf("media file %s/%s: %w", section, name, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// open opens the whole file name of a section for reading its plaintext.
// A file without the header was written in plain, before dsard had data
// keys, by a request still running: it is read as it is, and the SHA-256
// recorded when it was downloaded still guards its bytes.
func (d *MediaDir) open(id, section, name string) (io.ReadCloser, error) {
	p, err := d.file(id, section, name)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	if d.Key == nil {
		return fh, nil
	}
	header, sealed := readHeader(fh)
	if !sealed {
		if _, err := fh.Seek(0, io.SeekStart); err != nil {
			fh.Close()
			return nil, err
		}
		return fh, nil
	}
	aead, err := d.aead(id, section, name, header)
	if err != nil {
		fh.Close()
		return nil, err
	}
	return sealedFile{newOpenReader(fh, aead, header), fh}, nil
}

// sealedFile is the plaintext of a sealed media file: Read, and WriteTo
// for io.Copy.
type sealedFile struct {
	*openReader
	f *os.File
}

func (s sealedFile) Close() error { return s.f.Close() }

// Remove deletes the files of a request, done or partial, or only those of
// one section when section is not "".
func (d *MediaDir) Remove(id, section string) error {
	var dir string
	var err error
	if section == "" {
		dir, err = d.path(id)
	} else {
		dir, err = d.path(id, section)
	}
	if err == nil {
		err = os.RemoveAll(dir)
	}
	if err != nil {
		return fmt.Errorf("delete media files: %w", err)
	}
	return nil
}

// Requests lists the ids of the requests that have files kept.
func (d *MediaDir) Requests() ([]string, error) {
	entries, err := os.ReadDir(d.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("media directory: %w", err)
	}
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		ids = append(ids, e.Name())
	}
	return ids, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("media directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync media directory: %w", err)
	}
	return nil
}
