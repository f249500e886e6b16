//go:build unix

package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// fakeDsard answers the two calls a download makes from data, in chunks
// of chunkSize, as dsard does; a failure is injected with breakAt.
// Calls to any other method panic.
type fakeDsard struct {
	dsarv1.AccessRequestServiceClient
	data     []byte
	sha      string // sent in the header instead of data's SHA-256 when set
	getSha   string // GetAccessRequest's instead of data's SHA-256 when set
	breakAt  int64  // with breakErr: the stream fails once this many bytes are sent
	breakErr error
	calls    int
}

const chunkSize = 16

func newFakeDsard() *fakeDsard {
	return &fakeDsard{data: bytes.Repeat([]byte("bundle bytes 0123456789 "), 8)}
}

func (f *fakeDsard) sum() string {
	s := sha256.Sum256(f.data)
	return hex.EncodeToString(s[:])
}

func (f *fakeDsard) GetAccessRequest(ctx context.Context, in *dsarv1.GetAccessRequestRequest, _ ...grpc.CallOption) (*dsarv1.GetAccessRequestResponse, error) {
	f.calls++
	sha := f.getSha
	if sha == "" {
		sha = f.sum()
	}
	return &dsarv1.GetAccessRequestResponse{AccessRequest: &dsarv1.AccessRequest{Id: in.GetId(),
		Bundle: &dsarv1.Bundle{SizeBytes: int64(len(f.data)), Sha256: sha}}}, nil
}

func (f *fakeDsard) DownloadBundle(ctx context.Context, in *dsarv1.DownloadBundleRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[dsarv1.DownloadBundleResponse], error) {
	f.calls++
	if w := in.GetExpectedSha256(); w != "" && w != f.sum() {
		return nil, status.Error(codes.FailedPrecondition, "the bundle changed; download it again from offset 0")
	}
	if in.GetOffset() > int64(len(f.data)) {
		return nil, status.Error(codes.OutOfRange, "offset past the end")
	}
	sha := f.sha
	if sha == "" {
		sha = f.sum()
	}
	msgs := []*dsarv1.DownloadBundleResponse{{Part: &dsarv1.DownloadBundleResponse_Header{Header: &dsarv1.DownloadBundleHeader{
		SizeBytes: int64(len(f.data)), Sha256: sha, Offset: in.GetOffset()}}}}
	for off := in.GetOffset(); off < int64(len(f.data)); off += chunkSize {
		end := min(off+chunkSize, int64(len(f.data)))
		msgs = append(msgs, &dsarv1.DownloadBundleResponse{Part: &dsarv1.DownloadBundleResponse_Chunk{Chunk: f.data[off:end]}})
	}
	return &fakeStream{f: f, msgs: msgs, sent: in.GetOffset()}, nil
}

type fakeStream struct {
	grpc.ClientStream
	f    *fakeDsard
	msgs []*dsarv1.DownloadBundleResponse
	sent int64
}

func (s *fakeStream) Recv() (*dsarv1.DownloadBundleResponse, error) {
	if s.f.breakErr != nil && s.sent >= s.f.breakAt {
		return nil, s.f.breakErr
	}
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	s.sent += int64(len(m.GetChunk()))
	return m, nil
}

// fileState is what a test compares before and after: the mode (with the
// type) and, for a regular file, the content or, for a symlink, its target.
func fileState(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "absent"
	}
	if err != nil {
		t.Fatal(err)
	}
	s := fi.Mode().String()
	switch {
	case fi.Mode().IsRegular():
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s += " " + string(b)
	case fi.Mode()&fs.ModeSymlink != 0:
		l, err := os.Readlink(path)
		if err != nil {
			t.Fatal(err)
		}
		s += " -> " + l
	case fi.Mode()&fs.ModeDevice != 0:
		s += " dev " + hex.EncodeToString([]byte{byte(fi.Sys().(*syscall.Stat_t).Rdev)})
	}
	return s
}

// deviceNode makes a character device like /dev/null (1,3) in dir, or
// returns /dev/null itself where mknod is not permitted.
func deviceNode(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "null")
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Logf("mknod: %v; using /dev/null", err)
		return "/dev/null"
	}
	return p
}

// TestDownloadRefuses: a download never writes through or replaces what
// it must not, asks dsard for nothing when it refuses up front, leaves
// every file it found as it was and no partial file of its own.
func TestDownloadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, dir, out string) (watch []string) // files that must be unchanged
		out    func(t *testing.T, dir string) string                // the -o; dir/bundle.zip when nil
		resume bool
		force  bool
		want   string
	}{
		{name: "device", out: deviceNode, force: true, want: "is a device"},
		{name: "directory", out: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "out")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, force: true, want: "is a directory"},
		{name: "symlink to a file", setup: func(t *testing.T, dir, out string) []string {
			victim := writeVictim(t, dir)
			symlink(t, victim, out)
			return []string{victim, out}
		}, force: true, want: "is a symlink"},
		{name: "dangling symlink", setup: func(t *testing.T, dir, out string) []string {
			symlink(t, filepath.Join(dir, "nowhere"), out)
			return []string{out, filepath.Join(dir, "nowhere")}
		}, want: "is a symlink"},
		{name: "existing file without -f", setup: func(t *testing.T, dir, out string) []string {
			if err := os.WriteFile(out, []byte("earlier bundle"), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{out}
		}, want: "exists; use -f"},
		{name: "planted .part symlink", setup: plantedPart, want: ".part is a symlink"},
		{name: "planted .part symlink, -f", setup: plantedPart, force: true, want: ".part is a symlink"},
		{name: "planted .part symlink, -resume", setup: plantedPart, resume: true, want: ".part is a symlink"},
		{name: "planted .part hard link, -resume", setup: func(t *testing.T, dir, out string) []string {
			victim := writeVictim(t, dir)
			if err := os.Link(victim, out+".part"); err != nil {
				t.Fatal(err)
			}
			return []string{victim}
		}, resume: true, want: "has 2 links"},
		{name: ".part of mode 0644, -resume", setup: func(t *testing.T, dir, out string) []string {
			return []string{writePart(t, out, 0o644)}
		}, resume: true, want: "mode 0644"},
		{name: ".part of another user, -resume", setup: func(t *testing.T, dir, out string) []string {
			p := writePart(t, out, 0o600)
			if err := os.Lchown(p, 65534, 65534); err != nil {
				t.Fatalf("chown (the test runs as root): %v", err)
			}
			return []string{p}
		}, resume: true, want: "belongs to another user"},
		{name: ".part a named pipe, -resume", setup: func(t *testing.T, dir, out string) []string {
			if err := syscall.Mkfifo(out+".part", 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{out + ".part"}
		}, resume: true, want: "is a named pipe"},
		{name: "stale .part without -resume or -f", setup: func(t *testing.T, dir, out string) []string {
			return []string{writePart(t, out, 0o600)}
		}, want: "continue it with -resume, or start over with -f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "bundle.zip")
			if tc.out != nil {
				out = tc.out(t, dir)
			}
			watch := []string{out}
			if tc.setup != nil {
				watch = tc.setup(t, dir, out)
			}
			before := map[string]string{}
			for _, p := range watch {
				before[p] = fileState(t, p)
			}
			partBefore := fileState(t, out+".part")
			zd := newFakeDsard()
			_, _, err := Download(t.Context(), zd, "req1", out, DownloadOptions{Resume: tc.resume, Force: tc.force})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("download: %v, want an error containing %q", err, tc.want)
			}
			if zd.calls != 0 {
				t.Errorf("dsard was asked %d times before the refusal", zd.calls)
			}
			for _, p := range watch {
				if got := fileState(t, p); got != before[p] {
					t.Errorf("%s changed: %q, was %q", filepath.Base(p), got, before[p])
				}
			}
			if got := fileState(t, out+".part"); got != partBefore {
				t.Errorf("the partial file is %q, was %q", got, partBefore)
			}
		})
	}
}

func writeVictim(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "victim")
	if err := os.WriteFile(p, []byte("the victim's content"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// plantedPart plants out.part as a symlink to a victim file.
func plantedPart(t *testing.T, dir, out string) []string {
	victim := writeVictim(t, dir)
	symlink(t, victim, out+".part")
	return []string{victim, out + ".part", out}
}

// writePart writes the first bytes of the fake's bundle to out.part.
func writePart(t *testing.T, out string, mode os.FileMode) string {
	t.Helper()
	p := out + ".part"
	if err := os.WriteFile(p, newFakeDsard().data[:chunkSize], mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // not reduced by the umask
		t.Fatal(err)
	}
	return p
}

// TestDownloadWrites: what a download leaves behind when it succeeds or
// fails: the bundle with mode 0600, the partial file kept only when
// -resume can continue it.
func TestDownloadWrites(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "connection reset")
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, out string)
		fake     func(f *fakeDsard)
		hook     func(out string) func(int64) error // called as Progress
		resume   bool
		force    bool
		want     string // error; "" for success
		wantPart int64  // bytes of the partial file kept; -1 none
		wantOut  string // fileState of out when not the bundle
	}{
		{name: "new file"},
		{name: "existing file with -f", force: true, setup: func(t *testing.T, out string) {
			if err := os.WriteFile(out, []byte("earlier bundle"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "stale .part with -f starts over", force: true, setup: func(t *testing.T, out string) {
			if err := os.WriteFile(out+".part", []byte("garbage, not the bundle's first bytes"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "resume a .part", resume: true, setup: func(t *testing.T, out string) { writePart(t, out, 0o600) }},
		{name: "-resume without a .part", resume: true},
		{name: "broken after the first chunk keeps the .part",
			fake: func(f *fakeDsard) { f.breakAt, f.breakErr = chunkSize, unavailable },
			want: ".part was kept to continue with -resume", wantPart: chunkSize, wantOut: "absent"},
		{name: "cancelled after the first chunk keeps the .part",
			fake: func(f *fakeDsard) {
				f.breakAt, f.breakErr = chunkSize, status.Error(codes.Canceled, "context canceled")
			},
			want: "was kept", wantPart: chunkSize, wantOut: "absent"},
		{name: "broken before any byte removes the .part",
			fake: func(f *fakeDsard) { f.breakAt, f.breakErr = 0, unavailable },
			want: ".part was removed", wantPart: -1, wantOut: "absent"},
		{name: "broken during a resume keeps the .part", resume: true,
			setup: func(t *testing.T, out string) { writePart(t, out, 0o600) },
			fake:  func(f *fakeDsard) { f.breakAt, f.breakErr = 3*chunkSize, unavailable },
			want:  "interrupted at byte 48 of 192 (download: unavailable: connection reset)", wantPart: 3 * chunkSize, wantOut: "absent"},
		{name: "SHA-256 mismatch removes the .part",
			fake: func(f *fakeDsard) { f.sha = strings.Repeat("0", 64) },
			want: ".part was removed", wantPart: -1, wantOut: "absent"},
		{name: "bundle changed since the .part: the mismatch removes it", resume: true,
			setup: func(t *testing.T, out string) { writePart(t, out, 0o600) },
			fake:  func(f *fakeDsard) { f.data = append([]byte("another bundle "), f.data...) },
			want:  "SHA-256 is", wantPart: -1, wantOut: "absent"},
		{name: "dsard refusing to resume a changed bundle removes the .part", resume: true,
			setup: func(t *testing.T, out string) { writePart(t, out, 0o600) },
			fake:  func(f *fakeDsard) { f.getSha = strings.Repeat("1", 64) },
			want:  "not possible now: the bundle changed; download it again from offset 0; ", wantPart: -1, wantOut: "absent"},
		{name: "a file appeared meanwhile is left alone",
			hook: func(out string) func(int64) error { return appear(out) },
			want: "appeared during the download; it was left alone", wantPart: -1, wantOut: "-rw------- appeared"},
		{name: "a file appeared meanwhile is replaced with -f", force: true,
			hook: func(out string) func(int64) error { return appear(out) }},
		{name: "a directory appeared meanwhile is left alone with -f", force: true,
			hook: func(out string) func(int64) error {
				return func(int64) error { _ = os.Mkdir(out, 0o700); return nil }
			},
			want: "became a directory", wantPart: -1, wantOut: "drwx------"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bundle.zip")
			if tc.setup != nil {
				tc.setup(t, out)
			}
			zd := newFakeDsard()
			if tc.fake != nil {
				tc.fake(zd)
			}
			var partMode fs.FileMode
			progress := func(n, _ int64) error {
				if fi, err := os.Lstat(out + ".part"); err == nil {
					partMode = fi.Mode()
				}
				if tc.hook != nil {
					return tc.hook(out)(n)
				}
				return nil
			}
			size, sum, err := Download(t.Context(), zd, "req1", out, DownloadOptions{Resume: tc.resume, Force: tc.force, Progress: progress})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("download: %v", err)
				}
				if size != int64(len(zd.data)) || sum != zd.sum() {
					t.Errorf("download returned %d bytes, %s; want %d, %s", size, sum, len(zd.data), zd.sum())
				}
				if got, want := fileState(t, out), "-rw------- "+string(zd.data); got != want {
					t.Errorf("out is %q, want %q", got, want)
				}
				if got := fileState(t, out+".part"); got != "absent" {
					t.Errorf("the partial file is %q after success", got)
				}
				if partMode != 0o600 {
					t.Errorf("the partial file had mode %v during the download, want -rw-------", partMode)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("download: %v, want an error containing %q", err, tc.want)
			}
			if got := fileState(t, out); !strings.HasPrefix(got, tc.wantOut) || (tc.wantOut == "absent" && got != "absent") {
				t.Errorf("out is %q, want %q", got, tc.wantOut)
			}
			part := fileState(t, out+".part")
			if tc.wantPart < 0 {
				if part != "absent" {
					t.Errorf("the partial file is %q, want it removed", part)
				}
				return
			}
			if want := "-rw------- " + string(zd.data[:tc.wantPart]); part != want {
				t.Fatalf("the partial file is %q, want %q", part, want)
			}
			// What was kept, -resume completes.
			zd.breakErr = nil
			if _, _, err := Download(t.Context(), zd, "req1", out, DownloadOptions{Resume: true}); err != nil {
				t.Fatalf("download -resume: %v", err)
			}
			if got, want := fileState(t, out), "-rw------- "+string(zd.data); got != want {
				t.Errorf("after -resume out is %q, want %q", got, want)
			}
		})
	}
}

// appear returns a Progress hook that creates out once, as another
// program might during the download.
func appear(out string) func(int64) error {
	return func(int64) error {
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.WriteString("appeared")
			f.Close()
		}
		return nil
	}
}

// TestPublishWithoutHardLinks: where the file system has no hard links,
// publish still neither replaces a file without -f nor leaves the bundle
// unpublished.
func TestPublishWithoutHardLinks(t *testing.T) {
	linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EPERM} }
	t.Cleanup(func() { linkFile = os.Link })
	for _, tc := range []struct {
		name    string
		exists  bool
		force   bool
		want    string
		wantOut string
	}{
		{name: "absent", wantOut: "-rw------- new"},
		{name: "exists", exists: true, want: "appeared during the download", wantOut: "-rw------- old"},
		{name: "exists, -f", exists: true, force: true, wantOut: "-rw------- new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, part := filepath.Join(dir, "b.zip"), filepath.Join(dir, "b.zip.part")
			if err := os.WriteFile(part, []byte("new"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.exists {
				if err := os.WriteFile(out, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := publish(part, out, tc.force)
			if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want))) {
				t.Fatalf("publish: %v, want %q", err, tc.want)
			}
			if got := fileState(t, out); got != tc.wantOut {
				t.Errorf("out is %q, want %q", got, tc.wantOut)
			}
		})
	}
}
