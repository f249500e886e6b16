package dsar

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Reasons of the sections a stopped request leaves behind (see
// Section.Stop).
const (
	reasonRequestFailed    = "stopped: the request failed"
	reasonRequestCancelled = "stopped: the request was cancelled"
)

// Stop makes a section tell the truth when its request ends in state
// (FAILED or CANCELLED): a section left RUNNING or waiting becomes
// FAILED with a reason that says the request stopped it. PENDING sections
// stay PENDING: they never started, and a resume starts them; a resume or
// retry goes on from every section's checkpoints. Stop reports whether it
// changed s. The store applies it in the transaction that ends the
// request.
func (s *Section) Stop(state State, at time.Time) bool {
	var reason string
	switch state {
	case StateFailed:
		reason = reasonRequestFailed
	case StateCancelled:
		reason = reasonRequestCancelled
	default:
		return false
	}
	if s.State != SectionRunning && !s.State.Waiting() {
		return false
	}
	s.State, s.Reason, s.ReasonCode = SectionFailed, reason, 0
	s.WaitingUntil = time.Time{}
	s.FinishedAt = at
	return true
}

// settle stops the sections of a FAILED or CANCELLED request that a run
// marked in progress after the request ended (a cancel lands while the
// run is between calls). It runs when no goroutine works on the request.
func (p *Processor) settle(ctx context.Context, id string) error {
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil || (r.State != StateFailed && r.State != StateCancelled) {
		return err
	}
	secs, err := p.cfg.Store.Sections(ctx, id)
	if err != nil {
		return err
	}
	changed := false
	for _, s := range secs {
		if !s.Stop(r.State, time.Time{}) {
			continue
		}
		if _, err := p.cfg.Store.UpdateSection(ctx, id, s.Name, func(s *Section) error {
			s.Stop(r.State, p.clock.Now())
			return nil
		}); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		p.notify(id)
	}
	return nil
}

// failedReason says why a request's sections failed, in report order:
// what Zoom answered for each (a missing scope names the scope to grant),
// sections with the same answer together, and what to do then.
func failedReason(failed map[string]*ZoomError) string {
	var (
		msgs []string
		by   = map[string][]string{} // Zoom's answer -> sections
	)
	rejected := false
	for _, name := range Sections {
		ze, ok := failed[name]
		if !ok {
			continue
		}
		rejected = rejected || ze.Kind == ZoomRejected
		m := ze.Message
		if ze.Code != 0 {
			m = fmt.Sprintf("zoom code %d: %s", ze.Code, ze.Message)
		}
		if _, seen := by[m]; !seen {
			msgs = append(msgs, m)
		}
		by[m] = append(by[m], name)
	}
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = strings.Join(by[m], ", ") + ": " + m
	}
	then := "resume to retry them from their checkpoints"
	if rejected {
		then = "once that is done, resume: they go on from their checkpoints"
	}
	return "sections failed: " + strings.Join(parts, "; ") + "; " + then
}

// failedSection is a section whose work stopped on an error that is not
// Zoom's answer: the store or the file system failed.
type failedSection struct {
	name string
	err  error
}

func (f failedSection) reason() string {
	return fmt.Sprintf("section %s stopped: %s; resume once that is fixed", f.name, causeText(f.err))
}

// causeText names a failure that is not Zoom's answer for a request's
// reason. The text of the store's and the file system's errors names
// files, ids and causes ("no space left on device"), never a person.
func causeText(err error) string {
	if de, ok := err.(*Error); ok && de.Message == "" && de.Err != nil {
		return de.Op + ": " + de.Err.Error() // not "store.X: internal: ..."
	}
	return err.Error()
}
