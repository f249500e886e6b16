package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// bundleFile writes the test request's bundle, signed by testKey(1), to
// a file of a new directory, and returns its bytes, the directory and the
// request recording it.
func bundleFile(t *testing.T) ([]byte, string, *dsar.Request) {
	t.Helper()
	in, src := testRequest()
	data, res := writeBundle(t, in, src, testKey(1))
	dir := t.TempDir()
	path := filepath.Join(dir, in.Request.ID+".zip")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data, dir, &dsar.Request{ID: in.Request.ID, Bundle: dsar.Bundle{Path: path, Size: res.Size, SHA256: res.SHA256}}
}

// TestAssemblerVerify accepts a whole bundle and refuses one with a byte
// flipped, one signed by another key and a missing one, before the
// processor purges what the bundle was written from.
func TestAssemblerVerify(t *testing.T) {
	data, dir, r := bundleFile(t)
	path := r.Bundle.Path
	a := &Assembler{Dir: dir, Key: testKey(1)}
	if err := a.Verify(t.Context(), r); err != nil {
		t.Fatalf("Verify of a whole bundle: %v", err)
	}
	if err := (&Assembler{Dir: dir, Key: testKey(2)}).Verify(t.Context(), r); dsar.ErrorCode(err) != dsar.EDATALOSS {
		t.Errorf("Verify under another key: %v, want data loss", err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(t.Context(), r); dsar.ErrorCode(err) != dsar.EDATALOSS {
		t.Errorf("Verify of a flipped byte: %v, want data loss", err)
	}
	if err := a.Remove(r); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(t.Context(), r); dsar.ErrorCode(err) != dsar.EDATALOSS {
		t.Errorf("Verify of a missing bundle: %v, want data loss", err)
	}
}

// TestAssemblerRemove deletes a request's bundle even when none was
// recorded (an assembly a cancel cut short), and its temporary files,
// and nothing of another request.
func TestAssemblerRemove(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"r1.zip", "r1.123.tmp", "r2.zip", "r10.zip"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := &Assembler{Dir: dir}
	if err := a.Remove(&dsar.Request{ID: "r1"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(&dsar.Request{ID: "r1"}); err != nil {
		t.Errorf("a second Remove: %v", err)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "r10.zip" || names[1] != "r2.zip" {
		t.Errorf("left %v, want r10.zip and r2.zip", names)
	}
}

// TestAssemblerManifest returns the bundle's manifest with the subject
// replaced by the email's hash and every other field kept, and none of a
// bundle with a flipped byte or of a request without a hash.
func TestAssemblerManifest(t *testing.T) {
	data, dir, r := bundleFile(t)
	path := r.Bundle.Path
	const hash = "hmac-sha256:0123"
	r.EmailHash = hash
	a := &Assembler{Dir: dir, Key: testKey(1)}
	got, err := a.Manifest(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := Verify(bytes.NewReader(data), int64(len(data)), testKey(1).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	want := *orig
	want.Subject = hash
	want.Entries = keptEntries(orig.Entries)
	if !reflect.DeepEqual(m, want) || orig.Subject == hash {
		t.Errorf("manifest %+v, want %+v", m, want)
	}
	if bytes.Contains(got, []byte(orig.Subject)) {
		t.Error("the manifest still holds the subject's email")
	}
	if _, err := a.Manifest(t.Context(), &dsar.Request{ID: r.ID, Bundle: r.Bundle}); dsar.ErrorCode(err) != dsar.EPRECONDITION {
		t.Errorf("Manifest without an email hash: %v, want precondition", err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Manifest(t.Context(), r); dsar.ErrorCode(err) != dsar.EDATALOSS {
		t.Errorf("Manifest of a flipped byte: %v, want data loss", err)
	}
	// A file that is the one recorded but holds no manifest Verify would
	// read: Manifest reads it as Verify does and says what is wrong.
	for _, c := range []struct{ name, manifest, want string }{
		{"no manifest", "", "missing from the bundle"},
		{"not JSON", "{", "not a valid manifest"},
	} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		if c.manifest != "" {
			w, _ := zw.Create(ManifestPath)
			w.Write([]byte(c.manifest))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		r.Bundle.Size, r.Bundle.SHA256 = int64(buf.Len()), hex.EncodeToString(sum[:])
		_, err := a.Manifest(t.Context(), r)
		if dsar.ErrorCode(err) != dsar.EDATALOSS || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Manifest of a bundle with %s: %v, want data loss saying %q", c.name, err, c.want)
		}
		if _, verr := Verify(bytes.NewReader(buf.Bytes()), int64(buf.Len()), testKey(1).Public().(ed25519.PublicKey)); verr == nil || !strings.Contains(verr.Error(), c.want) {
			t.Errorf("Verify of a bundle with %s: %v, want %q", c.name, verr, c.want)
		}
	}
}

// keptEntries are a manifest's entries as a kept manifest names them.
func keptEntries(es []ManifestEntry) []ManifestEntry {
	out := make([]ManifestEntry, len(es))
	for i, e := range es {
		out[i] = ManifestEntry{Path: KeptPath(e.Path, e.SHA256), Size: e.Size, SHA256: e.SHA256}
	}
	return out
}

func TestKeptPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"media/team_chat/2026-11-03 jane.doe@example.com photo.png", "media/team_chat/abc"},
		{"media/cloud_recordings/Team sync/audio.m4a", "media/cloud_recordings/abc"},
		{"data/profile.json", "data/profile.json"},
		{"index.html", "index.html"},
	} {
		if got := KeptPath(c.in, "abc"); got != c.want {
			t.Errorf("KeptPath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
