package client

import (
	"context"
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

// DownloadOptions steer Download. The messages of its errors name them
// as dsarctl's flags: -f is Force, -resume is Resume.
type DownloadOptions struct {
	// Resume continues OUT.part, left by an interrupted download, from
	// its end; dsard refuses if the bundle changed meanwhile.
	Resume bool
	// Force replaces an existing regular file OUT (never anything else)
	// and, without Resume, a stale OUT.part.
	Force bool
	// Progress, if set, is called after every chunk written with the
	// bytes the file holds and the bundle's size. An error from it
	// interrupts the download as a broken connection would: the
	// partial file is kept for Resume.
	Progress func(written, size int64) error
}

// Download writes the bundle of request id to the file out and returns its
// size and SHA-256, checked against the server's over every byte of the
// file. It refuses out before it asks dsard for anything when something is
// there that must not be replaced (a symlink, a device, a directory, or a
// regular file without Force), and goes through out.part (mode 0600),
// renamed to out only when complete and verified. On failure out.part is
// removed, unless the transfer broke in a way that Resume can continue: then
// the error is a *PartialError.
func Download(ctx context.Context, api dsarv1.AccessRequestServiceClient, id, out string, opt DownloadOptions) (int64, string, error) {
	if err := checkTarget(out, opt.Force); err != nil {
		return 0, "", err
	}
	part := out + ".part"
	var f *os.File
	var err error
	if opt.Resume {
		f, err = openPart(part)
	} else {
		f, err = createPart(part, opt.Force)
	}
	if err != nil {
		return 0, "", err
	}
	size, sum, err := receive(ctx, api, id, f, opt.Progress)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("download: %w", cerr)
	}
	var br *BrokenError
	if errors.As(err, &br) && br.At > 0 && Resumable(br.Err) {
		return 0, "", &PartialError{Part: part, Err: err}
	}
	if err == nil {
		err = publish(part, out, opt.Force)
	}
	if err != nil {
		if rerr := os.Remove(part); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return 0, "", fmt.Errorf("%w; %s could not be removed: %v", err, part, rerr)
		}
		return 0, "", fmt.Errorf("%w; %s was removed", err, part)
	}
	return size, sum, nil
}

// PartialError is a download that broke after some bytes, which Part
// keeps for a download with Resume.
type PartialError struct {
	Part string
	Err  error // a *BrokenError
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%v; %s was kept to continue with -resume", e.Err, e.Part)
}

func (e *PartialError) Unwrap() error { return e.Err }

// BrokenError is a transfer that stopped, on dsard's refusal or a broken
// connection, when the partial file held At bytes of Size (0: not known).
// Err is the gRPC error.
type BrokenError struct {
	At, Size int64
	Err      error
}

func (e *BrokenError) Error() string {
	msg := "download: " + e.Err.Error()
	if st, ok := status.FromError(e.Err); ok {
		msg = "download: " + CodeWords(st.Code()) + ": " + st.Message()
	}
	switch {
	case e.At == 0 || !Resumable(e.Err):
		return msg
	case e.Size == 0:
		return fmt.Sprintf("download interrupted at byte %d (%s)", e.At, msg)
	}
	return fmt.Sprintf("download interrupted at byte %d of %d (%s)", e.At, e.Size, msg)
}

func (e *BrokenError) Unwrap() error { return e.Err }

// Resumable reports whether a partial file may be continued after err:
// the connection broke, the call timed out or was cancelled, the token
// was refused. Not when dsard says the bundle is gone or changed, which
// makes the bytes received useless.
func Resumable(err error) bool {
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
// *BrokenError, whose At says how much f holds.
func receive(ctx context.Context, api dsarv1.AccessRequestServiceClient, id string, f *os.File, progress func(int64, int64) error) (int64, string, error) {
	h := sha256.New()
	off, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("download: read %s: %w", f.Name(), err)
	}
	var want string
	if off > 0 {
		// Continue only the same bundle: ask for its SHA-256 first.
		resp, err := api.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: id})
		if err != nil {
			return 0, "", &BrokenError{At: off, Err: err}
		}
		b := resp.GetAccessRequest().GetBundle()
		want = b.GetSha256()
		if off > b.GetSizeBytes() {
			return 0, "", fmt.Errorf("download: %s is longer than the bundle", f.Name())
		}
	}
	stream, err := api.DownloadBundle(ctx, &dsarv1.DownloadBundleRequest{Id: id, Offset: off, ExpectedSha256: want})
	if err != nil {
		return 0, "", &BrokenError{At: off, Err: err}
	}
	first, err := stream.Recv()
	if err != nil {
		return 0, "", &BrokenError{At: off, Err: err}
	}
	hdr := first.GetHeader()
	if hdr == nil || hdr.GetOffset() != off {
		return 0, "", errors.New("download: the server did not start with a header at the requested offset")
	}
	size := hdr.GetSizeBytes()
	off, err = copyChunks(stream, f, h, off, size, progress)
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
func copyChunks(stream chunkStream, f *os.File, h hash.Hash, off, size int64, progress func(int64, int64) error) (int64, error) {
	for off < size {
		m, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			_ = f.Sync()
			return off, &BrokenError{At: off, Size: size, Err: err}
		}
		chunk := m.GetChunk()
		if _, err := f.Write(chunk); err != nil {
			return off, fmt.Errorf("download: write %s: %w", f.Name(), err)
		}
		h.Write(chunk)
		off += int64(len(chunk))
		if progress != nil {
			if err := progress(off, size); err != nil {
				_ = f.Sync()
				return off, &BrokenError{At: off, Size: size, Err: err}
			}
		}
	}
	return off, nil
}
