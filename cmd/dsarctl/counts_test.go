package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// The record counts of one request as each reader shows them, by section.
type counts map[string]int64

var (
	// A plain watch line: "  meetings COMPLETE records=12 pages=3 calls=3".
	watchLine = regexp.MustCompile(`(?m)^  ([a-z_]+) [A-Z_]+ records=(\d+) `)
	// A row of the report's summary table; "&mdash;" for a section that
	// does not apply.
	reportRow = regexp.MustCompile(`<tr><td><a href="#s-([a-z_]+)">[^<]*</a></td><td>[^<]*</td><td>(\d+|&mdash;)</td>`)
	// A line of the demo's summary: "  meetings  COMPLETE  12 records".
	demoLine = regexp.MustCompile(`(?m)^  ([a-z_]+) +[A-Z_]+ +(\d+) records?$`)
)

// lastCounts returns the last count re finds for each section in s.
func lastCounts(t *testing.T, re *regexp.Regexp, s string) counts {
	t.Helper()
	out := counts{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64) // "&mdash;" is 0
		out[m[1]] = n
	}
	if len(out) == 0 {
		t.Fatalf("no counts found in:\n%s", s)
	}
	return out
}

func getCounts(r *dsarv1.AccessRequest) counts {
	out := counts{}
	for _, s := range r.GetSections() {
		out[s.GetName()] = s.GetRecords()
	}
	return out
}

// bundleCounts returns the counts of a bundle's manifest, of its report's
// summary table and of its data files, read as a person would: every
// element of a list is a record, an object is one, and a meeting listed
// under several of scheduled, upcoming and previous is one (by uuid).
func bundleCounts(t *testing.T, zipData []byte) (manifest, report, data counts) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		f, err := zr.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var m bundle.Manifest
	if err := json.Unmarshal(read(bundle.ManifestPath), &m); err != nil {
		t.Fatal(err)
	}
	manifest, data = counts{}, counts{}
	for _, s := range m.Sections {
		manifest[s.Name] = s.Records
		data[s.Name] = dataRecords(t, s.Name, read(s.Entry))
	}
	report = lastCounts(t, reportRow, string(read(bundle.IndexPath)))
	return manifest, report, data
}

// dataRecords counts the records of a data/<section>.json entry. A part
// fetched item by item is an object keyed by item, each an object or an
// array of records; the details of a section's records (transcriptions,
// summaries, participant audio) count with them.
func dataRecords(t *testing.T, section string, b []byte) int64 {
	t.Helper()
	parts := map[string]json.RawMessage{}
	if len(dsar.PartsOf(section)) == 1 {
		parts[section] = b
	} else if err := json.Unmarshal(b, &parts); err != nil {
		t.Fatalf("%s: %v", section, err)
	}
	var n int64
	uuids := map[string]bool{}
	for part, raw := range parts {
		if dsar.IsDetail(section, part) {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", section, err)
		}
		if dsar.ItemsFrom(section, part) != nil {
			for _, it := range v.(map[string]any) {
				if recs, ok := it.([]any); ok {
					n += int64(len(recs))
				} else {
					n++
				}
			}
			continue
		}
		switch v := v.(type) {
		case map[string]any:
			n++
		case []any:
			for _, rec := range v {
				if section != dsar.SectionMeetings {
					n++
					continue
				}
				uuid, _ := rec.(map[string]any)["uuid"].(string)
				if uuid == "" || !uuids[uuid] {
					n++
				}
				uuids[uuid] = true
			}
		}
	}
	return n
}

// emulatorCounts are the records the emulator holds for a user on a paid
// plan with AI summaries, each once: a meeting Zoom lists as scheduled and
// upcoming is one of u.Meetings; of the six-month sections, what falls in
// the six months before now.
func emulatorCounts(u *zoomtest.User, now time.Time) counts {
	c := counts{
		dsar.SectionProfile:         1 + int64(len(u.Assistants)+len(u.Schedulers)),
		dsar.SectionSettings:        1,
		dsar.SectionMeetings:        int64(len(u.Meetings)),
		dsar.SectionCloudRecordings: int64(len(u.Recordings)),
		dsar.SectionGroups:          int64(len(u.GroupIDs) + len(u.IMGroupIDs)),
	}
	sixAgo := time.Date(now.Year(), now.Month()-6, now.Day(), 0, 0, 0, 0, time.UTC)
	in := func(at time.Time) int64 {
		if at.Before(sixAgo) {
			return 0
		}
		return 1
	}
	for _, m := range u.Meetings {
		if m.Past() && m.ParticipantsCount >= 2 {
			c[dsar.SectionMeetingsAttended] += in(m.StartTime)
		}
	}
	for _, j := range u.Joined {
		c[dsar.SectionMeetingsAttended] += in(j.StartTime)
	}
	for _, s := range u.Summaries {
		c[dsar.SectionMeetingSummaries] += in(s.MeetingStart)
	}
	for _, s := range u.SMS {
		c[dsar.SectionPhoneSMS] += in(s.Last()) * int64(1+len(s.Messages))
	}
	// Team Chat: a session for each conversation and channel with a
	// message in the six months, every channel, and the messages the
	// default policy keeps.
	recent := func(msgs []zoomtest.ChatMessage) int64 {
		for _, m := range msgs {
			if in(m.Time) == 1 {
				return 1
			}
		}
		return 0
	}
	for _, cv := range u.Chat.Conversations {
		c[dsar.SectionTeamChat] += recent(cv.Messages)
	}
	for _, ch := range u.Chat.Channels {
		c[dsar.SectionTeamChat] += 1 + recent(ch.Messages)
	}
	kept, _ := u.ChatKept(string(dsar.ChatConversations), sixAgo)
	c[dsar.SectionTeamChat] += int64(len(kept))
	if u.WebinarAddon {
		c[dsar.SectionWebinars] = int64(len(u.Webinars))
	}
	if p := u.Phone; p != nil {
		c[dsar.SectionPhoneProfile] = 1
		c[dsar.SectionPhoneSettings] = 1
		c[dsar.SectionPhoneCallHistory] = int64(len(p.CallLogs))
		c[dsar.SectionPhoneVoicemails] = int64(len(p.Voicemails))
		c[dsar.SectionPhoneRecordings] = int64(len(p.Recordings))
	}
	return c
}

// checkCounts fails unless every reader gives each section of dsar.Sections
// the same count as the first.
func checkCounts(t *testing.T, readers []string, cs ...counts) {
	t.Helper()
	for _, s := range dsar.Sections {
		for i := 1; i < len(cs); i++ {
			if cs[i][s] != cs[0][s] {
				t.Errorf("section %s: %s counts %d records, %s %d", s, readers[0], cs[0][s], readers[i], cs[i][s])
			}
		}
	}
}
