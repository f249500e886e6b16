package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zip"
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
	return p.Entry + ": " + p.What
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
// present with its size and SHA-256, and that there is no other entry. It
// returns the manifest when it could read one, and a *VerifyError listing
// every problem found, or nil.
func Verify(r io.ReaderAt, size int64, pub ed25519.PublicKey) (*Manifest, error) {
	var probs []Problem
	add := func(entry, format string, args ...any) {
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
		add("", "not a readable zip file (truncated or damaged): %v", err)
		return done(nil)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if files[f.Name] != nil {
			add(f.Name, "entry appears more than once")
			continue
		}
		files[f.Name] = f
	}

	mb, err := readSmall(files[ManifestPath])
	if err != nil {
		add(ManifestPath, "%v", err)
		return done(nil)
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		add(ManifestPath, "not a valid manifest: %v", err)
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
		add(SignaturePath, "signed by key %s, not by the given key %s", m.PublicKey, Fingerprint(pub))
	case !ed25519.Verify(pub, mb, sig):
		add(SignaturePath, "signature does not match manifest.json")
	}

	listed := map[string]bool{}
	for _, e := range m.Entries {
		if listed[e.Path] {
			add(e.Path, "listed more than once in the manifest")
			continue
		}
		listed[e.Path] = true
		f := files[e.Path]
		if f == nil {
			add(e.Path, "missing: listed in the manifest but not in the bundle")
			continue
		}
		n, sum, err := hashEntry(f)
		if err != nil {
			add(e.Path, "cannot be read: %v", err)
			continue
		}
		if n != e.Size {
			add(e.Path, "size is %d bytes, manifest says %d", n, e.Size)
		}
		if sum != e.SHA256 {
			add(e.Path, "SHA-256 is %s, manifest says %s", sum, e.SHA256)
		}
	}
	for _, f := range zr.File {
		if !listed[f.Name] && f.Name != ManifestPath && f.Name != SignaturePath {
			add(f.Name, "extra entry: not listed in the manifest")
			listed[f.Name] = true // report a duplicated extra once
		}
	}
	return done(&m)
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

// hashEntry returns the size and hex SHA-256 of an entry's content. The zip
// reader also checks the entry's CRC-32 and sizes at its end.
func hashEntry(f *zip.File) (int64, string, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
