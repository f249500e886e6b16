package bundle

import (
	"context"
	"encoding/json"
	"fmt"
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
	f, _, err := Files{}.Open(r.ID, r.Bundle)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := (Files{}).CheckSum(ctx, f, r.ID, r.Bundle); err != nil {
		return nil, err
	}
	damaged := func(err error) error {
		return &dsar.Error{Code: dsar.EDATALOSS, Op: op, Err: err, Message: fmt.Sprintf("the manifest of request %s cannot be read", r.ID)}
	}
	zr, err := zip.NewReader(f, r.Bundle.Size)
	if err != nil {
		return nil, damaged(err)
	}
	var entry *zip.File
	for _, zf := range zr.File {
		if zf.Name == ManifestPath {
			entry = zf
			break
		}
	}
	b, err := readSmall(entry)
	if err != nil {
		return nil, damaged(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, damaged(err)
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
