package dsar

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

type dueKey struct{}

// dueRef is the due date a request's work carries. It is read at each
// turn, so that an extension moves a request under way (Extend).
type dueRef = atomic.Pointer[time.Time]

// WithDue returns a context that carries the due date of the request whose
// work it does: the account's throttles and the processor's slots serve
// the earliest due first (DueQueue).
func WithDue(ctx context.Context, due time.Time) context.Context {
	ref := new(dueRef)
	ref.Store(&due)
	return context.WithValue(ctx, dueKey{}, ref)
}

// DueOf returns the due date in ctx, or the zero time for work of no
// request (an account's check), which goes first.
func DueOf(ctx context.Context) time.Time {
	if ref, ok := ctx.Value(dueKey{}).(*dueRef); ok {
		if t := ref.Load(); t != nil {
			return *t
		}
	}
	return time.Time{}
}

// DueQueue hands out n slots in order of the callers' due dates (DueOf),
// earliest first; callers due at the same time are served in the order
// they came, so requests due together take turns. It is the one
// scheduling mechanism of an account's budget: each throttle of
// zoomclient grants its next call through one (n = 1), and the processor
// its section slots.
type DueQueue struct {
	mu      sync.Mutex
	n, busy int
	seq     uint64
	waiting waiters
}

// NewDueQueue returns a queue of n slots (at least one).
func NewDueQueue(n int) *DueQueue { return &DueQueue{n: max(n, 1)} }

// Acquire waits for a slot, or for ctx to end.
func (q *DueQueue) Acquire(ctx context.Context) error {
	q.mu.Lock()
	if q.busy < q.n && len(q.waiting) == 0 {
		q.busy++
		q.mu.Unlock()
		return nil
	}
	w := &waiter{due: DueOf(ctx), seq: q.seq, ready: make(chan struct{})}
	q.seq++
	heap.Push(&q.waiting, w)
	q.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		q.mu.Lock()
		granted := w.index < 0
		if !granted {
			heap.Remove(&q.waiting, w.index)
		}
		q.mu.Unlock()
		if granted { // the slot came as ctx ended: hand it on
			q.Release()
		}
		return ctx.Err()
	}
}

// Release gives a slot back: to the earliest-due waiter, if any.
func (q *DueQueue) Release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) > 0 {
		w := heap.Pop(&q.waiting).(*waiter)
		close(w.ready)
		return
	}
	q.busy--
}

// Yield hands the caller's slot to a waiter due before ctx's due date, if
// one waits, and waits for a slot again: a request created later with an
// earlier due date overtakes at the next page. If ctx ends meanwhile the
// caller keeps a slot all the same, so that its Release stays balanced,
// and Yield returns ctx's error.
func (q *DueQueue) Yield(ctx context.Context) error {
	if !q.Sooner(ctx) {
		return nil
	}
	q.Release()
	if err := q.Acquire(ctx); err != nil {
		q.mu.Lock()
		q.busy++
		q.mu.Unlock()
		return err
	}
	return nil
}

// Sooner reports whether a caller due sooner than ctx's request waits
// for a slot: Yield would hand it the slot.
func (q *DueQueue) Sooner(ctx context.Context) bool {
	due := DueOf(ctx)
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting) > 0 && q.waiting[0].due.Before(due)
}

// Waiting returns how many callers wait for a slot.
func (q *DueQueue) Waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}

type waiter struct {
	due   time.Time
	seq   uint64
	index int // in the heap; -1 once granted
	ready chan struct{}
}

// waiters is a heap by due date, then arrival.
type waiters []*waiter

func (h waiters) Len() int { return len(h) }
func (h waiters) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h waiters) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waiters) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waiters) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}
