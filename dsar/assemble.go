package dsar

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
)

// FileAssembler writes bundles as files in Dir, signed with Key.
type FileAssembler struct {
	Store Store
	Dir   string
	// MediaDir is the processor's Config.MediaDir: where the media files
	// of a request wait for its bundle.
	MediaDir string
	Key      ed25519.PrivateKey
	Version  string // "" means the build's version
}

// Assemble writes the bundle of r to Dir/<id>.zip: first to a temporary
// file, synced, then renamed, so a crash leaves either no bundle or a whole
// one.
func (a *FileAssembler) Assemble(ctx context.Context, r *Request, sections []Section, zoom Zoom) (Bundle, error) {
	if zoom == nil {
		return Bundle{}, Errorf(EPRECONDITION, "dsar.Assemble", "account %q is not configured", r.Account)
	}
	in := bundle.Request{
		ID: r.ID, Account: r.Account, Subject: r.Email, Outcome: r.Outcome,
		Started: r.CreatedAt, Version: a.Version,
	}
	for _, s := range sections {
		bs := bundle.Section{
			Name: s.Name, State: string(s.State), Reason: s.Reason, ReasonCode: s.ReasonCode,
			Calls: int(s.Calls),
		}
		for _, pt := range s.Parts {
			list, _ := zoom.Shape(s.Name, pt.Name)
			bs.Parts = append(bs.Parts, bundle.Part{Name: pt.Name, List: list})
			if s.State != SectionComplete {
				continue
			}
			for _, w := range zoom.Windows(s.Name, pt.Name, r.CreatedAt) {
				bs.Windows = append(bs.Windows, bundle.Window{From: w.From, To: w.To})
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

	if err := os.MkdirAll(a.Dir, 0o700); err != nil {
		return Bundle{}, fmt.Errorf("bundle directory: %w", err)
	}
	path := filepath.Join(a.Dir, r.ID+".zip")
	// A crash during an earlier assembly may have left a partial file.
	if old, err := filepath.Glob(filepath.Join(a.Dir, r.ID+".*.tmp")); err == nil {
		for _, name := range old {
			os.Remove(name)
		}
	}
	f, err := os.CreateTemp(a.Dir, r.ID+".*.tmp")
	if err != nil {
		return Bundle{}, fmt.Errorf("create bundle file: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	res, err := bundle.Write(ctx, f, in, source{a.Store, a.MediaDir}, a.Key)
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
		return Bundle{}, fmt.Errorf("write bundle: %w", err)
	}
	// The bundle's count is the one every reader shows: Get and Watch read
	// it from the section. Were this interrupted, the request is still
	// ASSEMBLING and the same pages give the same bundle and counts.
	for _, ms := range res.Manifest.Sections {
		if _, err := a.Store.UpdateSection(ctx, r.ID, ms.Name, func(s *Section) error {
			s.Records = ms.Records
			return nil
		}); err != nil {
			return Bundle{}, fmt.Errorf("record the bundle's counts: %w", err)
		}
	}
	return Bundle{Path: path, Size: res.Size, SHA256: res.SHA256, KeyFingerprint: res.Manifest.PublicKey, Finished: in.Finished}, nil
}

// source reads a request's stored pages and media files for the bundle
// writer.
type source struct {
	store    Store
	mediaDir string
}

func (s source) Pages(ctx context.Context, id, section, part string, fn func(bundle.Page) error) error {
	return s.store.Pages(ctx, id, section, part, func(p Page) error {
		bp := bundle.Page{Body: p.Body, IDs: p.IDs}
		if len(p.Drop) > 0 {
			bp.Drop = make([]bool, len(p.IDs))
			for i := range p.IDs {
				bp.Drop[i] = !p.Kept(i)
			}
		}
		return fn(bp)
	})
}

// Media streams the done media files of a request from the media
// directory; the writer checks each against the SHA-256 recorded when it
// was downloaded.
func (s source) Media(ctx context.Context, id string, fn func(bundle.Media) error) error {
	files, err := s.store.Media(ctx, id)
	if err != nil {
		return err
	}
	for _, f := range files {
		if !f.Done {
			continue
		}
		if s.mediaDir == "" {
			return Errorf(EINTERNAL, "dsar.FileAssembler", "media files were collected but the assembler has no media directory")
		}
		dir, err := mediaPath(s.mediaDir, id, f.Section)
		if err != nil {
			return err
		}
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil {
			return fmt.Errorf("media file %s: %w", f.Path(), err)
		}
		err = fn(bundle.Media{Path: f.Path(), Size: f.Size, SHA256: f.SHA256, Body: fh})
		fh.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
