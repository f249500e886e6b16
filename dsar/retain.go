package dsar

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DefaultBundleRetention is Retention.Bundles's default: a bundle is kept
// 30 days after its request completed, time for the platform to fetch it
// and for the subject to ask again.
const DefaultBundleRetention = 30 * 24 * time.Hour

// Retention says how long what a request collected is kept.
type Retention struct {
	// Bundles is how long after completion a bundle is kept; then it is
	// deleted and the request purged (Store.PurgeRequest). Zero means
	// DefaultBundleRetention.
	Bundles time.Duration
	// Downloads, when above zero, also deletes a bundle once it has been
	// downloaded whole that many times. Zero, the default, sets no limit:
	// the platform, the subject and an auditor may each need a copy, and a
	// retried transfer the platform lost must not end its access; the
	// time limit bounds how long it is kept.
	Downloads int
	// KeepCollected keeps a completed request's stored pages and cursors
	// (Rebuild writes the bundle again from them) until the bundle is
	// purged. By default they are purged once the bundle is verified.
	KeepCollected bool
}

// BundleFiles checks and deletes the bundle files an Assembler writes;
// bundle.Assembler is one. Without it the processor purges nothing.
type BundleFiles interface {
	// Verify checks the bundle of a completed request whole: its size and
	// SHA-256 against the recorded ones, every entry's hash and the
	// manifest's signature.
	Verify(ctx context.Context, r *Request) error
	// Remove deletes the bundle file of a request, also one written but
	// not recorded (an assembly a cancel cut short); none is no error.
	Remove(r *Request) error
	// Manifest returns the manifest.json of a completed request's bundle,
	// checked against the recorded SHA-256, with the subject's email
	// replaced by the request's EmailHash: what the request keeps after
	// its purge. EDATALOSS when the file is missing or damaged.
	Manifest(ctx context.Context, r *Request) ([]byte, error)
}

// files returns the Assembler as BundleFiles, if it is one.
func (p *Processor) files() (BundleFiles, bool) {
	bf, ok := p.cfg.Assembler.(BundleFiles)
	return bf, ok
}

// retain runs after a request completed: once its bundle is verified, the
// collected data it holds is purged, and the bundle's own purge is timed.
// Start calls it again for every completed request, so that a crash after
// the completion loses neither step.
func (p *Processor) retain(ctx context.Context, r *Request) {
	bf, ok := p.files()
	if !ok || r.Purged() {
		return
	}
	if r.Purge.CollectedAt.IsZero() && !p.cfg.Retention.KeepCollected {
		if err := bf.Verify(ctx, r); err != nil {
			// The pages stay, so that an operator can rebuild it.
			p.log.Error("the bundle did not verify; its collected data is kept", "request", r.ID, "err", err)
		} else if _, err := p.cfg.Store.PurgeCollected(ctx, r.ID); err != nil {
			p.log.Error("purge the collected data of a completed request", "request", r.ID, "err", err)
		} else {
			p.log.Info("collected data purged", "request", r.ID)
			p.notify(r.ID)
			p.compact(ctx)
		}
	}
	p.expireAt(r.ID, p.BundleExpiry(r))
}

// BundleExpiry is when the bundle of a completed request is purged at the
// latest; zero before completion and once purged.
func (p *Processor) BundleExpiry(r *Request) time.Time {
	if r.State != StateCompleted || r.Purged() {
		return time.Time{}
	}
	return completedAt(r).Add(p.cfg.Retention.Bundles)
}

// completedAt is when r completed; requests completed by older builds
// did not record it, and were last updated then.
func completedAt(r *Request) time.Time {
	if r.CompletedAt.IsZero() {
		return r.UpdatedAt
	}
	return r.CompletedAt
}

// expireAt arms a timer of the processor's clock that purges a completed
// request's bundle at t (at once when t has passed).
func (p *Processor) expireAt(id string, t time.Time) {
	p.arm(p.expiries, id, t, p.expire)
}

// expire purges a request whose retention period ended. Like wake, it does
// nothing once Close has begun.
func (p *Processor) expire(id string) {
	ctx, ok := p.fired(p.expiries, id)
	if !ok {
		return
	}
	defer p.wg.Done()
	reason := fmt.Sprintf("its retention period of %s after completion ended", days(p.cfg.Retention.Bundles))
	if _, err := p.purge(WithActor(ctx, System), id, reason); err != nil {
		p.log.Error("purge a bundle at the end of its retention", "request", id, "err", err)
	}
}

// days says d in days when it is a whole number of them.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	return d.String()
}

// purge reads the manifest of a request's bundle, deletes its bundle file
// and media files, then purges it in the store with the reason, keeping
// the manifest. The file goes first: a crash between the two leaves a
// request that still names a bundle that is gone, and the next Start
// purges it again, without a manifest then (the audit event says so).
func (p *Processor) purge(ctx context.Context, id, reason string) (*Request, error) {
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Purged() {
		return r, nil
	}
	var manifest []byte
	if bf, ok := p.files(); ok {
		if r.State == StateCompleted {
			if manifest, err = bf.Manifest(ctx, r); err != nil {
				// A bundle that cannot be read must not keep its
				// request from being purged; the store's audit event
				// says that no manifest was kept.
				p.log.Error("read the manifest of a bundle to purge; none is kept", "request", id, "err", err)
				manifest = nil
			}
		}
		if err := bf.Remove(r); err != nil {
			return nil, fmt.Errorf("delete the bundle: %w", err)
		}
	}
	p.dropMedia(id)
	r, err = p.cfg.Store.PurgeRequest(ctx, id, reason, manifest)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	disarm(p.expiries, id)
	p.mu.Unlock()
	p.log.Info("request purged", "request", id)
	p.notify(id)
	p.compact(ctx)
	return r, nil
}

// Manifest returns the manifest of a completed request's bundle with the
// subject's email replaced by its keyed hash: read from the bundle before
// the purge, from the store after it. It is the same document at both
// times, so that a caller never learns the email from it nor sees it
// change when the bundle goes; the subject's own copy is in the bundle.
func (p *Processor) Manifest(ctx context.Context, id string) ([]byte, error) {
	const op = "dsar.Manifest"
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Purged() {
		return p.cfg.Store.Manifest(ctx, id)
	}
	bf, ok := p.files()
	if r.State != StateCompleted || !ok {
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("request %s is %s: only a completed request has a manifest", id, r.State)}
	}
	return bf.Manifest(ctx, r)
}

// compact lets the store give back the space purges freed, so that the
// file does not keep growing with what it no longer holds.
func (p *Processor) compact(ctx context.Context) {
	did, err := p.cfg.Store.Compact(ctx)
	switch {
	case err != nil:
		p.log.Error("compact the store after a purge", "err", err)
	case did:
		p.log.Info("store compacted: the space of purged data is given back")
	}
}

// Downloaded counts a whole download of a request's bundle (its last byte
// sent) and purges the bundle when Retention.Downloads is reached.
func (p *Processor) Downloaded(ctx context.Context, id string) (*Request, error) {
	r, err := p.cfg.Store.UpdateRequest(ctx, id, func(r *Request) error {
		r.Downloads++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := p.cfg.Retention.Downloads; n > 0 && r.Downloads >= n && !r.Purged() {
		return p.purge(WithActor(ctx, System), id, fmt.Sprintf("it was downloaded %d times, the limit", n))
	}
	return r, nil
}

// Delete removes a request's bundle and collected data at once, for an
// operator: a request still in progress is cancelled first. The request
// keeps its metadata, the bundle's SHA-256 and its audit trail; its email
// is replaced by its hash. Deleting a purged request returns it as it is.
func (p *Processor) Delete(ctx context.Context, id, reason string) (*Request, error) {
	const op = "dsar.Delete"
	reason = strings.TrimSpace(reason)
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Purged() {
		return r, nil
	}
	if !r.State.Final() {
		// Without Cancel's purge of the collected data: purge below
		// deletes it with the rest, once.
		if _, _, err := p.cancel(ctx, id, reason); err != nil && ErrorCode(err) != EPRECONDITION {
			return nil, fmt.Errorf("%s: cancel: %w", op, err)
		}
	}
	why := "deleted by " + ActorFrom(ctx).Name
	if reason != "" {
		why += ": " + reason
	}
	if err := p.Record(ctx, id, ActionDelete, why); err != nil {
		return nil, err
	}
	return p.purge(ctx, id, why)
}

// sweepRetention runs retain for every completed request not yet purged:
// at Start, it re-arms the timers of the bundles' purges and finishes a
// purge of collected data a crash interrupted, that of a cancelled
// request too.
func (p *Processor) sweepRetention(ctx context.Context) error {
	if _, ok := p.files(); !ok {
		return nil
	}
	f := RequestFilter{States: []State{StateCompleted, StateCancelled}, Limit: 1000, SkipEmail: true}
	for {
		reqs, next, err := p.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return fmt.Errorf("list completed and cancelled requests: %w", err)
		}
		for i := range reqs {
			if r := &reqs[i]; r.State == StateCancelled {
				if r.Purge.CollectedAt.IsZero() {
					p.purgeCancelled(ctx, r.ID)
				}
			} else {
				p.retain(ctx, r)
			}
		}
		if next == "" {
			return nil
		}
		f.PageToken = next
	}
}

// purgeCancelled deletes what was collected for a cancelled request, once
// no run writes it: nothing of it will be delivered.
func (p *Processor) purgeCancelled(ctx context.Context, id string) {
	p.dropMedia(id)
	if _, err := p.cfg.Store.PurgeCollected(context.WithoutCancel(ctx), id); err != nil {
		p.log.Error("purge the collected data of a cancelled request", "request", id, "err", err)
	}
}
