package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"
)

type entry struct {
	name string
	data []byte
}

// rezip rebuilds a bundle after edit changed its entries; the manifest and
// signature are kept unless edit changes them.
func rezip(t *testing.T, b []byte, edit func([]entry) []entry) []byte {
	t.Helper()
	names, content, _ := readZip(t, b)
	var es []entry
	for _, n := range names {
		es = append(es, entry{n, content[n]})
	}
	es = edit(es)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, e := range es {
		w, err := zw.Create(e.name)
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
		}, pub, []Problem{{"media/cloud_recordings/r1==/f1.mp4", "cannot be read: zip: checksum error"}}},
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
				return append(es, entry{"data/extra.json", []byte("[]")})
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
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify error = %v, want a *VerifyError", err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("problems:\n%v\nwant %d: %v", err, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				got := ve.Problems[i]
				if got.Entry != w.Entry || !strings.Contains(got.What, w.What) {
					t.Errorf("problem %d = %q, want entry %q with %q", i, got, w.Entry, w.What)
				}
			}
			// One line per problem, naming the entry.
			lines := strings.Split(err.Error(), "\n")
			for i, l := range lines {
				name := tt.want[i].Entry
				if name == "" {
					name = "bundle"
				}
				if !strings.HasPrefix(l, name+": ") {
					t.Errorf("line %q does not start with %q", l, name)
				}
			}
		})
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
