package store

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestCommitMedia(t *testing.T) {
	db, _, _ := openTest(t)
	createTest(t, db)
	ctx := t.Context()
	commits := []struct {
		section string
		f       dsar.MediaFile
	}{
		{dsar.SectionPhoneVoicemails, dsar.MediaFile{Name: "v2.mp3", Size: 20, SHA256: sum("v2"), Done: true, Calls: 1}},
		{dsar.SectionCloudRecordings, dsar.MediaFile{Name: "m_b/f1.mp4", Size: 10, SHA256: sum("f1"), Done: true, Calls: 2}},
		{dsar.SectionCloudRecordings, dsar.MediaFile{Name: "m_a/f2.m4a", Missing: "the file no longer exists", Calls: 1}},
		{dsar.SectionPhoneVoicemails, dsar.MediaFile{Name: "v1.mp3", Size: 0, SHA256: sum(""), Done: true}},
		// A file first missing may be found later.
		{dsar.SectionPhoneVoicemails, dsar.MediaFile{Name: "v3.mp3", Missing: "gone"}},
		{dsar.SectionPhoneVoicemails, dsar.MediaFile{Name: "v3.mp3", Size: 3, SHA256: sum("v3"), Done: true, Calls: 1, Unsized: true}},
	}
	for _, c := range commits {
		if err := db.CommitMedia(ctx, "r1", c.section, c.f); err != nil {
			t.Fatalf("CommitMedia %s/%s: %v", c.section, c.f.Name, err)
		}
	}
	got, err := db.Media(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := []dsar.MediaFile{
		{Section: dsar.SectionCloudRecordings, Name: "m_a/f2.m4a", Missing: "the file no longer exists"},
		{Section: dsar.SectionCloudRecordings, Name: "m_b/f1.mp4", Size: 10, SHA256: sum("f1"), Done: true},
		{Section: dsar.SectionPhoneVoicemails, Name: "v1.mp3", SHA256: sum(""), Done: true},
		{Section: dsar.SectionPhoneVoicemails, Name: "v2.mp3", Size: 20, SHA256: sum("v2"), Done: true},
		{Section: dsar.SectionPhoneVoicemails, Name: "v3.mp3", Size: 3, SHA256: sum("v3"), Done: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Media:\n got %+v\nwant %+v", got, want)
	}
	for _, c := range []struct {
		section string
		calls   int64
	}{{dsar.SectionCloudRecordings, 3}, {dsar.SectionPhoneVoicemails, 2}, {dsar.SectionPhoneRecordings, 0}} {
		s, err := db.Section(ctx, "r1", c.section)
		if err != nil {
			t.Fatal(err)
		}
		if s.Calls != c.calls {
			t.Errorf("%s: %d calls, want %d", c.section, s.Calls, c.calls)
		}
	}
	// Sections counts the settled files, done or missing, and the bytes
	// of those done.
	secs, err := db.Sections(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	wantMedia := map[string]dsar.MediaProgress{
		dsar.SectionCloudRecordings: {FilesDone: 2, BytesDone: 10},
		dsar.SectionPhoneVoicemails: {FilesDone: 3, BytesDone: 23, BytesTotal: 3}, // v3 was listed without a size
		dsar.SectionPhoneRecordings: {},
	}
	for _, s := range secs {
		if w, ok := wantMedia[s.Name]; ok && s.Media != w {
			t.Errorf("%s: media %+v, want %+v", s.Name, s.Media, w)
		}
	}
	// A done file is never recorded again.
	err = db.CommitMedia(ctx, "r1", dsar.SectionPhoneVoicemails, dsar.MediaFile{Name: "v2.mp3", Size: 20, SHA256: sum("x"), Done: true})
	if dsar.ErrorCode(err) != dsar.EPRECONDITION {
		t.Errorf("second commit of a done file: %v, want precondition", err)
	}
}

func TestCommitMediaRejects(t *testing.T) {
	db, _, _ := openTest(t)
	createTest(t, db)
	ok := dsar.MediaFile{Name: "a/b.mp4", Size: 1, SHA256: sum("b"), Done: true}
	with := func(fn func(*dsar.MediaFile)) dsar.MediaFile {
		f := ok
		fn(&f)
		return f
	}
	tests := []struct {
		name        string
		id, section string
		f           dsar.MediaFile
		code        string
	}{
		{"empty name", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = "" }), dsar.EINVALID},
		{"parent", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = "../b.mp4" }), dsar.EINVALID},
		{"absolute", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = "/b.mp4" }), dsar.EINVALID},
		{"empty component", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = "a//b.mp4" }), dsar.EINVALID},
		{"zero byte", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = "a\x00b" }), dsar.EINVALID},
		{"backslash", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = `a\b` }), dsar.EINVALID},
		{"partial suffix", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = "a/b.part" }), dsar.EINVALID},
		{"too long", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Name = strings.Repeat("x", 600) }), dsar.EINVALID},
		{"done without hash", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.SHA256 = "" }), dsar.EINVALID},
		{"upper-case hash", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.SHA256 = strings.ToUpper(f.SHA256) }), dsar.EINVALID},
		{"done and missing", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Missing = "gone" }), dsar.EINVALID},
		{"neither", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Done = false }), dsar.EINVALID},
		{"negative size", "r1", dsar.SectionCloudRecordings, with(func(f *dsar.MediaFile) { f.Size = -1 }), dsar.EINVALID},
		{"unknown request", "r2", dsar.SectionCloudRecordings, ok, dsar.ENOTFOUND},
		{"unknown section", "r1", "chat", ok, dsar.ENOTFOUND},
		{"empty section", "r1", "", ok, dsar.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.CommitMedia(t.Context(), tt.id, tt.section, tt.f)
			if got := dsar.ErrorCode(err); got != tt.code {
				t.Errorf("code %q (%v), want %q", got, err, tt.code)
			}
		})
	}
	files, err := db.Media(t.Context(), "r1")
	if err != nil || len(files) != 0 {
		t.Errorf("rejected commits stored %v (%v)", files, err)
	}
	if _, err := db.Media(t.Context(), "r2"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("Media of an unknown request: %v", err)
	}
}

// TestMediaOlderFile opens a version 1 store written before the media
// bucket existed: the migration adds it.
func TestMediaOlderFile(t *testing.T) {
	path := copyFile(t, fixturePath(1))
	updateFile(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketMedia) })
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	files, err := db.Media(t.Context(), "r-wait")
	if err != nil || len(files) != 0 {
		t.Fatalf("Media of a file without the bucket: %v, %v", files, err)
	}
	f := dsar.MediaFile{Name: "v.mp3", Size: 1, SHA256: sum("v"), Done: true}
	if err := db.CommitMedia(t.Context(), "r-wait", dsar.SectionPhoneVoicemails, f); err != nil {
		t.Fatalf("CommitMedia in a file without the bucket: %v", err)
	}
	files, err = db.Media(t.Context(), "r-wait")
	if err != nil || len(files) != 1 || files[0].Path() != "media/phone_voicemails/v.mp3" {
		t.Errorf("Media: %+v, %v", files, err)
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}

// TestResetSectionMedia: a retry from the start forgets the section's
// files, so they are downloaded again, and no other section's.
func TestResetSectionMedia(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	for _, sec := range []string{dsar.SectionCloudRecordings, dsar.SectionPhoneVoicemails} {
		if err := db.CommitMedia(ctx, "r1", sec, dsar.MediaFile{Name: "f.bin", Size: 1, SHA256: sum("x"), Done: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ResetSection(ctx, "r1", dsar.SectionCloudRecordings); err != nil {
		t.Fatal(err)
	}
	files, err := db.Media(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Section != dsar.SectionPhoneVoicemails {
		t.Errorf("after the reset: %+v, want only the voicemail", files)
	}
	// The reset section counts none of its files now; the other keeps its
	// count, and the file recorded again counts once.
	if err := db.CommitMedia(ctx, "r1", dsar.SectionCloudRecordings, dsar.MediaFile{Name: "f.bin", Missing: "gone"}); err != nil {
		t.Fatal(err)
	}
	for sec, want := range map[string]dsar.MediaProgress{
		dsar.SectionCloudRecordings: {FilesDone: 1},
		dsar.SectionPhoneVoicemails: {FilesDone: 1, BytesDone: 1},
	} {
		if s, err := db.Section(ctx, "r1", sec); err != nil || s.Media != want {
			t.Errorf("%s after the reset: media %+v (%v), want %+v", sec, s.Media, err, want)
		}
	}
}
