package dsar

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// mediaSections are the sections whose records point to files: after their
// list parts are complete, the files are downloaded in a media phase.
var mediaSections = map[string]bool{
	SectionCloudRecordings: true,
	SectionPhoneVoicemails: true,
	SectionPhoneRecordings: true,
	SectionPhoneSMS:        true,
	SectionTeamChat:        true,
}

// HasMedia reports whether the records of a section point to files that
// are collected with it.
func HasMedia(section string) bool { return mediaSections[section] }

// MediaFile is one file a section's records point to: a cloud recording
// file, a voicemail, a phone call recording. Zoom.Files fills Record, Name,
// URL and Size from a stored page; the store keeps, by request, section and
// Name, whether the file is done (with its size and SHA-256) or missing.
type MediaFile struct {
	Section string // set by the store when read back
	Record  string // id of the record that lists the file; not stored
	// Name is the file's path within its section, "/"-separated and safe
	// in a zip and on disk (ValidMediaName): stable across fetches of the
	// same record.
	Name string
	URL  string // where to download it; not stored
	Size int64  // expected bytes (0: unknown); once done, the bytes stored
	// SHA256 is the lower-case hex SHA-256 of the bytes, once done.
	SHA256 string
	Done   bool
	// Missing is Zoom's answer when the file no longer exists: it is
	// skipped, not retried.
	Missing string
	// Calls are the HTTP calls made to download the file by this
	// process, retries included; the store adds them to the section's
	// calls on commit. Not stored.
	Calls int64
	// Unsized is set on a file done that Zoom listed without a size
	// (voicemails, call recordings): the store adds its bytes to the
	// section's Media.BytesTotal on commit. Not stored.
	Unsized bool
}

// Path is the file's entry in the bundle.
func (f MediaFile) Path() string { return "media/" + f.Section + "/" + f.Name }

// ValidMediaName reports whether name can be a MediaFile's Name: a path
// UnsafePath accepts, at most 255 bytes a component and 512 in all, no
// component ending in MediaPartialSuffix.
func ValidMediaName(name string) bool {
	if UnsafePath(name) != "" || len(name) > 512 {
		return false
	}
	for c := range strings.SplitSeq(name, "/") {
		if len(c) > 255 || strings.HasSuffix(c, MediaPartialSuffix) {
			return false
		}
	}
	return true
}

// UnsafePath says why a "/"-separated path could leave the directory it is
// written or extracted into, on Unix or Windows, or fail there: "" when it
// is safe. It is the one rule for media names, media directories and the
// entries bundle.Verify certifies.
func UnsafePath(name string) string {
	switch {
	case name == "":
		return "empty name"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "name contains a control character"
	case name[0] == '/':
		return "absolute name"
	case strings.Contains(name, `\`):
		return "name contains a backslash"
	case strings.Contains(name, ":"):
		// "C:x" is a drive letter on Windows, "x:y" a stream of x.
		return "name contains a colon (a drive letter on Windows)"
	}
	for el := range strings.SplitSeq(name, "/") {
		switch el {
		case "":
			return "name has an empty path element"
		case ".", "..":
			return fmt.Sprintf("name has a %q path element", el)
		}
	}
	return ""
}

// MediaPartialSuffix marks a file being downloaded in a MediaStore; no
// Name may end with it.
const MediaPartialSuffix = ".part"

// MediaStore keeps the media files of requests until their bundles hold
// them; bundle.MediaDir keeps them on disk. Files are named by request,
// section and Name.
type MediaStore interface {
	// Create opens a file for writing. whole is true, with no writer,
	// when the whole file is kept already (written before a crash, never
	// recorded): a file of another size than size (0: unknown) is not
	// whole. Otherwise the writer appends to what an earlier attempt left.
	Create(id, section, name string, size int64) (w MediaWriter, whole bool, err error)
	// Sum returns the size and the lower-case hex SHA-256 of a whole file.
	Sum(id, section, name string) (int64, string, error)
	// Remove deletes the files of a request, done or partial, or only
	// those of one section when section is not "".
	Remove(id, section string) error
	// Requests lists the ids of the requests that have files kept.
	Requests() ([]string, error)
}

// MediaWriter is a file being downloaded into a MediaStore.
type MediaWriter interface {
	io.Writer
	// Offset is the bytes an earlier attempt left: the download resumes
	// from there.
	Offset() int64
	// Commit makes the file whole under its name, durably, and closes it.
	Commit() error
	// Discard closes and deletes it.
	Discard() error
	// Close closes it, keeping what was written for a later attempt.
	Close() error
}

// media downloads the files listed by a section's stored pages that are
// neither done nor missing, one at a time. Each is written to a partial
// file that a later attempt resumes with a Range request, synced, renamed
// to its name and only then recorded done: a file recorded done is never
// downloaded again, and one found under its name but not recorded (a crash
// between the rename and the commit) is recorded without a download.
func (p *Processor) media(ctx context.Context, zoom Zoom, r *Request, s Section) error {
	files, err := p.listFiles(ctx, zoom, r.ID, s)
	if err != nil {
		return err
	}
	stored, err := p.cfg.Store.Media(ctx, r.ID)
	if err != nil {
		return err
	}
	settled := make(map[string]bool, len(stored))
	done := map[string]int64{} // the bytes of each file done
	for _, f := range stored {
		if f.Section == s.Name && (f.Done || f.Missing != "") {
			settled[f.Name] = true
		}
		if f.Section == s.Name && f.Done {
			done[f.Name] = f.Size
		}
	}
	// The media totals: the bytes Zoom lists, and those of the files it
	// lists without a size that are done (CommitMedia adds the others').
	var bytes int64
	for _, f := range files {
		bytes += cmp.Or(f.Size, done[f.Name])
	}
	_, err = p.cfg.Store.UpdateSection(ctx, r.ID, s.Name, func(s *Section) error {
		s.Media.FilesTotal, s.Media.BytesTotal = int64(len(files)), bytes
		return nil
	})
	if err != nil {
		return err
	}
	// Up to MediaWorkers files at once: a file's transfer, not Zoom's
	// rate limit, bounds a single stream of downloads. The first failure
	// stops the others; what they wrote stays for the next attempt.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	slots := make(chan struct{}, MediaWorkers)
	renew := p.clock.Now().Add(p.cfg.Lease / 2)
	for _, f := range files {
		if settled[f.Name] {
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-wctx.Done():
		}
		if wctx.Err() != nil {
			break
		}
		// The section's slot is one, whatever its download workers: it is
		// handed to a request due sooner here, before a file starts, and
		// not by each worker.
		if err := p.sem.Yield(wctx); err != nil {
			cancel()
			wg.Wait()
			return err
		}
		// Downloads may take longer than a lease: renew it on the way.
		if now := p.clock.Now(); now.After(renew) {
			if _, err := p.cfg.Store.Claim(ctx, r.ID, p.cfg.Owner, now.Add(p.cfg.Lease)); err != nil {
				cancel()
				wg.Wait()
				return err
			}
			renew = now.Add(p.cfg.Lease / 2)
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := p.fetchFile(wctx, zoom, r.ID, s.Name, f); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
				return
			}
			p.notify(r.ID)
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// MediaWorkers is how many files of a section download at once.
const MediaWorkers = 4

// listFiles returns the files of a section's stored pages in page order,
// leaving out those of records a page drops and repeated names.
func (p *Processor) listFiles(ctx context.Context, zoom Zoom, id string, s Section) ([]MediaFile, error) {
	var out []MediaFile
	seen := map[string]bool{}
	for _, pt := range s.Parts {
		err := p.cfg.Store.Pages(ctx, id, s.Name, pt.Name, func(pg Page) error {
			files, err := zoom.Files(s.Name, pt.Name, pg.Body)
			if err != nil {
				return fmt.Errorf("files of %s/%s page %d: %w", s.Name, pt.Name, pg.Seq, err)
			}
			for _, f := range files {
				if slices.Contains(pg.Drop, f.Record) || seen[f.Name] {
					continue
				}
				if !ValidMediaName(f.Name) {
					return &Error{Code: EINTERNAL, Op: "dsar.listFiles", Message: fmt.Sprintf("unsafe media file name in %s/%s", s.Name, pt.Name)}
				}
				seen[f.Name] = true
				f.Section = s.Name
				out = append(out, f)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fetchFile downloads one file and records it. A ZoomError other than
// "not found" is returned for the section to stop on; the partial file
// stays for the next attempt.
func (p *Processor) fetchFile(ctx context.Context, zoom Zoom, id, section string, f MediaFile) error {
	w, whole, err := p.cfg.Media.Create(id, section, f.Name, f.Size)
	if err != nil {
		return err
	}
	if whole {
		// Renamed before a crash, never recorded: it is whole.
		return p.commitFile(ctx, id, section, f)
	}
	defer w.Close() // after Commit or Discard, a no-op
	_, calls, err := zoom.Download(ctx, f.URL, w.Offset(), w, f.Size)
	f.Calls += int64(calls)
	var ze *ZoomError
	if errors.As(err, &ze) && ze.Kind == ZoomNotFound {
		w.Discard()
		f.Missing = ze.Message
		if f.Missing == "" {
			f.Missing = "the file no longer exists"
		}
		p.log.Warn("media file no longer exists at Zoom; skipped", "request", id, "section", section, "file", f.Name)
		return p.cfg.Store.CommitMedia(context.WithoutCancel(ctx), id, section, f)
	}
	if err != nil {
		// The file is not recorded: its calls are counted now.
		if calls > 0 {
			if cerr := p.addCalls(context.WithoutCancel(ctx), id, section, "", int64(calls)); cerr != nil {
				return errors.Join(err, cerr)
			}
		}
		return err
	}
	if err := w.Commit(); err != nil {
		return err
	}
	if p.cfg.Hooks.AfterDownload != nil {
		p.cfg.Hooks.AfterDownload(section, f.Name)
	}
	return p.commitFile(ctx, id, section, f)
}

// commitFile hashes a whole file and records it done. The commit happens
// even when shutdown has begun: the download is what it saves.
func (p *Processor) commitFile(ctx context.Context, id, section string, f MediaFile) error {
	size, sum, err := p.cfg.Media.Sum(id, section, f.Name)
	if err != nil {
		return err
	}
	if f.Size > 0 && size != f.Size {
		return fmt.Errorf("media file %s has %d bytes, Zoom lists %d", f.Name, size, f.Size)
	}
	f.Unsized = f.Size == 0
	f.Size, f.SHA256, f.Done = size, sum, true
	return p.cfg.Store.CommitMedia(context.WithoutCancel(ctx), id, section, f)
}

// dropMedia deletes the files of a completed request: its bundle holds
// them. Called only once COMPLETED is committed, so that a crash during
// assembly still finds them.
func (p *Processor) dropMedia(id string) {
	if p.cfg.Media == nil {
		return
	}
	if err := p.cfg.Media.Remove(id, ""); err != nil {
		p.log.Warn("deleting the media files of a completed request", "request", id, "err", err)
	}
}

// dropSectionMedia deletes the files of one section, done or partial, so
// that a retry from the start downloads them again.
func (p *Processor) dropSectionMedia(id, section string) error {
	if p.cfg.Media == nil {
		return nil
	}
	if err := p.cfg.Media.Remove(id, section); err != nil {
		return fmt.Errorf("delete the media files of section %s: %w", section, err)
	}
	return nil
}

// sweepMedia deletes the media files of requests that completed (a crash
// came between the commit and the deletion), were cancelled, or are gone.
func (p *Processor) sweepMedia(ctx context.Context) error {
	if p.cfg.Media == nil {
		return nil
	}
	ids, err := p.cfg.Media.Requests()
	if err != nil {
		return err
	}
	for _, id := range ids {
		r, err := p.cfg.Store.Request(ctx, id)
		switch {
		case ErrorCode(err) == ENOTFOUND || ErrorCode(err) == EINVALID:
		case err != nil:
			// One request that cannot be read keeps its files and does
			// not keep the others' from being swept, nor dsard from
			// starting.
			p.log.Error("sweep media files", "request", id, "err", err)
			continue
		case r.State != StateCompleted && r.State != StateCancelled:
			continue
		}
		p.dropMedia(id)
	}
	return nil
}
