package zoomclient

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestWindows(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(dateLayout, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(15 * time.Hour)
	}
	tests := []struct {
		name    string
		ep      Endpoint
		now     time.Time
		horizon int
		want    []Cursor
	}{
		{"not windowed", EndpointUserSettings, day("2026-03-15"), 0, []Cursor{{}}},
		{"phone six months from mid-month", EndpointCallHistory, day("2026-03-15"), 0, []Cursor{
			{From: "2026-03-01", To: "2026-03-15"},
			{From: "2026-02-01", To: "2026-02-28"},
			{From: "2026-01-01", To: "2026-01-31"},
			{From: "2025-12-01", To: "2025-12-31"},
			{From: "2025-11-01", To: "2025-11-30"},
			{From: "2025-10-01", To: "2025-10-31"},
			{From: "2025-09-15", To: "2025-09-30"},
		}},
		{"first of month", EndpointVoicemails, day("2026-03-01"), 2, []Cursor{
			{From: "2026-03-01", To: "2026-03-01"},
			{From: "2026-02-01", To: "2026-02-28"},
			{From: "2026-01-01", To: "2026-01-31"},
		}},
		{"end of month clamps", EndpointRecordings, day("2026-03-31"), 1, []Cursor{
			{From: "2026-03-01", To: "2026-03-31"},
			{From: "2026-02-28", To: "2026-02-28"},
		}},
		{"leap year", EndpointRecordings, day("2024-03-31"), 1, []Cursor{
			{From: "2024-03-01", To: "2024-03-31"},
			{From: "2024-02-29", To: "2024-02-29"},
		}},
		{"year boundary", EndpointPhoneRecordings, day("2026-01-10"), 1, []Cursor{
			{From: "2026-01-01", To: "2026-01-10"},
			{From: "2025-12-10", To: "2025-12-31"},
		}},
		{"local time is UTC'd", EndpointPhoneRecordings,
			time.Date(2026, 2, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 1, []Cursor{
				{From: "2026-01-01", To: "2026-01-31"},
				{From: "2025-12-31", To: "2025-12-31"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Windows(tt.ep, tt.now, tt.horizon)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Windows = %v\nwant      %v", got, tt.want)
			}
		})
	}
}

// TestWindowsCover checks, for every day of two years, that the windows of
// every horizon are within one calendar month, contiguous, newest first,
// and reach back exactly to the horizon.
func TestWindowsCover(t *testing.T) {
	start := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	for d := 0; d < 731; d++ {
		now := start.AddDate(0, 0, d)
		for _, h := range []int{1, 6, 12} {
			ws := Windows(EndpointRecordings, now, h)
			if got, want := ws[0].To, now.Format(dateLayout); got != want {
				t.Fatalf("%s h=%d: newest window ends %s, want %s", now, h, got, want)
			}
			if got, want := ws[len(ws)-1].From, addMonths(now, -h).Format(dateLayout); got != want {
				t.Fatalf("%s h=%d: oldest window starts %s, want %s", now, h, got, want)
			}
			for i, w := range ws {
				from, _ := time.Parse(dateLayout, w.From)
				to, _ := time.Parse(dateLayout, w.To)
				if to.Before(from) || from.Month() != to.Month() || from.Year() != to.Year() {
					t.Fatalf("%s h=%d: window %v not within one month", now, h, w)
				}
				if i > 0 {
					prev, _ := time.Parse(dateLayout, ws[i-1].From)
					if !to.AddDate(0, 0, 1).Equal(prev) {
						t.Fatalf("%s h=%d: gap or overlap between %v and %v", now, h, w, ws[i-1])
					}
				}
			}
		}
	}
}

// TestHorizonStart: windows computed when a request started are sent
// with their start moved to the first day Zoom still serves, and one
// wholly before it is ErrPastHorizon; an endpoint whose horizon is ours
// (cloud recordings) keeps its windows.
func TestHorizonStart(t *testing.T) {
	started := time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)
	ws := Windows(EndpointCallHistory, started, 0)
	oldest := ws[len(ws)-1] // 2025-09-15..2025-09-30
	tests := []struct {
		name     string
		ep       Endpoint
		now      time.Time
		cur      Cursor
		want     string
		pastZoom bool
	}{
		{"the day it started", EndpointCallHistory, started, oldest, "2025-09-15", false},
		{"a day later", EndpointCallHistory, started.AddDate(0, 0, 1), oldest, "2025-09-16", false},
		{"a newer window a day later", EndpointCallHistory, started.AddDate(0, 0, 1), ws[0], ws[0].From, false},
		{"a month later", EndpointCallHistory, started.AddDate(0, 1, 0), oldest, "", true},
		{"recordings, ours", EndpointRecordings, started.AddDate(0, 1, 0), oldest, "2025-09-15", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := horizonStart(tt.ep, tt.now, tt.cur)
			if errors.Is(err, ErrPastHorizon) != tt.pastZoom || got != tt.want {
				t.Errorf("horizonStart = %q, %v; want %q (past Zoom's horizon: %v)", got, err, tt.want, tt.pastZoom)
			}
		})
	}
}
