package dsar_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// purgeCounter is the real store counting its purges.
type purgeCounter struct {
	dsar.Store
	purges atomic.Int32
}

func (s *purgeCounter) PurgeCollected(ctx context.Context, id string) (*dsar.Request, error) {
	s.purges.Add(1)
	return s.Store.PurgeCollected(ctx, id)
}

func (s *purgeCounter) PurgeRequest(ctx context.Context, id, reason string, manifest []byte) (*dsar.Request, error) {
	s.purges.Add(1)
	return s.Store.PurgeRequest(ctx, id, reason, manifest)
}

// TestDeletePurgesOnce: Delete of a request in progress cancels it and
// purges it once, not once for the cancel and once for the delete; a
// Cancel alone purges its collected data once.
func TestDeletePurgesOnce(t *testing.T) {
	// Commits wait at the gate, so that the request is running when it
	// is stopped; each request has a gate of its own.
	var (
		mu   sync.Mutex
		gate = make(chan struct{})
	)
	current := func() chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		return gate
	}
	var count *purgeCounter
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		count = &purgeCounter{Store: c.Store}
		c.Store = count
		c.Hooks.AfterCommit = func(string, string) { <-current() }
	}})
	ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"})
	for _, tc := range []struct {
		name string
		stop func(id string) (*dsar.Request, error)
	}{
		{"delete", func(id string) (*dsar.Request, error) { return e.proc.Delete(ctx, id, "sent by mistake") }},
		{"cancel", func(id string) (*dsar.Request, error) { return e.proc.Cancel(ctx, id, "not needed") }},
	} {
		mu.Lock()
		gate = make(chan struct{})
		mu.Unlock()
		r, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: tc.name})
		if err != nil {
			t.Fatal(err)
		}
		e.wait(r.ID, inState(dsar.StateRunning))
		count.purges.Store(0)
		done := make(chan error, 1)
		go func() {
			_, err := tc.stop(r.ID)
			done <- err
		}()
		e.wait(r.ID, inState(dsar.StateCancelled))
		close(current())
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n := count.purges.Load(); n != 1 {
			t.Errorf("%s of a running request purged %d times, want 1", tc.name, n)
		}
		got, err := e.db.Request(t.Context(), r.ID)
		if err != nil || got.Purge.CollectedAt.IsZero() || got.Purged() != (tc.name == "delete") {
			t.Errorf("after %s: purge %+v, %v", tc.name, got.Purge, err)
		}
	}
}
