package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestStoreSealed collects a subject's data with the real daemon and scans
// the raw bytes of the store for the subject's email and name.
func TestStoreSealed(t *testing.T) {
	s := start(t, true)
	ctx := operator(t.Context())
	resp, err := s.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: zoomtest.JaneEmail, Account: "main", IdempotencyKey: "sealed", Regulation: dsarv1.Regulation_REGULATION_GDPR})
	if err != nil {
		t.Fatal(err)
	}
	last := s.watch(ctx, t, resp.GetAccessRequest().GetId())
	if last.GetState() != dsarv1.RequestState_REQUEST_STATE_COMPLETED || last.GetEmail() != zoomtest.JaneEmail {
		t.Fatalf("request ended %v (email read back: %t)", last.GetState(), last.GetEmail() == zoomtest.JaneEmail)
	}
	fi, err := os.Stat(filepath.Join(s.dir, masterKeyName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key: %v, want a file of mode 0600", err)
	}
	raw, err := os.ReadFile(filepath.Join(s.dir, storeName))
	if err != nil {
		t.Fatal(err)
	}
	// The bundle holds them: the markers are what collection stored.
	for _, secret := range []string{zoomtest.JaneEmail, "Jane Doe", `"first_name":"Jane"`} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the store's raw bytes hold %q", secret)
		}
	}
}

// TestMasterKeyFile starts dsard on a data directory: the master key is
// created once and used again; without it the sealed store is refused
// with a clear error and no new key is left; -master-key names a key
// elsewhere; dsard check reads the sealed store with it.
func TestMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := Config{Listen: "127.0.0.1:0", DataDir: data, ShutdownGrace: time.Second}
	run := func(cfg Config) error {
		t.Helper()
		ctx, stop := context.WithCancel(t.Context())
		defer stop()
		d, err := Start(ctx, cfg)
		if err != nil {
			return err
		}
		stop()
		return d.Wait()
	}
	if err := run(cfg); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(data, masterKeyName)
	first, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(cfg); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(name); !bytes.Equal(again, first) {
		t.Fatal("the master key changed at the second start")
	}

	moved := filepath.Join(dir, "backup.key")
	if err := os.Rename(name, moved); err != nil {
		t.Fatal(err)
	}
	err = run(cfg)
	if err == nil || !strings.Contains(err.Error(), "restore it from a backup") {
		t.Errorf("start without the master key: %v, want a refusal that says to restore it", err)
	}
	if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused start left a new master key: %v", err)
	}
	withKey := cfg
	withKey.MasterKey = moved
	if err := run(withKey); err != nil {
		t.Fatalf("start with -master-key: %v", err)
	}

	var out bytes.Buffer
	if err := Check(t.Context(), []string{"-data-dir", data, "-master-key", moved}, envMap(nil), &out, io.Discard); err != nil {
		t.Errorf("dsard check with the master key: %v\n%s", err, out.String())
	}
	err = Check(t.Context(), []string{"-data-dir", data}, envMap(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "none was given") {
		t.Errorf("dsard check without the master key: %v, want a refusal", err)
	}

	if err := os.WriteFile(moved, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(withKey); err == nil || !strings.Contains(err.Error(), "in hex") {
		t.Errorf("start with a malformed master key: %v", err)
	}
}

// TestDataDirSealed scans every file of the data directory for the
// subject's email and name: while a request's collected pages and media
// files are kept (it failed on one section, so nothing was purged), and
// once an operator has deleted it.
func TestDataDirSealed(t *testing.T) {
	const scope = "phone:read:list_sms_sessions:admin" // phone_sms fails, the rest is collected
	var scopes []string
	for _, s := range zoomtest.Scopes() {
		if s != scope {
			scopes = append(scopes, s)
		}
	}
	s := start(t, true, zoomtest.WithScopes(scopes...))
	ctx := operator(t.Context())
	resp, err := s.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: zoomtest.JaneEmail, Account: "main", IdempotencyKey: "kept", Regulation: dsarv1.Regulation_REGULATION_GDPR})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetAccessRequest().GetId()
	last := s.watch(ctx, t, id)
	var pages, media int64
	for _, sec := range last.GetSections() {
		pages += sec.GetPages()
		media += sec.GetMediaFilesDone()
	}
	if last.GetState() != dsarv1.RequestState_REQUEST_STATE_FAILED || pages == 0 || media == 0 {
		t.Fatalf("request ended %v with %d pages and %d media files kept; want FAILED with both", last.GetState(), pages, media)
	}
	// The pages are compressed before they are sealed, so the plain
	// email of the request record is what a scan of a plain store finds;
	// dsar's TestMediaSealedOnDisk looks for the media files' plaintext.
	secrets := []string{zoomtest.JaneEmail, "Jane Doe", `"first_name":"Jane"`}
	files := scanDir(t, s.dir, secrets)
	if files[filepath.Join(s.dir, storeName)] == 0 || files["media"] == 0 {
		t.Fatalf("scanned %v: want the store and the media files", files)
	}

	if _, err := s.client.DeleteAccessRequest(ctx, &dsarv1.DeleteAccessRequestRequest{Id: id, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	files = scanDir(t, s.dir, secrets)
	if files["media"] != 0 {
		t.Errorf("%d media files left after the delete", files["media"])
	}
}

// scanDir reports every file under dir whose raw bytes hold one of the
// secrets, and returns the bytes read by file, with the media files'
// count under "media".
func scanDir(t *testing.T, dir string, secrets []string) map[string]int {
	t.Helper()
	read := map[string]int{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		read[path] = len(raw)
		if rel, _ := filepath.Rel(dir, path); strings.HasPrefix(rel, "media"+string(filepath.Separator)) {
			read["media"]++
		}
		for _, secret := range secrets {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds %q", filepath.Base(path), secret)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return read
}
