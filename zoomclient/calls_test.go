package zoomclient

import (
	"errors"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestSourceCalls checks that Fetch reports every HTTP call a page took,
// retries and the call after a revoked token included, on success and on
// failure, and the ids of an object page: one record without an id.
func TestSourceCalls(t *testing.T) {
	const settings = "GET /users/{userId}/settings"
	tests := []struct {
		name    string
		faults  zoomtest.Faults
		section string
		calls   int
		ids     int  // ids of the page; -1: as many as records
		fails   bool // ends in a *dsar.ZoomError
	}{
		{"first try", zoomtest.Faults{}, dsar.SectionSettings, 1, 1, false},
		{"two 5xx", zoomtest.Faults{Script: map[string][]zoomtest.Fault{settings: {zoomtest.Fault500, zoomtest.Fault503}}}, dsar.SectionSettings, 3, 1, false},
		{"revoked token", zoomtest.Faults{Script: map[string][]zoomtest.Fault{settings: {zoomtest.FaultRevoke}}}, dsar.SectionSettings, 2, 1, false},
		{"garbled page", zoomtest.Faults{Script: map[string][]zoomtest.Fault{"GET /phone/users/{userId}/call_history": {zoomtest.FaultGarble}}},
			dsar.SectionPhoneCallHistory, 2, -1, false},
		{"retries spent", zoomtest.Faults{Endpoints: map[string]map[zoomtest.Fault]float64{settings: {zoomtest.Fault500: 1}}}, dsar.SectionSettings, 5, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, zoomtest.WithDataset("tiny"), zoomtest.WithFaults(tt.faults))
			s := NewSource(newClient(t, srv, nil))
			u, err := s.LookupUser(t.Context(), jane)
			if err != nil || len(u.IDs) != 1 || u.IDs[0] == "" || u.Calls != 1 {
				t.Fatalf("LookupUser: ids %q, %d calls, %v", u.IDs, u.Calls, err)
			}
			var w dsar.Cursor
			if ws := s.Windows(tt.section, tt.section, t0); len(ws) > 0 {
				w.From, w.To = ws[0].From, ws[0].To
			}
			f, err := s.Fetch(t.Context(), dsar.Subject{ID: u.IDs[0], Email: jane}, tt.section, tt.section, w)
			var ze *dsar.ZoomError
			switch {
			case tt.fails && errors.As(err, &ze):
				if ze.Calls != tt.calls {
					t.Errorf("failure after %d calls, want %d", ze.Calls, tt.calls)
				}
				return
			case err != nil || tt.fails:
				t.Fatalf("Fetch: %v", err)
			}
			if f.Calls != tt.calls {
				t.Errorf("page took %d calls, want %d", f.Calls, tt.calls)
			}
			if tt.ids >= 0 && len(f.IDs) != tt.ids {
				t.Errorf("ids %q, want %d", f.IDs, tt.ids)
			}
			if tt.ids < 0 && len(f.IDs) == 0 {
				t.Errorf("a list page of %d bytes with no ids", len(f.Body))
			}
		})
	}
}
