package rpc

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// readSpy is the fake processor telling each read of a request, so that a
// test knows a Watch has seen a wake-up.
type readSpy struct {
	*fakeProcessor
	read chan string
}

func (s readSpy) Request(ctx context.Context, id string) (*dsar.Request, []dsar.Section, error) {
	r, secs, err := s.fakeProcessor.Request(ctx, id)
	s.read <- id
	return r, secs, err
}

// TestWatchSends: Watch sends the request at once and after each change,
// each message with its estimate, and nothing for a wake-up that changed
// nothing (the estimate, which moves with the clock, is not compared).
func TestWatchSends(t *testing.T) {
	fake := newFakeProcessor()
	spy := readSpy{fake, make(chan string, 1)}
	h := newHarness(t, harnessConfig{proc: spy})
	ctx := as(t.Context(), RolePlatform)
	r, err := fake.Create(ctx, dsar.CreateInput{Email: "a@example.com", Account: "main", IdempotencyKey: "k", Regulation: dsar.GDPR})
	if err != nil {
		t.Fatal(err)
	}
	st, err := h.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []dsarv1.RequestState
	recv := func() {
		t.Helper()
		m, err := st.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if m.GetAccessRequest().GetEstimate() == nil || m.GetEstimatedCompletionTime() == nil {
			t.Errorf("message %d has no estimate", len(got)+1)
		}
		got = append(got, m.GetAccessRequest().GetState())
	}
	<-spy.read
	recv()
	for _, s := range []dsar.State{dsar.StateQueued, dsar.StateRunning, dsar.StateRunning, dsar.StateCompleted} {
		if _, err := fake.setState(r.ID, s); err != nil {
			t.Fatal(err)
		}
		<-spy.read // the wake-up is seen before the next change
	}
	for range 2 {
		recv()
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the final state: %v, want the end of the stream", err)
	}
	want := []dsarv1.RequestState{dsarv1.RequestState_REQUEST_STATE_QUEUED, dsarv1.RequestState_REQUEST_STATE_RUNNING, dsarv1.RequestState_REQUEST_STATE_COMPLETED}
	if !slices.Equal(got, want) {
		t.Errorf("sent %v, want %v", got, want)
	}
}
