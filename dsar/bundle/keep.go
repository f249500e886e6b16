package bundle

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Manifest returns the manifest.json of a completed request's bundle with
// its subject, the email, replaced by the request's keyed hash
// (r.EmailHash), and media entries' names by KeptPath; every other field
// is kept. It is what the request keeps
// once its bundle is purged. The file is checked against the SHA-256
// recorded at assembly first, so that a damaged bundle yields no manifest
// (EDATALOSS) rather than a wrong one. The signature does not cover the
// redacted form.
func (a *Assembler) Manifest(ctx context.Context, r *dsar.Request) ([]byte, error) {
	const op = "bundle.Assembler.Manifest"
	if r.EmailHash == "" {
		return nil, &dsar.Error{Code: dsar.EPRECONDITION, Op: op, Message: fmt.Sprintf("request %s has no email hash to put in its manifest", r.ID)}
	}
	f, err := openChecked(ctx, r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := zip.NewReader(f, r.Bundle.Size)
	var m *Manifest
	if err == nil {
		i := slices.IndexFunc(zr.File, func(zf *zip.File) bool { return zf.Name == ManifestPath })
		var entry *zip.File // none: readManifest says it is missing
		if i >= 0 {
			entry = zr.File[i]
		}
		m, _, err = readManifest(entry)
	}
	if err != nil {
		return nil, &dsar.Error{Code: dsar.EDATALOSS, Op: op, Err: err, Message: fmt.Sprintf("the manifest of request %s cannot be read", r.ID)}
	}
	m.Subject = r.EmailHash
	for i := range m.Entries {
		m.Entries[i].Path = KeptPath(m.Entries[i].Path, m.Entries[i].SHA256)
	}
	return m.marshal()
}

// KeptPath is the path a kept manifest gives a bundle's entry: a media
// file's name comes from its record (a meeting's topic, a caller's name
// or number, a sender's address), so it is replaced by its SHA-256, which
// still matches the entry of the subject's bundle; other paths are kept.
func KeptPath(p, sha256 string) string {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 3 || parts[0] != "media" {
		return p
	}
	return parts[0] + "/" + parts[1] + "/" + sha256
}

// openChecked opens the bundle of a completed request and checks its size
// and SHA-256 against those recorded at assembly (Files): what Manifest
// and Verify read first.
func openChecked(ctx context.Context, r *dsar.Request) (*os.File, error) {
	f, _, err := Files{}.Open(r.ID, r.Bundle)
	if err != nil {
		return nil, err
	}
	if err := (Files{}).CheckSum(ctx, f, r.ID, r.Bundle); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
