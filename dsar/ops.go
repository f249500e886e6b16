package dsar

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CreateInput is what a privacy platform sends to open an access request.
type CreateInput struct {
	Email          string
	Account        string
	IdempotencyKey string
	Regulation     Regulation // default GDPR
}

// Create validates and stores a new request (QUEUED) and starts it. The
// same idempotency key returns the request it created first; the same key
// with another email or account is a conflict.
func (p *Processor) Create(ctx context.Context, in CreateInput) (*Request, error) {
	const op = "dsar.Create"
	in.Email = strings.TrimSpace(in.Email)
	if in.Regulation == "" {
		in.Regulation = GDPR
	}
	switch {
	case strings.TrimSpace(in.IdempotencyKey) == "":
		return nil, &Error{Code: EINVALID, Op: op, Message: "idempotency key is empty"}
	case len(in.IdempotencyKey) > 200:
		return nil, &Error{Code: EINVALID, Op: op, Message: "idempotency key is longer than 200 characters"}
	case in.Account == "":
		return nil, &Error{Code: EINVALID, Op: op, Message: "account is empty"}
	}
	if _, ok := p.account(in.Account); !ok {
		return nil, unknownAccount(op, in.Account)
	}
	if c := p.lastCheck(in.Account); c.Problem != "" {
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("account %q failed its check: %s", in.Account, c.Problem)}
	}
	now := p.clock.Now()
	due, err := p.cfg.Deadlines.Due(in.Regulation, now)
	if err != nil {
		return nil, err
	}
	id, err := NewID(p.cfg.Shard, now)
	if err != nil {
		return nil, err
	}
	r := &Request{
		ID: id, Account: in.Account, Email: in.Email, Regulation: in.Regulation,
		IdempotencyKey: in.IdempotencyKey, State: StateQueued,
		CreatedAt: now, UpdatedAt: now, DueAt: due,
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	secs := NewSections(id)
	if h, ok := p.cfg.Store.(emailHasher); ok {
		r.EmailHash = h.EmailHash(r.Email) // the store sets the same; admit needs it first
	}
	p.admitMu.Lock()
	if r.Deferred, err = p.admit(ctx, r, secs); err != nil {
		// The request goes on, promised: a store that cannot be read
		// now will say so again.
		p.log.Error("admit a new request", "request", r.ID, "err", err)
	}
	r, created, err := p.cfg.Store.CreateRequest(ctx, r, secs)
	p.admitMu.Unlock()
	if err != nil {
		return nil, err
	}
	if created {
		if r.Deferred != "" {
			p.flag(ctx, r, secs)
		}
		p.schedule(r)
	}
	return r, nil
}

// emailHasher is a store that tells the email hash it will keep of a
// request (Request.EmailHash); store.DB is one. Without it admission
// knows no subject from an earlier request.
type emailHasher interface {
	EmailHash(email string) string
}

// flag logs and reports a request deferred as it came, with its estimate.
func (p *Processor) flag(ctx context.Context, r *Request, secs []Section) {
	e, err := p.Estimate(ctx, r, secs)
	if err != nil {
		p.log.Error("estimate a new request", "request", r.ID, "err", err)
	}
	p.log.Warn("new request deferred: its account cannot promise its due date", "request", r.ID, "account", r.Account,
		"due", r.DueAt.UTC().Format(time.RFC3339), "completion", e.Completion.UTC().Format(time.RFC3339), "reason", r.Deferred)
	if p.cfg.AtRisk != nil {
		p.cfg.AtRisk(r, e)
	}
}

// Request returns a request and its sections.
func (p *Processor) Request(ctx context.Context, id string) (*Request, []Section, error) {
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	s, err := p.cfg.Store.Sections(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return r, s, nil
}

// List returns requests matching f and the token of the next page.
func (p *Processor) List(ctx context.Context, f RequestFilter) ([]Request, string, error) {
	// An account that is not configured would match nothing: a typo must
	// not look like an empty list.
	if _, ok := p.account(f.Account); f.Account != "" && !ok {
		return nil, "", unknownAccount("dsar.List", f.Account)
	}
	return p.cfg.Store.ListRequests(ctx, f)
}

// Audit returns audit events.
func (p *Processor) Audit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	return p.cfg.Store.Audit(ctx, f)
}

// Record appends an operator's or auditor's action to the audit log.
func (p *Processor) Record(ctx context.Context, id, action, detail string) error {
	// No time: the store stamps it in the transaction that gives the
	// event its sequence number, so that the audit log's times follow
	// its order (its time filters rely on that).
	_, err := p.cfg.Store.AppendAudit(ctx, AuditEvent{
		Request: id, Actor: ActorFrom(ctx), Action: action, Detail: detail,
	})
	return err
}

// Cancel stops a request for good; calls in flight are abandoned and its
// sections in progress end FAILED, stopped by the cancel (Section.Stop).
// What was collected for it is purged.
func (p *Processor) Cancel(ctx context.Context, id, reason string) (*Request, error) {
	r, stopped, err := p.cancel(ctx, id, reason)
	if err != nil {
		return nil, err
	}
	// Left to the next Start when the run outlived ctx (sweepRetention).
	if stopped {
		p.purgeCancelled(ctx, id)
	}
	return r, nil
}

// cancel is Cancel without the purge, for Delete, whose purge takes the
// collected data with the rest. stopped: no run of the request is left.
func (p *Processor) cancel(ctx context.Context, id, reason string) (r *Request, stopped bool, err error) {
	const op = "dsar.Cancel"
	if reason = strings.TrimSpace(reason); reason == "" {
		reason = "cancelled by " + ActorFrom(ctx).Name
	}
	r, err = p.cfg.Store.UpdateRequest(ctx, id, func(r *Request) error {
		if r.State.Final() {
			return &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("a %s request cannot be cancelled", r.State)}
		}
		r.State = StateCancelled
		r.Reason = reason
		r.WaitingUntil = time.Time{}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	p.mu.Lock()
	ru := p.running[id]
	if ru != nil {
		ru.cancel()
	}
	disarm(p.timers, id)
	p.mu.Unlock()
	if err := p.Record(ctx, id, ActionCancel, reason); err != nil {
		return nil, false, err
	}
	p.notify(id)
	// The store stopped the sections in progress with the cancel; a run
	// may mark one again before it sees the cancel and settles it as it
	// ends: wait for that, so that none looks in progress on return.
	if ru != nil {
		select {
		case <-ru.done:
		case <-ctx.Done():
			return r, false, nil
		}
	}
	return r, true, nil
}

// Resume goes on with a request from its checkpoints: a FAILED one, or one
// that no goroutine works on. A request parked for a daily quota or a Zoom
// outage is left parked and returned as it is, its WaitingUntil saying
// when it goes on by itself: resuming it early would only meet the
// account's recorded park or open breaker. With probe it goes on now: a
// daily park is forgotten first (ResetQuota), so that its next call asks
// Zoom; an open breaker still lets only its probe through.
func (p *Processor) Resume(ctx context.Context, id string, probe bool) (*Request, error) {
	const op = "dsar.Resume"
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case r.State == StateCompleted || r.State == StateCancelled:
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("a %s request cannot be resumed", r.State)}
	case r.Purged():
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: "the request's data was " + r.Purge.Text() + "; it cannot be resumed"}
	}
	if r.State.Waiting() && r.WaitingUntil.After(p.clock.Now()) {
		if !probe {
			return r, nil
		}
		if r.State == StateWaitingQuota {
			if _, err := p.unpark(ctx, r.Account); err != nil {
				return nil, err
			}
		}
	}
	if idle, err := p.idle(ctx, r); err != nil || !idle {
		return nil, errors.Join(err, &Error{Code: EPRECONDITION, Op: op, Message: "the request is already running"})
	}
	if err := p.Record(ctx, id, ActionResume, "from "+string(r.State)); err != nil {
		return nil, err
	}
	return p.restart(ctx, r)
}

// restart sets a FAILED or parked request RUNNING and starts its work.
func (p *Processor) restart(ctx context.Context, r *Request) (*Request, error) {
	if r.State == StateFailed || r.State.Waiting() {
		var err error
		if r, err = p.setState(ctx, r.ID, StateRunning, ""); err != nil {
			return nil, err
		}
	}
	p.schedule(r)
	return r, nil
}

// RetrySection fetches one section of a stopped request again: from its
// cursor, or from scratch (its stored pages deleted) with fromStart; then
// the request resumes.
func (p *Processor) RetrySection(ctx context.Context, id, section string, fromStart bool) (*Request, error) {
	const op = "dsar.RetrySection"
	if !slices.Contains(Sections, section) {
		return nil, &Error{Code: EINVALID, Op: op, Message: fmt.Sprintf("unknown section %q", section)}
	}
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case r.State != StateFailed && !r.State.Waiting():
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("sections of a %s request cannot be retried; only of a FAILED, WAITING_QUOTA or WAITING_ZOOM one", r.State)}
	case r.Purged():
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: "the request's data was " + r.Purge.Text() + "; it cannot be retried"}
	case section == SectionProfile && fromStart:
		return nil, &Error{Code: EINVALID, Op: op, Message: "the profile holds the user lookup and cannot be fetched from the start"}
	}
	if idle, err := p.idle(ctx, r); err != nil || !idle {
		return nil, errors.Join(err, &Error{Code: EPRECONDITION, Op: op, Message: "the request is running"})
	}
	if fromStart {
		if _, err := p.cfg.Store.ResetSection(ctx, id, section); err != nil {
			return nil, err
		}
		if err := p.dropSectionMedia(id, section); err != nil {
			return nil, err
		}
	} else if _, err := p.cfg.Store.UpdateSection(ctx, id, section, func(s *Section) error {
		s.State = SectionPending
		s.Reason, s.ReasonCode = "", 0
		return nil
	}); err != nil {
		return nil, err
	}
	detail := section
	if fromStart {
		detail += " from the start"
	}
	if err := p.Record(ctx, id, ActionRetry, detail); err != nil {
		return nil, err
	}
	return p.restart(ctx, r)
}

// Extend moves a request's due date once, with a reason.
func (p *Processor) Extend(ctx context.Context, id, reason string) (*Request, error) {
	now := p.clock.Now()
	r, err := p.cfg.Store.UpdateRequest(ctx, id, func(r *Request) error {
		days, err := p.cfg.Deadlines.ExtensionDays(r.Regulation)
		if err != nil {
			return err
		}
		return r.Extend(ActorFrom(ctx), reason, now, days)
	})
	if err != nil {
		return nil, err
	}
	if err := p.Record(ctx, id, ActionExtend, reason); err != nil {
		return nil, err
	}
	if r.Deferred != "" {
		if r, err = p.readmit(ctx, r); err != nil {
			return nil, err
		}
	}
	// A request under way takes its new place at its next call.
	p.mu.Lock()
	if ru := p.running[id]; ru != nil {
		rank := r.Rank()
		ru.due.Store(&rank)
	}
	p.mu.Unlock()
	p.notify(id)
	return r, nil
}

// readmit decides again, by its new due date, whether a deferred
// request's account can promise it (admit), and records the answer.
func (p *Processor) readmit(ctx context.Context, r *Request) (*Request, error) {
	p.admitMu.Lock()
	defer p.admitMu.Unlock()
	secs, err := p.cfg.Store.Sections(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	why, err := p.admit(ctx, r, secs)
	if err != nil {
		return nil, err
	}
	p.log.Info("deferred request decided again by its new due date", "request", r.ID, "due", r.DueAt.UTC().Format(time.RFC3339), "deferred", why)
	return p.cfg.Store.UpdateRequest(ctx, r.ID, func(r *Request) error {
		r.Deferred = why
		return nil
	})
}

// Rebuilder is an Assembler that can write a completed request's bundle
// again; bundle.Assembler is one.
type Rebuilder interface {
	Rebuild(ctx context.Context, r *Request, sections []Section, zoom Zoom) error
}

// Rebuild writes the damaged or missing bundle of a completed request
// again from its stored pages, byte for byte the bundle first assembled
// (the Rebuilder refuses anything else), and records who did it.
func (p *Processor) Rebuild(ctx context.Context, id string) (*Request, error) {
	const op = "dsar.Rebuild"
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case r.State != StateCompleted:
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("the request is %s; only the bundle of a COMPLETED request can be rebuilt", r.State)}
	case r.Purged():
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: "the bundle was " + r.Purge.Text() + "; it cannot be rebuilt"}
	case !r.Purge.CollectedAt.IsZero():
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("the collected data the bundle was written from was purged on %s, once the bundle was verified; it cannot be rebuilt", r.Purge.CollectedAt.UTC().Format(time.RFC3339))}
	}
	rb, ok := p.cfg.Assembler.(Rebuilder)
	if !ok {
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: "this server's assembler cannot rebuild bundles"}
	}
	sections, err := p.cfg.Store.Sections(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := rb.Rebuild(ctx, r, sections, p.zoom(r.Account)); err != nil {
		return nil, err
	}
	p.log.Info("bundle rebuilt", "request", id, "bundle_bytes", r.Bundle.Size)
	detail := fmt.Sprintf("%d bytes, sha256 %s", r.Bundle.Size, r.Bundle.SHA256)
	if err := p.Record(ctx, id, ActionRebuild, detail); err != nil {
		return nil, err
	}
	return r, nil
}

// Watch returns a channel that receives a value whenever the request may
// have changed, and a function that ends the subscription. Values are
// coalesced: a slow reader sees the latest state by reading it again.
func (p *Processor) Watch(id string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	p.mu.Lock()
	p.watchers[id] = append(p.watchers[id], ch)
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		ws := p.watchers[id]
		if i := slices.Index(ws, ch); i >= 0 {
			ws = slices.Delete(ws, i, i+1)
		}
		if len(ws) == 0 {
			delete(p.watchers, id)
		} else {
			p.watchers[id] = ws
		}
	}
}

func (p *Processor) notify(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ch := range p.watchers[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
