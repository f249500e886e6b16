package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// memSource is a Source over pages held in memory.
type memSource struct {
	pages map[string][]dsar.Page // "section/part"
	media []memMedia
	err   error // returned by Pages, if set
}

type memMedia struct {
	path string
	data []byte
	size int64  // announced size; len(data) when 0
	sum  string // expected SHA-256, if any
}

func (s *memSource) Pages(ctx context.Context, _, section, part string, fn func(dsar.Page) error) error {
	if s.err != nil {
		return s.err
	}
	for _, p := range s.pages[section+"/"+part] {
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func (s *memSource) Media(ctx context.Context, _ string, fn func(dsar.MediaFile, io.Reader) error) error {
	for _, m := range s.media {
		size := m.size
		if size == 0 {
			size = int64(len(m.data))
		}
		// A path outside media/ becomes a file of no section, whose Path
		// has an empty element: the writer refuses both.
		section, name := "", m.path
		if rest, ok := strings.CutPrefix(m.path, "media/"); ok {
			section, name, _ = strings.Cut(rest, "/")
		}
		f := dsar.MediaFile{Section: section, Name: name, Size: size, SHA256: m.sum}
		if err := fn(f, bytes.NewReader(m.data)); err != nil {
			return err
		}
	}
	return nil
}

// testKey is a fixed key, so that golden bundles stay the same.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// page is a page stored without ids (as an older build stored object
// pages): every record is kept.
func page(body string) dsar.Page { return dsar.Page{Body: []byte(body)} }

// idPage is a page with the ids stored with it when it was fetched.
func idPage(body string, ids ...string) dsar.Page { return dsar.Page{Body: []byte(body), IDs: ids} }

// meetingsPage is a page of GET /users/{id}/meetings holding meetings with
// the given ids.
func meetingsPage(next string, ids ...int) dsar.Page {
	recs := make([]string, len(ids))
	for i, id := range ids {
		recs[i] = fmt.Sprintf(`{"uuid":"u%d==","id":%d,"topic":"Meeting %d","type":2,"start_time":"2025-11-0%dT10:00:00Z","duration":30,"timezone":"Europe/Berlin"}`, id, id, id, id%9+1)
	}
	p := page(fmt.Sprintf(`{"page_size":2,"total_records":5,"next_page_token":%q,"meetings":[%s]}`, next, strings.Join(recs, ",")))
	for _, id := range ids {
		p.IDs = append(p.IDs, fmt.Sprintf("u%d==", id))
	}
	return p
}

// testRequest is a request with every kind of section: several parts, an
// object, pages with records to drop, an empty list, NOT_APPLICABLE phone
// sections, windows and media.
func testRequest() (Input, *memSource) {
	recordings := section(dsar.Section{Name: "cloud_recordings", State: dsar.SectionComplete, Calls: 3}, "recordings:meetings", "trash:meetings")
	recordings.Windows = []dsar.Span{{From: "2025-11-01", To: "2025-12-01"}, {From: "2025-12-01", To: "2026-01-01"}}
	req := Input{
		Request: &dsar.Request{
			ID:        "req-0001",
			Account:   "acct-1",
			Email:     "subject@example.test",
			CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		},
		Finished: time.Date(2026, 1, 2, 3, 9, 0, 0, time.UTC),
		Version:  "v0.0.0-test",
		Sections: []Section{
			section(dsar.Section{Name: "profile", State: dsar.SectionComplete, Calls: 3}, "user", "assistants:assistants", "schedulers:schedulers"),
			section(dsar.Section{Name: "settings", State: dsar.SectionComplete, Calls: 1}, "settings"),
			section(dsar.Section{Name: "meetings", State: dsar.SectionComplete, Calls: 4}, "scheduled:meetings", "upcoming:meetings", "previous_meetings:meetings"),
			section(dsar.Section{Name: "webinars", State: dsar.SectionComplete, Calls: 1}, "webinars:webinars"),
			recordings,
			section(dsar.Section{Name: "phone_call_history", State: dsar.SectionNotApplicable, ReasonCode: 2031,
				Reason: "Zoom Phone has not been enabled for this account.", Calls: 1}, "call_history:call_logs"),
			section(dsar.Section{Name: "phone_voicemails", State: dsar.SectionNotApplicable, ReasonCode: 1001,
				Reason: "User does not exist: x", Calls: 1}, "voice_mails:voice_mails"),
		},
	}
	src := &memSource{pages: map[string][]dsar.Page{
		"profile/user":       {page(`{"id":"KDcuGIm1QgePTO8WbOqwIQ","first_name":"Ada","last_name":"Example","display_name":"Ada Example","email":"subject@example.test","type":2,"role_name":"Member","status":"active","last_login_time":"2025-12-30T08:15:00Z","group_ids":["g1","g2"],"timezone":"Europe/Berlin","custom_attributes":[{"key":"k","value":"v"}]}`)},
		"profile/assistants": {page(`{"assistants":[{"id":"a1","email":"assistant@example.test"}]}`)},
		"profile/schedulers": {page(`{"schedulers":[]}`)},
		"settings/settings":  {page(`{"in_meeting":{"chat":true,"polling":false},"recording":{"cloud_recording":true}}`)},
		"meetings/scheduled": {meetingsPage("t1", 1, 2), meetingsPage("t2", 3, 4)},
		// The window was redone after its token expired: 1 and 2 are dropped.
		"meetings/previous_meetings": {meetingsPage("", 5), withDrop(meetingsPage("", 1, 2, 6), "u1==", "u2==")},
		"cloud_recordings/recordings": {
			idPage(`{"from":"2025-11-01","to":"2025-12-01","meetings":[{"uuid":"r1==","id":10,"topic":"Recorded","start_time":"2025-11-05T10:00:00Z","duration":10,"recording_count":1,"total_size":2048,"recording_files":[{"id":"f1","file_type":"MP4","file_size":2048},{"id":"gone","file_type":"M4A","file_size":9}]}]}`, "r1=="),
			page(`{"from":"2025-12-01","to":"2026-01-01","meetings":[]}`),
		},
		"cloud_recordings/trash": {page(`{"meetings":[{"uuid":"r2==","id":11,"topic":"Deleted","start_time":"2025-10-01T10:00:00Z","duration":5}]}`)},
	}, media: []memMedia{
		{path: "media/cloud_recordings/r1==/f1.mp4", data: bytes.Repeat([]byte{0, 1, 2, 3}, 512),
			sum: "aef4b170ae30bba129216c25933ca5ee84e5e6527466b1ed42ed4abf086659db"},
	}}
	req.Files = recordingFiles
	return req, src
}

// recordingFiles is Input.Files for the test's recordings: each file of a
// meeting is <uuid>/<id>.<type>, as zoomclient names them.
func recordingFiles(section, part string, body []byte) ([]dsar.MediaFile, error) {
	if section != "cloud_recordings" {
		return nil, nil
	}
	var p struct {
		Meetings []struct {
			UUID  string `json:"uuid"`
			Files []struct {
				ID   string `json:"id"`
				Type string `json:"file_type"`
			} `json:"recording_files"`
		} `json:"meetings"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	var out []dsar.MediaFile
	for _, m := range p.Meetings {
		for _, f := range m.Files {
			out = append(out, dsar.MediaFile{Record: m.UUID, Name: m.UUID + "/" + f.ID + "." + strings.ToLower(f.Type)})
		}
	}
	return out, nil
}

// section is s with the given parts, each "name" (an object part, whose
// page is the record) or "name:list" (its records sit in the page field
// list).
func section(s dsar.Section, parts ...string) Section {
	bs := Section{Section: &s, Lists: map[string]string{}}
	for _, p := range parts {
		name, list, _ := strings.Cut(p, ":")
		s.Parts = append(s.Parts, dsar.Part{Name: name})
		if list != "" {
			bs.Lists[name] = list
		}
	}
	return bs
}

// withDrop marks the records with the given stored ids as dropped.
func withDrop(p dsar.Page, ids ...string) dsar.Page {
	p.Drop = ids
	return p
}

// writeBundle writes a bundle and fails the test on error.
func writeBundle(t testing.TB, req Input, src Source, key ed25519.PrivateKey) ([]byte, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Write(t.Context(), &buf, req, src, key)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes(), res
}
