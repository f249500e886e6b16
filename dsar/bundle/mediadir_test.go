package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestMediaDir follows one file through what a download does: a partial
// file resumed from its end, one longer than the file starting again, a
// commit making it whole under its name, and a whole file found again.
func TestMediaDir(t *testing.T) {
	tests := []struct {
		name    string
		partial string // left by an earlier attempt
		size    int64  // as Zoom lists it
		offset  int64  // where the download resumes
	}{
		{"new", "", 6, 0},
		{"resumed", "abc", 6, 3},
		{"longer than listed", "abcdefgh", 6, 0},
		{"size unknown", "abc", 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := MediaDir(t.TempDir())
			final := filepath.Join(string(d), "req-1", "phone_voicemails", "a", "v.mp3")
			if tt.partial != "" {
				if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(final+".part", []byte(tt.partial), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			w, whole, err := d.Create("req-1", "phone_voicemails", "a/v.mp3", tt.size)
			if err != nil || whole {
				t.Fatalf("Create: whole %v, %v", whole, err)
			}
			if w.Offset() != tt.offset {
				t.Errorf("Offset() = %d, want %d", w.Offset(), tt.offset)
			}
			if _, err := io.WriteString(w, "abcdef"[w.Offset():]); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			size, sum, err := d.Sum("req-1", "phone_voicemails", "a/v.mp3")
			want := sha256.Sum256([]byte("abcdef"))
			if err != nil || size != 6 || sum != hex.EncodeToString(want[:]) {
				t.Errorf("Sum = %d, %s, %v; want 6 bytes of abcdef", size, sum, err)
			}
			if _, err := os.Stat(final + ".part"); !os.IsNotExist(err) {
				t.Errorf("the partial file is still there (%v)", err)
			}
			if w, whole, err := d.Create("req-1", "phone_voicemails", "a/v.mp3", 6); err != nil || !whole || w != nil {
				t.Errorf("Create of a whole file: whole %v, writer %v, %v", whole, w, err)
			}
		})
	}
}

// TestMediaDirRemove deletes a section's files, then a request's, and
// lists the requests that still have some.
func TestMediaDirRemove(t *testing.T) {
	d := MediaDir(t.TempDir())
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
	if _, err := os.Stat(filepath.Join(string(d), "r1", "s2")); err != nil {
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
