package bundle

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Extract writes every file entry of the bundle at zipPath under dir, so
// that index.html's links to its further pages, data and media work. It
// refuses an entry whose name could leave dir; a caller extracts a bundle
// Verify accepted. Files are readable by their owner only: they hold the
// subject's data.
func Extract(zipPath, dir string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("extract bundle: %w", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory, made with its files
		}
		if why := dsar.UnsafePath(f.Name); why != "" {
			return fmt.Errorf("extract bundle: entry %q: %s", f.Name, why)
		}
		if err := extractFile(f, filepath.Join(dir, filepath.FromSlash(f.Name))); err != nil {
			return fmt.Errorf("extract bundle: %w", err)
		}
	}
	return nil
}

func extractFile(f *zip.File, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return nil
}
