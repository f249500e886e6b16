package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// TestWatchJSON: watch -o json prints each WatchAccessRequestResponse as
// protojson on a line of its own, as its help says.
func TestWatchJSON(t *testing.T) {
	running := &dsarv1.AccessRequest{Id: "r01", State: dsarv1.RequestState_REQUEST_STATE_RUNNING,
		Sections: []*dsarv1.Section{{Name: "profile", State: dsarv1.SectionState_SECTION_STATE_RUNNING}}}
	done := &dsarv1.AccessRequest{Id: "r01", State: dsarv1.RequestState_REQUEST_STATE_COMPLETED,
		Sections: []*dsarv1.Section{{Name: "profile", State: dsarv1.SectionState_SECTION_STATE_COMPLETE, Records: 1}}}
	f := startFake(t, running, done)
	out, _, err := f.ctl(t, nil, "watch", "-o", "json", "r01")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("watch -o json printed %d lines, want 2:\n%s", len(lines), out)
	}
	for i, want := range []dsarv1.RequestState{running.GetState(), done.GetState()} {
		var m dsarv1.WatchAccessRequestResponse
		if err := protojson.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatalf("line %d is not a WatchAccessRequestResponse: %v\n%s", i+1, err, lines[i])
		}
		if m.GetAccessRequest().GetState() != want {
			t.Errorf("line %d: state %v, want %v", i+1, m.GetAccessRequest().GetState(), want)
		}
	}
}
