package rpc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// bundlePath is where the harness's processor keeps a request's bundle.
func (h *harness) bundlePath(id string) string {
	return filepath.Join(h.dir, "bundles", id+".zip")
}

// flip inverts the byte at off of a file, which keeps its size.
func flip(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDownloadDamagedBundle damages bundles that were downloaded intact
// (so the service has hashed them) and checks that the next download is
// DATA_LOSS with the reason.
func TestDownloadDamagedBundle(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := as(t.Context(), RoleAuditor)
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, size int64)
		reason string
	}{
		{"truncated by one byte", func(t *testing.T, path string, size int64) {
			if err := os.Truncate(path, size-1); err != nil {
				t.Fatal(err)
			}
		}, "bytes"},
		{"one byte flipped, same size", func(t *testing.T, path string, size int64) {
			flip(t, path, size/2)
			// A file system's clock may not tick between the download and
			// the write: the change must be seen all the same.
			later := time.Now().Add(time.Minute)
			if err := os.Chtimes(path, later, later); err != nil {
				t.Fatal(err)
			}
		}, "SHA-256"},
		{"replaced by a file of the same size", func(t *testing.T, path string, size int64) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			b[0] ^= 0xff
			tmp := path + ".new"
			if err := os.WriteFile(tmp, b, 0o600); err != nil {
				t.Fatal(err)
			}
			// Same size and time: only the inode tells the files apart.
			if err := os.Chtimes(tmp, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, "SHA-256"},
		{"removed", func(t *testing.T, path string, _ int64) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.completed(t)
			if _, _, err := download(ctx, h.client, &dsarv1.DownloadBundleRequest{Id: r.GetId()}); err != nil {
				t.Fatalf("download of the intact bundle: %v", err)
			}
			tc.damage(t, h.bundlePath(r.GetId()), r.GetBundle().GetSizeBytes())
			for _, off := range []int64{0, r.GetBundle().GetSizeBytes() / 2} {
				hdr, data, err := download(ctx, h.client, &dsarv1.DownloadBundleRequest{Id: r.GetId(), Offset: off})
				msg := status.Convert(err).Message()
				if status.Code(err) != codes.DataLoss || !strings.Contains(msg, tc.reason) || !strings.Contains(msg, "dsarctl rebuild "+r.GetId()) {
					t.Errorf("download from %d: %v; want DATA_LOSS naming %q and the rebuild", off, err, tc.reason)
				}
				if hdr != nil || len(data) > 0 {
					t.Errorf("download from %d sent a header and %d bytes of a damaged bundle", off, len(data))
				}
			}
		})
	}
	if !strings.Contains(h.logs.String(), "bundle damaged; not served") {
		t.Error("a damaged bundle was not logged")
	}
}

// TestDownloadHashedOncePerStart: a bundle that was hashed is not hashed
// again while its file stays the same (inode, size, time), and a new
// service (a restart) hashes it again.
func TestDownloadHashedOncePerStart(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	ctx := as(t.Context(), RolePlatform)
	r := h.completed(t)
	id, b := r.GetId(), r.GetBundle()
	if _, _, err := download(ctx, h.client, &dsarv1.DownloadBundleRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	path := h.bundlePath(id)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Damage in place that leaves size and time as they were.
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff ^ mustByte(t, path, 10)}, 10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	_, data, err := download(ctx, h.client, &dsarv1.DownloadBundleRequest{Id: id})
	if err != nil {
		t.Fatalf("second download of the same file: %v; want it served without hashing again", err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) == b.GetSha256() {
		t.Fatal("the test did not damage the bundle")
	}

	restarted, err := NewService(ServiceConfig{Processor: h.proc, SigningKey: h.pub})
	if err != nil {
		t.Fatal(err)
	}
	err = restarted.DownloadBundle(&dsarv1.DownloadBundleRequest{Id: id}, discardStream{ctx: t.Context()})
	// Called directly, the handler returns the domain error; the server's
	// interceptor would map it (TestStatusInterceptor).
	if dsar.ErrorCode(err) != dsar.EDATALOSS || !strings.Contains(dsar.ErrorMessage(err), "SHA-256") {
		t.Errorf("download after a restart: %v, want DATA_LOSS naming the SHA-256", err)
	}
}

func mustByte(t *testing.T, path string, off int64) byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b[off]
}

// TestRebuildBundle damages a bundle, sees DATA_LOSS, rebuilds it as an
// operator and downloads the recorded bundle again.
func TestRebuildBundle(t *testing.T) {
	h := newHarness(t, harnessConfig{keepCollected: true})
	r := h.completed(t)
	id, b := r.GetId(), r.GetBundle()
	flip(t, h.bundlePath(id), b.GetSizeBytes()/3)
	if _, _, err := download(as(t.Context(), RoleAuditor), h.client, &dsarv1.DownloadBundleRequest{Id: id}); status.Code(err) != codes.DataLoss {
		t.Fatalf("download of the damaged bundle: %v, want DATA_LOSS", err)
	}
	if _, err := h.client.RebuildBundle(as(t.Context(), RoleOperator), &dsarv1.RebuildBundleRequest{Id: "01nosuchrequest"}); status.Code(err) != codes.NotFound {
		t.Errorf("rebuild of an unknown request: %v, want NotFound", err)
	}
	resp, err := h.client.RebuildBundle(as(t.Context(), RoleOperator), &dsarv1.RebuildBundleRequest{Id: id})
	if err != nil {
		t.Fatalf("RebuildBundle: %v", err)
	}
	if got := resp.GetAccessRequest().GetBundle(); got.GetSha256() != b.GetSha256() || got.GetSizeBytes() != b.GetSizeBytes() {
		t.Errorf("rebuild answered bundle %v, want the recorded %v", got, b)
	}
	hdr, data, err := download(as(t.Context(), RoleAuditor), h.client, &dsarv1.DownloadBundleRequest{Id: id})
	if err != nil {
		t.Fatalf("download after the rebuild: %v", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != b.GetSha256() || hdr.GetSha256() != got {
		t.Fatalf("rebuilt bundle has SHA-256 %s (header %s), recorded %s", got, hdr.GetSha256(), b.GetSha256())
	}
	if _, err := bundle.Verify(bytes.NewReader(data), int64(len(data)), h.pub); err != nil {
		t.Errorf("rebuilt bundle does not verify: %v", err)
	}
	evs, err := h.client.ListAuditEvents(as(t.Context(), RoleAuditor), &dsarv1.ListAuditEventsRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	var rebuilt []string
	for _, ev := range evs.GetAuditEvents() {
		if ev.GetAction() == "RebuildBundle" {
			rebuilt = append(rebuilt, ev.GetCaller()+"/"+ev.GetRole()+": "+ev.GetDetail())
		}
	}
	if len(rebuilt) != 1 || !strings.HasPrefix(rebuilt[0], "ops/operator: ") || !strings.Contains(rebuilt[0], b.GetSha256()) {
		t.Errorf("rebuild audit events %q, want one by ops/operator naming the SHA-256", rebuilt)
	}
}

// TestDeleteAndDownloads counts whole downloads (a resumed one once, at
// its last byte), then deletes the request: Get says when and why, the
// email is gone, and a download is refused with the same words.
func TestDeleteAndDownloads(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	r := h.completed(t)
	id := r.GetId()
	aud, plat, ops := as(t.Context(), RoleAuditor), as(t.Context(), RolePlatform), as(t.Context(), RoleOperator)
	if r.GetRetention().GetBundleExpireTime() == nil || r.GetRetention().GetEmailHash() == "" {
		t.Errorf("retention of a completed request %v: want an expiry and the email's hash", r.GetRetention())
	}
	_, data, err := download(aud, h.client, &dsarv1.DownloadBundleRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	half := int64(len(data) / 2)
	if _, _, err := download(plat, h.client, &dsarv1.DownloadBundleRequest{Id: id, Offset: half}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := download(plat, h.client, &dsarv1.DownloadBundleRequest{Id: id, Offset: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.GetAccessRequest(plat, &dsarv1.GetAccessRequestRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if n := got.GetAccessRequest().GetRetention().GetDownloads(); n != 2 {
		t.Errorf("%d downloads counted, want 2 (whole, then resumed to the end; none for no bytes)", n)
	}
	if _, err := h.client.GetManifest(plat, &dsarv1.GetManifestRequest{Id: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("manifest for the platform: %v, want PermissionDenied", err)
	}
	before, err := h.client.GetManifest(aud, &dsarv1.GetManifestRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.DeleteAccessRequest(plat, &dsarv1.DeleteAccessRequestRequest{Id: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("delete by the platform: %v, want PermissionDenied", err)
	}
	del, err := h.client.DeleteAccessRequest(ops, &dsarv1.DeleteAccessRequestRequest{Id: id, Reason: "subject withdrew"})
	if err != nil {
		t.Fatal(err)
	}
	ar := del.GetAccessRequest()
	rt := ar.GetRetention()
	if ar.GetEmail() != "" || rt.GetEmailHash() != r.GetRetention().GetEmailHash() || rt.GetBundlePurgeTime() == nil ||
		rt.GetBundleExpireTime() != nil || rt.GetPurgeReason() != "deleted by ops: subject withdrew" || !rt.GetManifestKept() {
		t.Errorf("after delete: email kept %v, retention %v", ar.GetEmail() != "", rt)
	}
	if ar.GetBundle().GetSha256() != r.GetBundle().GetSha256() {
		t.Errorf("bundle SHA-256 %q after delete, want %q kept", ar.GetBundle().GetSha256(), r.GetBundle().GetSha256())
	}
	if _, err := os.Stat(h.bundlePath(id)); !os.IsNotExist(err) {
		t.Errorf("bundle file after delete: %v", err)
	}
	after, err := h.client.GetManifest(ops, &dsarv1.GetManifestRequest{Id: id})
	if err != nil {
		t.Fatalf("manifest after delete: %v", err)
	}
	var m bundle.Manifest
	if err := json.Unmarshal(after.GetManifest(), &m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after.GetManifest(), before.GetManifest()) || m.Subject != rt.GetEmailHash() || m.RequestID != id ||
		len(m.Entries) == 0 || strings.Contains(string(after.GetManifest()), "@") {
		t.Errorf("manifest after delete (subject %q, request %q): want the one before, subject the email's hash %q, no email",
			m.Subject, m.RequestID, rt.GetEmailHash())
	}
	_, _, err = download(aud, h.client, &dsarv1.DownloadBundleRequest{Id: id})
	if msg := status.Convert(err).Message(); status.Code(err) != codes.FailedPrecondition || !strings.Contains(msg, "purged on") || !strings.Contains(msg, "subject withdrew") {
		t.Errorf("download after delete: %v, want FailedPrecondition saying when and why it was purged", err)
	}
	evs, err := h.client.ListAuditEvents(aud, &dsarv1.ListAuditEventsRequest{RequestId: id, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var deleted bool
	for _, ev := range evs.GetAuditEvents() {
		deleted = deleted || (ev.GetAction() == "DeleteAccessRequest" && ev.GetCaller() == "ops")
	}
	if !deleted {
		t.Errorf("no DeleteAccessRequest event by ops in %v", evs.GetAuditEvents())
	}
}
