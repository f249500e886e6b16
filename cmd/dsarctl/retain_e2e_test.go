package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestEndToEndRetention runs the real dsard with a retention of 20
// seconds: a request completes, its pages are purged once the bundle is
// verified, the bundle downloads, and when dsard logs the end of its
// retention the bundle file is gone, get says when and why, the email is
// replaced by its hash and the audit trail and bundle hash remain. A
// second request is deleted at once with dsarctl delete.
func TestEndToEndRetention(t *testing.T) {
	t.Parallel()
	bin := buildDsard(t)
	// Retention needs a bundle, not a big one.
	zoom := zoomtest.NewServer(t, zoomtest.WithDataset("tiny"), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	a := zoom.Account()
	d := startDsardWith(t, bin, []map[string]string{{
		"name": "main", "plan": string(a.Plan), "account_id": a.ID, "client_id": a.ClientID,
		"client_secret_env": "E2E_ZOOM_SECRET", "api_url": zoom.APIURL, "token_url": zoom.TokenURL,
	}}, "E2E_ZOOM_SECRET="+a.ClientSecret, "DSAR_RETAIN_BUNDLES=20s")
	get := func(id string) *dsarv1.AccessRequest { t.Helper(); return getRequest(t, d, "auditor", id) }
	complete := func(key string) string {
		t.Helper()
		id := strings.TrimSpace(mustCtl(t, d, "platform", "create", "-account", "main", "-idempotency-key", key, zoomtest.JaneEmail))
		if out := mustCtl(t, d, "platform", "watch", id); !strings.Contains(out, id+"  COMPLETED") {
			t.Fatalf("watch output lacks the completion:\n%s", out)
		}
		d.waitLog(t, "collected data purged")
		return id
	}
	bundleFile := func(id string) string { return filepath.Join(d.dir, "data", "bundles", id+".zip") }

	id := complete("retained")
	done := get(id)
	rt := done.GetRetention()
	var records int64
	for _, s := range done.GetSections() {
		records += s.GetRecords()
	}
	if done.GetBundle() == nil || rt.GetCollectedPurgeTime() == nil || rt.GetBundleExpireTime() == nil || rt.GetBundlePurgeTime() != nil || done.GetEmail() != zoomtest.JaneEmail || records == 0 {
		t.Fatalf("after completion: %v; want the bundle, the email and the record counts kept, the pages purged", done)
	}
	bundlePath := filepath.Join(t.TempDir(), "bundle.zip")
	mustCtl(t, d, "auditor", "download", "-o", bundlePath, id)
	orig := checkManifest(t, mustRead(t, bundlePath))
	if _, err := ctl(t, d, "platform", "manifest", id); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("manifest as platform: %v, want permission denied", err)
	}
	before := mustCtl(t, d, "auditor", "manifest", id)

	// The retention ends 20 seconds after completion; dsard says so.
	d.waitLog(t, "request purged")
	checkPurgedE2E(t, get(id), done, "retention period of 20s")
	if _, err := os.Stat(bundleFile(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bundle file after the retention: %v", err)
	}
	if _, err := ctl(t, d, "auditor", "download", "-o", filepath.Join(t.TempDir(), "again.zip"), id); err == nil || !strings.Contains(err.Error(), "purged on") {
		t.Errorf("download of a purged bundle: %v, want it refused saying when it was purged", err)
	}
	// The manifest stays, its subject the email's hash: the same before
	// and after the purge, its entries those of the bundle downloaded, media named by hash.
	kept := mustCtl(t, d, "auditor", "manifest", id)
	manifestFile := filepath.Join(t.TempDir(), "manifest.json")
	mustCtl(t, d, "operator", "manifest", "-o", manifestFile, id)
	if kept != before || string(mustRead(t, manifestFile)) != kept {
		t.Errorf("manifest after the purge (stdout and -o):\n%s\nbefore:\n%s", kept, before)
	}
	var m bundle.Manifest
	if err := json.Unmarshal([]byte(kept), &m); err != nil {
		t.Fatalf("dsarctl manifest printed no manifest: %v", err)
	}
	wantEntries := make([]bundle.ManifestEntry, len(orig.Entries))
	for i, en := range orig.Entries {
		wantEntries[i] = bundle.ManifestEntry{Path: bundle.KeptPath(en.Path, en.SHA256), Size: en.Size, SHA256: en.SHA256}
	}
	if m.Subject != rt.GetEmailHash() || strings.Contains(kept, zoomtest.JaneEmail) || !reflect.DeepEqual(m.Entries, wantEntries) || m.RequestID != id {
		t.Errorf("kept manifest: subject %q, request %q, %d entries; want the hash %q and the bundle's %d entries, no email",
			m.Subject, m.RequestID, len(m.Entries), rt.GetEmailHash(), len(orig.Entries))
	}
	if text := mustCtl(t, d, "operator", "get", id); !strings.Contains(text, "kept, the email hashed: dsarctl manifest "+id) {
		t.Errorf("get after the purge does not say the manifest is kept:\n%s", text)
	}
	trail := auditTrail(t, d, id)
	want := []string{"CreateAccessRequest by platform-caller (platform)", "purge by system ()",
		"DownloadBundle by auditor-caller (auditor)", "purge by system ()"}
	if strings.Join(trail, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}

	// dsarctl delete: at once, operators only.
	id2 := complete("deleted")
	done2 := get(id2)
	if _, err := ctl(t, d, "platform", "delete", id2); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("delete as platform: %v, want permission denied", err)
	}
	out := mustCtl(t, d, "operator", "delete", "-reason", "subject withdrew", id2)
	if !strings.HasPrefix(out, id2+" COMPLETED purged ") || !strings.Contains(out, "because deleted by operator-caller: subject withdrew") {
		t.Errorf("delete printed %q", out)
	}
	got2 := get(id2)
	checkPurgedE2E(t, got2, done2, "deleted by operator-caller: subject withdrew")
	if _, err := os.Stat(bundleFile(id2)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("bundle file after delete: %v", err)
	}
	// One subject, one hash: both requests are found by it.
	if got2.GetRetention().GetEmailHash() != get(id).GetRetention().GetEmailHash() {
		t.Errorf("the two requests of one email have different hashes")
	}
	if text := mustCtl(t, d, "operator", "get", id2); !strings.Contains(text, "because deleted by operator-caller") || strings.Contains(text, zoomtest.JaneEmail) {
		t.Errorf("get after delete:\n%s", text)
	}
	if logs := d.logs.String(); strings.Contains(logs, zoomtest.JaneEmail) {
		t.Error("dsard's logs contain the email")
	}
}

// checkPurgedE2E checks what get shows of a purged request: the email
// replaced by its hash, when and why, the bundle's hash kept.
func checkPurgedE2E(t *testing.T, got, done *dsarv1.AccessRequest, because string) {
	t.Helper()
	rt, was := got.GetRetention(), done.GetRetention().GetEmailHash()
	if got.GetEmail() != "" || !strings.HasPrefix(rt.GetEmailHash(), "hmac-sha256:") || rt.GetEmailHash() != was {
		t.Errorf("email kept %v, hash %q (was %q); want the hash only", got.GetEmail() != "", rt.GetEmailHash(), was)
	}
	if rt.GetBundlePurgeTime() == nil || !strings.Contains(rt.GetPurgeReason(), because) || rt.GetBundleExpireTime() != nil {
		t.Errorf("retention %v, want purged because %q", rt, because)
	}
	if got.GetBundle().GetSha256() == "" || got.GetBundle().GetSha256() != done.GetBundle().GetSha256() || got.GetState() != done.GetState() {
		t.Errorf("bundle %v state %s; want the SHA-256 %s and state %s kept", got.GetBundle(), got.GetState(), done.GetBundle().GetSha256(), done.GetState())
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
