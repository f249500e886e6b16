package dsar_test

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestRetrySection lets one section stop (Zoom answers 500 to every call
// of its endpoint: the section waits for Zoom), then retries it, from its
// cursor and from the start.
func TestRetrySection(t *testing.T) {
	t.Parallel()
	const broken = "GET /phone/users/{userId}/call_history"
	for _, fromStart := range []bool{false, true} {
		t.Run(map[bool]string{false: "from cursor", true: "from start"}[fromStart], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithFaults(zoomtest.Faults{
				Endpoints: map[string]map[zoomtest.Fault]float64{broken: {zoomtest.Fault500: 1}},
			})}})
			ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
			id := e.create(jane).ID
			r := e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed, dsar.StateWaitingZoom))
			if r.State != dsar.StateWaitingZoom {
				t.Fatalf("state %s, want WAITING_ZOOM", r.State)
			}
			_, secs, err := e.proc.Request(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secs {
				// The broken section waits for Zoom, and so may the others
				// of its bucket (Phone Medium) behind its breaker.
				want := dsar.SectionComplete
				if s.Name == dsar.SectionPhoneCallHistory || strings.HasPrefix(s.Name, "phone_") && s.State == dsar.SectionWaitingZoom {
					want = dsar.SectionWaitingZoom
				}
				if s.State != want {
					t.Errorf("section %s: %s, want %s", s.Name, s.State, want)
				}
			}

			if _, err := e.proc.RetrySection(ctx, id, "no_such_section", fromStart); dsar.ErrorCode(err) != dsar.EINVALID {
				t.Errorf("unknown section: %v", err)
			}
			e.srv.SetFaults(zoomtest.Faults{})
			if _, err := e.proc.RetrySection(ctx, id, dsar.SectionPhoneCallHistory, fromStart); err != nil {
				t.Fatalf("RetrySection: %v", err)
			}
			r = e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed))
			if r.State != dsar.StateCompleted {
				t.Fatalf("after retry: %s (%s)", r.State, r.Reason)
			}
			m := e.verify(r)
			if got, want := records(m)[dsar.SectionPhoneCallHistory], int64(len(e.srv.Dataset().User(jane).Phone.CallLogs)); got != want {
				t.Errorf("call history: %d records, want %d", got, want)
			}
			if d := refetched(e.srv); len(d) > 0 {
				t.Errorf("pages fetched twice: %v", d)
			}
			if _, err := e.proc.RetrySection(ctx, id, dsar.SectionPhoneCallHistory, fromStart); dsar.ErrorCode(err) != dsar.EPRECONDITION {
				t.Errorf("retry of a completed request: %v", err)
			}
			evs, err := e.db.Audit(ctx, dsar.AuditFilter{Request: id})
			if err != nil {
				t.Fatal(err)
			}
			var retried bool
			for _, ev := range evs {
				retried = retried || (ev.Action == dsar.ActionRetry && ev.Actor.Name == "oncall")
			}
			if !retried {
				t.Error("no retry event by the operator in the audit log")
			}
		})
	}
}

// TestRebuild damages a completed request's bundle in several ways and
// rebuilds it: the result is the recorded bundle byte for byte, or a
// refusal that says why and leaves the file as it was.
func TestRebuild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		media  bool
		damage func(t *testing.T, e *env, r *dsar.Request, fa *bundle.Assembler)
		code   string // "" means the rebuild succeeds
		msg    string // with code: in the error; %d is the number of media files
	}{
		{name: "data entry flipped", media: true, damage: flipEntry("data/")},
		{name: "missing file, no media", damage: removeBundle},
		{
			name: "missing file, media back on disk", media: true,
			damage: func(t *testing.T, e *env, r *dsar.Request, fa *bundle.Assembler) {
				restoreMedia(t, e, r, fa)
				removeBundle(t, e, r, fa)
			},
		},
		{
			name: "written by another tool version", media: true,
			damage: func(t *testing.T, e *env, r *dsar.Request, fa *bundle.Assembler) {
				fa.Version = "v9.9.9" // the manifest still names the first one
				flipEntry("data/")(t, e, r, fa)
			},
		},
		{name: "media entry flipped", media: true, damage: flipEntry("media/"), code: dsar.EPRECONDITION, msg: "media files missing: 1 of %d"},
		{name: "truncated", media: true, damage: truncateBundle, code: dsar.EPRECONDITION, msg: "media files missing: %[1]d of %[1]d"},
		{name: "missing file", media: true, damage: removeBundle, code: dsar.EPRECONDITION, msg: "media files missing: %[1]d of %[1]d"},
		{
			name: "another signing key", media: true, code: dsar.EDATALOSS, msg: "differ from the first assembly",
			damage: func(t *testing.T, e *env, r *dsar.Request, fa *bundle.Assembler) {
				_, fa.Key, _ = ed25519.GenerateKey(rand.Reader)
				flipEntry("data/")(t, e, r, fa)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var fa *bundle.Assembler
			ec := envConfig{proc: func(c *dsar.Config) {
				fa = c.Assembler.(*bundle.Assembler)
				c.Retention.KeepCollected = true // a rebuild reads the stored pages
			}}
			if tc.media {
				ec = withMedia(ec, nil)
			}
			e := newEnv(t, ec)
			ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
			r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
			if r.State != dsar.StateCompleted {
				t.Fatalf("state %s (%s)", r.State, r.Reason)
			}
			files, err := e.db.Media(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tc.media != (len(files) > 0) {
				t.Fatalf("%d media files collected; the case wants media: %v", len(files), tc.media)
			}
			tc.damage(t, e, r, fa)
			damaged, _ := os.ReadFile(r.Bundle.Path)

			_, err = e.proc.Rebuild(ctx, r.ID)
			if tc.code != "" {
				msg := tc.msg
				if strings.Contains(msg, "%") {
					msg = fmt.Sprintf(msg, len(files))
				}
				if dsar.ErrorCode(err) != tc.code || !strings.Contains(dsar.ErrorMessage(err), msg) {
					t.Fatalf("Rebuild: %v; want %s naming %q", err, tc.code, msg)
				}
				if now, _ := os.ReadFile(r.Bundle.Path); !bytes.Equal(now, damaged) {
					t.Error("a refused rebuild changed the bundle file")
				}
				return
			}
			if err != nil {
				t.Fatalf("Rebuild: %v", err)
			}
			b, err := os.ReadFile(r.Bundle.Path)
			if err != nil {
				t.Fatal(err)
			}
			if got := sha256Hex(b); got != r.Bundle.SHA256 || int64(len(b)) != r.Bundle.Size {
				t.Fatalf("rebuilt bundle: %d bytes, SHA-256 %s; recorded %d, %s", len(b), got, r.Bundle.Size, r.Bundle.SHA256)
			}
			e.verify(r)
			evs, err := e.db.Audit(ctx, dsar.AuditFilter{Request: r.ID})
			if err != nil {
				t.Fatal(err)
			}
			if last := evs[len(evs)-1]; last.Action != dsar.ActionRebuild || last.Actor.Name != "oncall" || !strings.Contains(last.Detail, r.Bundle.SHA256) {
				t.Errorf("last audit event %+v, want the rebuild by oncall naming the SHA-256", last)
			}
		})
	}

	t.Run("not completed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithFaults(zoomtest.Faults{
			Endpoints: map[string]map[zoomtest.Fault]float64{"GET /phone/users/{userId}/call_history": {zoomtest.Fault500: 1}},
		})}})
		r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed, dsar.StateWaitingZoom))
		if _, err := e.proc.Rebuild(t.Context(), r.ID); dsar.ErrorCode(err) != dsar.EPRECONDITION || !strings.Contains(err.Error(), "COMPLETED") {
			t.Errorf("rebuild of a %s request: %v, want a precondition naming COMPLETED", r.State, err)
		}
	})
}

// flipEntry inverts one byte in the stored data of the bundle's first
// entry whose name has prefix: the file keeps its size.
func flipEntry(prefix string) func(*testing.T, *env, *dsar.Request, *bundle.Assembler) {
	return func(t *testing.T, _ *env, r *dsar.Request, _ *bundle.Assembler) {
		t.Helper()
		zr, err := zip.OpenReader(r.Bundle.Path)
		if err != nil {
			t.Fatal(err)
		}
		var off int64 = -1
		for _, f := range zr.File {
			if strings.HasPrefix(f.Name, prefix) && f.CompressedSize64 > 2 {
				if off, err = f.DataOffset(); err != nil {
					t.Fatal(err)
				}
				off += int64(f.CompressedSize64 / 2)
				break
			}
		}
		zr.Close()
		if off < 0 {
			t.Fatalf("no entry %s* in the bundle", prefix)
		}
		flipByte(t, r.Bundle.Path, off)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func truncateBundle(t *testing.T, _ *env, r *dsar.Request, _ *bundle.Assembler) {
	t.Helper()
	if err := os.Truncate(r.Bundle.Path, r.Bundle.Size/2); err != nil {
		t.Fatal(err)
	}
}

func removeBundle(t *testing.T, _ *env, r *dsar.Request, _ *bundle.Assembler) {
	t.Helper()
	if err := os.Remove(r.Bundle.Path); err != nil {
		t.Fatal(err)
	}
}

// restoreMedia puts the media files of a completed request back into the
// media directory (which completion emptied), from its bundle.
func restoreMedia(t *testing.T, _ *env, r *dsar.Request, fa *bundle.Assembler) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(fa.Media.Dir, r.ID)); !os.IsNotExist(err) {
		t.Fatalf("the media of a completed request are still on disk (%v)", err)
	}
	zr, err := zip.OpenReader(r.Bundle.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	// The bundle names a file for a person; the media directory by its
	// stored name, found by the file's SHA-256.
	files, err := fa.Store.Media(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]dsar.MediaFile{}
	for _, f := range files {
		stored[f.SHA256] = f
	}
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "media/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		mf, ok := stored[sha256Hex(b)]
		if !ok {
			t.Fatalf("bundle entry %s is no stored media file", f.Name)
		}
		w, _, err := fa.Media.Create(r.ID, mf.Section, mf.Name, mf.Size)
		if err == nil {
			_, err = w.Write(b)
		}
		if err == nil {
			err = w.Commit()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeadlinesTable checks that the due date of a new request and the
// length of its extension both come from the configured Deadlines.
func TestDeadlinesTable(t *testing.T) {
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		c.Deadlines = dsar.Deadlines{dsar.GDPR: {Days: 10, Extension: 3}, dsar.CCPA: {Days: 20}}
	}})
	ctx := t.Context()
	for _, tc := range []struct {
		reg       dsar.Regulation
		due, ext  int
		extendErr string
	}{
		{reg: dsar.GDPR, due: 10, ext: 3},
		{reg: dsar.CCPA, due: 20, extendErr: dsar.EPRECONDITION},
	} {
		r, err := e.proc.Create(ctx, dsar.CreateInput{Email: "nobody@example.com", Account: "main", IdempotencyKey: "k-" + string(tc.reg), Regulation: tc.reg})
		if err != nil {
			t.Fatal(err)
		}
		if want := r.CreatedAt.AddDate(0, 0, tc.due); !r.DueAt.Equal(want) {
			t.Errorf("%s: due %v, want %v", tc.reg, r.DueAt, want)
		}
		x, err := e.proc.Extend(ctx, r.ID, "complex")
		if dsar.ErrorCode(err) != tc.extendErr {
			t.Fatalf("%s: Extend: %v, want code %q", tc.reg, err, tc.extendErr)
		}
		if err == nil && !x.DueAt.Equal(r.DueAt.AddDate(0, 0, tc.ext)) {
			t.Errorf("%s: extended due %v, want %d days after %v", tc.reg, x.DueAt, tc.ext, r.DueAt)
		}
	}
}
