package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

var update = flag.Bool("update", false, "rewrite golden files")

// readZip opens a bundle with the standard library's reader and returns
// every entry's content in zip order.
func readZip(t testing.TB, b []byte) ([]string, map[string][]byte, *zip.Reader) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("archive/zip: %v", err)
	}
	var names []string
	content := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		names = append(names, f.Name)
		content[f.Name] = data
	}
	return names, content, zr
}

func TestWriteRoundTrip(t *testing.T) {
	req, src := testRequest()
	key := testKey(1)
	b, res := writeBundle(t, req, src, key)

	sum := sha256.Sum256(b)
	if res.Size != int64(len(b)) || res.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("Result size/hash = %d %s, want %d %x", res.Size, res.SHA256, len(b), sum)
	}

	names, content, zr := readZip(t, b)
	want := []string{
		"data/cloud_recordings.json", "data/meetings.json", "data/phone_call_history.json",
		"data/phone_voicemails.json", "data/profile.json", "data/settings.json", "data/webinars.json",
		"media/cloud_recordings/2025-11-05 1100 Recorded/video.mp4",
		"data/cloud_recordings.recordings.csv", "data/cloud_recordings.trash.csv",
		"data/meetings.scheduled.csv", "data/meetings.upcoming.csv", "data/meetings.previous_meetings.csv",
		"data/profile.user.csv", "data/profile.assistants.csv", "data/profile.schedulers.csv",
		"data/settings.csv", "data/webinars.csv",
		"index.html", "manifest.json", "manifest.sig",
	}
	if !slices.Equal(names, want) {
		t.Errorf("entries:\n got %q\nwant %q", names, want)
	}
	for _, f := range zr.File {
		wantMethod := zip.Deflate
		if strings.HasPrefix(f.Name, "media/") || f.Name == SignaturePath {
			wantMethod = zip.Store
		}
		if f.Method != wantMethod {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, wantMethod)
		}
		if !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: modified %v, want 1980-01-01", f.Name, f.Modified)
		}
	}

	// Records are Zoom's bytes, merged across pages, dropped ids left out.
	var meetings map[string][]json.RawMessage
	if err := json.Unmarshal(content["data/meetings.json"], &meetings); err != nil {
		t.Fatalf("data/meetings.json: %v", err)
	}
	var prevIDs []string
	for _, r := range meetings["previous_meetings"] {
		prevIDs = append(prevIDs, string(objectField(r, "id")))
	}
	if !slices.Equal(prevIDs, []string{"5", "6"}) {
		t.Errorf("previous_meetings ids = %v, want [5 6]", prevIDs)
	}
	if len(meetings["scheduled"]) != 4 || len(meetings["upcoming"]) != 0 {
		t.Errorf("scheduled/upcoming = %d/%d records, want 4/0", len(meetings["scheduled"]), len(meetings["upcoming"]))
	}
	if !bytes.Contains(content["data/meetings.json"], []byte(`{"uuid":"u3==","id":3,"topic":"Meeting 3"`)) {
		t.Errorf("data/meetings.json does not hold record 3 as Zoom sent it")
	}
	var profile map[string]json.RawMessage
	if err := json.Unmarshal(content["data/profile.json"], &profile); err != nil {
		t.Fatalf("data/profile.json: %v", err)
	}
	if got := string(profile["user"]); !strings.HasPrefix(got, `{"id":"KDcuGIm1QgePTO8WbOqwIQ"`) {
		t.Errorf("profile.user = %.40s...", got)
	}

	m, err := Verify(bytes.NewReader(b), int64(len(b)), key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	records := map[string]int64{}
	for _, s := range m.Sections {
		records[s.Name] = s.Records
	}
	wantRecords := map[string]int64{
		"profile": 2, "settings": 1, "meetings": 6, "webinars": 0, "cloud_recordings": 2,
		"phone_call_history": 0, "phone_voicemails": 0,
	}
	for name, n := range wantRecords {
		if records[name] != n {
			t.Errorf("section %s: %d records, want %d", name, records[name], n)
		}
	}
	if m.Sections[4].MediaFiles != 1 || len(m.Sections[4].Windows) != 2 || m.Sections[4].Calls != 3 {
		t.Errorf("cloud_recordings manifest = %+v", m.Sections[4])
	}
	if m.Sections[5].ReasonCode != 2031 || m.Sections[5].State != string(dsar.SectionNotApplicable) {
		t.Errorf("phone_call_history manifest = %+v", m.Sections[5])
	}
	if m.Subject != req.Request.Email || m.RequestID != req.Request.ID || m.Account != req.Request.Account ||
		m.Started != "2026-01-02T03:04:05Z" || m.Version != "v0.0.0-test" || m.Outcome != OutcomeComplete {
		t.Errorf("manifest header = %+v", m)
	}
	if len(m.Entries) != len(want)-2 {
		t.Errorf("manifest lists %d entries, want %d", len(m.Entries), len(want)-2)
	}
	for _, e := range m.Entries {
		sum := sha256.Sum256(content[e.Path])
		if e.Size != int64(len(content[e.Path])) || e.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest entry %s does not match its content", e.Path)
		}
	}
	if !reflectEqualManifest(m, &res.Manifest) {
		t.Errorf("Verify's manifest differs from Write's")
	}
}

func reflectEqualManifest(a, b *Manifest) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestWriteDeterministic(t *testing.T) {
	req, src := testRequest()
	a, _ := writeBundle(t, req, src, testKey(1))
	b, _ := writeBundle(t, req, src, testKey(1))
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same pages differ")
	}
	// The request's section order does not change the data entries' order.
	slices.Reverse(req.Sections)
	c, _ := writeBundle(t, req, src, testKey(1))
	names, _, _ := readZip(t, c)
	if !slices.IsSorted(names[:7]) {
		t.Errorf("data entries not sorted: %q", names[:7])
	}
}

// TestWriteGolden pins the bytes of a small bundle. After an intended
// change of the format run: go test ./dsar/bundle -run Golden -update
func TestWriteGolden(t *testing.T) {
	req, src := testRequest()
	_, res := writeBundle(t, req, src, testKey(1))
	golden := filepath.Join("testdata", "golden.sha256")
	if *update {
		if err := os.WriteFile(golden, []byte(res.SHA256+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := res.SHA256; got != strings.TrimSpace(string(want)) {
		t.Errorf("bundle SHA-256 = %s, golden %s: the bundle's bytes changed", got, strings.TrimSpace(string(want)))
	}
}

func TestWriteDataFiles(t *testing.T) {
	list := []string{"p:items"}
	tests := []struct {
		name  string
		parts []string
		pages map[string][]dsar.Page
		want  string
		n     int64
	}{
		{"list over pages", list, map[string][]dsar.Page{"s/p": {page(`{"items":[{"id":1},{"id":2}],"next_page_token":"x"}`), page(`{"items":[{"id":3}]}`)}},
			"[\n  {\"id\":1},\n  {\"id\":2},\n  {\"id\":3}\n]\n", 3},
		{"empty list", list, nil, "[]\n", 0},
		{"list field absent", list, map[string][]dsar.Page{"s/p": {page(`{"total_records":0}`)}}, "[]\n", 0},
		{"list field null", list, map[string][]dsar.Page{"s/p": {page(`{"items":null}`)}}, "[]\n", 0},
		{"drop by stored ids", list,
			map[string][]dsar.Page{"s/p": {withDrop(idPage(`{"items":[{"uuid":"a\"b"},{"uuid":7},{"uuid":"c"}]}`, `a"b`, "7", "c"), `a"b`, "7")}},
			"[\n  {\"uuid\":\"c\"}\n]\n", 1},
		{"records without ids count each", list,
			map[string][]dsar.Page{"s/p": {idPage(`{"items":[{"x":1},{"x":1}]}`, "", "")}}, "[\n  {\"x\":1},\n  {\"x\":1}\n]\n", 2},
		{"ids come from the page, not the record", list,
			map[string][]dsar.Page{"s/p": {idPage(`{"items":[{"id":1},{"id":1}]}`, "a", "b")}}, "[\n  {\"id\":1},\n  {\"id\":1}\n]\n", 2},
		{"object with an id", []string{"p"}, map[string][]dsar.Page{"s/p": {idPage(`{"id":"u"}`, "u")}}, "{\"id\":\"u\"}\n", 1},
		{"object", []string{"p"}, map[string][]dsar.Page{"s/p": {page(" {\"a\": [1, 2]}\n")}}, "{\"a\": [1, 2]}\n", 1},
		{"absent object", []string{"p"}, nil, "null\n", 0},
		{"no parts", nil, nil, "null\n", 0},
		{"several parts", []string{"o", "l:items", "e:items"},
			map[string][]dsar.Page{"s/o": {page(`{"k":"v"}`)}, "s/l": {page(`{"items":[{"id":1}]}`)}},
			"{\n  \"o\": {\"k\":\"v\"},\n  \"l\": [\n    {\"id\":1}\n  ],\n  \"e\": []\n}\n", 2},
		{"listed by two parts, counted once", []string{"a:items", "b:items", "c:items"},
			map[string][]dsar.Page{"s/a": {idPage(`{"items":[{"n":1},{"n":2}]}`, "m1", "m2")},
				"s/b": {idPage(`{"items":[{"n":1},{"n":0}]}`, "m1", "")},
				"s/c": {idPage(`{"items":[{"n":2},{"n":3}]}`, "m2", "m3")}},
			"{\n  \"a\": [\n    {\"n\":1},\n    {\"n\":2}\n  ],\n  \"b\": [\n    {\"n\":1},\n    {\"n\":0}\n  ],\n  \"c\": [\n    {\"n\":2},\n    {\"n\":3}\n  ]\n}\n", 4},
		{"same id in lists of another field, counted in each", []string{"a:assistants", "b:schedulers"},
			map[string][]dsar.Page{"s/a": {idPage(`{"assistants":[{"n":1}]}`, "p1")}, "s/b": {idPage(`{"schedulers":[{"n":1}]}`, "p1")}},
			"{\n  \"a\": [\n    {\"n\":1}\n  ],\n  \"b\": [\n    {\"n\":1}\n  ]\n}\n", 2},
		{"escaped key and nested values", list, map[string][]dsar.Page{"s/p": {page(`{"x":{"items":[9]},"it\u0065ms":[{"a":"]}\\"},[{}]]}`)}},
			"[\n  {\"a\":\"]}\\\\\"},\n  [{}]\n]\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Input{Request: &dsar.Request{ID: "r"}, Version: "v", Sections: []Section{section(dsar.Section{Name: "s", State: dsar.SectionComplete}, tt.parts...)}}
			b, res := writeBundle(t, req, &memSource{pages: tt.pages}, testKey(1))
			_, content, _ := readZip(t, b)
			if got := string(content["data/s.json"]); got != tt.want {
				t.Errorf("data/s.json = %q, want %q", got, tt.want)
			}
			if !json.Valid(content["data/s.json"]) {
				t.Errorf("data/s.json is not valid JSON")
			}
			if res.Manifest.Sections[0].Records != tt.n {
				t.Errorf("records = %d, want %d", res.Manifest.Sections[0].Records, tt.n)
			}
		})
	}
}

// TestWriteListings checks that a record two parts list is counted once in
// the manifest and the report, which says why, while the data keeps both
// listings.
func TestWriteListings(t *testing.T) {
	src := &memSource{pages: map[string][]dsar.Page{
		"meetings/scheduled": {idPage(`{"meetings":[{"uuid":"a"},{"uuid":"b"}]}`, "a", "b")},
		"meetings/upcoming":  {idPage(`{"meetings":[{"uuid":"b"}]}`, "b")},
	}}
	req := Input{Request: &dsar.Request{ID: "r"}, Version: "v", Sections: []Section{section(dsar.Section{Name: "meetings", State: dsar.SectionComplete}, "scheduled:meetings", "upcoming:meetings")}}
	b, res := writeBundle(t, req, src, testKey(1))
	ms := res.Manifest.Sections[0]
	if ms.Records != 2 || ms.Listings != 3 {
		t.Errorf("manifest: %d records, %d listings; want 2, 3", ms.Records, ms.Listings)
	}
	_, content, _ := readZip(t, b)
	var data map[string][]json.RawMessage
	if err := json.Unmarshal(content["data/meetings.json"], &data); err != nil {
		t.Fatal(err)
	}
	if len(data["scheduled"]) != 2 || len(data["upcoming"]) != 1 {
		t.Errorf("data keeps %d/%d listings, want 2/1", len(data["scheduled"]), len(data["upcoming"]))
	}
	index := string(content[IndexPath])
	for _, want := range []string{"2 records", "(3 listings): each record is counted once"} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	sec := []Section{section(dsar.Section{Name: "s", State: dsar.SectionComplete}, "p:items")}
	obj := []Section{section(dsar.Section{Name: "s", State: dsar.SectionComplete}, "p")}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	srcErr := errors.New("store is closed")
	tests := []struct {
		name     string
		ctx      context.Context
		sections []Section
		src      *memSource
		want     string
		is       error
	}{
		{"malformed page", nil, sec, &memSource{pages: map[string][]dsar.Page{"s/p": {page(`{"items":[1,`)}}}, "page 1: malformed JSON", nil},
		{"list is not a list", nil, sec, &memSource{pages: map[string][]dsar.Page{"s/p": {page(`{"items":{}}`)}}}, "not a list", nil},
		{"object page is a list", nil, obj, &memSource{pages: map[string][]dsar.Page{"s/p": {page(`[1]`)}}}, "not a JSON object", nil},
		{"two object pages", nil, obj, &memSource{pages: map[string][]dsar.Page{"s/p": {page(`{}`), page(`{}`)}}}, "more than one page", nil},
		{"stored ids do not match the records", nil, sec, &memSource{pages: map[string][]dsar.Page{"s/p": {idPage(`{"items":[1,2]}`, "a")}}},
			"2 records but 1 stored ids", nil},
		{"source fails", nil, sec, &memSource{err: srcErr}, "store is closed", srcErr},
		{"cancelled", cancelled, sec, &memSource{pages: map[string][]dsar.Page{"s/p": {page(`{}`)}}}, "canceled", context.Canceled},
		{"repeated section", nil, append(sec, sec...), &memSource{}, "repeated section", nil},
		{"section name with slash", nil, []Section{section(dsar.Section{Name: "../x"})}, &memSource{}, "invalid", nil},
		{"section without its domain section", nil, []Section{{}}, &memSource{}, "without its dsar.Section", nil},
		{"media outside media/", nil, nil, &memSource{media: []memMedia{{path: "data/x.json", data: []byte("x")}}}, "invalid media path", nil},
		{"media with ..", nil, nil, &memSource{media: []memMedia{{path: "media/s/../../x", data: []byte("x")}}}, "invalid media path", nil},
		{"media with a drive letter", nil, nil, &memSource{media: []memMedia{{path: "media/s/C:x", data: []byte("x")}}}, "invalid media path", nil},
		{"media with an empty element", nil, nil, &memSource{media: []memMedia{{path: "media/s//x", data: []byte("x")}}}, "invalid media path", nil},
		{"media out of order", nil, nil, &memSource{media: []memMedia{{path: "media/s/b", data: []byte("x")}, {path: "media/s/a", data: []byte("x")}}}, "ascending", nil},
		{"media shorter than announced", nil, nil, &memSource{media: []memMedia{{path: "media/s/a", data: []byte("x"), size: 5}}}, "got 1 bytes, want 5", nil},
		{"media changed since recorded", nil, nil, &memSource{media: []memMedia{{path: "media/s/a", data: []byte("x"), sum: strings.Repeat("0", 64)}}}, "SHA-256 is 2d711642", nil},
		{"media with negative size", nil, nil, &memSource{media: []memMedia{{path: "media/s/a", size: -1}}}, "negative size", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			req := Input{Request: &dsar.Request{ID: "r"}, Sections: tt.sections}
			_, err := Write(ctx, io.Discard, req, tt.src, testKey(1))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
	if _, err := Write(t.Context(), io.Discard, Input{Request: &dsar.Request{ID: "r"}}, &memSource{}, nil); err == nil {
		t.Error("Write without a key succeeded")
	}
	if _, err := Write(t.Context(), io.Discard, Input{}, &memSource{}, testKey(1)); err == nil || !strings.Contains(err.Error(), "no request") {
		t.Errorf("Write without a request: error = %v, want one containing %q", err, "no request")
	}
}

// failWriter fails once, the write that reaches past its first n bytes;
// later writes succeed, so no error but that one can fail Write.
type failWriter struct {
	n      int
	failed bool
}

var errFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if !w.failed && len(p) > w.n {
		w.failed = true
		return w.n, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteFailingOutput: an output that fails, at the start or within
// an entry written from another goroutine (asyncWriter), fails Write with
// its error.
func TestWriteFailingOutput(t *testing.T) {
	var recs []string
	for i := range 3000 {
		recs = append(recs, fmt.Sprintf(`{"id":%d,"topic":"t%d"}`, i, i))
	}
	src := &memSource{pages: map[string][]dsar.Page{"meetings/scheduled": {page(`{"meetings":[` + strings.Join(recs, ",") + `]}`)}}}
	req := Input{Request: &dsar.Request{ID: "r"}, Version: "v", Sections: []Section{section(dsar.Section{Name: "meetings", State: dsar.SectionComplete}, "scheduled:meetings")}, TempDir: t.TempDir()}
	b, _ := writeBundle(t, req, src, testKey(1))
	for _, n := range []int{0, 100, len(b) / 2, len(b) - 100} {
		if _, err := Write(t.Context(), &failWriter{n: n}, req, src, testKey(1)); !errors.Is(err, errFull) {
			t.Errorf("output failing after %d of %d bytes: Write error = %v, want %v", n, len(b), err, errFull)
		}
	}
}

func TestWriteNoZoomUser(t *testing.T) {
	key := testKey(2)
	req := Input{Request: &dsar.Request{ID: "r2", Account: "acct", Email: "nobody@example.test", Outcome: dsar.OutcomeNoZoomUser}, Version: "v"}
	b, res := writeBundle(t, req, &memSource{}, key)
	m, err := Verify(bytes.NewReader(b), int64(len(b)), key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if m.Outcome != dsar.OutcomeNoZoomUser || len(m.Sections) != 0 || res.Manifest.Outcome != dsar.OutcomeNoZoomUser {
		t.Errorf("manifest outcome %q with %d sections", m.Outcome, len(m.Sections))
	}
	names, content, _ := readZip(t, b)
	if !slices.Equal(names, []string{IndexPath, ManifestPath, SignaturePath}) {
		t.Errorf("entries = %q", names)
	}
	if !bytes.Contains(content[IndexPath], []byte("Zoom has no user with this email address")) {
		t.Errorf("index.html does not say there is no Zoom user")
	}
}

// TestAsyncWriter: the bytes reach w whole and in order, in writes of any
// size; w's error comes back from Write once known, and from wait.
func TestAsyncWriter(t *testing.T) {
	want := make([]byte, 300<<10)
	for i := range want {
		want[i] = byte(i * 31 >> 3)
	}
	var got bytes.Buffer
	a := &asyncWriter{w: &got}
	for round := range 2 { // the second reuses the buffers
		got.Reset()
		a.start()
		for p, n := want, 1; len(p) > 0; n = n*3 + round {
			m := min(n, len(p))
			if k, err := a.Write(p[:m]); k != m || err != nil {
				t.Fatalf("Write = %d, %v; want %d, nil", k, err, m)
			}
			p = p[m:]
		}
		if err := a.wait(); err != nil || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("round %d: wait = %v; %d bytes written, equal: %v", round, err, got.Len(), bytes.Equal(got.Bytes(), want))
		}
	}

	a = &asyncWriter{w: &failWriter{n: 100}}
	a.start()
	var err error
	for range 10 { // the failure is noticed by a later Write
		if _, err = a.Write(want[:64<<10]); err != nil {
			break
		}
	}
	if werr := a.wait(); !errors.Is(err, errFull) || !errors.Is(werr, errFull) {
		t.Errorf("failing writer: Write error %v, wait error %v; want %v", err, werr, errFull)
	}
}
