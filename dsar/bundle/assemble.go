package bundle

import (
	"archive/zip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Stored is what the Assembler reads of a request: its stored pages and
// the record of its media files. dsar.Store satisfies it.
type Stored interface {
	Pages(ctx context.Context, id, section, part string, fn func(dsar.Page) error) error
	Media(ctx context.Context, id string) ([]dsar.MediaFile, error)
}

// Assembler writes bundles as files in Dir, signed with Key. It satisfies
// dsar.Assembler and dsar.Rebuilder.
type Assembler struct {
	Store Stored
	Dir   string
	// Media is the processor's Config.Media: where the media files of a
	// request wait for its bundle; nil when none are collected.
	Media   *MediaDir
	Key     ed25519.PrivateKey
	Version string // "" means the build's version
	// Controller returns the Art. 15(1) information the controller of an
	// account configured, nil if none (the report says so); nil for no
	// account. A func, so that dsard's reload of its accounts reaches it.
	Controller func(account string) *ControllerInfo
}

var (
	_ dsar.Assembler = (*Assembler)(nil)
	_ dsar.Rebuilder = (*Assembler)(nil)
)

// Assemble writes the bundle of r to Dir/<id>.zip: first to a temporary
// file, synced, then renamed, so a crash leaves either no bundle or a whole
// one.
func (a *Assembler) Assemble(ctx context.Context, r *dsar.Request, sections []dsar.Section, zoom dsar.Zoom) (dsar.Bundle, map[string]int64, error) {
	in, err := a.input(ctx, r, sections, zoom)
	if err != nil {
		return dsar.Bundle{}, nil, err
	}
	if err := os.MkdirAll(a.Dir, 0o700); err != nil {
		return dsar.Bundle{}, nil, fmt.Errorf("bundle directory: %w", err)
	}
	path := filepath.Join(a.Dir, r.ID+".zip")
	// A crash during an earlier assembly may have left a partial file.
	if old, err := filepath.Glob(filepath.Join(a.Dir, r.ID+".*.tmp")); err == nil {
		for _, name := range old {
			os.Remove(name)
		}
	}
	res, err := a.write(ctx, path, in, source{store: a.Store, media: a.Media}, nil)
	if err != nil {
		return dsar.Bundle{}, nil, err
	}
	records := make(map[string]int64, len(res.Manifest.Sections))
	for _, ms := range res.Manifest.Sections {
		records[ms.Name] = ms.Records
	}
	return dsar.Bundle{Path: path, Size: res.Size, SHA256: res.SHA256, KeyFingerprint: res.Manifest.PublicKey, Finished: in.Finished}, records, nil
}

// input is what the bundle writer needs to know of r besides its pages:
// r and its sections, with where zoom puts each part's records and the
// windows the calls of a complete section covered.
func (a *Assembler) input(ctx context.Context, r *dsar.Request, sections []dsar.Section, zoom dsar.Zoom) (Input, error) {
	if zoom == nil {
		return Input{}, &dsar.Error{Code: dsar.EPRECONDITION, Op: "dsar.Assemble", Message: fmt.Sprintf("account %q is not configured", r.Account)}
	}
	in := Input{Request: r, Version: a.Version, Files: zoom.Files, Controller: a.controller(r.Account)}
	for i := range sections {
		s := &sections[i]
		bs := Section{Section: s, Lists: map[string]string{}, Note: zoom.Note(s.Name)}
		for _, pt := range s.Parts {
			if list, _ := zoom.Shape(s.Name, pt.Name); list != "" {
				bs.Lists[pt.Name] = list
			}
			if s.State != dsar.SectionComplete {
				continue
			}
			if _, ok := itemColumns[s.Name+"/"+pt.Name]; ok {
				labels, err := a.labels(ctx, r.ID, s.Name, pt.Name, zoom)
				if err != nil {
					return Input{}, err
				}
				if bs.Labels == nil {
					bs.Labels = map[string]map[string]string{}
				}
				bs.Labels[pt.Name] = labels
			}
			// The oldest windows are fetched last: what Zoom served when the
			// section finished is what the bundle may claim it covers.
			for _, w := range zoom.Windows(s.Name, pt.Name, r.CreatedAt) {
				if w, ok := zoom.Served(s.Name, pt.Name, w, s.FinishedAt); ok {
					bs.Windows = append(bs.Windows, w)
				}
			}
		}
		if s.FinishedAt.After(in.Finished) {
			in.Finished = s.FinishedAt
		}
		in.Sections = append(in.Sections, bs)
	}
	if in.Finished.IsZero() {
		in.Finished = r.UpdatedAt
	}
	return in, nil
}

// write writes a bundle to a temporary file beside path, syncs it and,
// if check (when set) accepts the result, renames it to path: a crash or
// a refusal leaves path as it was.
func (a *Assembler) write(ctx context.Context, path string, in Input, src Source, check func(Result) error) (Result, error) {
	f, err := os.CreateTemp(filepath.Dir(path), in.Request.ID+".*.tmp")
	if err != nil {
		return Result{}, fmt.Errorf("create bundle file: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	in.TempDir = filepath.Dir(path)
	res, err := Write(ctx, f, in, src, a.Key)
	if err == nil && check != nil {
		err = check(res)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return Result{}, fmt.Errorf("write bundle: %w", err)
	}
	return res, nil
}

// Rebuild writes the bundle of a completed request again from its stored
// pages, over a damaged or missing file at r.Bundle.Path. Assembly is
// deterministic, so the result must have the recorded size and SHA-256;
// if it has not (the pages, the signing key, the tool version or the
// controller's Art. 15(1) information are not those of the first
// assembly), the file is left as it was.
//
// The media files of a completed request are deleted from MediaDir: each
// is taken from there while it is intact, else from the existing bundle's
// entry of the same path if its bytes have the SHA-256 recorded when the
// file was downloaded.
func (a *Assembler) Rebuild(ctx context.Context, r *dsar.Request, sections []dsar.Section, zoom dsar.Zoom) error {
	const op = "bundle.Rebuild"
	b := r.Bundle
	if b.Path == "" || b.SHA256 == "" {
		return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("request %s has no recorded bundle to rebuild", r.ID)}
	}
	in, err := a.input(ctx, r, sections, zoom)
	if err != nil {
		return err
	}
	if !b.Finished.IsZero() {
		in.Finished = b.Finished
	}
	var old *zip.Reader
	if f, err := os.Open(b.Path); err == nil {
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			old, _ = zip.NewReader(f, fi.Size()) // a damaged directory leaves no copies
		}
	}
	if v := oldVersion(old); v != "" {
		in.Version = v
	}
	src := source{store: a.Store, media: a.Media}
	_, names, err := bundleNames(ctx, in, src)
	if err != nil {
		return err
	}
	copies, missing, total, err := a.mediaCopies(ctx, r.ID, old, names)
	if err != nil {
		return err
	}
	if missing > 0 {
		return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("the bundle cannot be rebuilt: media files missing: %d of %d (neither in the media directory nor intact in the damaged bundle)", missing, total)}
	}
	if err := os.MkdirAll(filepath.Dir(b.Path), 0o700); err != nil {
		return fmt.Errorf("bundle directory: %w", err)
	}
	src.copies = copies
	_, err = a.write(ctx, b.Path, in, src, func(res Result) error {
		if res.Size != b.Size || res.SHA256 != b.SHA256 {
			return &dsar.Error{Code: dsar.EDATALOSS, Op: op, Message: fmt.Sprintf("the rebuilt bundle has %d bytes and SHA-256 %s, not the recorded %d bytes and %s: its stored pages, the signing key, the tool version or the account's controller information (controller_info_file) differ from the first assembly; the bundle was left as it was", res.Size, res.SHA256, b.Size, b.SHA256)}
		}
		return nil
	})
	return err
}

// oldVersion is the tool version in the manifest of an existing bundle, ""
// when it cannot be read: a rebuild by a newer dsard writes the version
// the bundle was first written with, so that its bytes are the same.
func oldVersion(zr *zip.Reader) string {
	if zr == nil {
		return ""
	}
	rc, err := zr.Open(ManifestPath)
	if err != nil {
		return ""
	}
	defer rc.Close()
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&m); err != nil {
		return ""
	}
	return m.Version
}

// mediaCopies returns, for every done media file of request id that is not
// intact in the media directory, the entry of old (nil: none) with the
// same path in the bundle (names, by stored path), size and SHA-256; and
// how many files have neither, of how many.
func (a *Assembler) mediaCopies(ctx context.Context, id string, old *zip.Reader, names map[string]string) (map[string]*zip.File, int, int, error) {
	files, err := a.Store.Media(ctx, id)
	if err != nil {
		return nil, 0, 0, err
	}
	entries := map[string]*zip.File{}
	if old != nil {
		for _, zf := range old.File {
			entries[zf.Name] = zf
		}
	}
	copies := map[string]*zip.File{}
	var missing, total int
	for _, f := range files {
		if !f.Done {
			continue
		}
		total++
		if a.Media != nil {
			size, sum, err := a.Media.Sum(id, f.Section, f.Name)
			if err == nil && size == f.Size && sum == f.SHA256 {
				continue
			}
		}
		p := f.Path()
		if n, ok := names[p]; ok {
			p = n
		}
		if zf := entries[p]; zf != nil && intact(zf, f) {
			copies[f.Path()] = zf
			continue
		}
		missing++
	}
	return copies, missing, total, ctx.Err()
}

// intact reports whether a zip entry holds exactly the bytes of f.
func intact(zf *zip.File, f dsar.MediaFile) bool {
	if zf.UncompressedSize64 != uint64(f.Size) {
		return false
	}
	rc, err := zf.Open()
	if err != nil {
		return false
	}
	defer rc.Close()
	h := sha256.New()
	// The zip reader fails at the end of an entry whose CRC-32 differs.
	if _, err := io.Copy(h, rc); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == f.SHA256
}

// source reads a request's stored pages and media files for the bundle
// writer.
type source struct {
	store Stored
	media *MediaDir
	// copies, when rebuilding, are entries of the existing bundle that
	// stand in for media files no longer intact in mediaDir, by path.
	copies map[string]*zip.File
}

func (s source) Pages(ctx context.Context, id, section, part string, fn func(dsar.Page) error) error {
	return s.store.Pages(ctx, id, section, part, fn)
}

// Media streams the done media files of a request from the media
// directory; the writer checks each against the SHA-256 recorded when it
// was downloaded.
func (s source) Media(ctx context.Context, id string, fn func(dsar.MediaFile, io.Reader) error) error {
	files, err := s.store.Media(ctx, id)
	if err != nil {
		return err
	}
	for _, f := range files {
		if !f.Done {
			continue
		}
		if zf := s.copies[f.Path()]; zf != nil {
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("media file %s from the existing bundle: %w", f.Path(), err)
			}
			err = fn(f, rc)
			rc.Close()
			if err != nil {
				return err
			}
			continue
		}
		if s.media == nil {
			return &dsar.Error{Code: dsar.EINTERNAL, Op: "bundle.Assembler", Message: "media files were collected but the assembler has no media directory"}
		}
		fh, err := s.media.open(id, f.Section, f.Name)
		if err != nil {
			return fmt.Errorf("media file %s: %w", f.Path(), err)
		}
		err = fn(f, fh)
		fh.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Files opens the bundle files an Assembler wrote, at the path recorded
// with each. It satisfies rpc.Bundles.
type Files struct{}

// Open opens the bundle file of a completed request for reading and checks
// its size against the one recorded at assembly. A missing file or another
// size is dsar.EDATALOSS with the reason; the file is then closed.
func (Files) Open(id string, b dsar.Bundle) (*os.File, os.FileInfo, error) {
	const op = "bundle.Open"
	f, err := os.Open(b.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &dsar.Error{Code: dsar.EDATALOSS, Op: op, Err: err,
			Message: fmt.Sprintf("the bundle file of request %s is missing; an operator can rebuild it: dsarctl rebuild %s", id, id)}
	}
	if err != nil {
		return nil, nil, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: err}
	}
	if fi.Size() != b.Size {
		f.Close()
		return nil, nil, &dsar.Error{Code: dsar.EDATALOSS, Op: op, Message: fmt.Sprintf("the bundle of request %s is damaged: its file has %d bytes, %d were recorded at assembly; an operator can rebuild it: dsarctl rebuild %s", id, fi.Size(), b.Size, id)}
	}
	return f, fi, nil
}

// CheckSum reads a bundle file opened by Open whole and checks its SHA-256
// against the one recorded at assembly: another is dsar.EDATALOSS.
func (Files) CheckSum(ctx context.Context, f io.ReaderAt, id string, b dsar.Bundle) error {
	const op = "bundle.CheckSum"
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, io.NewSectionReader(f, 0, b.Size)})
	if err == nil && n != b.Size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &dsar.Error{Code: dsar.EINTERNAL, Op: op, Err: fmt.Errorf("read bundle of %s: %w", id, err)}
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != b.SHA256 {
		return &dsar.Error{Code: dsar.EDATALOSS, Op: op, Message: fmt.Sprintf("the bundle of request %s is damaged: its SHA-256 is %s, %s was recorded at assembly; an operator can rebuild it: dsarctl rebuild %s", id, sum, b.SHA256, id)}
	}
	return nil
}

// ctxReader stops a long read when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// labels reads what a person calls each item of a part from the stored
// pages of the parts that name its items (dsar.ItemsFrom).
func (a *Assembler) labels(ctx context.Context, id, section, part string, zoom dsar.Zoom) (map[string]string, error) {
	out := map[string]string{}
	for _, from := range dsar.ItemsFrom(section, part) {
		sec, pt, _ := strings.Cut(from, "/")
		err := a.Store.Pages(ctx, id, sec, pt, func(pg dsar.Page) error {
			items, err := zoom.Items(section, part, from, pg.Body)
			for _, it := range items {
				if _, ok := out[it.Key]; !ok && it.Label != "" {
					out[it.Key] = it.Label
				}
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("labels of %s/%s: %w", section, part, err)
		}
	}
	return out, nil
}

func (a *Assembler) controller(account string) *ControllerInfo {
	if a.Controller == nil {
		return nil
	}
	return a.Controller(account)
}

var _ dsar.BundleFiles = (*Assembler)(nil)

// Verify checks the bundle of a completed request whole before the
// processor purges what it was written from: its size and SHA-256 against
// those recorded at assembly (Files), then every entry and the signature
// of its manifest under the public half of Key (Verify).
func (a *Assembler) Verify(ctx context.Context, r *dsar.Request) error {
	const op = "bundle.Assembler.Verify"
	f, err := openChecked(ctx, r)
	if err != nil {
		return err
	}
	defer f.Close()
	if a.Key == nil {
		return &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: "no signing key to verify the bundle with"}
	}
	if _, err := Verify(f, r.Bundle.Size, a.Key.Public().(ed25519.PublicKey)); err != nil {
		return &dsar.Error{Code: dsar.EDATALOSS, Op: op, Err: err, Message: fmt.Sprintf("the bundle of request %s does not verify", r.ID)}
	}
	return nil
}

// Remove deletes the bundle file of a request: at its recorded path, and
// the one an assembly cut short by a cancel wrote without recording it,
// with any temporary file a crash left.
func (a *Assembler) Remove(r *dsar.Request) error {
	names, err := filepath.Glob(filepath.Join(a.Dir, r.ID+".*.tmp"))
	if err != nil {
		return fmt.Errorf("bundle.Assembler.Remove: %w", err)
	}
	names = append(names, filepath.Join(a.Dir, r.ID+".zip"))
	if r.Bundle.Path != "" {
		names = append(names, r.Bundle.Path)
	}
	for _, name := range names {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("bundle.Assembler.Remove: %w", err)
		}
	}
	return nil
}
