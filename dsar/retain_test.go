package dsar_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
)

// completed creates a request for email and waits for its completion.
func (e *env) completed(email string) *dsar.Request {
	e.t.Helper()
	done := e.wait(e.create(email).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if done.State != dsar.StateCompleted {
		e.t.Fatalf("state %s (%s)", done.State, done.Reason)
	}
	return done
}

func collectedPurged(r *dsar.Request) bool { return !r.Purge.CollectedAt.IsZero() }
func bundlePurged(r *dsar.Request) bool    { return r.Purged() }

// storedPages counts the pages a request still has in the store.
func storedPages(t *testing.T, e *env, id string) int {
	t.Helper()
	secs, err := e.db.Sections(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range secs {
		for _, p := range s.Parts {
			if err := e.db.Pages(t.Context(), id, s.Name, p.Name, func(dsar.Page) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	return n
}

// checkPurged checks what remains of a request whose bundle was purged:
// its metadata, the bundle's SHA-256 and the audit trail, the email's hash
// and not the email, no bundle file, no page.
func checkPurged(t *testing.T, e *env, r *dsar.Request, done *dsar.Request, because string) {
	t.Helper()
	if r.Email != "" || r.EmailHash != e.db.EmailHash(jane) || r.EmailHash == "" {
		t.Errorf("email kept %v, hash %q; want no email and the hash %q", r.Email != "", r.EmailHash, e.db.EmailHash(jane))
	}
	if !strings.Contains(r.Purge.Reason, because) || r.Purge.BundleAt.Before(r.Purge.CollectedAt) {
		t.Errorf("purge %+v, want the reason to say %q", r.Purge, because)
	}
	if r.Bundle.SHA256 != done.Bundle.SHA256 || r.Bundle.Size != done.Bundle.Size || r.State != done.State {
		t.Errorf("metadata changed: %+v, was %+v", r.Bundle, done.Bundle)
	}
	if done.Bundle.Path != "" {
		if _, err := os.Stat(done.Bundle.Path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("bundle file still there: %v", err)
		}
	}
	if n := storedPages(t, e, r.ID); n != 0 {
		t.Errorf("%d pages left", n)
	}
	evs, err := e.db.Audit(t.Context(), dsar.AuditFilter{Request: r.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var created, purged bool
	for _, ev := range evs {
		created = created || ev.Action == dsar.ActionCreate
		purged = purged || (ev.Action == dsar.ActionPurge && strings.Contains(ev.Detail, because))
	}
	if !created || !purged {
		t.Errorf("audit trail %+v: want the create and a purge saying %q", evs, because)
	}
}

// TestRetention: once the bundle is verified the pages and media go; the
// bundle goes at the end of the retention period, moved to by the clock,
// and a restart in between re-arms the purge.
func TestRetention(t *testing.T) {
	t.Parallel()
	retain := func(c *dsar.Config) { c.Retention.Bundles = 48 * time.Hour }
	e := newEnv(t, withMedia(envConfig{proc: retain}, nil))
	done := e.completed(jane)
	id := done.ID
	r := e.wait(id, collectedPurged)
	if r.Purged() || r.Email != jane || r.CompletedAt.IsZero() {
		t.Errorf("after the collected data's purge: %+v; want the bundle and email kept", r.Purge)
	}
	if n := storedPages(t, e, id); n != 0 {
		t.Errorf("%d pages left after the bundle was verified", n)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "media", id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("media files left: %v", err)
	}
	_, secs, err := e.proc.Request(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var records int64
	for _, s := range secs {
		records += s.Records
	}
	if records == 0 {
		t.Error("the sections lost their record counts")
	}
	orig := e.verify(r) // the bundle is whole
	ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
	before, err := e.proc.Manifest(ctx, id)
	if err != nil {
		t.Fatalf("Manifest before the purge: %v", err)
	}
	if _, err := e.proc.Rebuild(ctx, id); dsar.ErrorCode(err) != dsar.EPRECONDITION || !strings.Contains(err.Error(), "purged") {
		t.Errorf("Rebuild after the purge: %v, want a precondition that says it was purged", err)
	}

	// A restart re-arms the purge.
	e.proc.Close()
	e.db.Close()
	e.open(withMedia(envConfig{proc: retain}, nil))
	e.srv.Clock().Advance(47 * time.Hour)
	if r, _, _ := e.proc.Request(t.Context(), id); r.Purged() {
		t.Fatal("purged before the end of the retention period")
	}
	e.srv.Clock().Advance(time.Hour)
	r = e.wait(id, bundlePurged)
	checkPurged(t, e, r, done, "retention period of 2 days")
	if !r.Purge.Manifest {
		t.Error("the purge does not say that the manifest was kept")
	}
	after, err := e.proc.Manifest(ctx, id)
	if err != nil {
		t.Fatalf("Manifest after the purge: %v", err)
	}
	if !bytes.Equal(after, before) {
		t.Errorf("the manifest changed with the purge:\n%s\nwas\n%s", after, before)
	}
	checkKeptManifest(t, e, after, orig, secs)
}

// checkKeptManifest checks a manifest kept of a purged request of jane's:
// orig, the bundle's, with its subject replaced by the email's keyed hash,
// and its sections those of the request.
func checkKeptManifest(t *testing.T, e *env, kept []byte, orig *bundle.Manifest, secs []dsar.Section) {
	t.Helper()
	if bytes.Contains(bytes.ToLower(kept), []byte(strings.ToLower(jane))) {
		t.Error("the kept manifest holds the email")
	}
	var m bundle.Manifest
	if err := json.Unmarshal(kept, &m); err != nil {
		t.Fatalf("the kept manifest: %v", err)
	}
	if m.Subject != e.db.EmailHash(jane) {
		t.Errorf("subject %q, want the email's hash %q", m.Subject, e.db.EmailHash(jane))
	}
	want := *orig
	want.Subject = m.Subject
	want.Entries = nil
	for _, en := range orig.Entries {
		want.Entries = append(want.Entries, bundle.ManifestEntry{Path: bundle.KeptPath(en.Path, en.SHA256), Size: en.Size, SHA256: en.SHA256})
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("the kept manifest is not the bundle's with the subject and media names replaced:\n%+v\nwant\n%+v", m, want)
	}
	if len(m.Sections) != len(secs) {
		t.Fatalf("%d sections in the kept manifest, the request has %d", len(m.Sections), len(secs))
	}
	for i, s := range secs {
		if ms := m.Sections[i]; ms.Name != s.Name || ms.State != string(s.State) || ms.Records != s.Records {
			t.Errorf("section %d: %s %s %d records in the manifest, %s %s %d in the request", i, ms.Name, ms.State, ms.Records, s.Name, s.State, s.Records)
		}
	}
}

// TestRetentionDamagedBundle: a request whose bundle is damaged is purged
// all the same, keeps no manifest, and its audit trail says so.
func TestRetentionDamagedBundle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	done := e.completed(jane)
	id := done.ID
	e.wait(id, collectedPurged)
	if err := os.Truncate(done.Bundle.Path, done.Bundle.Size/2); err != nil {
		t.Fatal(err)
	}
	ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
	if _, err := e.proc.Manifest(ctx, id); dsar.ErrorCode(err) != dsar.EDATALOSS {
		t.Errorf("Manifest of a damaged bundle: %v, want data loss", err)
	}
	r, err := e.proc.Delete(ctx, id, "damaged")
	if err != nil {
		t.Fatalf("Delete of a request with a damaged bundle: %v", err)
	}
	checkPurged(t, e, r, done, "damaged")
	if r.Purge.Manifest {
		t.Error("the purge says a manifest was kept")
	}
	evs, err := e.db.Audit(t.Context(), dsar.AuditFilter{Request: id, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(ev dsar.AuditEvent) bool {
		return ev.Action == dsar.ActionPurge && strings.Contains(ev.Detail, "no manifest kept")
	}) {
		t.Errorf("no purge event says that no manifest was kept: %+v", evs)
	}
	if _, err := e.proc.Manifest(ctx, id); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("Manifest after the purge: %v, want not found", err)
	}
}

// TestRetentionDownloads purges a bundle at its second whole download.
func TestRetentionDownloads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) { c.Retention.Downloads = 2 }})
	done := e.completed(jane)
	id := done.ID
	r, err := e.proc.Downloaded(t.Context(), id)
	if err != nil || r.Downloads != 1 || r.Purged() {
		t.Fatalf("first download: %+v %v", r, err)
	}
	r, err = e.proc.Downloaded(t.Context(), id)
	if err != nil || r.Downloads != 2 || !r.Purged() {
		t.Fatalf("second download: downloads %d, purge %+v, %v; want purged", r.Downloads, r.Purge, err)
	}
	checkPurged(t, e, r, done, "downloaded 2 times")
}

// TestDelete deletes a running request at once: it is cancelled, then its
// collected data and email are purged; a deleted request cannot be
// resumed, and deleting it again changes nothing.
func TestDelete(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		var first sync.Once
		c.Hooks.AfterCommit = func(string, string) {
			first.Do(func() { <-release })
		}
	}})
	id := e.create(jane).ID
	ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
	type result struct {
		r   *dsar.Request
		err error
	}
	res := make(chan result, 1)
	go func() {
		r, err := e.proc.Delete(ctx, id, "sent by mistake")
		res <- result{r, err}
	}()
	e.wait(id, inState(dsar.StateCancelled))
	close(release)
	got := <-res
	if got.err != nil {
		t.Fatalf("Delete: %v", got.err)
	}
	r := got.r
	if r.State != dsar.StateCancelled || !r.Purged() {
		t.Fatalf("after Delete: state %s, purge %+v", r.State, r.Purge)
	}
	checkPurged(t, e, r, r, "deleted by oncall: sent by mistake")
	evs, err := e.db.Audit(t.Context(), dsar.AuditFilter{Request: id, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var deleted bool
	for _, ev := range evs {
		deleted = deleted || (ev.Action == dsar.ActionDelete && ev.Actor.Name == "oncall")
	}
	if !deleted {
		t.Errorf("no delete event by the operator in %+v", evs)
	}
	again, err := e.proc.Delete(ctx, id, "again")
	if err != nil || again.Purge != r.Purge {
		t.Errorf("second Delete: %+v %v; want the request as it was", again, err)
	}
	if _, err := e.proc.Resume(ctx, id, false); dsar.ErrorCode(err) != dsar.EPRECONDITION {
		t.Errorf("Resume of a deleted request: %v, want precondition", err)
	}
}

// TestDeleteCompleted deletes a completed request's bundle at once.
func TestDeleteCompleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	done := e.completed(jane)
	id := done.ID
	ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
	r, err := e.proc.Delete(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	checkPurged(t, e, r, done, "deleted by oncall")
}
