package store

import (
	"slices"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// TestAuditTimeFilter checks the time bounds of the audit query: Since is
// inclusive, Until exclusive, both combine with the request, the sequence
// and the limit, and a page is full whenever enough events match.
func TestAuditTimeFilter(t *testing.T) {
	db, clock, _ := openTest(t)
	ctx := t.Context()
	// Events 1-6, one an hour from t0, alternately of r1 and r2.
	for i := range 6 {
		req := []string{"r1", "r2"}[i%2]
		if _, err := db.AppendAudit(ctx, dsar.AuditEvent{Request: req, Action: dsar.ActionState}); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Hour)
	}
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	for _, tc := range []struct {
		name string
		f    dsar.AuditFilter
		want []uint64
	}{
		{"all", dsar.AuditFilter{}, []uint64{1, 2, 3, 4, 5, 6}},
		{"since is inclusive", dsar.AuditFilter{Since: h(2)}, []uint64{3, 4, 5, 6}},
		{"until is exclusive", dsar.AuditFilter{Until: h(2)}, []uint64{1, 2}},
		{"between", dsar.AuditFilter{Since: h(1), Until: h(4)}, []uint64{2, 3, 4}},
		{"between, a nanosecond off", dsar.AuditFilter{Since: h(1).Add(1), Until: h(4).Add(1)}, []uint64{3, 4, 5}},
		{"empty range", dsar.AuditFilter{Since: h(3), Until: h(3)}, nil},
		{"after the last", dsar.AuditFilter{Since: h(6)}, nil},
		{"limit fills with matches", dsar.AuditFilter{Since: h(2), Limit: 2}, []uint64{3, 4}},
		{"next page", dsar.AuditFilter{Since: h(2), After: 4, Limit: 2}, []uint64{5, 6}},
		{"one request", dsar.AuditFilter{Request: "r1", Since: h(1)}, []uint64{3, 5}},
		{"one request, until", dsar.AuditFilter{Request: "r2", Until: h(5)}, []uint64{2, 4}},
		{"one request, limit", dsar.AuditFilter{Request: "r2", Since: h(2), Limit: 1}, []uint64{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := db.Audit(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, ev := range evs {
				got = append(got, ev.Seq)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("seqs %v, want %v", got, tc.want)
			}
		})
	}
}
