package bundle

import (
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
// <Dir>/<request>/<section>/<name>, until their bundles hold them. It
// satisfies dsar.MediaStore; the Assembler reads the same files.
type MediaDir string

var _ dsar.MediaStore = MediaDir("")

// path joins the directory with a request id and, if given, a section and
// a file name. The id and section come from the store; one that could
// leave the directory is a bug.
func (d MediaDir) path(id string, section ...string) (string, error) {
	for _, c := range append([]string{id}, section...) {
		if strings.Contains(c, "/") || dsar.UnsafePath(c) != "" {
			return "", &dsar.Error{Code: dsar.EINTERNAL, Op: "bundle.MediaDir", Message: fmt.Sprintf("unusable path component %q", c)}
		}
	}
	return filepath.Join(append([]string{string(d), id}, section...)...), nil
}

func (d MediaDir) file(id, section, name string) (string, error) {
	dir, err := d.path(id, section)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.FromSlash(name)), nil
}

// Create opens the file name of a section for writing. A regular file
// already under the name with the expected size (size 0: any) is whole
// (renamed before a crash, never recorded): Create returns whole and no
// writer. Otherwise it returns the partial file, positioned at its end for
// a Range request; one longer than size is not a prefix of this file and
// starts again.
func (d MediaDir) Create(id, section, name string, size int64) (dsar.MediaWriter, bool, error) {
	final, err := d.file(id, section, name)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return nil, false, fmt.Errorf("media directory: %w", err)
	}
	if st, err := os.Lstat(final); err == nil {
		if st.Mode().IsRegular() && (size <= 0 || st.Size() == size) {
			return nil, true, nil
		}
		if err := os.Remove(final); err != nil {
			return nil, false, fmt.Errorf("media file of the wrong size: %w", err)
		}
	}
	partial := final + dsar.MediaPartialSuffix
	fh, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("partial media file: %w", err)
	}
	off, err := fh.Seek(0, io.SeekEnd)
	if err == nil && size > 0 && off > size {
		if err = fh.Truncate(0); err == nil {
			off, err = fh.Seek(0, io.SeekStart)
		}
	}
	if err != nil {
		fh.Close()
		return nil, false, fmt.Errorf("partial media file: %w", err)
	}
	return &mediaWriter{f: fh, final: final, off: off}, false, nil
}

// mediaWriter is a partial media file being downloaded.
type mediaWriter struct {
	f     *os.File
	final string
	off   int64
}

func (w *mediaWriter) Write(p []byte) (int, error) { return w.f.Write(p) }
func (w *mediaWriter) Offset() int64               { return w.off }
func (w *mediaWriter) Close() error                { return w.f.Close() }

// Discard closes and deletes the partial file.
func (w *mediaWriter) Discard() error {
	w.f.Close()
	return os.Remove(w.f.Name())
}

// Commit syncs the partial file, closes it and renames it to its name,
// durably: after a crash the file is either partial or whole.
func (w *mediaWriter) Commit() error {
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

// Sum returns the size and SHA-256 of the whole file name of a section.
func (d MediaDir) Sum(id, section, name string) (int64, string, error) {
	p, err := d.file(id, section, name)
	if err != nil {
		return 0, "", err
	}
	return hashFile(p)
}

// open opens the whole file name of a section for reading.
func (d MediaDir) open(id, section, name string) (*os.File, error) {
	p, err := d.file(id, section, name)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Remove deletes the files of a request, done or partial, or only those of
// one section when section is not "".
func (d MediaDir) Remove(id, section string) error {
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
func (d MediaDir) Requests() ([]string, error) {
	entries, err := os.ReadDir(string(d))
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

func hashFile(path string) (int64, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("media file: %w", err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return 0, "", fmt.Errorf("hash media file: %w", err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
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
