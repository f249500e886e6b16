package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

func TestTime(t *testing.T) {
	at := time.Date(2026, 12, 6, 19, 15, 0, 0, time.UTC)
	for _, tc := range []struct {
		loc  *time.Location
		want string
	}{
		{time.FixedZone("CET", 3600), "2026-12-06T20:15:00+01:00"},
		{time.FixedZone("PST", -8*3600), "2026-12-06T11:15:00-08:00"},
		{time.UTC, "2026-12-06T19:15:00Z"},
	} {
		if got := Time(at, tc.loc); got != tc.want {
			t.Errorf("Time in %s = %q, want %q", tc.loc, got, tc.want)
		}
	}
	if got := Time(time.Time{}, time.UTC); got != "" {
		t.Errorf("Time of the zero time = %q, want \"\"", got)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestViewShowsMediaAndTimes: a watched request's ETA and waiting time
// carry their zone, and a section with files shows them done of total.
func TestViewShowsMediaAndTimes(t *testing.T) {
	eta := time.Date(2026, 12, 6, 19, 15, 0, 0, time.UTC)
	m := &dsarv1.WatchAccessRequestResponse{
		EstimatedCompletionTime: timestamppb.New(eta),
		AccessRequest: &dsarv1.AccessRequest{
			Id: "r1", State: dsarv1.RequestState_REQUEST_STATE_WAITING_ZOOM, WaitingUntil: timestamppb.New(eta.Add(-time.Hour)),
			Sections: []*dsarv1.Section{
				{Name: "cloud_recordings", State: dsarv1.SectionState_SECTION_STATE_RUNNING, Records: 4,
					MediaFilesDone: 3, MediaFilesTotal: 10, MediaBytesDone: 3 << 20, MediaBytesTotal: 10 << 20},
				{Name: "meetings", State: dsarv1.SectionState_SECTION_STATE_COMPLETE, Records: 2},
			},
		},
	}
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		v := NewView(&b, tty)
		v.Loc = time.FixedZone("CET", 3600)
		if err := v.Show(m); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"eta 2026-12-06T20:15:00+01:00", "waiting for Zoom to answer again until 2026-12-06T19:15:00+01:00", "3/10 files (3.0 MiB/10.0 MiB)"} {
			if !strings.Contains(out, want) {
				t.Errorf("tty %v: lacks %q:\n%s", tty, want, out)
			}
		}
		if lines := strings.Split(out, "\n"); len(lines) != 4 || strings.Contains(lines[2], "files") {
			t.Errorf("tty %v: want the media on cloud_recordings' line only:\n%s", tty, out)
		}
	}
}
