package bundle

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Problem is one thing wrong with a bundle. Entry is the zip entry it
// concerns, "" for the bundle as a whole.
type Problem struct {
	Entry string
	What  string
}

func (p Problem) String() string {
	if p.Entry == "" {
		return "bundle: " + p.What
	}
	return quoteName(p.Entry) + ": " + p.What
}

// quoteName quotes an entry name that holds anything but printable
// characters, so that a crafted name cannot forge or hide lines of output.
func quoteName(name string) string {
	if utf8.ValidString(name) && strings.IndexFunc(name, func(r rune) bool { return !strconv.IsPrint(r) }) < 0 {
		return name
	}
	return strconv.Quote(name)
}

// VerifyError lists every problem Verify found, one per line.
type VerifyError struct {
	Problems []Problem
}

func (e *VerifyError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// maxSmallEntry bounds how much of manifest.json and manifest.sig Verify
// reads into memory.
const maxSmallEntry = 64 << 20

// Verify checks a bundle: that it is a readable zip, that manifest.sig is
// pub's signature of manifest.json, that every entry the manifest lists is
// present with its size and SHA-256, and that there is no other entry
// except the directories of listed entries, which unzip and zip -r add. A
// signature proves who made the bundle, not that it is safe to extract, so
// an unsafe name (unsafeName), a link or device entry, or entries whose
// data overlap (a zip bomb's shape) are problems even in a signed bundle.
// Verify reads each listed entry at most one byte past its size in the
// manifest, and data shared by overlapping entries once. It returns the
// manifest when it could read one, and a *VerifyError listing every
// problem found, or nil.
func Verify(r io.ReaderAt, size int64, pub ed25519.PublicKey) (*Manifest, error) {
	var probs []Problem
	add := func(entry, format string, args ...any) {
		if entry == "" {
			entry = `""` // an entry without a name, not the bundle
		}
		probs = append(probs, Problem{Entry: entry, What: fmt.Sprintf(format, args...)})
	}
	done := func(m *Manifest) (*Manifest, error) {
		if len(probs) == 0 {
			return m, nil
		}
		return m, &VerifyError{Problems: probs}
	}

	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		probs = append(probs, Problem{What: fmt.Sprintf("not a readable zip file (truncated or damaged): %v", err)})
		return done(nil)
	}
	files := map[string]*zip.File{}
	unsafe := map[string]bool{} // names reported as unsafe
	overlaps := overlapping(zr.File, size)
	for _, f := range zr.File {
		if why := dsar.UnsafePath(strings.TrimSuffix(f.Name, "/")); why != "" && !unsafe[f.Name] {
			add(f.Name, "unsafe to extract: %s", why)
			unsafe[f.Name] = true
		}
		if t := f.Mode().Type() &^ fs.ModeDir; t != 0 {
			add(f.Name, "unsafe to extract: not a file or directory but %s", typeName(t))
		}
		if o := overlaps[f]; o != nil {
			add(f.Name, "shares data with entry %s (overlapping entries, a zip bomb's shape)", quoteName(o.Name))
		}
		if files[f.Name] != nil {
			add(f.Name, "entry appears more than once")
			continue
		}
		files[f.Name] = f
	}

	m, mb, err := readManifest(files[ManifestPath])
	if err != nil {
		add(ManifestPath, "%v", err)
		return done(nil)
	}
	if m.Format != ManifestFormat {
		add(ManifestPath, "unknown format %q, want %q", m.Format, ManifestFormat)
	}

	sig, err := readSmall(files[SignaturePath])
	switch {
	case err != nil:
		add(SignaturePath, "%v", err)
	case len(pub) != ed25519.PublicKeySize:
		add(SignaturePath, "no valid public key to check the signature with")
	case m.PublicKey != Fingerprint(pub):
		add(SignaturePath, "signed by key %s, not by the given key %s", quoteName(m.PublicKey), Fingerprint(pub))
	case !ed25519.Verify(pub, mb, sig):
		add(SignaturePath, "signature does not match manifest.json")
	}

	listed := map[string]bool{}
	dirs := map[string]bool{} // the directories of listed entries
	for _, e := range m.Entries {
		if listed[e.Path] {
			add(e.Path, "listed more than once in the manifest")
			continue
		}
		listed[e.Path] = true
		for i, c := range e.Path {
			if c == '/' {
				dirs[e.Path[:i+1]] = true
			}
		}
		if why := dsar.UnsafePath(e.Path); why != "" && !unsafe[e.Path] {
			add(e.Path, "unsafe to extract: %s", why)
			unsafe[e.Path] = true
		}
		f := files[e.Path]
		switch {
		case f == nil:
			add(e.Path, "missing: listed in the manifest but not in the bundle")
			continue
		case overlaps[f] != nil:
			continue // reported above
		}
		n, sum, err := hashEntry(f, e.Size)
		switch {
		case err != nil:
			add(e.Path, "cannot be read: %v", err)
		case n > e.Size && uint64(n) < f.UncompressedSize64:
			// The zip reader holds an entry to its header's size, so
			// the entry has at least n bytes: no need to read them all.
			add(e.Path, "size is %d bytes by its zip header, manifest says %d (read no further than %d)",
				f.UncompressedSize64, e.Size, n)
		default:
			if n != e.Size {
				add(e.Path, "size is %d bytes, manifest says %d", n, e.Size)
			}
			if sum != e.SHA256 {
				add(e.Path, "SHA-256 is %s, manifest says %s", sum, e.SHA256)
			}
		}
	}
	for _, f := range zr.File {
		if listed[f.Name] || f.Name == ManifestPath || f.Name == SignaturePath {
			continue
		}
		listed[f.Name] = true // report a duplicated extra once
		switch {
		case !dirs[f.Name]:
			add(f.Name, "extra entry: not listed in the manifest")
		case f.UncompressedSize64 != 0:
			add(f.Name, "directory entry holds %d bytes", f.UncompressedSize64)
		}
	}
	return done(m)
}

// readManifest reads and decodes the manifest.json entry f (nil when the
// bundle has none), and returns its bytes too: what the signature covers.
func readManifest(f *zip.File) (*Manifest, []byte, error) {
	b, err := readSmall(f)
	if err != nil {
		return nil, nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, fmt.Errorf("not a valid manifest: %w", err)
	}
	return &m, b, nil
}

// typeName names a zip entry's file type other than a directory.
func typeName(t fs.FileMode) string {
	switch {
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t&fs.ModeDevice != 0:
		return "a device"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case t&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// overlapping maps each entry whose compressed data overlaps an earlier
// entry's (by offset in the zip) to that entry. Reading each entry of a
// zip bomb made of overlapping entries would read the same data again and
// again; the zip format never needs entries to share data.
func overlapping(files []*zip.File, size int64) map[*zip.File]*zip.File {
	type span struct {
		f          *zip.File
		start, end int64
	}
	var spans []span
	for _, f := range files {
		if f.CompressedSize64 == 0 {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			continue // reported when the entry is read
		}
		spans = append(spans, span{f, off, off + int64(min(f.CompressedSize64, uint64(size)))})
	}
	slices.SortStableFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	out := map[*zip.File]*zip.File{}
	var far span // of the spans so far, the one ending last
	for i, s := range spans {
		if i > 0 && s.start < far.end {
			out[s.f] = far.f
		}
		if s.end > far.end {
			far = s
		}
	}
	return out
}

// readSmall reads an entry that Verify needs in memory.
func readSmall(f *zip.File) ([]byte, error) {
	if f == nil {
		return nil, errors.New("missing from the bundle")
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	defer rc.Close()
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(rc, maxSmallEntry+1))
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	if n > maxSmallEntry {
		return nil, fmt.Errorf("larger than %d bytes", maxSmallEntry)
	}
	return b.Bytes(), nil
}

// hashEntry returns the size and hex SHA-256 of an entry's content,
// reading at most limit+1 bytes of it: enough to tell that it is larger
// than limit. The zip reader checks the entry's CRC-32 and sizes at its end.
func hashEntry(f *zip.File, limit int64) (int64, string, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	if limit < math.MaxInt64 {
		limit++
	}
	n, err := io.Copy(h, io.LimitReader(rc, limit))
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
