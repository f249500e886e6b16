package dsar

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// section fetches the remaining parts of one section, page by page, each
// page committed together with the cursor that follows it, then the files
// its records point to (see media). It returns nil when the section is
// COMPLETE or NOT_APPLICABLE, errParked with the reset time when a daily
// quota is spent, errFailed when Zoom keeps failing or refuses, and the
// context's error on cancellation.
func (p *Processor) section(ctx context.Context, zoom Zoom, r *Request, s Section) (time.Time, error) {
	if err := p.sem.Acquire(ctx); err != nil {
		return time.Time{}, err
	}
	defer p.sem.Release()

	// Renew the lease as each section starts: the bbolt file lock already
	// makes this process the only writer; the lease tells others who works
	// on the request and until when.
	now := p.clock.Now()
	if _, err := p.cfg.Store.Claim(ctx, r.ID, p.cfg.Owner, now.Add(p.cfg.Lease)); err != nil {
		return time.Time{}, err
	}
	// A scope the account's check found missing fails the section before
	// any call; Zoom would refuse each with 4711.
	if why := p.lastCheck(r.Account).Sections[s.Name]; why != "" {
		return p.sectionStopped(ctx, r, s.Name, &ZoomError{Kind: ZoomRejected, Code: CodeMissingScope, Message: why})
	}
	if _, err := p.cfg.Store.UpdateSection(ctx, r.ID, s.Name, func(s *Section) error {
		s.State = SectionRunning
		s.Reason, s.ReasonCode = "", 0
		s.WaitingUntil = time.Time{}
		if s.StartedAt.IsZero() {
			s.StartedAt = now
		}
		return nil
	}); err != nil {
		return time.Time{}, err
	}
	p.notify(r.ID)

	for _, pt := range s.Parts {
		if pt.Done {
			continue
		}
		err := p.part(ctx, zoom, r, s.Name, pt)
		if err == nil {
			continue
		}
		var ze *ZoomError
		if ctx.Err() != nil || !errors.As(err, &ze) {
			return time.Time{}, err
		}
		return p.sectionStopped(ctx, r, s.Name, ze)
	}
	if p.cfg.Media != nil && HasMedia(s.Name) {
		if err := p.media(ctx, zoom, r, s); err != nil {
			var ze *ZoomError
			if ctx.Err() != nil || !errors.As(err, &ze) {
				return time.Time{}, err
			}
			if ze.Kind == ZoomNotApplicable {
				// Stopping here must not make the listed records an answer
				// of "not applicable": the section fails and may be resumed.
				ze = &ZoomError{Kind: ZoomRejected, Code: ze.Code, Message: ze.Message, Err: ze}
			}
			return p.sectionStopped(ctx, r, s.Name, ze)
		}
	}
	_, err := p.cfg.Store.UpdateSection(ctx, r.ID, s.Name, func(s *Section) error {
		s.State = SectionComplete
		s.Reason, s.ReasonCode = "", 0 // a cancel may have stopped it meanwhile
		s.FinishedAt = p.clock.Now()
		return nil
	})
	p.notify(r.ID)
	return time.Time{}, err
}

// sectionStopped records why a section cannot go on. A section waits for
// a quota reset or for Zoom to answer again (errParked with the time);
// past the request's give-up point an outage fails it, so that a person
// can still act before the due date.
func (p *Processor) sectionStopped(ctx context.Context, r *Request, name string, ze *ZoomError) (time.Time, error) {
	var (
		state  SectionState
		result error
	)
	if ze.Kind == ZoomOutage && !p.clock.Now().Before(r.DueAt.Add(-p.cfg.GiveUp)) {
		ze = &ZoomError{Kind: ZoomUnavailable, Code: ze.Code, Err: ze.Err, Message: ze.Message +
			fmt.Sprintf("; the request gives up %s before its due date (%s) so that a person can act: resume it when Zoom answers",
				p.cfg.GiveUp, r.DueAt.UTC().Format(time.RFC3339))}
	}
	switch ze.Kind {
	case ZoomNotApplicable:
		state = SectionNotApplicable
	case ZoomQuota:
		state, result = SectionWaitingQuota, fmt.Errorf("%w: %w", errParked, ze)
	case ZoomOutage:
		state, result = SectionWaitingZoom, fmt.Errorf("%w: %w", errParked, ze)
	default:
		// The Zoom error goes with errFailed: the request's reason quotes it.
		state, result = SectionFailed, fmt.Errorf("%w: %w", errFailed, ze)
		p.log.Warn("section failed", "request", r.ID, "section", name, "err", ze)
	}
	_, err := p.cfg.Store.UpdateSection(ctx, r.ID, name, func(s *Section) error {
		s.State = state
		s.ReasonCode = ze.Code
		s.Reason = ze.Message
		if state.Waiting() {
			s.WaitingUntil = ze.Until
		} else {
			s.FinishedAt = p.clock.Now()
		}
		return nil
	})
	p.notify(r.ID)
	if err != nil {
		return time.Time{}, err
	}
	return ze.Until, result
}

// part fetches one part from its cursor to its end. Records that a page
// repeats from an earlier page of the same window (after Zoom's page token
// expired and the window was fetched again) are listed in the page's Drop;
// a record without an id is never dropped. Every HTTP call is counted: a
// page's with the page, a failed call's before the error is returned.
func (p *Processor) part(ctx context.Context, zoom Zoom, r *Request, section string, pt Part) error {
	windows, err := p.windows(ctx, zoom, r, section, pt.Name)
	if err != nil {
		return err
	}
	if windows != nil && len(windows) == 0 {
		// An item part whose earlier parts name no item: nothing to fetch.
		return p.moveCursor(ctx, r.ID, section, pt.Name, pt.Cursor, true, 0)
	}
	cur := pt.Cursor
	keep := keptKey{capKey{r.Account, bucketOf(zoom, section, pt.Name)}, r.ID, section + "/" + pt.Name}
	defer p.kept.drop(keep)
	var seen map[string]struct{} // ids stored in the current window
	var calls int64              // made and not yet counted in the store
	// after returns the cursor that follows the current window's last
	// page, and whether the part is then done.
	after := func() (Cursor, bool) {
		if cur.Window+1 < len(windows) {
			return windows[cur.Window+1], false
		}
		return cur, true
	}
	for {
		if windows != nil {
			if cur.Window >= len(windows) {
				return fmt.Errorf("part %s/%s: window %d of %d", section, pt.Name, cur.Window, len(windows))
			}
			w := windows[cur.Window]
			if cur.Item != "" && cur.Item != w.Item {
				return &Error{Code: EINTERNAL, Op: "dsar.part", Message: fmt.Sprintf("part %s/%s: the stored cursor's item is not window %d's: the parts it is read from changed", section, pt.Name, cur.Window)}
			}
			cur.From, cur.To, cur.Item = w.From, w.To, w.Item
		}
		if seen == nil {
			var err error
			if seen, err = p.cfg.Store.PageIDs(ctx, r.ID, section, pt.Name, cur.Window); err != nil {
				return err
			}
		}
		if err := p.sem.Yield(ctx); err != nil {
			return err
		}
		answered, ze := p.spare(zoom, keep, section, pt.Name)
		if ze != nil {
			return ze
		}
		f, err := zoom.Fetch(ctx, Subject{ID: r.ZoomUserID, Email: r.Email}, section, pt.Name, cur)
		answered()
		if errors.As(err, &ze) {
			calls += int64(ze.Calls)
			if ze.Kind == ZoomPageTokenExpired && cur.PageToken != "" {
				p.log.Info("page token expired, fetching the window again", "request", r.ID, "section", section, "part", pt.Name)
				cur.PageToken = ""
				continue
			}
			if ze.Kind == ZoomExpired {
				// An item deleted since the list named it (the list's
				// record stays in the bundle), or a window Zoom no longer
				// serves: nothing of it is left to fetch.
				p.log.Info("passed over what Zoom no longer holds", "request", r.ID, "section", section, "part", pt.Name, "code", ze.Code)
				next, done := after()
				if err := p.moveCursor(context.WithoutCancel(ctx), r.ID, section, pt.Name, next, done, calls); err != nil {
					return err
				}
				if done {
					return nil
				}
				cur, seen, calls = next, nil, 0
				p.kept.drop(keep)
				continue
			}
		}
		if err != nil {
			if ze != nil && calls > 0 {
				if cerr := p.addCalls(context.WithoutCancel(ctx), r.ID, section, pt.Name, calls); cerr != nil {
					return errors.Join(err, cerr)
				}
			}
			return err
		}
		if p.cfg.Hooks.AfterFetch != nil {
			p.cfg.Hooks.AfterFetch(section, pt.Name)
		}
		page := Page{Section: section, Part: pt.Name, Body: f.Body, IDs: f.IDs, Item: cur.Item, Calls: calls + int64(f.Calls)}
		calls = 0
		// Only earlier pages make a repeat: a page is what Zoom sent.
		for _, id := range f.IDs {
			if _, dup := seen[id]; dup && id != "" && !slices.Contains(page.Drop, id) {
				page.Drop = append(page.Drop, id)
			}
		}
		for _, id := range f.IDs {
			if id != "" {
				seen[id] = struct{}{}
			}
		}
		next, last := cur, false
		next.PageToken, next.Refs = f.NextPageToken, f.Refs
		p.kept.spent(keep)
		if f.NextPageToken == "" {
			next, last = after()
			seen = nil
			p.kept.drop(keep)
		}
		// A fetched page is committed even when shutdown has begun: that is
		// what lets a restart go on without fetching it again.
		if err := p.cfg.Store.CommitPage(context.WithoutCancel(ctx), r.ID, section, pt.Name, page, next, last); err != nil {
			return err
		}
		if p.cfg.Hooks.AfterCommit != nil {
			p.cfg.Hooks.AfterCommit(section, pt.Name)
		}
		p.notify(r.ID)
		if last {
			return nil
		}
		if cur.PageToken == "" { // the window's first page
			if ze := p.keepWindow(zoom, keep, section, pt.Name, f.Body); ze != nil {
				// After the reset the window starts again from its first
				// page, rather than try a token that will have expired
				// (Zoom's last 15 minutes) and then fetch that page.
				if err := p.moveCursor(context.WithoutCancel(ctx), r.ID, section, pt.Name, cur, false, 0); err != nil {
					return errors.Join(ze, err)
				}
				return ze
			}
		}
		cur = next
	}
}

// windows returns the windows a part is fetched in, nil for one call
// sequence without windows. A part fetched item by item (ItemsFrom) has a
// window per item, or per item and date window if its endpoint has those,
// item by item: its items are read from the stored pages of the parts it
// follows, in their order, each once, leaving out those of records a page
// drops.
func (p *Processor) windows(ctx context.Context, zoom Zoom, r *Request, section, part string) ([]Cursor, error) {
	ws, _, err := p.itemWindows(ctx, zoom, r, section, part)
	return ws, err
}

// itemWindows is windows, with the Kind of each window's item ("" for a
// part not fetched item by item).
func (p *Processor) itemWindows(ctx context.Context, zoom Zoom, r *Request, section, part string) ([]Cursor, []string, error) {
	dates := zoom.Windows(section, part, r.CreatedAt)
	from := ItemsFrom(section, part)
	if from == nil {
		if dates == nil {
			return nil, nil, nil
		}
		out := make([]Cursor, len(dates))
		for i, d := range dates {
			out[i] = Cursor{Window: i, From: d.From, To: d.To}
		}
		return out, make([]string, len(out)), nil
	}
	if dates == nil {
		dates = []Span{{}}
	}
	out := []Cursor{}
	var kinds []string
	seen := map[string]bool{}
	for _, src := range from {
		sec, pt, _ := strings.Cut(src, "/")
		err := p.cfg.Store.Pages(ctx, r.ID, sec, pt, func(pg Page) error {
			items, err := zoom.Items(section, part, src, pg.Body)
			if err != nil {
				return fmt.Errorf("items of %s/%s from %s page %d: %w", section, part, src, pg.Seq, err)
			}
			for _, it := range items {
				if it.Key == "" || seen[it.Key] || (it.Record != "" && slices.Contains(pg.Drop, it.Record)) {
					continue
				}
				seen[it.Key] = true
				for _, d := range dates {
					out = append(out, Cursor{Window: len(out), From: d.From, To: d.To, Item: it.Key})
					kinds = append(kinds, it.Kind)
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return out, kinds, nil
}

// moveCursor sets a part's cursor without a page: past an item or window
// Zoom no longer has (counting the calls that found it gone), past its end
// when no part names an item, or back to a window's first page.
func (p *Processor) moveCursor(ctx context.Context, id, section, part string, next Cursor, done bool, calls int64) error {
	_, err := p.cfg.Store.UpdateSection(ctx, id, section, func(s *Section) error {
		pt := s.Part(part)
		if pt == nil {
			return fmt.Errorf("section %s has no part %s", section, part)
		}
		pt.Cursor, pt.Done = next, done
		pt.Calls += calls
		s.Calls += calls
		return nil
	})
	return err
}

// addCalls counts calls that stored nothing (a failed call and its
// retries) on a part, if named, and its section.
func (p *Processor) addCalls(ctx context.Context, id, section, part string, n int64) error {
	_, err := p.cfg.Store.UpdateSection(ctx, id, section, func(s *Section) error {
		if pt := s.Part(part); pt != nil {
			pt.Calls += n
		}
		s.Calls += n
		return nil
	})
	return err
}
