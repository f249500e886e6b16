package dsar_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// withMedia makes ec collect media files into <env dir>/media, and lets
// wrap (if set) stand between the processor and Zoom.
func withMedia(ec envConfig, wrap func(dsar.Zoom) dsar.Zoom) envConfig {
	inner := ec.proc
	ec.proc = func(c *dsar.Config) {
		fa := c.Assembler.(*bundle.Assembler)
		fa.Media = &bundle.MediaDir{Dir: filepath.Join(filepath.Dir(fa.Dir), "media"), Key: testDataKey}
		c.Media = fa.Media
		if wrap != nil {
			c.Accounts["main"] = wrap(c.Accounts["main"])
		}
		if inner != nil {
			inner(c)
		}
	}
	return ec
}

// testDataKey stands in for the store's data key of a request: the same
// in every process, so that a restarted one reads what another wrote.
func testDataKey(id string) ([]byte, error) {
	k := sha256.Sum256([]byte("dsar test data key\x00" + id))
	return k[:], nil
}

// zoomFiles is what the dataset says a subject's bundle must hold: the
// size of every file, by file id: recording files and each participant's
// audio, voicemails, phone recordings and their transcripts, and the
// attachments of the SMS sessions of the last six months, and the files of
// the Team Chat messages the default policy keeps.
func zoomFiles(u *zoomtest.User) map[string]int64 {
	out := map[string]int64{}
	for _, r := range u.Recordings {
		for _, f := range r.Files {
			out[f.ID] = f.FileSize
		}
		for _, f := range r.ParticipantAudio {
			out[f.ID] = f.FileSize
		}
	}
	if u.Phone != nil {
		for _, v := range u.Phone.Voicemails {
			out[v.ID] = v.FileSize
		}
		for _, r := range u.Phone.Recordings {
			out[r.ID] = r.FileSize
			if r.Transcript > 0 {
				out[r.ID+"-transcript"] = r.Transcript
			}
		}
	}
	sixAgo := time.Date(t0.Year(), t0.Month()-6, t0.Day(), 0, 0, 0, 0, time.UTC)
	_, chat := u.ChatKept(string(dsar.ChatConversations), sixAgo)
	maps.Copy(out, chat)
	for _, s := range u.SMS {
		if s.Last().Before(sixAgo) {
			continue
		}
		for _, m := range s.Messages {
			for _, a := range m.Attachments {
				out[a.ID] = a.Size
			}
		}
	}
	return out
}

// mediaEntries returns the bundle's media entries by the id of the Zoom
// file whose bytes they hold (the bundle names a file for a person, not
// by its id); an entry of no file in want is returned by its path.
func mediaEntries(t *testing.T, m *bundle.Manifest, want map[string]int64) map[string]bundle.ManifestEntry {
	t.Helper()
	byHash := map[string]string{}
	for id, size := range want {
		byHash[sha256Hex(zoomtest.FileBytes(id, size))] = id
	}
	out := map[string]bundle.ManifestEntry{}
	for _, e := range m.Entries {
		if !strings.HasPrefix(e.Path, "media/") {
			continue
		}
		id, ok := byHash[e.SHA256]
		if !ok {
			id = e.Path
		}
		if _, dup := out[id]; dup {
			t.Errorf("file %s twice in the bundle", id)
		}
		out[id] = e
	}
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkMedia checks that the bundle holds exactly want (less skip) with
// the bytes the emulator serves, and reads one whole entry back.
func checkMedia(t *testing.T, r *dsar.Request, m *bundle.Manifest, want map[string]int64, skip map[string]bool) {
	t.Helper()
	got := mediaEntries(t, m, want)
	ids := map[string]string{} // by path
	for id, e := range got {
		ids[e.Path] = id
	}
	for id, size := range want {
		e, ok := got[id]
		switch {
		case skip[id]:
			if ok {
				t.Errorf("file %s is in the bundle; it should have been skipped", id)
			}
			continue
		case !ok:
			t.Errorf("file %s is not in the bundle", id)
			continue
		case e.Size != size:
			t.Errorf("%s: %d bytes, want %d", e.Path, e.Size, size)
		}
		if w := sha256Hex(zoomtest.FileBytes(id, size)); e.SHA256 != w {
			t.Errorf("%s: SHA-256 %s, want %s", e.Path, e.SHA256, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("bundle holds %s, which the subject does not have", id)
		}
	}
	// The manifest's hashes are checked by Verify; read one entry anyway.
	zr, err := zip.OpenReader(r.Bundle.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "media/phone_recordings/") {
			continue
		}
		if f.Method != zip.Store {
			t.Errorf("%s is compressed; media entries are stored", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		id := ids[f.Name]
		if err != nil || !bytes.Equal(b, zoomtest.FileBytes(id, want[id])) {
			t.Errorf("%s: bytes differ from Zoom's (%v)", f.Name, err)
		}
		break
	}
}

// downloads returns the file downloads in the emulator's log by file id:
// cloud recording bytes (/rec/file/), voicemails and phone recordings.
func downloads(srv *zoomtest.Server) map[string][]zoomtest.LogEntry {
	out := map[string][]zoomtest.LogEntry{}
	for _, le := range srv.Log() {
		for _, prefix := range []string{"/rec/file/", "/v2/phone/voice_mails/download/", "/v2/phone/recording/download/"} {
			if id, ok := strings.CutPrefix(le.Path, prefix); ok {
				out[id] = append(out[id], le)
			}
		}
	}
	return out
}

// TestMedia collects jane's recordings, voicemails and phone recordings:
// the bundle holds every file with Zoom's bytes, each downloaded once, the
// downloads are counted as calls, and the media directory is emptied once
// the request is completed.
func TestMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMedia(envConfig{}, nil))
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	m := e.verify(r)
	want := zoomFiles(e.srv.Dataset().User(jane))
	checkMedia(t, r, m, want, nil)
	counts := map[string]int{}
	for _, s := range m.Sections {
		counts[s.Name] = s.MediaFiles
	}
	u := e.srv.Dataset().User(jane)
	transcripts := 0
	for _, rec := range u.Phone.Recordings {
		if rec.Transcript > 0 {
			transcripts++
		}
	}
	if counts[dsar.SectionPhoneVoicemails] != len(u.Phone.Voicemails) || counts[dsar.SectionPhoneRecordings] != len(u.Phone.Recordings)+transcripts {
		t.Errorf("manifest media counts %v", counts)
	}
	for id, les := range downloads(e.srv) {
		if len(les) != 1 || les[0].Status != http.StatusOK {
			t.Errorf("file %s: %d downloads, want one answered 200", id, len(les))
		}
	}
	_, secs, err := e.proc.Request(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.Name == dsar.SectionPhoneVoicemails && s.Calls != s.Pages+int64(len(u.Phone.Voicemails)) {
			t.Errorf("voicemails: %d calls for %d pages and %d files", s.Calls, s.Pages, len(u.Phone.Voicemails))
		}
	}
	// Once the bundle is verified, the records of its files go with the
	// rest of the collected data.
	e.wait(r.ID, func(r *dsar.Request) bool { return !r.Purge.CollectedAt.IsZero() })
	files, err := e.db.Media(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 0 {
		t.Errorf("store records %d media files after the purge, want 0", len(files))
	}
	if _, err := os.Stat(filepath.Join(e.dir, "media", r.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("media of the completed request not deleted: %v", err)
	}

	// A crash between the commit of COMPLETED and the deletion leaves the
	// files; so does a request the store no longer knows. A restart
	// deletes them.
	for _, id := range []string{r.ID, "gone-request"} {
		dir := filepath.Join(e.dir, "media", id, dsar.SectionPhoneVoicemails)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "v.mp3"), []byte("left"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.proc.Close()
	e.db.Close()
	e.open(withMedia(envConfig{}, nil))
	left, err := os.ReadDir(filepath.Join(e.dir, "media"))
	if err != nil || len(left) != 0 {
		t.Errorf("after a restart the media directory holds %v (%v)", left, err)
	}
}

// rangeLog records the Range header of every request the client sends.
type rangeLog struct {
	mu     sync.Mutex
	ranges map[string][]string // by URL path
}

func (l *rangeLog) client(c *zoomclient.Config) {
	next := c.HTTPClient.Transport
	c.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		if l.ranges == nil {
			l.ranges = map[string][]string{}
		}
		l.ranges[r.URL.Path] = append(l.ranges[r.URL.Path], r.Header.Get("Range"))
		l.mu.Unlock()
		return next.RoundTrip(r)
	})}
}

// TestMediaResetResumes resets the connection in the middle of the first
// file of each kind: the download goes on with a Range request from the
// bytes it has, and the bundle's bytes are right.
func TestMediaResetResumes(t *testing.T) {
	t.Parallel()
	var rl rangeLog
	e := newEnv(t, withMedia(envConfig{
		zoom: []zoomtest.Option{zoomtest.WithFaults(zoomtest.Faults{Script: map[string][]zoomtest.Fault{
			"GET /rec/download/{fileId}":               {zoomtest.FaultReset},
			"GET /phone/voice_mails/download/{fileId}": {zoomtest.FaultReset},
			"GET /phone/recording/download/{fileId}":   {zoomtest.FaultReset},
		}})},
		client: rl.client,
	}, nil))
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	want := zoomFiles(e.srv.Dataset().User(jane))
	checkMedia(t, r, e.verify(r), want, nil)
	reset := 0
	for id, les := range downloads(e.srv) {
		if les[0].Fault != string(zoomtest.FaultReset) {
			if len(les) != 1 {
				t.Errorf("file %s: %d downloads without a fault", id, len(les))
			}
			continue
		}
		reset++
		if len(les) != 2 || les[1].Status != http.StatusPartialContent || les[1].Bytes >= want[id] {
			t.Errorf("file %s: reset, then %d requests (%+v), want one 206", id, len(les)-1, les[1:])
			continue
		}
		rl.mu.Lock()
		got := rl.ranges[les[1].Path]
		rl.mu.Unlock()
		if len(got) != 2 || got[0] != "" || !strings.HasPrefix(got[1], "bytes=") || got[1] == "bytes=0-" {
			t.Errorf("file %s: Range headers %q, want none then one from the bytes held", id, got)
		}
	}
	if reset != 3 {
		t.Errorf("%d downloads were reset, want 3", reset)
	}
}

// faultyZoom is Zoom with the downloads of chosen URLs changed.
type faultyZoom struct {
	dsar.Zoom
	download func(ctx context.Context, url string, offset int64, w io.Writer, size int64) (int64, int, error)
}

func (z faultyZoom) Download(ctx context.Context, url string, offset int64, w io.Writer, size int64) (int64, int, error) {
	return z.download(ctx, url, offset, w, size)
}

// TestMediaMissing asks for a cloud recording file and a phone recording
// that Zoom no longer has (ids it does not know): both are skipped and
// recorded missing with Zoom's message, and the request completes.
func TestMediaMissing(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	gone := map[string]bool{}  // file ids made unknown to Zoom
	first := map[string]bool{} // URL prefixes (kinds of file) seen
	// A file gone stays gone: a first attempt cut short (its section
	// stopped by another file's error, as on a loaded machine) must not
	// find it on the next.
	goneURL := map[string]bool{}
	// The store's records of the missing files are read once completed.
	keep := envConfig{proc: func(c *dsar.Config) { c.Retention.KeepCollected = true }}
	e := newEnv(t, withMedia(keep, func(z dsar.Zoom) dsar.Zoom {
		return faultyZoom{z, func(ctx context.Context, url string, off int64, w io.Writer, size int64) (int64, int, error) {
			kind, id := path.Split(url)
			mu.Lock()
			if !first[kind] {
				first[kind] = true
				goneURL[url] = true
				if strings.Contains(kind, "/recording_transcript/") {
					gone[id+"-transcript"] = true // named after its recording
				} else {
					gone[id] = true
				}
			}
			if goneURL[url] {
				url = kind + "no-such-file"
			}
			mu.Unlock()
			return z.Download(ctx, url, off, w, size)
		}}
	}))
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	checkMedia(t, r, e.verify(r), zoomFiles(e.srv.Dataset().User(jane)), gone)
	files, err := e.db.Media(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]string{}
	for _, f := range files {
		if f.Missing != "" {
			missing[f.Section] = f.Missing
		}
	}
	for _, s := range []string{dsar.SectionCloudRecordings, dsar.SectionPhoneRecordings, dsar.SectionPhoneVoicemails} {
		if !strings.Contains(missing[s], "no longer exists") {
			t.Errorf("%s: missing file recorded as %q", s, missing[s])
		}
	}
}

// TestMediaFailResume lets Zoom fail in the middle of a phone recording
// after retries: the section fails keeping what it has (the whole
// segments of its sealed partial file), and a resume finishes the file
// from there and downloads no done file again.
func TestMediaFailResume(t *testing.T) {
	t.Parallel()
	var (
		mu         sync.Mutex
		failed     string
		failedHalf int64                  // the bytes it wrote
		calls      = map[string][]int64{} // offsets asked, by URL
	)
	var e *env
	e = newEnv(t, withMedia(envConfig{}, func(z dsar.Zoom) dsar.Zoom {
		return faultyZoom{z, func(ctx context.Context, url string, off int64, w io.Writer, size int64) (int64, int, error) {
			mu.Lock()
			calls[url] = append(calls[url], off)
			// One large enough that its first half holds a whole
			// segment of the sealed partial file (64 KiB): what the
			// media store keeps, and a resume starts after.
			fail := failed == "" && strings.Contains(url, "/phone/recording/") && bigRecording(e) != "" && strings.HasSuffix(url, "/"+bigRecording(e))
			if fail {
				failed = url
			}
			mu.Unlock()
			if !fail {
				return z.Download(ctx, url, off, w, size)
			}
			var buf bytes.Buffer
			if _, _, err := z.Download(ctx, url, off, &buf, size); err != nil {
				return 0, 1, err
			}
			n, err := w.Write(buf.Bytes()[:buf.Len()/2])
			mu.Lock()
			failedHalf = int64(n)
			mu.Unlock()
			if err != nil {
				return int64(n), 1, err
			}
			return int64(n), 1, &dsar.ZoomError{Kind: dsar.ZoomUnavailable, Code: 503, Message: "Zoom is unavailable"}
		}}
	}))
	if bigRecording(e) == "" {
		t.Fatal("jane has no phone recording of more than 128 KiB")
	}
	id := e.create(jane).ID
	r := e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateFailed {
		t.Fatalf("state %s, want FAILED", r.State)
	}
	_, secs, err := e.proc.Request(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.Name == dsar.SectionPhoneRecordings && (s.State != dsar.SectionFailed || s.ReasonCode != 503) {
			t.Errorf("phone recordings: %s (%d %s), want FAILED with Zoom's code", s.State, s.ReasonCode, s.Reason)
		}
	}
	if _, err := e.proc.Resume(t.Context(), id, false); err != nil {
		t.Fatalf("Resume: %v", err)
	}
	r = e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("after resume: %s (%s)", r.State, r.Reason)
	}
	checkMedia(t, r, e.verify(r), zoomFiles(e.srv.Dataset().User(jane)), nil)
	mu.Lock()
	defer mu.Unlock()
	// The files downloading beside the failed one were stopped with it
	// and resumed once.
	stopped := 0
	for url, offs := range calls {
		switch {
		case url == failed:
			if len(offs) != 2 || offs[0] != 0 || offs[1] == 0 || offs[1] > failedHalf {
				t.Errorf("failed file downloaded from offsets %v, want 0 then where it stopped (at most %d)", offs, failedHalf)
			}
		case len(offs) == 2:
			stopped++
		case len(offs) != 1:
			t.Errorf("%s downloaded %d times", path.Base(url), len(offs))
		}
	}
	if stopped > dsar.MediaWorkers-1 {
		t.Errorf("%d files downloaded twice beside the failed one, want at most %d", stopped, dsar.MediaWorkers-1)
	}
}

// bigRecording returns the id of jane's first phone recording of more
// than two segments of a sealed media file.
func bigRecording(e *env) string {
	for _, r := range e.srv.Dataset().User(jane).Phone.Recordings {
		if r.FileSize > 2*64<<10 {
			return r.ID
		}
	}
	return ""
}

// TestMediaQuotaParks spends the daily quota on the first voicemail
// download: the section parks WAITING_QUOTA, tries no voicemail until the
// clock passes the reset, then the request completes with every file.
func TestMediaQuotaParks(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		before int // voicemail downloads tried before the reset
		e      *env
	)
	reset := t0.Add(10 * time.Hour)
	e = newEnv(t, withMedia(envConfig{}, func(z dsar.Zoom) dsar.Zoom {
		return faultyZoom{z, func(ctx context.Context, url string, off int64, w io.Writer, size int64) (int64, int, error) {
			if strings.Contains(url, "/voice_mails/") && e.srv.Clock().Now().Before(reset) {
				mu.Lock()
				before++
				mu.Unlock()
				return 0, 1, &dsar.ZoomError{Kind: dsar.ZoomQuota, Code: 429, Until: reset, Message: "daily limit"}
			}
			return z.Download(ctx, url, off, w, size)
		}}
	}))
	id := e.create(jane).ID
	r := e.wait(id, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateWaitingQuota || !r.WaitingUntil.Equal(reset) {
		t.Fatalf("state %s until %v, want WAITING_QUOTA until %v", r.State, r.WaitingUntil, reset)
	}
	e.srv.Clock().Set(reset.Add(-time.Minute))
	if r, _, _ := e.proc.Request(t.Context(), id); r.State != dsar.StateWaitingQuota {
		t.Fatalf("woke before the reset: %s", r.State)
	}
	e.srv.Clock().Set(reset.Add(time.Second))
	r = e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	checkMedia(t, r, e.verify(r), zoomFiles(e.srv.Dataset().User(jane)), nil)
	mu.Lock()
	defer mu.Unlock()
	// Those already under way when the first met the limit; the client's
	// throttle refuses them without a call once a Daily-limit is seen.
	if before < 1 || before > dsar.MediaWorkers {
		t.Errorf("%d voicemail downloads tried before the reset, want 1 to %d", before, dsar.MediaWorkers)
	}
}

// TestMediaSealedOnDisk scans the raw bytes of the media directory when
// the bundle is about to be written, every file downloaded: none holds the
// start of a file's plaintext, and the bundle holds Zoom's bytes.
func TestMediaSealedOnDisk(t *testing.T) {
	t.Parallel()
	var e *env
	scanned := 0
	e = newEnv(t, withMedia(envConfig{proc: func(c *dsar.Config) {
		c.Hooks.Assembling = func() {
			var raw [][]byte
			err := filepath.WalkDir(filepath.Join(e.dir, "media"), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				raw = append(raw, b)
				return err
			})
			if err != nil || len(raw) == 0 {
				t.Errorf("%d media files on disk to scan, %v", len(raw), err)
			}
			for id, size := range zoomFiles(e.srv.Dataset().User(jane)) {
				if size < 32 {
					continue
				}
				plain := zoomtest.FileBytes(id, 32)
				for _, b := range raw {
					if bytes.Contains(b, plain) {
						t.Errorf("a media file on disk holds the plaintext of file %s", id)
					}
				}
				scanned++
			}
		}
	}}, nil))
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	if scanned == 0 {
		t.Fatal("no media file was scanned")
	}
	checkMedia(t, r, e.verify(r), zoomFiles(e.srv.Dataset().User(jane)), nil)
}

// TestMediaChangedOnDisk: a media file changed after it was recorded is
// caught when the bundle is written; the request fails and writes no
// bundle.
func TestMediaChangedOnDisk(t *testing.T) {
	t.Parallel()
	var e *env
	e = newEnv(t, withMedia(envConfig{proc: func(c *dsar.Config) {
		c.Hooks.Assembling = func() {
			files, err := filepath.Glob(filepath.Join(e.dir, "media", "*", dsar.SectionPhoneVoicemails, "*"))
			if err != nil || len(files) == 0 {
				t.Errorf("no voicemail file to change: %v", err)
				return
			}
			b, err := os.ReadFile(files[0])
			if err == nil {
				b[0] ^= 0xff
				err = os.WriteFile(files[0], b, 0o600)
			}
			if err != nil {
				t.Error(err)
			}
		}
	}}, nil))
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateFailed {
		t.Fatalf("state %s, want FAILED", r.State)
	}
	if r.Bundle.Path != "" {
		t.Errorf("a bundle was recorded: %s", r.Bundle.Path)
	}
	if left, _ := filepath.Glob(filepath.Join(e.dir, "bundles", "*")); len(left) != 0 {
		t.Errorf("bundle files left: %v", left)
	}
}

// TestValidMediaName: the one path rule (UnsafePath) and the limits of a
// media name.
func TestValidMediaName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"abc/def.mp4", true},
		{"uuid_x-1/file.M4A", true},
		{"", false},
		{"/abs", false},
		{"a/../b", false},
		{"a/./b", false},
		{"a//b", false},
		{`a\b`, false},
		{"C:x", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a.part", false},
		{strings.Repeat("a", 256), false},
		{strings.Repeat("a/", 256) + "a", false},
	} {
		if got := dsar.ValidMediaName(tt.name); got != tt.ok {
			t.Errorf("ValidMediaName(%q) = %v, want %v (UnsafePath: %q)", tt.name, got, tt.ok, dsar.UnsafePath(tt.name))
		}
	}
}
