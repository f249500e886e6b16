package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestRebuildEndToEnd damages a bundle in dsard's data directory: the
// download is refused as data loss. dsard deleted the pages the bundle
// was written from once it verified, so `dsarctl rebuild` says it cannot
// rebuild it and why. (A rebuild from kept pages: dsar's TestRebuild and
// rpc's TestRebuildBundle.)
func TestRebuildEndToEnd(t *testing.T) {
	t.Parallel()
	bin := buildDsard(t)
	zoom := zoomtest.NewServer(t, zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	d := startDsard(t, bin, zoom)
	id := strings.TrimSpace(mustCtl(t, d, "platform", "create", "-account", "main", zoomtest.JaneEmail))
	mustCtl(t, d, "platform", "watch", id)
	d.waitLog(t, "collected data purged")
	got := getRequest(t, d, "auditor", id)
	if got.GetBundle() == nil {
		t.Fatalf("no bundle: %v", got)
	}
	path := filepath.Join(d.dir, "data", "bundles", id+".zip")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A byte of a data entry: media entries, whose files dsard deleted on
	// completion, must stay intact for a rebuild.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	off, err := zr.File[0].DataOffset()
	if err != nil || !strings.HasPrefix(zr.File[0].Name, "data/") {
		t.Fatalf("first entry %s at %d (%v), want a data entry", zr.File[0].Name, off, err)
	}
	b[off+1] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bundle.zip")
	if _, err := ctl(t, d, "auditor", "download", "-o", out, id); err == nil || !strings.Contains(err.Error(), "data loss") || !strings.Contains(err.Error(), "dsarctl rebuild "+id) {
		t.Fatalf("download of a damaged bundle: %v, want data loss and the rebuild command", err)
	}
	if _, err := ctl(t, d, "auditor", "rebuild", id); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("rebuild as auditor: %v, want permission denied", err)
	}
	if _, err := ctl(t, d, "operator", "rebuild", id); err == nil || !strings.Contains(err.Error(), "was purged on") || !strings.Contains(err.Error(), "cannot be rebuilt") {
		t.Errorf("rebuild after the purge of the pages: %v, want a refusal saying they were purged", err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, b) {
		t.Errorf("the refused rebuild changed the bundle file: %v", err)
	}
}
