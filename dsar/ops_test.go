package dsar_test

import (
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestRetrySection lets one section fail (Zoom answers 500 to every call
// of its endpoint), then retries it, from its cursor and from the start.
func TestRetrySection(t *testing.T) {
	const broken = "GET /phone/users/{userId}/call_history"
	for _, fromStart := range []bool{false, true} {
		t.Run(map[bool]string{false: "from cursor", true: "from start"}[fromStart], func(t *testing.T) {
			e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithFaults(zoomtest.Faults{
				Endpoints: map[string]map[zoomtest.Fault]float64{broken: {zoomtest.Fault500: 1}},
			})}})
			ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
			id := e.create(jane).ID
			r := e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed))
			if r.State != dsar.StateFailed {
				t.Fatalf("state %s, want FAILED", r.State)
			}
			_, secs, err := e.proc.Request(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secs {
				want := dsar.SectionComplete
				if s.Name == dsar.SectionPhoneCallHistory {
					want = dsar.SectionFailed
				}
				if s.State != want {
					t.Errorf("section %s: %s, want %s", s.Name, s.State, want)
				}
			}

			if _, err := e.proc.RetrySection(ctx, id, "no_such_section", fromStart); dsar.ErrorCode(err) != dsar.EINVALID {
				t.Errorf("unknown section: %v", err)
			}
			e.srv.SetFaults(zoomtest.Faults{})
			if _, err := e.proc.RetrySection(ctx, id, dsar.SectionPhoneCallHistory, fromStart); err != nil {
				t.Fatalf("RetrySection: %v", err)
			}
			r = e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed))
			if r.State != dsar.StateCompleted {
				t.Fatalf("after retry: %s (%s)", r.State, r.Reason)
			}
			m := e.verify(r)
			if got, want := records(m)[dsar.SectionPhoneCallHistory], int64(len(e.srv.Dataset().User(jane).Phone.CallLogs)); got != want {
				t.Errorf("call history: %d records, want %d", got, want)
			}
			if d := refetched(e.srv); len(d) > 0 {
				t.Errorf("pages fetched twice: %v", d)
			}
			if _, err := e.proc.RetrySection(ctx, id, dsar.SectionPhoneCallHistory, fromStart); dsar.ErrorCode(err) != dsar.EPRECONDITION {
				t.Errorf("retry of a completed request: %v", err)
			}
			evs, err := e.db.Audit(ctx, dsar.AuditFilter{Request: id})
			if err != nil {
				t.Fatal(err)
			}
			var retried bool
			for _, ev := range evs {
				retried = retried || (ev.Action == dsar.ActionRetry && ev.Actor.Name == "oncall")
			}
			if !retried {
				t.Error("no retry event by the operator in the audit log")
			}
		})
	}
}
