package bundle

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// TestCSV: each table of the report is a CSV file beside the JSON, with
// the report's columns and the paths of a record's media files; a cell
// that a spreadsheet would run as a formula is not one.
func TestCSV(t *testing.T) {
	req, src := testRequest()
	src.pages["meetings/scheduled"] = append(src.pages["meetings/scheduled"], page(`{"meetings":[{"id":7,"topic":"=HYPERLINK(\"http://x.test\")","duration":-5}]}`))
	b, _ := writeBundle(t, req, src, testKey(1))
	_, content, _ := readZip(t, b)
	read := func(name string) [][]string {
		t.Helper()
		rows, err := csv.NewReader(bytes.NewReader(content[name])).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return rows
	}
	meetings := read("data/meetings.scheduled.csv")
	if !slices.Equal(meetings[0], []string{"Topic", "Start", "Duration", "Time zone", "Meeting ID"}) || len(meetings) != 6 {
		t.Errorf("meetings CSV: header %q, %d lines, want the report's columns and 5 records", meetings[0], len(meetings))
	}
	if got := meetings[1]; !slices.Equal(got, []string{"Meeting 1", "2025-11-02 11:00 CET", "0:30:00", "Europe/Berlin", "1"}) {
		t.Errorf("first meeting %q", got)
	}
	if got := meetings[5][0]; got != `'=HYPERLINK("http://x.test")` {
		t.Errorf("a formula from Zoom's data is written as %q", got)
	}
	recs := read("data/cloud_recordings.recordings.csv")
	if last := recs[0][len(recs[0])-1]; last != "Media" || recs[1][len(recs[1])-1] != "media/cloud_recordings/2025-11-05 1100 Recorded/video.mp4" {
		t.Errorf("recordings CSV links %q under %q", recs[1][len(recs[1])-1], last)
	}
	settings := read("data/settings.csv")
	if !slices.ContainsFunc(settings, func(r []string) bool { return slices.Equal(r, []string{"in_meeting.chat", "yes"}) }) {
		t.Errorf("settings CSV %q lacks Zoom's key and its value", settings)
	}
	for name := range content {
		if name == "data/phone_call_history.csv" || name == "data/phone_voicemails.csv" {
			t.Errorf("%s: a section that does not apply has a CSV", name)
		}
	}
	for _, s := range req.Sections {
		if s.State != dsar.SectionComplete {
			continue
		}
		for _, p := range s.Parts {
			if _, ok := content[CSVPath(s.Section, p.Name)]; !ok {
				t.Errorf("no %s", CSVPath(s.Section, p.Name))
			}
		}
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "@SUM(A1)": "'@SUM(A1)", "-x": "'-x", "-5": "-5", "plain": "plain", "": "",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}
