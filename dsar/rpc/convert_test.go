package rpc

import (
	"fmt"
	"strings"
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
	due := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	if estimate(dsar.Estimate{}) != nil {
		t.Error("no estimate converts to a message")
	}
	e := estimate(dsar.Estimate{Calls: map[string]int64{"phone/Medium": 4, "Heavy": 7, "Medium": 30},
		Completion: due.AddDate(0, 0, 2), AtRisk: true, Reason: "expected after its due date"})
	var got []string
	for _, c := range e.GetCalls() {
		got = append(got, fmt.Sprintf("%s=%d", c.GetBucket(), c.GetCalls()))
	}
	if strings.Join(got, " ") != "Heavy=7 Medium=30 phone/Medium=4" {
		t.Errorf("calls %v, want by bucket name", got)
	}
	if !e.GetCompletionTime().AsTime().Equal(due.AddDate(0, 0, 2)) || !e.GetAtRisk() || e.GetAtRiskReason() != "expected after its due date" {
		t.Errorf("estimate %v", e)
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
