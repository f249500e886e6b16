package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// downloadHook, if set (by tests), is called after every chunk written
// with the bytes written so far; an error interrupts the download as a
// broken connection would.
var downloadHook func(written int64) error

// runDownload downloads a bundle into FILE.part, checks its SHA-256 and
// renames it to FILE. With -resume it continues FILE.part from where an
// interrupted download stopped; the server refuses if the bundle changed.
func runDownload(e *env, args []string) error {
	fs := e.newFlags("download", "ID", true)
	out := fs.String("o", "", "output `file`; default <id>.zip")
	resume := fs.Bool("resume", false, "continue an interrupted download of the same file")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	id := pos[0]
	if *out == "" {
		*out = id + ".zip"
	}
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	size, sum, err := download(e, c, id, *out, *resume)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "wrote %s (%d bytes, sha256 %s)\n", *out, size, sum)
	return err
}

// download writes the bundle of id to out and returns its size and
// SHA-256, checked against the server's.
func download(e *env, c dsarv1.AccessRequestServiceClient, id, out string, resume bool) (int64, string, error) {
	part := out + ".part"
	flags := os.O_RDWR | os.O_CREATE
	if !resume {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(part, flags, 0o600)
	if err != nil {
		return 0, "", fmt.Errorf("download: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	// What is already there is hashed again: the check at the end covers
	// every byte of the file, not only the ones received now.
	off, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("download: read %s: %w", part, err)
	}
	var want string
	if off > 0 {
		// Continue only the same bundle: ask for its SHA-256 first.
		resp, err := c.GetAccessRequest(e.ctx, &dsarv1.GetAccessRequestRequest{Id: id})
		if err != nil {
			return 0, "", rpcError("download", err)
		}
		b := resp.GetAccessRequest().GetBundle()
		want = b.GetSha256()
		if off > b.GetSizeBytes() {
			return 0, "", fmt.Errorf("download: %s is longer than the bundle; remove it and download again", part)
		}
	}
	stream, err := c.DownloadBundle(e.ctx, &dsarv1.DownloadBundleRequest{Id: id, Offset: off, ExpectedSha256: want})
	if err != nil {
		return 0, "", rpcError("download", err)
	}
	first, err := stream.Recv()
	if err != nil {
		return 0, "", rpcError("download", err)
	}
	hdr := first.GetHeader()
	if hdr == nil || hdr.GetOffset() != off {
		return 0, "", errors.New("download: the server did not start with a header at the requested offset")
	}
	prog := &byteProgress{w: e.stderr, tty: isTerminal(e.stderr), total: hdr.GetSizeBytes()}
	for off < hdr.GetSizeBytes() {
		m, err := stream.Recv()
		if err == nil && downloadHook != nil {
			err = downloadHook(off)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			_ = f.Sync()
			return 0, "", fmt.Errorf("download interrupted at byte %d of %d (%v); run it again with -resume to continue", off, hdr.GetSizeBytes(), rpcError("download", err))
		}
		chunk := m.GetChunk()
		if _, err := f.Write(chunk); err != nil {
			return 0, "", fmt.Errorf("download: write %s: %w", part, err)
		}
		h.Write(chunk)
		off += int64(len(chunk))
		prog.update(off, false)
	}
	prog.update(off, true)
	got := hex.EncodeToString(h.Sum(nil))
	if off != hdr.GetSizeBytes() || got != hdr.GetSha256() {
		_ = f.Close()
		_ = os.Remove(part)
		return 0, "", fmt.Errorf("download: the file's SHA-256 is %s, the server's %s; it was removed: download again", got, hdr.GetSha256())
	}
	if err := f.Sync(); err != nil {
		return 0, "", fmt.Errorf("download: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, "", fmt.Errorf("download: %w", err)
	}
	if err := os.Rename(part, out); err != nil {
		return 0, "", fmt.Errorf("download: %w", err)
	}
	return off, got, nil
}
