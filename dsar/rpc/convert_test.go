package rpc

import (
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

func TestEnumTablesComplete(t *testing.T) {
	for _, s := range dsar.States {
		p, ok := requestStates[s]
		if !ok || p == dsarv1.RequestState_REQUEST_STATE_UNSPECIFIED {
			t.Errorf("state %s has no proto state", s)
		}
		if back, ok := stateFromProto(p); !ok || back != s {
			t.Errorf("state %s comes back as %s", s, back)
		}
	}
	for _, s := range dsar.SectionStates {
		if p, ok := sectionStates[s]; !ok || p == dsarv1.SectionState_SECTION_STATE_UNSPECIFIED {
			t.Errorf("section state %s has no proto state", s)
		}
	}
	if len(requestStates) != len(dsarv1.RequestState_name)-1 {
		t.Errorf("%d request states mapped, the proto has %d", len(requestStates), len(dsarv1.RequestState_name)-1)
	}
	if len(sectionStates) != len(dsarv1.SectionState_name)-1 {
		t.Errorf("%d section states mapped, the proto has %d", len(sectionStates), len(dsarv1.SectionState_name)-1)
	}
	if len(regulations) != len(dsarv1.Regulation_name)-1 {
		t.Errorf("%d regulations mapped, the proto has %d", len(regulations), len(dsarv1.Regulation_name)-1)
	}
	if _, ok := stateFromProto(dsarv1.RequestState_REQUEST_STATE_UNSPECIFIED); ok {
		t.Error("UNSPECIFIED maps to a state")
	}
}

func TestEstimate(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// Two sections: one with four windows, one single call.
	windows := func(_, section, _ string, _ time.Time) []dsar.Span {
		if section == dsar.SectionPhoneCallHistory {
			return make([]dsar.Span, 4)
		}
		return nil
	}
	c := converter{windows: windows}
	secs := func(windowsDone int, profileDone bool, started time.Time) []dsar.Section {
		return []dsar.Section{
			{Name: dsar.SectionProfile, State: dsar.SectionRunning, StartedAt: started,
				Parts: []dsar.Part{{Name: dsar.PartUser, Done: profileDone}}},
			{Name: dsar.SectionPhoneCallHistory, State: dsar.SectionRunning, StartedAt: started,
				Parts: []dsar.Part{{Name: dsar.SectionPhoneCallHistory, Cursor: dsar.Cursor{Window: windowsDone}}}},
		}
	}
	running := &dsar.Request{State: dsar.StateRunning}
	for _, tc := range []struct {
		name string
		r    *dsar.Request
		secs []dsar.Section
		want time.Time // zero: unknown
	}{
		{"nothing done yet", running, secs(0, false, t0), time.Time{}},
		{"not started", running, secs(0, false, time.Time{}), time.Time{}},
		// 2 of 5 units in 10 minutes: 3 more units take 15 minutes.
		{"two of five", running, secs(1, true, t0.Add(-10*time.Minute)), t0.Add(15 * time.Minute)},
		// 4 of 5 units in 8 minutes: 2 more minutes.
		{"four of five", running, secs(3, true, t0.Add(-8*time.Minute)), t0.Add(2 * time.Minute)},
		{"waiting for quota", &dsar.Request{State: dsar.StateWaitingQuota}, secs(3, true, t0.Add(-8*time.Minute)), time.Time{}},
		{"completed", &dsar.Request{State: dsar.StateCompleted}, secs(4, true, t0.Add(-8*time.Minute)), time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.estimate(tc.r, tc.secs, t0)
			if !got.Equal(tc.want) {
				t.Errorf("estimate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSectionWindows(t *testing.T) {
	c := converter{windows: func(_, _, _ string, _ time.Time) []dsar.Span { return make([]dsar.Span, 6) }}
	r := &dsar.Request{}
	s := c.section(r, &dsar.Section{Name: dsar.SectionCloudRecordings, State: dsar.SectionRunning, ReasonCode: 1001,
		Parts: []dsar.Part{
			{Name: dsar.PartRecordings, Done: true, Covered: dsar.Span{From: "2025-03-01", To: "2026-02-28"}},
			{Name: dsar.PartTrash, Cursor: dsar.Cursor{Window: 2}, Covered: dsar.Span{From: "2025-12-01", To: "2026-03-01"}},
		}})
	if s.GetWindowsDone() != 8 || s.GetWindowsTotal() != 12 {
		t.Errorf("windows %d/%d, want 8/12", s.GetWindowsDone(), s.GetWindowsTotal())
	}
	if s.GetReasonCode() != "1001" {
		t.Errorf("reason code %q", s.GetReasonCode())
	}
	start, end := s.GetCovered().GetStartTime().AsTime(), s.GetCovered().GetEndTime().AsTime()
	if !start.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) || !end.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("covered [%v, %v)", start, end)
	}
}
