package dsar_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// queued waits until n callers wait in q.
func queued(q *dsar.DueQueue, n int) {
	for q.Waiting() < n {
		runtime.Gosched()
	}
}

// TestDueQueueOrder: callers that wait for a slot get it earliest due
// first, equal dues in the order they came, whatever order they came in.
func TestDueQueueOrder(t *testing.T) {
	q := dsar.NewDueQueue(1)
	ctx := t.Context()
	if err := q.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	callers := []struct {
		name string
		due  time.Time
	}{
		{"late", day.AddDate(0, 0, 45)},
		{"soon-1", day.AddDate(0, 0, 10)},
		{"middle", day.AddDate(0, 0, 30)},
		{"soon-2", day.AddDate(0, 0, 10)},
	}
	got := make(chan string)
	for i, c := range callers {
		go func() {
			if err := q.Acquire(dsar.WithDue(ctx, c.due)); err != nil {
				t.Error(err)
			}
			got <- c.name
		}()
		queued(q, i+1)
	}
	var order []string
	for range callers {
		q.Release() // the test releases each grantee's slot in its place
		order = append(order, <-got)
	}
	q.Release()
	want := []string{"soon-1", "soon-2", "middle", "late"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

// TestDueQueueYield: a holder hands its slot to a caller due before it,
// not to one due after it; a caller that gives up waiting loses its place.
func TestDueQueueYield(t *testing.T) {
	q := dsar.NewDueQueue(1)
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	holder := dsar.WithDue(t.Context(), day.AddDate(0, 0, 30))
	if err := q.Acquire(holder); err != nil {
		t.Fatal(err)
	}
	later, cancel := context.WithCancel(dsar.WithDue(t.Context(), day.AddDate(0, 0, 45)))
	done := make(chan error)
	go func() { done <- q.Acquire(later) }()
	queued(q, 1)
	if err := q.Yield(holder); err != nil || q.Waiting() != 1 {
		t.Fatalf("Yield to a later due: err %v, %d waiting; want the holder to keep its slot", err, q.Waiting())
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("Acquire with a cancelled context succeeded while the slot was held")
	}
	if q.Waiting() != 0 {
		t.Fatalf("%d waiting after the caller gave up, want 0", q.Waiting())
	}

	sooner := dsar.WithDue(t.Context(), day.AddDate(0, 0, 10))
	got := make(chan string, 2)
	go func() {
		if err := q.Acquire(sooner); err != nil {
			t.Error(err)
		}
		got <- "sooner"
		q.Release()
	}()
	queued(q, 1)
	if err := q.Yield(holder); err != nil {
		t.Fatal(err)
	}
	got <- "holder"
	q.Release()
	if first := <-got; first != "sooner" {
		t.Fatalf("%s had the slot first, want the caller due sooner", first)
	}
}

// TestEarlierDueOvertakes: two requests on one account, one section slot;
// the request created second but due sooner (GDPR, 30 days, against
// CCPA's 45) takes the slot at the first request's next page and
// completes first.
func TestEarlierDueOvertakes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) { c.Concurrency = 1 }})
	ctx := t.Context()
	late, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "late", Regulation: dsar.CCPA})
	if err != nil {
		t.Fatal(err)
	}
	// The first request is under way, its sections queued for the slot,
	// when the second comes.
	ch, stop := e.proc.Watch(late.ID)
	defer stop()
	for paged := false; !paged; {
		_, secs, err := e.proc.Request(ctx, late.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secs {
			paged = paged || (s.Name != dsar.SectionProfile && s.Pages > 0)
		}
		if !paged {
			<-ch
		}
	}
	soon, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "soon", Regulation: dsar.GDPR})
	if err != nil {
		t.Fatal(err)
	}
	if !soon.DueAt.Before(late.DueAt) {
		t.Fatalf("due %s and %s: the second request must be due first", soon.DueAt, late.DueAt)
	}
	e.wait(soon.ID, inState(dsar.StateCompleted))
	e.wait(late.ID, inState(dsar.StateCompleted))
	// Every section of the request due sooner is done before the last
	// section of the other starts: it overtook at the slot, not only at
	// the end.
	_, secs, err := e.proc.Request(ctx, soon.ID)
	if err != nil {
		t.Fatal(err)
	}
	var soonDone time.Time
	for _, s := range secs {
		if s.FinishedAt.After(soonDone) {
			soonDone = s.FinishedAt
		}
	}
	_, secs, err = e.proc.Request(ctx, late.ID)
	if err != nil {
		t.Fatal(err)
	}
	var lateLast time.Time
	for _, s := range secs {
		if s.StartedAt.After(lateLast) {
			lateLast = s.StartedAt
		}
	}
	if !soonDone.Before(lateLast) {
		t.Fatalf("the request due sooner finished its sections at %s, the one due later started its last at %s: want the sooner first", soonDone, lateLast)
	}
}
