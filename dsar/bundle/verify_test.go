//lint:file-ignore SA1019 the tests build entries with DOS times set directly, as Write and zip -r do.

package bundle

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

type entry struct {
	name string
	data []byte
	mode fs.FileMode // if not 0, the entry's Unix mode
}

// rezip rebuilds a bundle after edit changed its entries; the manifest and
// signature are kept unless edit changes them.
func rezip(t *testing.T, b []byte, edit func([]entry) []entry) []byte {
	t.Helper()
	names, content, _ := readZip(t, b)
	var es []entry
	for _, n := range names {
		es = append(es, entry{name: n, data: content[n]})
	}
	es = edit(es)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, e := range es {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if strings.HasPrefix(e.name, "media/") {
			fh.Method = zip.Store // as Write stores media
		}
		if e.mode != 0 {
			fh.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func find(es []entry, name string) int {
	return slices.IndexFunc(es, func(e entry) bool { return e.name == name })
}

func TestVerifyDetects(t *testing.T) {
	req, src := testRequest()
	key := testKey(1)
	good, _ := writeBundle(t, req, src, key)
	pub := key.Public().(ed25519.PublicKey)

	tests := []struct {
		name   string
		bundle func(t *testing.T) []byte
		pub    ed25519.PublicKey
		want   []Problem // Entry and a part of What, in order
	}{
		{"tampered entry", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry {
				i := find(es, "data/settings.json")
				es[i].data = bytes.Replace(es[i].data, []byte(`"chat":true`), []byte(`"chat":false`), 1)
				return es
			})
		}, pub, []Problem{{"data/settings.json", "size is 83 bytes, manifest says 82"}, {"data/settings.json", "SHA-256 is"}}},
		{"damaged bytes", func(t *testing.T) []byte {
			_, _, zr := readZip(t, good)
			b := slices.Clone(good)
			for _, f := range zr.File {
				if strings.HasPrefix(f.Name, "media/") {
					off, _ := f.DataOffset()
					b[off+100] ^= 0xff
				}
			}
			return b
		}, pub, []Problem{{"media/cloud_recordings/2025-11-05 1100 Recorded/video.mp4", "cannot be read: zip: checksum error"}}},
		{"truncated file", func(t *testing.T) []byte { return good[:len(good)*2/3] }, pub,
			[]Problem{{"", "not a readable zip file"}}},
		{"swapped entries", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry {
				i, j := find(es, "data/meetings.json"), find(es, "data/profile.json")
				es[i].data, es[j].data = es[j].data, es[i].data
				return es
			})
		}, pub, []Problem{
			{"data/meetings.json", "size"}, {"data/meetings.json", "SHA-256"},
			// Larger than listed: read no further, so no SHA-256.
			{"data/profile.json", "size is 875 bytes by its zip header, manifest says 425 (read no further than 426)"},
		}},
		{"wrong key", func(t *testing.T) []byte { return good }, testKey(9).Public().(ed25519.PublicKey),
			[]Problem{{"manifest.sig", "signed by key SHA256:"}}},
		{"manifest edited without the key", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry {
				i := find(es, ManifestPath)
				es[i].data = bytes.Replace(es[i].data, []byte(`"records": 6`), []byte(`"records": 5`), 1)
				return es
			})
		}, pub, []Problem{{"manifest.sig", "signature does not match manifest.json"}}},
		{"extra entry", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry {
				return append(es, entry{name: "data/extra.json", data: []byte("[]")})
			})
		}, pub, []Problem{{"data/extra.json", "extra entry"}}},
		{"missing entry", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry {
				return slices.Delete(es, find(es, IndexPath), find(es, IndexPath)+1)
			})
		}, pub, []Problem{{"index.html", "missing"}}},
		{"duplicated entry", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry {
				return append(es, es[find(es, "data/webinars.json")])
			})
		}, pub, []Problem{{"data/webinars.json", "more than once"}}},
		{"no signature", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry { return es[:len(es)-1] })
		}, pub, []Problem{{"manifest.sig", "missing from the bundle"}}},
		{"no manifest", func(t *testing.T) []byte {
			return rezip(t, good, func(es []entry) []entry { return slices.Delete(es, find(es, ManifestPath), find(es, ManifestPath)+1) })
		}, pub, []Problem{{"manifest.json", "missing from the bundle"}}},
		{"no public key", func(t *testing.T) []byte { return good }, nil,
			[]Problem{{"manifest.sig", "no valid public key"}}},
		{"not a zip", func(t *testing.T) []byte { return []byte("hello") }, pub, []Problem{{"", "not a readable zip file"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.bundle(t)
			_, err := Verify(bytes.NewReader(b), int64(len(b)), tt.pub)
			checkProblems(t, err, tt.want)
		})
	}
}

// checkProblems checks that err is a *VerifyError with the wanted problems
// (Entry and a part of What, in order), one line each, naming the entry.
func checkProblems(t *testing.T, err error, want []Problem) {
	t.Helper()
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify error = %v, want a *VerifyError", err)
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("problems:\n%v\nwant %d: %v", err, len(want), want)
	}
	for i, w := range want {
		got := ve.Problems[i]
		if got.Entry != w.Entry || !strings.Contains(got.What, w.What) {
			t.Errorf("problem %d = %q, want entry %q with %q", i, got, w.Entry, w.What)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines for %d problems:\n%v", len(lines), len(want), err)
	}
	for i, l := range lines {
		prefix := Problem{Entry: want[i].Entry}.String()
		if !strings.HasPrefix(l, prefix) {
			t.Errorf("line %q does not start with %q", l, prefix)
		}
	}
}

func TestVerifyGood(t *testing.T) {
	req, src := testRequest()
	key := testKey(3)
	b, res := writeBundle(t, req, src, key)
	m, err := Verify(bytes.NewReader(b), int64(len(b)), key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if m.PublicKey != Fingerprint(key.Public().(ed25519.PublicKey)) || len(m.Entries) != len(res.Manifest.Entries) {
		t.Errorf("manifest key %s with %d entries", m.PublicKey, len(m.Entries))
	}
}

// FuzzVerify checks that no input makes Verify panic and that a damaged
// bundle never passes.
func FuzzVerify(f *testing.F) {
	req, src := testRequest()
	key := testKey(1)
	good, _ := writeBundle(f, req, src, key)
	f.Add(good, 10, byte(1))
	f.Add(good, len(good)-30, byte(0x80))
	f.Add([]byte("PK\x05\x06"), 0, byte(0))
	pub := key.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, b []byte, at int, x byte) {
		b = slices.Clone(b)
		if at >= 0 && at < len(b) {
			b[at] ^= x
		}
		_, err := Verify(bytes.NewReader(b), int64(len(b)), pub)
		if err == nil && !bytes.Equal(b, good) {
			// A change in bytes that zip ignores (padding, comments) may
			// pass; a change to any entry's content may not.
			_, content, err := readZipLoose(b)
			if err != nil {
				return // archive/zip is stricter than the reader Verify uses
			}
			_, want, _ := readZipLoose(good)
			for n, c := range want {
				if !bytes.Equal(content[n], c) {
					t.Fatalf("damaged entry %s passed verification", n)
				}
			}
		}
	})
}

func readZipLoose(b []byte) ([]string, map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	content := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, nil, err
		}
		var buf bytes.Buffer
		_, err = buf.ReadFrom(rc)
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		names = append(names, f.Name)
		content[f.Name] = buf.Bytes()
	}
	return names, content, nil
}

// resign rebuilds a bundle after edit changed its entries and manifest,
// and signs the new manifest with key: a bundle its key's holder made.
func resign(t *testing.T, b []byte, key ed25519.PrivateKey, edit func(*Manifest, []entry) []entry) []byte {
	t.Helper()
	return rezip(t, b, func(es []entry) []entry {
		var m Manifest
		if err := json.Unmarshal(es[find(es, ManifestPath)].data, &m); err != nil {
			t.Fatal(err)
		}
		es = edit(&m, es)
		mb, err := m.marshal()
		if err != nil {
			t.Fatal(err)
		}
		es[find(es, ManifestPath)].data = mb
		es[find(es, SignaturePath)].data = ed25519.Sign(key, mb)
		return es
	})
}

// addListed adds e to the bundle and lists it in the manifest with its
// true size and SHA-256.
func addListed(m *Manifest, es []entry, e entry) []entry {
	sum := sha256.Sum256(e.data)
	m.Entries = append(m.Entries, ManifestEntry{Path: e.name, Size: int64(len(e.data)), SHA256: hex.EncodeToString(sum[:])})
	return append(es, e)
}

// TestVerifySignedButUnsafe checks that a correctly signed bundle whose
// entries would be unsafe to extract does not pass.
func TestVerifySignedButUnsafe(t *testing.T) {
	req, src := testRequest()
	key := testKey(1)
	good, _ := writeBundle(t, req, src, key)
	pub := key.Public().(ed25519.PublicKey)
	listed := func(name string) func(*Manifest, []entry) []entry {
		return func(m *Manifest, es []entry) []entry {
			return addListed(m, es, entry{name: name, data: []byte(`{"owned":true}`)})
		}
	}
	tests := []struct {
		name string
		edit func(*Manifest, []entry) []entry
		want []Problem
	}{
		{"absolute", listed("/tmp/evil.json"), []Problem{{"/tmp/evil.json", "unsafe to extract: absolute name"}}},
		{"dot-dot", listed("../evil.json"), []Problem{{"../evil.json", `unsafe to extract: name has a ".." path element`}}},
		{"dot-dot inside", listed("data/../../evil.json"), []Problem{{"data/../../evil.json", `".." path element`}}},
		{"dot", listed("./evil.json"), []Problem{{"./evil.json", `"." path element`}}},
		{"backslashes", listed(`data\..\..\evil.json`), []Problem{{`data\..\..\evil.json`, "backslash"}}},
		{"drive letter", listed("C:/evil.json"), []Problem{{"C:/evil.json", "drive letter"}}},
		{"drive-relative", listed("C:evil.json"), []Problem{{"C:evil.json", "drive letter"}}},
		{"drive letter inside", listed("data/C:evil.json"), []Problem{{"data/C:evil.json", "drive letter"}}},
		{"NUL", listed("data/evil.json\x00.txt"), []Problem{{"data/evil.json\x00.txt", "control character"}}},
		{"newline forging a line", listed("data/x\nmanifest.json: OK"), []Problem{{"data/x\nmanifest.json: OK", "control character"}}},
		{"empty element", listed("data//evil.json"), []Problem{{"data//evil.json", "empty path element"}}},
		{"directory listed", func(m *Manifest, es []entry) []entry {
			return addListed(m, es, entry{name: "data/evil/"})
		}, []Problem{{"data/evil/", "empty path element"}}},
		{"no name", listed(""), []Problem{{`""`, "empty name"}}},
		{"symbolic link", func(m *Manifest, es []entry) []entry {
			return addListed(m, es, entry{name: "data/link", data: []byte("../../../etc"), mode: fs.ModeSymlink | 0o777})
		}, []Problem{{"data/link", "not a file or directory but a symbolic link"}}},
		{"named pipe", func(m *Manifest, es []entry) []entry {
			return addListed(m, es, entry{name: "data/pipe", mode: fs.ModeNamedPipe | 0o644})
		}, []Problem{{"data/pipe", "a named pipe"}}},
		{"listed, not in the zip", func(m *Manifest, es []entry) []entry {
			m.Entries = append(m.Entries, ManifestEntry{Path: "../evil.json", Size: 2, SHA256: m.Entries[0].SHA256})
			return es
		}, []Problem{{"../evil.json", `".." path element`}, {"../evil.json", "missing"}}},
		{"in the zip, not listed", func(m *Manifest, es []entry) []entry {
			return append(es, entry{name: "/evil.json", data: []byte("[]")})
		}, []Problem{{"/evil.json", "absolute name"}, {"/evil.json", "extra entry"}}},
		{"listed twice", func(m *Manifest, es []entry) []entry {
			i := slices.IndexFunc(m.Entries, func(e ManifestEntry) bool { return e.Path == "data/settings.json" })
			m.Entries = append(m.Entries, m.Entries[i])
			return es
		}, []Problem{{"data/settings.json", "listed more than once"}}},
		{"twice in the zip", func(m *Manifest, es []entry) []entry {
			es = addListed(m, es, entry{name: "../evil.json", data: []byte("1")})
			return append(es, entry{name: "../evil.json", data: []byte("2")})
		}, []Problem{{"../evil.json", `".." path element`}, {"../evil.json", "more than once"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := resign(t, good, key, tt.edit)
			_, err := Verify(bytes.NewReader(b), int64(len(b)), pub)
			checkProblems(t, err, tt.want)
		})
	}
}

// zipR lays out a bundle's entries as `unzip` and then `zip -r .` do (as
// checked against Info-ZIP zip 3.0): a directory entry before each
// directory's content, in directory-listing order rather than the
// writer's, Unix modes and the UT and ux extra fields, the directories
// dated at extraction, each file deflated at another level or stored when
// that is no smaller, and sizes in the local headers rather than in data
// descriptors. dirs adds or changes directory entries: its values are the
// sizes their headers claim.
func zipR(t *testing.T, es []entry, dirs map[string]uint64) []byte {
	t.Helper()
	content := map[string][]byte{}
	tree := map[string][]string{} // directory ("" for the top) -> its children's names
	for _, e := range es {
		content[e.name] = e.data
		for name := e.name; name != ""; {
			i := strings.LastIndex(strings.TrimSuffix(name, "/"), "/")
			parent := name[:i+1]
			if !slices.Contains(tree[parent], name) {
				tree[parent] = append(tree[parent], name)
			}
			name = parent
		}
	}
	for d := range dirs {
		if !slices.Contains(tree[""], d) {
			tree[""] = append(tree[""], d)
		}
	}
	// UT: modification and access times; ux: uid and gid 0.
	extra := []byte{0x55, 0x54, 9, 0, 3, 0x2a, 0x1c, 0x29, 0x6a, 0x2a, 0x1c, 0x29, 0x6a,
		0x75, 0x78, 11, 0, 1, 4, 0, 0, 0, 0, 4, 0, 0, 0, 0}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	var walk func(dir string)
	walk = func(dir string) {
		names := tree[dir]
		slices.Sort(names)
		slices.Reverse(names)
		for _, name := range names {
			fh := &zip.FileHeader{Name: name, CreatorVersion: 3<<8 | 30, ReaderVersion: 10,
				ModifiedDate: (2026-1980)<<9 | 11<<5 | 28, ModifiedTime: 3<<11 | 35<<5 | 19, Extra: extra}
			if strings.HasSuffix(name, "/") {
				fh.SetMode(fs.ModeDir | 0o755)
				fh.UncompressedSize64 = dirs[name]
				if _, err := zw.CreateRaw(fh); err != nil {
					t.Fatal(err)
				}
				walk(name)
				continue
			}
			fh.SetMode(0o644)
			fh.ModifiedDate, fh.ModifiedTime = dosDate, dosTime // kept by unzip
			data := content[name]
			var z bytes.Buffer
			fw, _ := flate.NewWriter(&z, flate.BestCompression)
			fw.Write(data)
			fw.Close()
			fh.Method, fh.ReaderVersion = zip.Deflate, 20
			if z.Len() >= len(data) {
				z.Reset()
				z.Write(data)
				fh.Method, fh.ReaderVersion = zip.Store, 10
			}
			fh.CRC32 = crc32.ChecksumIEEE(data)
			fh.CompressedSize64, fh.UncompressedSize64 = uint64(z.Len()), uint64(len(data))
			w, err := zw.CreateRaw(fh)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(z.Bytes())
		}
	}
	walk("")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestVerifyRezipped checks that a bundle unzipped and zipped again with
// `zip -r` passes, and that directory entries zip -r would not add do not.
func TestVerifyRezipped(t *testing.T) {
	req, src := testRequest()
	key := testKey(1)
	good, _ := writeBundle(t, req, src, key)
	pub := key.Public().(ed25519.PublicKey)
	names, content, _ := readZip(t, good)
	var es []entry
	for _, n := range names {
		es = append(es, entry{name: n, data: content[n]})
	}

	tests := []struct {
		name string
		dirs map[string]uint64
		want []Problem // none: the bundle passes
	}{
		{"zip -r", nil, nil},
		{"an empty directory", map[string]uint64{"extra/": 0}, []Problem{{"extra/", "extra entry"}}},
		{"a directory holding data", map[string]uint64{"data/": 3}, []Problem{{"data/", "directory entry holds 3 bytes"}}},
		{"a directory outside", map[string]uint64{"../": 0}, []Problem{{"../", `".." path element`}, {"../", "extra entry"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := zipR(t, es, tt.dirs)
			// The layout is zip -r's, not the writer's.
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			var got, files []string
			for _, f := range zr.File {
				got = append(got, f.Name)
				if !strings.HasSuffix(f.Name, "/") {
					files = append(files, f.Name)
				}
				if f.Extra == nil || f.Flags&0x8 != 0 || f.CreatorVersion>>8 != 3 {
					t.Fatalf("%s: not as zip -r writes it", f.Name)
				}
			}
			for _, d := range []string{"data/", "media/", "media/cloud_recordings/", "media/cloud_recordings/2025-11-05 1100 Recorded/"} {
				i, j := slices.Index(got, d), slices.IndexFunc(got, func(n string) bool { return n != d && strings.HasPrefix(n, d) })
				if i < 0 || j < i {
					t.Fatalf("directory %s is not before its content: %q", d, got)
				}
			}
			if slices.Equal(files, names) {
				t.Fatalf("entries in the writer's order: %q", got)
			}
			m, err := Verify(bytes.NewReader(b), int64(len(b)), pub)
			if tt.want == nil {
				if err != nil || m == nil {
					t.Fatalf("Verify of the re-zipped bundle: %v", err)
				}
				return
			}
			checkProblems(t, err, tt.want)
		})
	}
}

// readCounter counts the bytes read from an archive between from and to.
type readCounter struct {
	r        io.ReaderAt
	from, to int64
	n        int64
}

func (c *readCounter) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += max(0, min(off+int64(n), c.to)-max(off, c.from))
	return n, err
}

// dataRange returns where the named entry's compressed data lies in b.
func dataRange(t *testing.T, b []byte, name string) (int64, int64) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			off, err := f.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			return off, off + int64(f.CompressedSize64)
		}
	}
	t.Fatalf("no entry %s", name)
	return 0, 0
}

// noise is n bytes that deflate cannot shrink.
func noise(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

// TestVerifyBoundedWork checks that Verify reads an entry larger than the
// manifest says no further than its declared size, and data that
// overlapping entries share once: counted in bytes read, not in time.
func TestVerifyBoundedWork(t *testing.T) {
	req, src := testRequest()
	key := testKey(1)
	good, _ := writeBundle(t, req, src, key)
	pub := key.Public().(ed25519.PublicKey)
	const dir = "media/cloud_recordings/r1==/"

	t.Run("larger than declared", func(t *testing.T) {
		const size = 4 << 20
		b := resign(t, good, key, func(m *Manifest, es []entry) []entry {
			es = addListed(m, es, entry{name: dir + "big.mp4", data: noise(size)})
			m.Entries[len(m.Entries)-1].Size = 10
			return es
		})
		from, to := dataRange(t, b, dir+"big.mp4")
		r := &readCounter{r: bytes.NewReader(b), from: from, to: to}
		_, err := Verify(r, int64(len(b)), pub)
		checkProblems(t, err, []Problem{{dir + "big.mp4", "size is 4194304 bytes by its zip header, manifest says 10 (read no further than 11)"}})
		if r.n > 64<<10 || to-from < size {
			t.Errorf("read %d of the entry's %d bytes, want at most 64 KiB", r.n, to-from)
		}
	})

	t.Run("overlapping entries", func(t *testing.T) {
		// 50 entries, each listed with the true size and SHA-256, share
		// one entry's data: a zip bomb's shape, signed.
		const size, copies = 1 << 20, 50
		data := noise(size)
		name := func(i int) string { return fmt.Sprintf("%scopy%02d.mp4", dir, i) }
		b := resign(t, good, key, func(m *Manifest, es []entry) []entry {
			sum := sha256.Sum256(data)
			for i := range copies {
				e := entry{name: name(i)}
				if i == 0 {
					e.data = data
				}
				es = append(es, e)
				m.Entries = append(m.Entries, ManifestEntry{Path: name(i), Size: size, SHA256: hex.EncodeToString(sum[:])})
			}
			return es
		})
		// Point every copy's central directory record at copy00's data.
		recs := centralRecords(t, b)
		first := recs[name(0)]
		for i := 1; i < copies; i++ {
			rec := recs[name(i)]
			copy(rec[8:28], first[8:28])   // flags, method, time, CRC-32, sizes
			copy(rec[42:46], first[42:46]) // local header offset
		}
		from, to := dataRange(t, b, name(0))
		r := &readCounter{r: bytes.NewReader(b), from: from, to: to}
		_, err := Verify(r, int64(len(b)), pub)
		var want []Problem
		for i := 1; i < copies; i++ {
			want = append(want, Problem{name(i), "shares data with entry " + name(0) + " (overlapping entries"})
		}
		checkProblems(t, err, want)
		if r.n > to-from {
			t.Errorf("read %d bytes of data %d bytes long: more than once", r.n, to-from)
		}
	})
}

// centralRecords returns the central directory records of a zip without
// a comment by name, as slices of b.
func centralRecords(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	end := b[len(b)-22:]
	if binary.LittleEndian.Uint32(end) != 0x06054b50 {
		t.Fatal("no end of central directory record")
	}
	n, off := int(binary.LittleEndian.Uint16(end[10:])), int(binary.LittleEndian.Uint32(end[16:]))
	recs := map[string][]byte{}
	for range n {
		r := b[off:]
		nameLen := int(binary.LittleEndian.Uint16(r[28:]))
		l := 46 + nameLen + int(binary.LittleEndian.Uint16(r[30:])) + int(binary.LittleEndian.Uint16(r[32:]))
		recs[string(r[46:46+nameLen])] = r[:l]
		off += l
	}
	return recs
}
