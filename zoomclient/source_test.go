package zoomclient

import (
	"bytes"
	"errors"
	"path"
	"reflect"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

func TestSourceFiles(t *testing.T) {
	s := NewSource(nil)
	tests := []struct {
		name          string
		section, part string
		page          string
		want          []dsar.MediaFile
		wantErr       bool
	}{
		{
			name: "recordings", section: dsar.SectionCloudRecordings, part: dsar.PartRecordings,
			page: `{"meetings":[{"uuid":"/ab+c/d==","recording_files":[
				{"id":"f-1","file_type":"MP4","file_extension":"MP4","file_size":100,"download_url":"https://z/rec/download/f-1"},
				{"file_type":"CC","file_extension":"VTT","download_url":"https://z/rec/download/cc"},
				{"file_type":"CC","file_extension":"VTT","download_url":"https://z/rec/download/cc2"},
				{"file_type":"TIMELINE","file_extension":"JSON","download_url":"https://z/rec/download/tl"},
				{"id":"f-2","file_type":"MP4","file_extension":"MP4","file_size":5}]},
				{"uuid":"..","recording_files":[{"id":"../x","file_extension":"M4A","file_size":7,"download_url":"u"}]}]}`,
			want: []dsar.MediaFile{
				{Record: "/ab+c/d==", Name: "_ab-c_d/f-1.mp4", URL: "https://z/rec/download/f-1", Size: 100},
				{Record: "/ab+c/d==", Name: "_ab-c_d/cc.vtt", URL: "https://z/rec/download/cc"},
				{Record: "/ab+c/d==", Name: "_ab-c_d/cc-2.vtt", URL: "https://z/rec/download/cc2"},
				{Record: "/ab+c/d==", Name: "_ab-c_d/timeline.json", URL: "https://z/rec/download/tl"},
				{Record: "..", Name: "__/___x.m4a", URL: "u", Size: 7},
			},
		},
		{
			name: "trash", section: dsar.SectionCloudRecordings, part: dsar.PartTrash,
			page: `{"meetings":[]}`,
		},
		{
			name: "voicemails", section: dsar.SectionPhoneVoicemails, part: dsar.SectionPhoneVoicemails,
			page: `{"voice_mails":[{"id":"v1","download_url":"https://z/v2/phone/voice_mails/download/v1"},{"id":"v2"}]}`,
			want: []dsar.MediaFile{{Record: "v1", Name: "v1.mp3", URL: "https://z/v2/phone/voice_mails/download/v1"}},
		},
		{
			name: "phone recordings", section: dsar.SectionPhoneRecordings, part: dsar.SectionPhoneRecordings,
			page: `{"recordings":[{"id":"r=1","download_url":"https://z/v2/phone/recording/download/r1"}]}`,
			want: []dsar.MediaFile{{Record: "r=1", Name: "r1.mp3", URL: "https://z/v2/phone/recording/download/r1"}},
		},
		{
			name: "no list", section: dsar.SectionPhoneRecordings, part: dsar.SectionPhoneRecordings,
			page: `{"from":"2026-01-01","recordings":null}`,
		},
		{
			name: "section without files", section: dsar.SectionMeetings, part: dsar.PartPrevious,
			page: `not even json`,
		},
		{name: "malformed recordings", section: dsar.SectionCloudRecordings, part: dsar.PartRecordings, page: `{"meetings":[{`, wantErr: true},
		{name: "meeting without uuid", section: dsar.SectionCloudRecordings, part: dsar.PartRecordings,
			page: `{"meetings":[{"recording_files":[]}]}`, wantErr: true},
		{name: "malformed voicemails", section: dsar.SectionPhoneVoicemails, part: dsar.SectionPhoneVoicemails,
			page: `{"voice_mails":{}}`, wantErr: true},
		{name: "voicemail without id", section: dsar.SectionPhoneVoicemails, part: dsar.SectionPhoneVoicemails,
			page: `{"voice_mails":[{"download_url":"u"}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Files(tt.section, tt.part, []byte(tt.page))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Files:\n got %+v\nwant %+v", got, tt.want)
			}
			for _, f := range got {
				if !dsar.ValidMediaName(f.Name) {
					t.Errorf("unsafe name %q", f.Name)
				}
			}
		})
	}
}

// TestSourceFilesOfJane lists the files of jane's first recordings page
// as Zoom serves it: every file has a distinct, safe name and its size.
func TestSourceFilesOfJane(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv, nil)
	s := NewSource(c)
	seen := map[string]bool{}
	for _, w := range s.Windows(dsar.SectionCloudRecordings, dsar.PartRecordings, t0) {
		f, err := s.Fetch(t.Context(), dsar.Subject{ID: jane, Email: jane}, dsar.SectionCloudRecordings, dsar.PartRecordings, dsar.Cursor{From: w.From, To: w.To})
		if err != nil {
			t.Fatal(err)
		}
		files, err := s.Files(dsar.SectionCloudRecordings, dsar.PartRecordings, f.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range files {
			if seen[mf.Name] || !dsar.ValidMediaName(mf.Name) || mf.Size <= 0 || mf.URL == "" {
				t.Errorf("file %+v: repeated, unsafe, or without size or URL", mf)
			}
			seen[mf.Name] = true
		}
	}
	if len(seen) == 0 {
		t.Fatal("jane has no recording files")
	}
}

// TestSourceDownload: a whole file, one Zoom no longer has (cloud 404 code
// 3301, Phone 400 code 404) as ZoomNotFound, and a resume of a file of
// unknown size that is already whole (416) as done.
func TestSourceDownload(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv, nil)
	s := NewSource(c)
	ctx := t.Context()
	url, size := firstFile(t, c)
	var whole bytes.Buffer
	if n, calls, err := s.Download(ctx, url, 0, &whole, size); err != nil || n != size || calls != 1 {
		t.Fatalf("Download = %d, %d calls, %v; want %d bytes in one call", n, calls, err, size)
	}
	var phone string
	for _, w := range s.Windows(dsar.SectionPhoneRecordings, dsar.SectionPhoneRecordings, t0) {
		f, err := s.Fetch(ctx, dsar.Subject{ID: jane, Email: jane}, dsar.SectionPhoneRecordings, dsar.SectionPhoneRecordings, dsar.Cursor{From: w.From, To: w.To})
		if err != nil {
			t.Fatal(err)
		}
		files, err := s.Files(dsar.SectionPhoneRecordings, dsar.SectionPhoneRecordings, f.Body)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) > 0 {
			phone = files[0].URL
			break
		}
	}
	if phone == "" {
		t.Fatal("jane has no phone recording")
	}
	var rec bytes.Buffer
	n, _, err := s.Download(ctx, phone, 0, &rec, 0)
	if err != nil || n == 0 {
		t.Fatalf("phone recording: %d, %v", n, err)
	}

	t.Run("whole already", func(t *testing.T) {
		var more bytes.Buffer
		got, _, err := s.Download(ctx, phone, n, &more, 0)
		if err != nil || got != 0 || more.Len() != 0 {
			t.Fatalf("Download from the end = %d, %v; want 0, nil", got, err)
		}
	})
	for _, tt := range []struct{ name, url string }{
		{"cloud recording", strings.TrimSuffix(url, path.Base(url)) + "no-such-file"},
		{"phone recording", strings.TrimSuffix(phone, path.Base(phone)) + "no-such-file"},
	} {
		t.Run(tt.name+" gone", func(t *testing.T) {
			_, _, err := s.Download(ctx, tt.url, 0, &bytes.Buffer{}, 0)
			var ze *dsar.ZoomError
			if !errors.As(err, &ze) || ze.Kind != dsar.ZoomNotFound || !strings.Contains(ze.Message, "no longer exists") {
				t.Fatalf("err = %v, want ZoomNotFound", err)
			}
		})
	}
}

// TestSourceTotal: Zoom's total_records and page_size are read from a
// list's page; a page without a total, an object part or a page that is
// not JSON has none.
func TestSourceTotal(t *testing.T) {
	src := NewSource(nil)
	tests := []struct {
		section, part, page string
		records, perPage    int64
		ok                  bool
	}{
		{dsar.SectionCloudRecordings, dsar.PartRecordings, `{"page_size":300,"total_records":650,"meetings":[]}`, 650, 300, true},
		// An answer without page_size holds the endpoint's page size.
		{dsar.SectionTeamChat, dsar.PartChannels, `{"total_records":7,"channels":[]}`, 7, 50, true},
		{dsar.SectionMeetings, dsar.PartScheduled, `{"total_records":0,"meetings":[]}`, 0, 300, true},
		{dsar.SectionTeamChat, dsar.PartMessages, `{"page_size":50,"messages":[]}`, 0, 0, false},
		{dsar.SectionProfile, dsar.PartUser, `{"total_records":3}`, 0, 0, false},
		{dsar.SectionCloudRecordings, dsar.PartRecordings, `not json`, 0, 0, false},
	}
	for _, tt := range tests {
		n, size, ok := src.Total(tt.section, tt.part, []byte(tt.page))
		if n != tt.records || size != tt.perPage || ok != tt.ok {
			t.Errorf("%s/%s %s: %d, %d, %v; want %d, %d, %v", tt.section, tt.part, tt.page, n, size, ok, tt.records, tt.perPage, tt.ok)
		}
	}
}
