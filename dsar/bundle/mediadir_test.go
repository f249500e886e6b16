package bundle

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// testMediaDir is a MediaDir in a temporary directory whose data keys are
// held in memory, one per request, as the store would give them.
func testMediaDir(t testing.TB) *MediaDir {
	var mu sync.Mutex
	keys := map[string][]byte{}
	return &MediaDir{Dir: t.TempDir(), Key: func(id string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if keys[id] == nil {
			keys[id] = make([]byte, 32)
			rand.Read(keys[id])
		}
		return keys[id], nil
	}}
}

// mediaContent is n bytes of plaintext, different in every segment, with
// marker at the start of each segment when marker is not "".
func mediaContent(n int, marker string) []byte {
	b := make([]byte, n)
	r := mrand.NewChaCha8([32]byte{7})
	r.Read(b)
	for off := 0; marker != "" && off < n; off += segmentSize {
		copy(b[off:], marker)
	}
	return b
}

// leavePartial writes data into the file of d as a download cut short
// does: through Create, then Close without a commit.
func leavePartial(t *testing.T, d *MediaDir, name string, data []byte) {
	t.Helper()
	w, whole, err := d.Create("req-1", "phone_voicemails", name, 0)
	if err != nil || whole {
		t.Fatalf("Create: whole %v, %v", whole, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// finish resumes the download of file name of d from where Create says,
// Zoom listing it with size listed (0: unknown), commits it, and checks that its Sum and its plaintext are data's.
func finish(t *testing.T, d *MediaDir, name string, data []byte, listed, wantOffset int64) {
	t.Helper()
	w, whole, err := d.Create("req-1", "phone_voicemails", name, listed)
	if err != nil || whole {
		t.Fatalf("Create: whole %v, %v", whole, err)
	}
	if w.Offset() != wantOffset {
		t.Errorf("Offset() = %d, want %d", w.Offset(), wantOffset)
	}
	if _, err := w.Write(data[w.Offset():]); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	size, sum, err := d.Sum("req-1", "phone_voicemails", name)
	want := sha256.Sum256(data)
	if err != nil || size != int64(len(data)) || sum != hex.EncodeToString(want[:]) {
		t.Errorf("Sum = %d, %s, %v; want %d bytes, %x", size, sum, err, len(data), want)
	}
	rc, err := d.open("req-1", "phone_voicemails", name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, data) {
		t.Errorf("the plaintext read back differs (%d bytes, want %d; %v)", len(got), len(data), err)
	}
}

// withFile opens file p for writing and calls fn with it.
func withFile(p string, fn func(f *os.File) error) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return fn(f)
}

// TestMediaDir follows one sealed file through what a download does: a
// partial file resumed after its last whole segment, one longer than the
// file starting again, a commit making it whole under its name, and a
// whole file found again.
func TestMediaDir(t *testing.T) {
	const size = 2*segmentSize + segmentSize/2
	tests := []struct {
		name    string
		partial int   // bytes written by an earlier attempt, -1: none
		listed  int64 // the size Zoom lists
		offset  int64 // where the download resumes
	}{
		{"new", -1, size, 0},
		{"nothing whole yet", segmentSize - 1, size, 0},
		{"resumed", segmentSize + segmentSize/2, size, segmentSize},
		{"resumed at a segment's end", 2 * segmentSize, size, 2 * segmentSize},
		{"longer than listed", 2 * segmentSize, segmentSize + 1, 0},
		{"size unknown", segmentSize + 1, 0, segmentSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testMediaDir(t)
			data := mediaContent(size, "")
			if tt.partial >= 0 {
				leavePartial(t, d, "a/v.mp3", data[:tt.partial])
			}
			if tt.listed > 0 {
				data = data[:tt.listed]
			}
			finish(t, d, "a/v.mp3", data, tt.listed, tt.offset)
			final := filepath.Join(d.Dir, "req-1", "phone_voicemails", "a", "v.mp3")
			if _, err := os.Stat(final + ".part"); !os.IsNotExist(err) {
				t.Errorf("the partial file is still there (%v)", err)
			}
			if st, err := os.Stat(final); err != nil || st.Size() != int64(mediaHeaderLen)+sealedSize(int64(len(data))) || st.Mode().Perm() != 0o600 {
				t.Errorf("the sealed file: %v, %v; want %d bytes, mode 0600", st, err, int64(mediaHeaderLen)+sealedSize(int64(len(data))))
			}
			if w, whole, err := d.Create("req-1", "phone_voicemails", "a/v.mp3", int64(len(data))); err != nil || !whole || w != nil {
				t.Errorf("Create of a whole file: whole %v, writer %v, %v", whole, w, err)
			}
		})
	}
}

// TestMediaDirPlain: without a Key, files are kept in plain and resume
// from their last byte, as before they were sealed; once a Key is given, a
// whole plain file is still read (a request that ran across the upgrade),
// and a partial one starts again, sealed.
func TestMediaDirPlain(t *testing.T) {
	d := &MediaDir{Dir: t.TempDir()}
	final := filepath.Join(d.Dir, "req-1", "phone_voicemails", "v.mp3")
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(final+".part", []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	finish(t, d, "v.mp3", []byte("abcdef"), 6, 3)
	if got, err := os.ReadFile(final); err != nil || string(got) != "abcdef" {
		t.Errorf("plain file = %q, %v", got, err)
	}

	sealed := testMediaDir(t)
	sealed.Dir = d.Dir
	want := sha256.Sum256([]byte("abcdef"))
	if size, sum, err := sealed.Sum("req-1", "phone_voicemails", "v.mp3"); err != nil || size != 6 || sum != hex.EncodeToString(want[:]) {
		t.Errorf("Sum of a plain file with a Key = %d, %s, %v; want 6 bytes of abcdef", size, sum, err)
	}
	if err := os.WriteFile(final+"2.part", []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	finish(t, sealed, "v.mp32", []byte("abcdef"), 6, 0)
	if st, err := os.Stat(final + "2"); err != nil || st.Size() != int64(mediaHeaderLen)+sealedSize(6) {
		t.Errorf("the file downloaded again is not sealed: %v, %v", st, err)
	}
}

// TestMediaDirPlainWhole: a whole plain file that a crash left renamed but
// not recorded before the upgrade to sealed files is whole, with the size
// Zoom lists or none listed: it is sealed in place, not downloaded again,
// and reads back the same. One of another size is downloaded again.
func TestMediaDirPlainWhole(t *testing.T) {
	data := mediaContent(segmentSize+100, "")
	want := sha256.Sum256(data)
	for _, tt := range []struct {
		name   string
		listed int64
		whole  bool
	}{
		{"size listed", int64(len(data)), true},
		{"no size listed", 0, true},
		{"another size listed", int64(len(data)) + 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := testMediaDir(t)
			final := filepath.Join(d.Dir, "req-1", "phone_voicemails", "v.mp3")
			if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(final, data, 0o600); err != nil {
				t.Fatal(err)
			}
			w, whole, err := d.Create("req-1", "phone_voicemails", "v.mp3", tt.listed)
			if err != nil || whole != tt.whole {
				t.Fatalf("Create: whole %v, %v; want whole %v", whole, err, tt.whole)
			}
			if !tt.whole {
				if w.Offset() != 0 {
					t.Errorf("a plain file of another size resumes at %d, want 0", w.Offset())
				}
				w.Discard()
				return
			}
			if _, err := os.Stat(final + dsar.MediaPartialSuffix); !os.IsNotExist(err) {
				t.Errorf("the partial file is still there (%v)", err)
			}
			b, err := os.ReadFile(final)
			if err != nil || !bytes.HasPrefix(b, []byte(mediaMagic)) || int64(len(b)) != d.stored(int64(len(data))) {
				t.Errorf("the file is not sealed in place: %d bytes, %v", len(b), err)
			}
			if size, sum, err := d.Sum("req-1", "phone_voicemails", "v.mp3"); err != nil || size != int64(len(data)) || sum != hex.EncodeToString(want[:]) {
				t.Errorf("Sum = %d, %s, %v; want %d bytes, %x", size, sum, err, len(data), want)
			}
			// Whole still, now sealed.
			if _, whole, err := d.Create("req-1", "phone_voicemails", "v.mp3", tt.listed); err != nil || !whole {
				t.Errorf("Create again: whole %v, %v", whole, err)
			}
		})
	}
}

// TestMediaDirTorn cuts or damages a partial file at several points, as a
// crash can: the download resumes after the last segment that opens, and
// the whole file is the plaintext, no byte lost, none twice.
func TestMediaDirTorn(t *testing.T) {
	const size = 3*segmentSize + 100
	data := mediaContent(size, "")
	h := int64(mediaHeaderLen)
	tests := []struct {
		name   string
		damage func(f *os.File) error
		offset int64
	}{
		{"in the header", func(f *os.File) error { return f.Truncate(h / 2) }, 0},
		{"after the header", func(f *os.File) error { return f.Truncate(h) }, 0},
		{"in segment 0", func(f *os.File) error { return f.Truncate(h + 100) }, 0},
		{"one byte short of segment 0", func(f *os.File) error { return f.Truncate(h + sealedSegment - 1) }, 0},
		{"after segment 0", func(f *os.File) error { return f.Truncate(h + sealedSegment) }, segmentSize},
		{"in segment 2", func(f *os.File) error { return f.Truncate(h + 2*sealedSegment + 5) }, 2 * segmentSize},
		{"not cut", func(f *os.File) error { return nil }, 3 * segmentSize},
		{"zeros over segment 2", func(f *os.File) error {
			_, err := f.WriteAt(make([]byte, sealedSegment), h+2*sealedSegment)
			return err
		}, 2 * segmentSize},
		{"a byte of segment 1 flipped", func(f *os.File) error {
			b := []byte{0}
			if _, err := f.ReadAt(b, h+sealedSegment+40); err != nil {
				return err
			}
			b[0] ^= 1
			_, err := f.WriteAt(b, h+sealedSegment+40)
			return err
		}, segmentSize},
		{"garbage appended", func(f *os.File) error {
			_, err := f.WriteAt([]byte("torn"), h+3*sealedSegment)
			return err
		}, 3 * segmentSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testMediaDir(t)
			leavePartial(t, d, "v.mp3", data)
			if err := withFile(filepath.Join(d.Dir, "req-1", "phone_voicemails", "v.mp3.part"), tt.damage); err != nil {
				t.Fatal(err)
			}
			finish(t, d, "v.mp3", data, size, tt.offset)
		})
	}
}

// TestMediaDirRefuses: a whole file that was altered, cut, reordered,
// moved, or read under another key does not open, and says so; a data
// key that cannot be had (the request was purged) is the store's error.
func TestMediaDirRefuses(t *testing.T) {
	data := mediaContent(3*segmentSize+100, "")
	h := int64(mediaHeaderLen)
	swap := func(f *os.File, a, b int64) error {
		x, y := make([]byte, sealedSegment), make([]byte, sealedSegment)
		if _, err := f.ReadAt(x, h+a*sealedSegment); err != nil {
			return err
		}
		if _, err := f.ReadAt(y, h+b*sealedSegment); err != nil {
			return err
		}
		if _, err := f.WriteAt(y, h+a*sealedSegment); err != nil {
			return err
		}
		_, err := f.WriteAt(x, h+b*sealedSegment)
		return err
	}
	tests := []struct {
		name   string
		damage func(d *MediaDir, path string) error
		want   error
	}{
		{"wrong key", func(d *MediaDir, _ string) error {
			d.Key = func(string) ([]byte, error) { return make([]byte, 32), nil }
			return nil
		}, errSealed},
		{"segments reordered", func(_ *MediaDir, p string) error {
			return withFile(p, func(f *os.File) error { return swap(f, 0, 1) })
		}, errSealed},
		{"segment tampered", func(_ *MediaDir, p string) error {
			return withFile(p, func(f *os.File) error {
				_, err := f.WriteAt([]byte{0, 1, 2, 3}, h+2*sealedSegment+100)
				return err
			})
		}, errSealed},
		{"header's id changed", func(_ *MediaDir, p string) error {
			return withFile(p, func(f *os.File) error {
				// Flipped, not set: the random id may hold 0xff already.
				b := make([]byte, 1)
				if _, err := f.ReadAt(b, h-1); err != nil {
					return err
				}
				_, err := f.WriteAt([]byte{b[0] ^ 0xff}, h-1)
				return err
			})
		}, errSealed},
		{"data appended", func(_ *MediaDir, p string) error {
			return withFile(p, func(f *os.File) error {
				_, err := f.WriteAt([]byte("appended"), h+sealedSize(int64(len(data))))
				return err
			})
		}, errSealed},
		{"last segment cut off", func(_ *MediaDir, p string) error { return os.Truncate(p, h+3*sealedSegment) }, errSealed},
		{"cut within the last segment", func(_ *MediaDir, p string) error { return os.Truncate(p, h+3*sealedSegment+50) }, errSealed},
		{"moved to another name", func(_ *MediaDir, p string) error {
			return os.Rename(p, filepath.Join(filepath.Dir(p), "w.mp3")) // read as w.mp3 below
		}, errSealed},
		{"data key purged", func(d *MediaDir, _ string) error {
			d.Key = func(string) ([]byte, error) {
				return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "the data of request req-1 was purged"}
			}
			return nil
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testMediaDir(t)
			finish(t, d, "v.mp3", data, int64(len(data)), 0)
			if err := tt.damage(d, filepath.Join(d.Dir, "req-1", "phone_voicemails", "v.mp3")); err != nil {
				t.Fatal(err)
			}
			name := "v.mp3"
			if strings.HasPrefix(tt.name, "moved") {
				name = "w.mp3"
			}
			_, _, err := d.Sum("req-1", "phone_voicemails", name)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Sum: %v, want %v", err, tt.want)
			}
			if tt.want == nil && (dsar.ErrorCode(err) != dsar.ENOTFOUND || !strings.Contains(err.Error(), "purged")) {
				t.Errorf("Sum: %v, want the store's ENOTFOUND", err)
			}
		})
	}
	t.Run("create with the data key purged", func(t *testing.T) {
		d := testMediaDir(t)
		d.Key = func(string) ([]byte, error) { return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "purged"} }
		if _, _, err := d.Create("req-1", "s", "v.mp3", 0); dsar.ErrorCode(err) != dsar.ENOTFOUND {
			t.Errorf("Create: %v, want ENOTFOUND", err)
		}
	})
}

// TestMediaDirNoPlaintext scans the raw bytes of the media directory, a
// whole file and a partial one, for a marker every segment of their
// plaintext holds.
func TestMediaDirNoPlaintext(t *testing.T) {
	const marker = "subject@example.test Jane Subject"
	d := testMediaDir(t)
	finish(t, d, "whole.mp3", mediaContent(2*segmentSize+7, marker), 0, 0)
	leavePartial(t, d, "partial.mp3", mediaContent(2*segmentSize+7, marker))
	files := 0
	err := filepath.WalkDir(d.Dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(marker)) || bytes.Contains(b, []byte("subject@")) {
			t.Errorf("%s holds the plaintext marker", p)
		}
		return nil
	})
	if err != nil || files != 2 {
		t.Fatalf("scanned %d files, %v; want 2", files, err)
	}
}

// TestMediaDirRemove deletes a section's files, then a request's, and
// lists the requests that still have some.
func TestMediaDirRemove(t *testing.T) {
	d := testMediaDir(t)
	if ids, err := d.Requests(); err != nil || len(ids) != 0 {
		t.Fatalf("Requests of an empty directory = %v, %v", ids, err)
	}
	for _, f := range []struct{ id, section string }{{"r1", "s1"}, {"r1", "s2"}, {"r2", "s1"}} {
		w, _, err := d.Create(f.id, f.section, "x", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Discard(); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Remove("r1", "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Dir, "r1", "s2")); err != nil {
		t.Errorf("removing one section removed another: %v", err)
	}
	if err := d.Remove("r2", ""); err != nil {
		t.Fatal(err)
	}
	if ids, err := d.Requests(); err != nil || !slices.Equal(ids, []string{"r1"}) {
		t.Errorf("Requests = %v, %v; want [r1]", ids, err)
	}
	if err := d.Remove("..", ""); err == nil {
		t.Error("Remove(\"..\") was accepted")
	}
}
