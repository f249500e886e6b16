package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
	out := fs.String("o", "", "output `file`; default <id>.zip. Not a directory: give a file name. A symlink or a device\n"+
		"is never replaced, an existing regular file only with -f. The bundle goes to FILE.part\n"+
		"(mode 0600) first, which is kept only when the transfer breaks, for -resume")
	resume := fs.Bool("resume", false, "continue an interrupted download of the same file from FILE.part")
	force := fs.Bool("f", false, "replace an existing regular file (and, without -resume, a stale FILE.part)")
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
	size, sum, err := download(e, c, id, *out, *resume, *force)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "wrote %s (%d bytes, sha256 %s)\n", *out, size, sum)
	return err
}

// download writes the bundle of id to out and returns its size and
// SHA-256, checked against the server's. It refuses out before it asks
// dsard for anything (checkTarget), and goes through out.part, which it
// removes on failure unless the transfer broke in a way that -resume can
// continue (see resumable); force allows replacing a regular out.
func download(e *env, c dsarv1.AccessRequestServiceClient, id, out string, resume, force bool) (int64, string, error) {
	if err := checkTarget(out, force); err != nil {
		return 0, "", err
	}
	part := out + ".part"
	var f *os.File
	var err error
	if resume {
		f, err = openPart(part)
	} else {
		f, err = createPart(part, force)
	}
	if err != nil {
		return 0, "", err
	}
	size, sum, err := receive(e, c, id, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("download: %w", cerr)
	}
	var br *brokenError
	if errors.As(err, &br) && br.at > 0 && resumable(br.err) {
		return 0, "", fmt.Errorf("%w; %s was kept: run `dsarctl download -resume -o %s %s` to continue it, or remove it",
			err, part, out, id)
	}
	if err == nil {
		err = publish(part, out, force)
	}
	if err != nil {
		if rerr := os.Remove(part); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return 0, "", fmt.Errorf("%w; %s could not be removed: %v", err, part, rerr)
		}
		return 0, "", fmt.Errorf("%w; %s was removed", err, part)
	}
	return size, sum, nil
}

// brokenError is a transfer that stopped, on dsard's refusal or a broken
// connection, when the partial file held at bytes of size (0: not known).
type brokenError struct {
	at, size int64
	err      error
}

func (e *brokenError) Error() string {
	switch {
	case e.at == 0 || !resumable(e.err):
		return rpcError("download", e.err).Error()
	case e.size == 0:
		return fmt.Sprintf("download interrupted at byte %d (%v)", e.at, rpcError("download", e.err))
	}
	return fmt.Sprintf("download interrupted at byte %d of %d (%v)", e.at, e.size, rpcError("download", e.err))
}

func (e *brokenError) Unwrap() error { return e.err }

// resumable reports whether a partial file may be continued after err:
// the connection broke, the call timed out or was cancelled, the token
// was refused. Not when dsard says the bundle is gone or changed, which
// makes the bytes received useless.
func resumable(err error) bool {
	switch status.Code(err) {
	case codes.NotFound, codes.FailedPrecondition, codes.OutOfRange, codes.InvalidArgument:
		return false
	}
	return true
}

// receive writes the bundle of id to f from the end of what f holds and
// returns its size and SHA-256. What f already holds is hashed again: the
// check at the end covers every byte of the file, not only the ones
// received now. A failure of the connection or of dsard is a
// *brokenError, whose at says how much f holds.
func receive(e *env, c dsarv1.AccessRequestServiceClient, id string, f *os.File) (int64, string, error) {
	h := sha256.New()
	off, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("download: read %s: %w", f.Name(), err)
	}
	var want string
	if off > 0 {
		// Continue only the same bundle: ask for its SHA-256 first.
		resp, err := c.GetAccessRequest(e.ctx, &dsarv1.GetAccessRequestRequest{Id: id})
		if err != nil {
			return 0, "", &brokenError{at: off, err: err}
		}
		b := resp.GetAccessRequest().GetBundle()
		want = b.GetSha256()
		if off > b.GetSizeBytes() {
			return 0, "", fmt.Errorf("download: %s is longer than the bundle", f.Name())
		}
	}
	stream, err := c.DownloadBundle(e.ctx, &dsarv1.DownloadBundleRequest{Id: id, Offset: off, ExpectedSha256: want})
	if err != nil {
		return 0, "", &brokenError{at: off, err: err}
	}
	first, err := stream.Recv()
	if err != nil {
		return 0, "", &brokenError{at: off, err: err}
	}
	hdr := first.GetHeader()
	if hdr == nil || hdr.GetOffset() != off {
		return 0, "", errors.New("download: the server did not start with a header at the requested offset")
	}
	size := hdr.GetSizeBytes()
	off, err = copyChunks(e, stream, f, h, off, size)
	if err != nil {
		return 0, "", err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if off != size || got != hdr.GetSha256() {
		return 0, "", fmt.Errorf("download: the file's SHA-256 is %s, the server's %s: download again", got, hdr.GetSha256())
	}
	if err := f.Sync(); err != nil {
		return 0, "", fmt.Errorf("download: %w", err)
	}
	return off, got, nil
}

// chunkStream is the receiving side of DownloadBundle.
type chunkStream interface {
	Recv() (*dsarv1.DownloadBundleResponse, error)
}

// copyChunks writes the stream's chunks to f and h from off until size
// and returns the new offset.
func copyChunks(e *env, stream chunkStream, f *os.File, h hash.Hash, off, size int64) (int64, error) {
	prog := &byteProgress{w: e.stderr, tty: isTerminal(e.stderr), total: size}
	for off < size {
		m, err := stream.Recv()
		if err == nil && downloadHook != nil {
			err = downloadHook(off)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			_ = f.Sync()
			return off, &brokenError{at: off, size: size, err: err}
		}
		chunk := m.GetChunk()
		if _, err := f.Write(chunk); err != nil {
			return off, fmt.Errorf("download: write %s: %w", f.Name(), err)
		}
		h.Write(chunk)
		off += int64(len(chunk))
		prog.update(off, false)
	}
	prog.update(off, true)
	return off, nil
}
