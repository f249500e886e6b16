package dsar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"
)

// Store keeps requests, sections, pages and the audit log. store.DB
// satisfies it; every method is one transaction.
type Store interface {
	CreateRequest(ctx context.Context, r *Request, sections []Section) (*Request, bool, error)
	Request(ctx context.Context, id string) (*Request, error)
	ListRequests(ctx context.Context, f RequestFilter) ([]Request, string, error)
	UpdateRequest(ctx context.Context, id string, fn func(*Request) error) (*Request, error)
	Claim(ctx context.Context, id, owner string, until time.Time) (*Request, error)
	Sections(ctx context.Context, id string) ([]Section, error)
	UpdateSection(ctx context.Context, id, name string, fn func(*Section) error) (*Section, error)
	CommitPage(ctx context.Context, id, section, part string, page Page, next Cursor, done bool) error
	Pages(ctx context.Context, id, section, part string, fn func(Page) error) error
	PageIDs(ctx context.Context, id, section, part string, window int) (map[string]struct{}, error)
	ResetSection(ctx context.Context, id, section string) (*Section, error)
	// CommitMedia records a file of a section done or missing and adds
	// its Calls to the section's.
	CommitMedia(ctx context.Context, id, section string, f MediaFile) error
	// Media returns the recorded files of a request, sorted by Path.
	Media(ctx context.Context, id string) ([]MediaFile, error)
	AppendAudit(ctx context.Context, ev AuditEvent) (AuditEvent, error)
	Audit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PurgeCollected deletes a request's stored pages, its cursors'
	// tokens and its media records, keeps its sections' states, counts
	// and windows, and records Purge.CollectedAt.
	PurgeCollected(ctx context.Context, id string) (*Request, error)
	// PurgeRequest does what PurgeCollected does, replaces the email by
	// its hash, records Purge.BundleAt and the reason and keeps manifest
	// (BundleFiles.Manifest; nil keeps none); a purged request is
	// returned as it is.
	PurgeRequest(ctx context.Context, id, reason string, manifest []byte) (*Request, error)
	// Manifest returns the manifest a purged request keeps; ENOTFOUND
	// when it keeps none.
	Manifest(ctx context.Context, id string) ([]byte, error)
	// Compact gives back the space that purges freed in the store's file
	// once it passes the store's threshold, and reports whether it did;
	// the other calls wait meanwhile.
	Compact(ctx context.Context) (bool, error)
}

// RequestFilter selects requests for ListRequests. Zero fields select all.
type RequestFilter struct {
	States        []State
	Account       string
	CreatedAfter  time.Time // exclusive
	CreatedBefore time.Time // exclusive
	Email         string    // the subject's address, matched without regard to case
	DueBefore     time.Time // exclusive: requests due before this time
	PageToken     string    // from the previous call
	Limit         int       // default 100, at most 1000
	// SkipEmail leaves each request's email sealed (Email empty; its
	// EmailHash is set): for callers that need no address, so that they
	// neither pay for opening it nor hold it in memory.
	SkipEmail bool
}

// AuditFilter selects audit events: of one request or all, after a
// sequence number, at or after Since and before Until (zero: no bound), at
// most Limit (default 100, at most 1000). The store applies every bound,
// so that a page holds Limit events whenever that many match.
type AuditFilter struct {
	Request string
	After   uint64
	Since   time.Time
	Until   time.Time
	Limit   int
}

// Assembler writes the bundle of a request from its stored pages and media
// files; bundle.Assembler writes it to disk.
type Assembler interface {
	// Assemble writes the bundle and returns it with the record count of
	// each section in it, by name; zoom, the request's account (nil when
	// it is no longer configured), tells the shape of its pages and the
	// windows each section covered.
	Assemble(ctx context.Context, r *Request, sections []Section, zoom Zoom) (Bundle, map[string]int64, error)
}

// Hooks are called at the points where a crash matters most; the crash
// test kills the process there. Nil hooks are skipped.
type Hooks struct {
	AfterFetch  func(section, part string) // a page is fetched, not yet committed
	AfterCommit func(section, part string) // a page and its cursor are committed
	Assembling  func()                     // the bundle is being written
	// AfterDownload: a media file is whole under its name, not yet recorded.
	AfterDownload func(section, name string)
}

// Config configures a Processor.
type Config struct {
	Store     Store
	Accounts  map[string]Zoom // by the account's configured name
	Assembler Assembler
	Clock     Clock        // nil: the system clock
	Logger    *slog.Logger // nil: discard
	// Owner names this processor in leases; the same owner reclaims its
	// leases after a restart. Default: the host name.
	Owner string
	// Shard prefixes new request ids.
	Shard     string
	Deadlines Deadlines // nil: DefaultDeadlines
	// Concurrency bounds the sections fetched at once across all requests.
	// Default: one request's sections all at once, so that every rate-limit
	// bucket is busy from the start; each section has one call in flight.
	// The slots go to the requests due first; a section of a later-due
	// request hands its slot on between pages when an earlier-due one
	// waits.
	Concurrency int
	// Lease is how long a claim lasts before it must be renewed. Default 5m.
	Lease time.Duration
	// GiveUp is how long before a request's due date an outage of Zoom
	// fails its sections instead of parking them, so that a person can
	// still act. Default DefaultGiveUp.
	GiveUp time.Duration
	// Media keeps the media files (recordings, voicemails) of requests
	// until their bundles hold them; the Assembler must read the same
	// files. Nil: media files are not collected.
	Media MediaStore
	// Retention says how long collected data and bundles are kept; the
	// Assembler must be a BundleFiles for anything to be purged.
	Retention Retention
	Hooks     Hooks
	// AtRisk, if set, is called for a request deferred when it is created
	// (Request.Deferred), with its estimate; it is logged too.
	AtRisk func(r *Request, e Estimate)
}

// Processor runs access requests to completion. Every goroutine it starts
// ends before Close returns.
type Processor struct {
	cfg   Config
	log   *slog.Logger
	clock Clock
	sem   *DueQueue // section slots, earliest due first

	mu       sync.Mutex
	accounts map[string]Zoom         // by name; SetAccounts replaces it
	checks   map[string]AccountCheck // the last check of each account
	auths    map[string]pendingAuth  // authorizations under way, by account
	ctx      context.Context         // the processor's lifetime, set by Start
	stop     context.CancelFunc
	running  map[string]*run            // requests being worked on
	timers   map[string]func() bool     // parked requests' wake-ups
	expiries map[string]func() bool     // completed requests' purges (retain.go)
	watchers map[string][]chan struct{} // Watch subscriptions
	hist     histories                  // calls per part of completed requests, by account
	items    pageCache[itemWindows]     // item windows of requests under way, for estimates
	stored   pageCache[map[int]*stored] // what their parts' stored pages say, for estimates
	winPages pageCache[map[int]int64]   // their item parts' pages by window, for estimates
	admitMu  sync.Mutex                 // one admission at a time: each counts on the promises before it
	kept     kept                       // calls of daily caps kept for list windows under way
	closed   bool
	wg       sync.WaitGroup
}

// run is one request being worked on in this process.
type run struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the run has ended
	again  bool          // scheduled again while running: look again at the end
	due    *dueRef       // its place in due order (Request.Rank), read at each turn
}

// NewProcessor returns a processor; Start sets it going.
func NewProcessor(cfg Config) (*Processor, error) {
	if cfg.Store == nil {
		return nil, &Error{Code: EINVALID, Op: "dsar.NewProcessor", Message: "no store"}
	}
	if cfg.Assembler == nil {
		return nil, &Error{Code: EINVALID, Op: "dsar.NewProcessor", Message: "no assembler"}
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Owner == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "dsard"
		}
		cfg.Owner = host
	}
	if cfg.Deadlines == nil {
		cfg.Deadlines = DefaultDeadlines
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = len(Sections)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	if cfg.GiveUp <= 0 {
		cfg.GiveUp = DefaultGiveUp
	}
	if cfg.Retention.Bundles <= 0 {
		cfg.Retention.Bundles = DefaultBundleRetention
	}
	return &Processor{
		cfg:      cfg,
		log:      cfg.Logger,
		clock:    cfg.Clock,
		sem:      NewDueQueue(cfg.Concurrency),
		running:  make(map[string]*run),
		accounts: maps.Clone(cfg.Accounts),
		checks:   map[string]AccountCheck{},
		auths:    map[string]pendingAuth{},
		timers:   make(map[string]func() bool),
		expiries: make(map[string]func() bool),
		watchers: make(map[string][]chan struct{}),
	}, nil
}

// resumable are the states a request is picked up in on start: those that
// are not final.
var resumable = slices.DeleteFunc(slices.Clone(States), State.Final)

// Start resumes every request left QUEUED, RUNNING, WAITING_QUOTA or
// ASSEMBLING and accepts new work until ctx ends or Close is called. It
// first deletes the media files left of requests that are over, and
// re-arms the purges of completed requests (sweepRetention).
func (p *Processor) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.ctx != nil {
		p.mu.Unlock()
		return &Error{Code: EPRECONDITION, Op: "dsar.Start", Message: "processor already started"}
	}
	p.ctx, p.stop = context.WithCancel(ctx)
	p.mu.Unlock()

	if err := p.sweepMedia(ctx); err != nil {
		return fmt.Errorf("dsar.Start: %w", err)
	}
	// Verifying the bundles left unverified by a crash or an older build
	// may read many files: it goes on while requests resume.
	life := p.ctx
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := p.sweepRetention(life); err != nil && life.Err() == nil {
			p.log.Error("re-arm the purges of completed requests", "err", err)
		}
	}()
	f := RequestFilter{States: resumable, Limit: 1000, SkipEmail: true}
	for {
		reqs, next, err := p.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return fmt.Errorf("dsar.Start: list requests to resume: %w", err)
		}
		for i := range reqs {
			p.schedule(&reqs[i])
		}
		if next == "" {
			return nil
		}
		f.PageToken = next
	}
}

// Close stops all work and waits for it: a page being fetched is
// abandoned, a page being committed is committed. Requests stay in their
// states and resume on the next Start.
func (p *Processor) Close() error {
	p.mu.Lock()
	p.closed = true
	if p.stop != nil {
		p.stop()
	}
	for _, timers := range []map[string]func() bool{p.timers, p.expiries} {
		for id := range timers {
			disarm(timers, id)
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// schedule starts work on a request unless it is already running here or
// is parked until later.
func (p *Processor) schedule(r *Request) {
	now := p.clock.Now()
	if r.State.Waiting() && r.WaitingUntil.After(now) {
		p.park(r.ID, r.WaitingUntil)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.ctx == nil {
		return
	}
	if ru := p.running[r.ID]; ru != nil {
		// The run may be ending, having parked the request with a timer
		// that fired at once: it must look again when it ends.
		ru.again = true
		return
	}
	disarm(p.timers, r.ID)
	ctx, cancel := context.WithCancel(p.ctx)
	ru := &run{cancel: cancel, done: make(chan struct{}), due: new(dueRef)}
	ctx = context.WithValue(ctx, dueKey{}, ru.due)
	p.running[r.ID] = ru
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer cancel()
		err := p.work(ctx, r.ID)
		// A cancel may land while a section starts or parks: stop what the
		// run marked in progress after the request ended, before the run
		// counts as ended (Cancel and Resume wait for that).
		if serr := p.settle(context.WithoutCancel(ctx), r.ID); serr != nil {
			p.log.Error("settle the sections of a stopped request", "request", r.ID, "err", serr)
		}
		p.mu.Lock()
		delete(p.running, r.ID)
		again := ru.again
		p.mu.Unlock()
		close(ru.done)
		if err != nil && ctx.Err() == nil {
			p.log.Error("request stopped", "request", r.ID, "err", err)
		}
		p.notify(r.ID)
		if again && ctx.Err() == nil {
			if r, err := p.cfg.Store.Request(ctx, r.ID); err == nil && !r.State.Final() {
				p.schedule(r)
			}
		}
	}()
}

// park arms a timer of the processor's clock that resumes a request at
// until, when a daily quota resets.
func (p *Processor) park(id string, until time.Time) {
	if p.arm(p.timers, id, until, p.wake) {
		p.log.Info("request parked until quota reset", "request", id, "until", until.UTC().Format(time.RFC3339))
	}
}

// disarm stops and forgets id's timer in timers; the caller holds p.mu.
func disarm(timers map[string]func() bool, id string) {
	if stop, ok := timers[id]; ok {
		stop()
		delete(timers, id)
	}
}

// arm replaces id's timer in timers (p.timers, p.expiries) by one of the
// processor's clock that calls fire(id) at t, at once when t has passed;
// it arms none once Close has begun.
func (p *Processor) arm(timers map[string]func() bool, id string, t time.Time, fire func(string)) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	disarm(timers, id)
	timers[id] = p.clock.AfterFunc(max(0, t.Sub(p.clock.Now())), func() { fire(id) })
	return true
}

// wake resumes a parked request when its timer fires. A timer that fired
// as Close stopped it does nothing: Close waits for a wake that began
// before it, and one that begins after it finds the processor closed, so
// no wake touches the store after Close.
func (p *Processor) wake(id string) {
	ctx, ok := p.fired(p.timers, id)
	if !ok {
		return
	}
	defer p.wg.Done()
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil {
		p.log.Error("wake parked request", "request", id, "err", err)
		return
	}
	if !r.State.Waiting() {
		return
	}
	r.WaitingUntil = time.Time{} // due now, whatever the stored time says
	p.schedule(r)
}

// fired forgets the timer of id in timers, which fired, and returns the
// processor's context for its work, counted in wg (the caller calls
// wg.Done), unless Close has begun.
func (p *Processor) fired(timers map[string]func() bool, id string) (context.Context, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(timers, id)
	ctx := p.ctx
	if p.closed || ctx == nil || ctx.Err() != nil {
		return nil, false
	}
	p.wg.Add(1)
	return ctx, true
}

// idle reports whether no goroutine works on a request. A run that has
// stored a resting state (FAILED, WAITING_QUOTA) is about to end: idle
// waits for it.
func (p *Processor) idle(ctx context.Context, r *Request) (bool, error) {
	p.mu.Lock()
	ru := p.running[r.ID]
	p.mu.Unlock()
	if ru == nil {
		return true, nil
	}
	if r.State != StateFailed && !r.State.Waiting() {
		return false, nil
	}
	select {
	case <-ru.done:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// DefaultGiveUp is Config.GiveUp's default: three days before the due
// date, time enough for an operator to extend the deadline or resume.
const DefaultGiveUp = 72 * time.Hour

// errParked and errFailed end a section's work without being failures of
// the request's goroutine.
var (
	errParked = errors.New("section waits for a quota reset or for Zoom")
	errFailed = errors.New("section failed")
)

// work takes a request one step to its next resting state: COMPLETED,
// FAILED, WAITING_QUOTA, or (on shutdown) where it was.
func (p *Processor) work(ctx context.Context, id string) error {
	ctx = WithActor(ctx, System)
	r, err := p.cfg.Store.Claim(ctx, id, p.cfg.Owner, p.clock.Now().Add(p.cfg.Lease))
	if err != nil {
		return err
	}
	// Every call of the request waits its turn by its due date: the run's
	// dueRef, unless an extension since the run began has set it.
	if ref, ok := ctx.Value(dueKey{}).(*dueRef); ok {
		rank := r.Rank()
		ref.CompareAndSwap(nil, &rank)
	}
	switch r.State {
	case StateCompleted, StateCancelled:
		return nil
	case StateAssembling:
		return p.assemble(ctx, r)
	}
	if r.State != StateRunning {
		r, err = p.setState(ctx, id, StateRunning, "")
		if err != nil {
			return err
		}
	}
	zoom, ok := p.account(r.Account)
	if !ok {
		_, err := p.setState(ctx, id, StateFailed, fmt.Sprintf("account %q is not configured", r.Account))
		return err
	}
	if r.ZoomUserID == "" && r.Outcome == "" {
		found, err := p.lookup(ctx, zoom, r)
		if err != nil {
			return p.stopped(ctx, r, err)
		}
		r = found
	}
	if r.Outcome == OutcomeNoZoomUser {
		return p.toAssembly(ctx, r)
	}

	sections, err := p.cfg.Store.Sections(ctx, id)
	if err != nil {
		// A damaged section record: the request fails with the cause
		// rather than run again at every start.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_, serr := p.setState(ctx, id, StateFailed, "reading the request's sections: "+causeText(err)+"; dsard check names the damage")
		return errors.Join(err, serr)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		parked  time.Time
		waiting State // the state of the earliest park
		failed  = map[string]*ZoomError{}
		broken  *failedSection // the first section stopped by an error not Zoom's
		workErr error
	)
	for _, s := range sections {
		if s.State.Done() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			until, err := p.section(ctx, zoom, r, s)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
			case errors.Is(err, errParked):
				if parked.IsZero() || until.Before(parked) {
					parked, waiting = until, StateWaitingQuota
					var ze *ZoomError
					if errors.As(err, &ze) && ze.Kind == ZoomOutage {
						waiting = StateWaitingZoom
					}
				}
			case errors.Is(err, errFailed):
				var ze *ZoomError
				if !errors.As(err, &ze) {
					ze = &ZoomError{Message: err.Error()}
				}
				failed[s.Name] = ze
			default:
				if workErr == nil {
					workErr, broken = err, &failedSection{s.Name, err}
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if workErr != nil {
		_, err := p.setState(ctx, id, StateFailed, broken.reason())
		return errors.Join(workErr, err)
	}
	switch {
	case !parked.IsZero():
		return p.wait(ctx, id, waiting, parked)
	case len(failed) > 0:
		_, err := p.setState(ctx, id, StateFailed, failedReason(failed))
		return err
	}
	return p.toAssembly(ctx, r)
}

// wait parks a request until a daily quota resets (WAITING_QUOTA) or the
// account's breaker lets a call probe Zoom again (WAITING_ZOOM).
func (p *Processor) wait(ctx context.Context, id string, state State, until time.Time) error {
	if _, err := p.cfg.Store.UpdateRequest(ctx, id, func(r *Request) error {
		r.State, r.Reason, r.WaitingUntil = state, "", until
		return nil
	}); err != nil {
		return err
	}
	p.notify(id)
	p.park(id, until)
	return nil
}

// stopped ends a request's step on an error of the lookup.
func (p *Processor) stopped(ctx context.Context, r *Request, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	id := r.ID
	var ze *ZoomError
	if errors.As(err, &ze) {
		switch {
		case ze.Kind == ZoomQuota:
			return p.wait(ctx, id, StateWaitingQuota, ze.Until)
		case ze.Kind == ZoomOutage && p.clock.Now().Before(r.DueAt.Add(-p.cfg.GiveUp)):
			return p.wait(ctx, id, StateWaitingZoom, ze.Until)
		}
	}
	reason := "internal error while looking up the Zoom user"
	var de *Error // the store's: its text names no person, unlike a URL with the email
	switch {
	case ze != nil:
		// Zoom's message, or the client's sentence for an operator,
		// without the chain of causes that repeats it.
		reason = "looking up the Zoom user: " + ze.Error()
		if ze.Message != "" {
			reason = fmt.Sprintf("looking up the Zoom user: zoom code %d: %s", ze.Code, ze.Message)
		}
	case errors.As(err, &de):
		reason = "looking up the Zoom user: " + causeText(err) + "; resume once that is fixed"
	}
	_, serr := p.setState(ctx, id, StateFailed, reason)
	return errors.Join(err, serr)
}

// lookup finds the request's Zoom user and stores the profile as the first
// page of profile/user, then records the user id. A crash between the two
// loses nothing: the id is read back from the stored page.
func (p *Processor) lookup(ctx context.Context, zoom Zoom, r *Request) (*Request, error) {
	uid, err := p.storedUserID(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	if uid == "" {
		f, err := zoom.LookupUser(ctx, r.Email)
		var ze *ZoomError
		if errors.As(err, &ze) && ze.Calls > 0 {
			// A lookup that stored nothing still made its calls.
			if cerr := p.addCalls(context.WithoutCancel(ctx), r.ID, SectionProfile, PartUser, int64(ze.Calls)); cerr != nil {
				return nil, errors.Join(err, cerr)
			}
		}
		if ze != nil && ze.Kind == ZoomNotFound {
			return p.noZoomUser(ctx, r.ID, ze)
		}
		if err != nil {
			return nil, err
		}
		if len(f.IDs) != 1 || f.IDs[0] == "" {
			return nil, &Error{Code: EINTERNAL, Op: "dsar.lookup", Message: "the user lookup gave no user id"}
		}
		if p.cfg.Hooks.AfterFetch != nil {
			p.cfg.Hooks.AfterFetch(SectionProfile, PartUser)
		}
		id := f.IDs[0]
		page := Page{Body: f.Body, IDs: f.IDs, Calls: int64(f.Calls)}
		if err := p.cfg.Store.CommitPage(context.WithoutCancel(ctx), r.ID, SectionProfile, PartUser, page, Cursor{}, true); err != nil {
			return nil, err
		}
		if p.cfg.Hooks.AfterCommit != nil {
			p.cfg.Hooks.AfterCommit(SectionProfile, PartUser)
		}
		uid = id
	}
	return p.cfg.Store.UpdateRequest(ctx, r.ID, func(r *Request) error {
		r.ZoomUserID = uid
		return nil
	})
}

// storedUserID reads the user id back from the stored profile page, ""
// when none is stored yet.
func (p *Processor) storedUserID(ctx context.Context, id string) (string, error) {
	var uid string
	err := p.cfg.Store.Pages(ctx, id, SectionProfile, PartUser, func(pg Page) error {
		if len(pg.IDs) == 0 || pg.IDs[0] == "" {
			return &Error{Code: EINTERNAL, Op: "dsar.storedUserID", Message: "stored profile has no user id"}
		}
		uid = pg.IDs[0]
		return nil
	})
	return uid, err
}

// noZoomUser completes the lookup of an email Zoom does not know: every
// section is not applicable and the bundle says so.
func (p *Processor) noZoomUser(ctx context.Context, id string, ze *ZoomError) (*Request, error) {
	for _, name := range Sections {
		_, err := p.cfg.Store.UpdateSection(ctx, id, name, func(s *Section) error {
			s.State = SectionNotApplicable
			s.ReasonCode = ze.Code
			s.Reason = "Zoom has no user with this email address"
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return p.cfg.Store.UpdateRequest(ctx, id, func(r *Request) error {
		r.Outcome = OutcomeNoZoomUser
		return nil
	})
}

// toAssembly moves a request whose sections are all done to ASSEMBLING and
// assembles it.
func (p *Processor) toAssembly(ctx context.Context, r *Request) error {
	r, err := p.setState(ctx, r.ID, StateAssembling, "")
	if err != nil {
		return err
	}
	return p.assemble(ctx, r)
}

// assemble writes the bundle and completes the request.
func (p *Processor) assemble(ctx context.Context, r *Request) error {
	if p.cfg.Hooks.Assembling != nil {
		p.cfg.Hooks.Assembling()
	}
	sections, err := p.cfg.Store.Sections(ctx, r.ID)
	if err != nil {
		return err
	}
	b, records, err := p.cfg.Assembler.Assemble(ctx, r, sections, p.zoom(r.Account))
	if err == nil {
		err = p.recordCounts(ctx, r.ID, sections, records)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_, serr := p.setState(ctx, r.ID, StateFailed, "the bundle could not be written; resume to try again")
		return errors.Join(fmt.Errorf("assemble: %w", err), serr)
	}
	r, err = p.cfg.Store.UpdateRequest(ctx, r.ID, func(r *Request) error {
		r.State = StateCompleted
		r.Bundle = b
		r.CompletedAt = p.clock.Now()
		return nil
	})
	if err != nil {
		return err
	}
	p.log.Info("request completed", "request", r.ID, "bundle_bytes", b.Size)
	p.remember(r, sections)
	p.dropMedia(r.ID)
	p.retain(ctx, r)
	return nil
}

// recordCounts sets each section's record count to the bundle's: the one
// every reader shows (Get and Watch read it from the section). Were this
// interrupted, the request is still ASSEMBLING and the same pages give the
// same bundle and counts.
func (p *Processor) recordCounts(ctx context.Context, id string, sections []Section, records map[string]int64) error {
	for _, s := range sections {
		n, ok := records[s.Name]
		if !ok {
			continue
		}
		if _, err := p.cfg.Store.UpdateSection(ctx, id, s.Name, func(s *Section) error {
			s.Records = n
			return nil
		}); err != nil {
			return fmt.Errorf("record the bundle's counts: %w", err)
		}
	}
	return nil
}

// setState moves a request to state with a reason for a person.
func (p *Processor) setState(ctx context.Context, id string, s State, reason string) (*Request, error) {
	r, err := p.cfg.Store.UpdateRequest(ctx, id, func(r *Request) error {
		r.State, r.Reason, r.WaitingUntil = s, reason, time.Time{}
		return nil
	})
	if err == nil {
		p.notify(id)
	}
	return r, err
}
