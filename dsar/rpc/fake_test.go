package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// fakeProcessor keeps requests in memory and never runs them: for tests
// that need a request to stay where it is, or a failure injected.
type fakeProcessor struct {
	mu       sync.Mutex
	reqs     map[string]*dsar.Request
	keys     map[string]string
	watchers map[string][]chan struct{}
	last     dsar.Actor
	panicOn  string           // Request panics for this id
	failOn   string           // Request fails with an internal error for this id
	audit    dsar.AuditFilter // the last filter Audit was called with
	n        int
}

func newFakeProcessor() *fakeProcessor {
	return &fakeProcessor{reqs: map[string]*dsar.Request{}, keys: map[string]string{}, watchers: map[string][]chan struct{}{}}
}

var _ Processor = (*fakeProcessor)(nil)

func (f *fakeProcessor) actor() dsar.Actor {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *fakeProcessor) get(op, id string) (*dsar.Request, error) {
	r, ok := f.reqs[id]
	if !ok {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Op: op, Message: "request not found"}
	}
	c := *r
	return &c, nil
}

func (f *fakeProcessor) Create(ctx context.Context, in dsar.CreateInput) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = dsar.ActorFrom(ctx)
	if in.Account != "main" {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Op: "fake.Create", Message: fmt.Sprintf("account %q is not configured", in.Account)}
	}
	if id, ok := f.keys[in.IdempotencyKey]; ok {
		if f.reqs[id].Email != in.Email {
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Op: "fake.Create", Message: "idempotency key was already used for a different request"}
		}
		return f.get("fake.Create", id)
	}
	f.n++
	now := time.Now()
	r := &dsar.Request{ID: fmt.Sprintf("01fake%d", f.n), Account: in.Account, Email: in.Email, Regulation: in.Regulation,
		IdempotencyKey: in.IdempotencyKey, State: dsar.StateQueued, CreatedAt: now, UpdatedAt: now, DueAt: now.AddDate(0, 0, 30)}
	f.reqs[r.ID] = r
	f.keys[in.IdempotencyKey] = r.ID
	return f.get("fake.Create", r.ID)
}

func (f *fakeProcessor) Request(ctx context.Context, id string) (*dsar.Request, []dsar.Section, error) {
	if id == f.panicOn {
		panic("fake processor bug")
	}
	if id == f.failOn {
		return nil, nil, &dsar.Error{Code: dsar.EINTERNAL, Op: "fake.Request", Err: errors.New("record does not decode")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.get("fake.Request", id)
	if err != nil {
		return nil, nil, err
	}
	return r, dsar.NewSections(id), nil
}

func (f *fakeProcessor) List(context.Context, dsar.RequestFilter) ([]dsar.Request, string, error) {
	return nil, "", nil
}

// Audit records the filter and returns Limit events numbered from After+1.
func (f *fakeProcessor) Audit(_ context.Context, af dsar.AuditFilter) ([]dsar.AuditEvent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audit = af
	var evs []dsar.AuditEvent
	for i := range af.Limit {
		evs = append(evs, dsar.AuditEvent{Seq: af.After + uint64(i) + 1, Time: af.Since, Action: dsar.ActionState})
	}
	return evs, nil
}

func (f *fakeProcessor) Record(ctx context.Context, id, action, detail string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = dsar.ActorFrom(ctx)
	return nil
}

func (f *fakeProcessor) Cancel(ctx context.Context, id, reason string) (*dsar.Request, error) {
	f.mu.Lock()
	f.last = dsar.ActorFrom(ctx)
	f.mu.Unlock()
	return f.setState(id, dsar.StateCancelled)
}

func (f *fakeProcessor) Resume(ctx context.Context, id string, _ bool) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get("fake.Resume", id)
}

func (f *fakeProcessor) RetrySection(ctx context.Context, id, section string, fromStart bool) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get("fake.RetrySection", id)
}

func (f *fakeProcessor) Extend(ctx context.Context, id, reason string) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.get("fake.Extend", id)
}

func (f *fakeProcessor) Rebuild(ctx context.Context, id string) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = dsar.ActorFrom(ctx)
	return f.get("fake.Rebuild", id)
}

// Estimate expects three Medium calls, done a day before the due date.
func (f *fakeProcessor) Estimate(_ context.Context, r *dsar.Request, _ []dsar.Section) (dsar.Estimate, error) {
	return dsar.Estimate{Calls: map[string]int64{"Medium": 3}, Completion: r.DueAt.AddDate(0, 0, -1)}, nil
}

func (f *fakeProcessor) Delete(ctx context.Context, id, reason string) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = dsar.ActorFrom(ctx)
	r, ok := f.reqs[id]
	if !ok {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Op: "fake.Delete", Message: "request not found"}
	}
	if !r.Purged() {
		r.Email, r.EmailHash = "", "hmac-sha256:00"
		r.Purge = dsar.Purge{CollectedAt: time.Unix(1, 0), BundleAt: time.Unix(1, 0), Reason: "deleted by " + f.last.Name + ": " + reason}
	}
	return f.get("fake.Delete", id)
}

// Manifest returns an empty manifest for a request it holds.
func (f *fakeProcessor) Manifest(ctx context.Context, id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = dsar.ActorFrom(ctx)
	if _, err := f.get("fake.Manifest", id); err != nil {
		return nil, err
	}
	return []byte("{}\n"), nil
}

// Downloaded counts whole downloads in the request.
func (f *fakeProcessor) Downloaded(ctx context.Context, id string) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reqs[id]
	if !ok {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Op: "fake.Downloaded", Message: "request not found"}
	}
	r.Downloads++
	return f.get("fake.Downloaded", id)
}

func (f *fakeProcessor) BundleExpiry(r *dsar.Request) time.Time { return time.Time{} }

func (f *fakeProcessor) Watch(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watchers[id] = append(f.watchers[id], ch)
	return ch, func() {}
}

// setState moves a request and wakes its watchers.
func (f *fakeProcessor) setState(id string, s dsar.State) (*dsar.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.reqs[id]
	if !ok {
		return nil, &dsar.Error{Code: dsar.ENOTFOUND, Op: "fake.setState", Message: "request not found"}
	}
	r.State = s
	for _, ch := range f.watchers[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return f.get("fake.setState", id)
}

// The fake has no accounts to steer.
func (f *fakeProcessor) Accounts(context.Context) ([]dsar.Account, error) { return nil, nil }

func (f *fakeProcessor) Account(_ context.Context, name string) (dsar.Account, error) {
	return dsar.Account{}, &dsar.Error{Code: dsar.ENOTFOUND, Op: "fake.Account", Message: fmt.Sprintf("account %q is not configured", name)}
}

func (f *fakeProcessor) CheckAccount(ctx context.Context, name string) (dsar.AccountCheck, error) {
	_, err := f.Account(ctx, name)
	return dsar.AccountCheck{}, err
}

func (f *fakeProcessor) ResetQuota(ctx context.Context, name string) ([]string, error) {
	_, err := f.Account(ctx, name)
	return nil, err
}

func (f *fakeProcessor) StartAuthorization(ctx context.Context, name string) (string, string, string, error) {
	_, err := f.Account(ctx, name)
	return "", "", "", err
}

func (f *fakeProcessor) CompleteAuthorization(ctx context.Context, name, _, _ string) (dsar.AccountCheck, error) {
	_, err := f.Account(ctx, name)
	return dsar.AccountCheck{}, err
}
