package dsar_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
)

func totalCalls(m map[string]int64) (n int64) {
	for _, c := range m {
		n += c
	}
	return n
}

// TestEstimate: at creation a request has expected calls by bucket and a
// completion before its due date; once it completes its estimate is its
// calls; a second request of the account is estimated from the first
// (the account's history), which made the same calls.
func TestEstimate(t *testing.T) {
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	r := e.create(jane)
	_, secs, err := e.proc.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.proc.Estimate(ctx, r, secs)
	if err != nil {
		t.Fatal(err)
	}
	if first.Calls["Medium"] == 0 || first.Calls["Light"] == 0 || first.AtRisk ||
		first.Completion.Before(r.CreatedAt) || !first.Completion.Before(r.DueAt) {
		t.Fatalf("estimate at creation %+v", first)
	}
	done := e.wait(r.ID, inState(dsar.StateCompleted))
	_, secs, err = e.proc.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	final, err := e.proc.Estimate(ctx, done, secs)
	if err != nil {
		t.Fatal(err)
	}
	var made int64
	for _, s := range secs {
		made += s.Calls
	}
	if totalCalls(final.Calls) != made || !final.Completion.IsZero() {
		t.Fatalf("estimate of the completed request %+v, want its %d calls and no completion time", final, made)
	}

	r2, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "again"})
	if err != nil {
		t.Fatal(err)
	}
	_, secs, err = e.proc.Request(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.proc.Estimate(ctx, r2, secs)
	if err != nil {
		t.Fatal(err)
	}
	for b, n := range final.Calls {
		if second.Calls[b] != n {
			t.Errorf("bucket %s: %d calls expected from the history, the first request made %d", b, second.Calls[b], n)
		}
	}
}

// TestEstimateAtRisk: a request that cannot complete before its due date
// at the account's rates is flagged at creation: logged by id, without
// the email, and reported to Config.AtRisk; a request created after it
// with a later due date counts its calls as ahead.
func TestEstimateAtRisk(t *testing.T) {
	var logs bytes.Buffer
	var flagged []string
	e := newEnv(t, envConfig{
		// Medium at one call a week: the request cannot finish in 30 days.
		client: func(c *zoomclient.Config) {
			c.Limits = map[zoomclient.Bucket]float64{{Category: zoomclient.Medium}: 1.0 / (7 * 24 * 3600)}
		},
		proc: func(c *dsar.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			c.AtRisk = func(r *dsar.Request, e dsar.Estimate) {
				if e.AtRisk {
					flagged = append(flagged, r.ID)
				}
			}
		},
	})
	ctx := t.Context()
	r, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	if len(flagged) != 1 || flagged[0] != r.ID {
		t.Fatalf("flagged %v, want the request %s", flagged, r.ID)
	}
	if !strings.Contains(logs.String(), `"request":"`+r.ID+`"`) || !strings.Contains(logs.String(), "miss its due date") {
		t.Errorf("the log does not name the request at risk: %s", logs.String())
	}
	if strings.Contains(logs.String(), jane) {
		t.Error("the log names the subject's email")
	}
	_, secs, err := e.proc.Request(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	est, err := e.proc.Estimate(ctx, r, secs)
	if err != nil {
		t.Fatal(err)
	}
	if !est.AtRisk || !est.Completion.After(r.DueAt) || !strings.Contains(est.Reason, "Medium") {
		t.Fatalf("estimate %+v, want at risk for its Medium calls", est)
	}

	// A CCPA request (due in 45 days) waits behind the first.
	r2, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "behind", Regulation: dsar.CCPA})
	if err != nil {
		t.Fatal(err)
	}
	_, secs, err = e.proc.Request(ctx, r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	est2, err := e.proc.Estimate(ctx, r2, secs)
	if err != nil {
		t.Fatal(err)
	}
	// Its Medium calls come after the first's: about twice as long.
	alone, behind := est.Completion.Sub(r.CreatedAt), est2.Completion.Sub(r2.CreatedAt)
	if behind < alone*3/2 {
		t.Errorf("the request behind is expected in %s, the one ahead in %s: want about twice as long", behind, alone)
	}
}
