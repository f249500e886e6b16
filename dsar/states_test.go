package dsar_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// zoomFn is the account's Zoom with Fetch replaced when fetchFn is set.
type zoomFn struct {
	dsar.Zoom
	fetchFn func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error)
}

func (z *zoomFn) Fetch(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
	if z.fetchFn != nil {
		return z.fetchFn(ctx, subject, section, part, cur)
	}
	return z.Zoom.Fetch(ctx, subject, section, part, cur)
}

// storeFn is the real store with CommitPage or UpdateRequest replaced
// when their XFn is set: a failure of the disk, or a race, injected.
type storeFn struct {
	dsar.Store
	commitPageFn    func(ctx context.Context, id, section, part string, page dsar.Page, next dsar.Cursor, done bool) error
	updateRequestFn func(ctx context.Context, id string, fn func(*dsar.Request) error) (*dsar.Request, error)
	sectionsFn      func(ctx context.Context, id string) ([]dsar.Section, error)
}

func (s *storeFn) Sections(ctx context.Context, id string) ([]dsar.Section, error) {
	if s.sectionsFn != nil {
		return s.sectionsFn(ctx, id)
	}
	return s.Store.Sections(ctx, id)
}

func (s *storeFn) UpdateRequest(ctx context.Context, id string, fn func(*dsar.Request) error) (*dsar.Request, error) {
	if s.updateRequestFn != nil {
		return s.updateRequestFn(ctx, id, fn)
	}
	return s.Store.UpdateRequest(ctx, id, fn)
}

func (s *storeFn) CommitPage(ctx context.Context, id, section, part string, page dsar.Page, next dsar.Cursor, done bool) error {
	if s.commitPageFn != nil {
		return s.commitPageFn(ctx, id, section, part, page, next, done)
	}
	return s.Store.CommitPage(ctx, id, section, part, page, next, done)
}

// switchable answers Fetch of one section with err while on is set, and
// passes every other call to the real Zoom.
type switchable struct {
	mu      sync.Mutex
	section string
	err     error
}

func (s *switchable) set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *switchable) wrap(z dsar.Zoom) dsar.Zoom {
	return &zoomFn{Zoom: z, fetchFn: func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		if section == s.section && err != nil {
			return dsar.Fetched{}, err
		}
		return z.Fetch(ctx, subject, section, part, cur)
	}}
}

// inProgress returns the sections of a request that look in progress.
func inProgress(t *testing.T, e *env, id string) []string {
	t.Helper()
	_, secs, err := e.proc.Request(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range secs {
		if s.State == dsar.SectionRunning || s.State == dsar.SectionWaitingQuota {
			out = append(out, s.Name+" "+string(s.State))
		}
	}
	return out
}

func section(t *testing.T, e *env, id, name string) dsar.Section {
	t.Helper()
	_, secs, err := e.proc.Request(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no section %s", name)
	return dsar.Section{}
}

// stateTrail returns the details of a request's audit events of state
// changes, after its create event's.
func stateTrail(t *testing.T, e *env, id string) []string {
	t.Helper()
	evs, err := e.db.Audit(t.Context(), dsar.AuditFilter{Request: id})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		switch ev.Action {
		case dsar.ActionCreate:
			out = append(out, "create: "+ev.Detail)
		case dsar.ActionState:
			out = append(out, ev.Detail)
		}
	}
	return out
}

// TestStorageFailure fails the commit of pages as a full disk would: of
// the meetings section while phone_profile is parked on a spent quota,
// and of the profile the user lookup stores. The request FAILS naming the
// cause, no section looks in progress, and a resume once the disk has
// room completes it.
func TestStorageFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failing string   // the section whose pages cannot be stored
		want    []string // in the request's reason
		stopped []string // sections the failure stops
	}{
		{dsar.SectionMeetings, []string{"section meetings stopped: store.CommitPage: write /var/lib/dsard/dsar.db: no space left on device"},
			[]string{dsar.SectionMeetings, dsar.SectionPhoneProfile}},
		{dsar.SectionProfile, []string{"looking up the Zoom user: store.CommitPage: write /var/lib/dsard/dsar.db: no space left on device"}, nil},
	} {
		t.Run(tc.failing, func(t *testing.T) {
			t.Parallel()
			enospc := &dsar.Error{Code: dsar.EINTERNAL, Op: "store.CommitPage",
				Err: &fs.PathError{Op: "write", Path: "/var/lib/dsard/dsar.db", Err: syscall.ENOSPC}}
			var (
				mu   sync.Mutex
				full = true
			)
			quota := &switchable{section: dsar.SectionPhoneProfile}
			quota.set(&dsar.ZoomError{Kind: dsar.ZoomQuota, Code: 429, Message: "the daily rate limit of Zoom's Light API is spent", Until: t0.Add(10 * time.Hour)})
			e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
				c.Accounts["main"] = quota.wrap(c.Accounts["main"])
				real := c.Store
				c.Store = &storeFn{Store: real, commitPageFn: func(ctx context.Context, id, section, part string, page dsar.Page, next dsar.Cursor, done bool) error {
					mu.Lock()
					fail := full && section == tc.failing
					mu.Unlock()
					if fail {
						return enospc
					}
					return real.CommitPage(ctx, id, section, part, page, next, done)
				}}
			}})
			id := e.create(jane).ID
			r := e.wait(id, inState(dsar.StateFailed, dsar.StateCompleted, dsar.StateWaitingQuota))
			if r.State != dsar.StateFailed {
				t.Fatalf("state %s (%s), want FAILED", r.State, r.Reason)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.Reason, want) {
					t.Errorf("reason %q does not say %q", r.Reason, want)
				}
			}
			if strings.Contains(r.Reason, "internal") || strings.Contains(r.Reason, jane) {
				t.Errorf("reason %q: want the cause, not %q, and no email", r.Reason, "internal")
			}
			if got := inProgress(t, e, id); len(got) > 0 {
				t.Errorf("a FAILED request shows sections in progress: %v", got)
			}
			for _, name := range tc.stopped {
				if s := section(t, e, id, name); s.State != dsar.SectionFailed || s.Reason != "stopped: the request failed" {
					t.Errorf("section %s: %s (%s), want FAILED (stopped: the request failed)", name, s.State, s.Reason)
				}
			}

			failed := r
			mu.Lock()
			full = false
			mu.Unlock()
			quota.set(nil)
			if _, err := e.proc.Resume(t.Context(), id, false); err != nil {
				t.Fatalf("Resume: %v", err)
			}
			r = e.wait(id, inState(dsar.StateFailed, dsar.StateCompleted))
			if r.State != dsar.StateCompleted {
				t.Fatalf("after resume: %s (%s)", r.State, r.Reason)
			}
			e.verify(r)
			want := []string{
				"create: gdpr QUEUED",
				"QUEUED -> RUNNING",
				"RUNNING -> FAILED: " + failed.Reason,
				"FAILED -> RUNNING",
				"RUNNING -> ASSEMBLING",
				"ASSEMBLING -> COMPLETED",
			}
			if got := stateTrail(t, e, id); !slices.Equal(got, want) {
				t.Errorf("state trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestCancelSettles cancels a request while sections run (their calls
// hang until cancelled) and while one is parked on a spent quota: when
// Cancel returns, no section looks in progress.
func TestCancelSettles(t *testing.T) {
	t.Parallel()
	t.Run("while sections run", func(t *testing.T) {
		t.Parallel()
		hung := make(chan string, 2)
		e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
			z := c.Accounts["main"]
			c.Accounts["main"] = &zoomFn{Zoom: z, fetchFn: func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
				if section == dsar.SectionMeetings || section == dsar.SectionWebinars {
					hung <- section
					<-ctx.Done()
					return dsar.Fetched{}, ctx.Err()
				}
				return z.Fetch(ctx, subject, section, part, cur)
			}}
		}})
		id := e.create(jane).ID
		<-hung
		<-hung
		r, err := e.proc.Cancel(dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"}), id, "wrong subject")
		if err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		if r.State != dsar.StateCancelled {
			t.Fatalf("state %s", r.State)
		}
		if got := inProgress(t, e, id); len(got) > 0 {
			t.Errorf("a CANCELLED request shows sections in progress: %v", got)
		}
		for _, name := range []string{dsar.SectionMeetings, dsar.SectionWebinars} {
			if s := section(t, e, id, name); s.State != dsar.SectionFailed || s.Reason != "stopped: the request was cancelled" {
				t.Errorf("section %s: %s (%s), want FAILED (stopped: the request was cancelled)", name, s.State, s.Reason)
			}
		}
		want := []string{"create: gdpr QUEUED", "QUEUED -> RUNNING", "RUNNING -> CANCELLED: wrong subject"}
		if got := stateTrail(t, e, id); !slices.Equal(got, want) {
			t.Errorf("state trail %q, want %q", got, want)
		}
	})
	t.Run("while a section is marked running", func(t *testing.T) {
		t.Parallel()
		// The goroutine of meetings (its call hangs until cancelled) marks
		// it RUNNING again right after the cancel is stored, as one that
		// starts or parks then would.
		hung := make(chan string, 2)
		e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
			z := c.Accounts["main"]
			c.Accounts["main"] = &zoomFn{Zoom: z, fetchFn: func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
				if section == dsar.SectionMeetings {
					hung <- section
					<-ctx.Done()
					return dsar.Fetched{}, ctx.Err()
				}
				return z.Fetch(ctx, subject, section, part, cur)
			}}
			real := c.Store
			c.Store = &storeFn{Store: real, updateRequestFn: func(ctx context.Context, id string, fn func(*dsar.Request) error) (*dsar.Request, error) {
				r, err := real.UpdateRequest(ctx, id, fn)
				if err == nil && r.State == dsar.StateCancelled {
					if _, err := real.UpdateSection(ctx, id, dsar.SectionMeetings, func(s *dsar.Section) error {
						s.State = dsar.SectionRunning
						return nil
					}); err != nil {
						t.Errorf("mark meetings running: %v", err)
					}
				}
				return r, err
			}}
		}})
		id := e.create(jane).ID
		<-hung
		if _, err := e.proc.Cancel(t.Context(), id, ""); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		if got := inProgress(t, e, id); len(got) > 0 {
			t.Errorf("a CANCELLED request shows sections in progress: %v", got)
		}
		if s := section(t, e, id, dsar.SectionMeetings); s.State != dsar.SectionFailed || s.Reason != "stopped: the request was cancelled" {
			t.Errorf("meetings: %s (%s)", s.State, s.Reason)
		}
	})
	t.Run("while parked on quota", func(t *testing.T) {
		t.Parallel()
		quota := &switchable{section: dsar.SectionPhoneProfile}
		until := t0.Add(10 * time.Hour)
		quota.set(&dsar.ZoomError{Kind: dsar.ZoomQuota, Code: 429, Message: "the daily rate limit of Zoom's Light API is spent", Until: until})
		e := newEnv(t, envConfig{proc: func(c *dsar.Config) { c.Accounts["main"] = quota.wrap(c.Accounts["main"]) }})
		id := e.create(jane).ID
		r := e.wait(id, inState(dsar.StateWaitingQuota, dsar.StateFailed, dsar.StateCompleted))
		if r.State != dsar.StateWaitingQuota {
			t.Fatalf("state %s (%s), want WAITING_QUOTA", r.State, r.Reason)
		}
		if s := section(t, e, id, dsar.SectionPhoneProfile); s.State != dsar.SectionWaitingQuota {
			t.Fatalf("phone_profile %s, want WAITING_QUOTA", s.State)
		}
		if _, err := e.proc.Cancel(t.Context(), id, "duplicate request"); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		if got := inProgress(t, e, id); len(got) > 0 {
			t.Errorf("a CANCELLED request shows sections in progress: %v", got)
		}
		if s := section(t, e, id, dsar.SectionPhoneProfile); s.State != dsar.SectionFailed || s.Reason != "stopped: the request was cancelled" || !s.WaitingUntil.IsZero() {
			t.Errorf("phone_profile: %s (%s) waiting until %v", s.State, s.Reason, s.WaitingUntil)
		}
		want := []string{
			"create: gdpr QUEUED",
			"QUEUED -> RUNNING",
			"RUNNING -> WAITING_QUOTA: until " + until.Format(time.RFC3339),
			"WAITING_QUOTA -> CANCELLED: duplicate request",
		}
		if got := stateTrail(t, e, id); !slices.Equal(got, want) {
			t.Errorf("state trail %q, want %q", got, want)
		}
	})
}

// TestMissingScope runs with an app that lacks one granular scope: the
// request's reason names the scope to grant, not only "resume".
func TestMissingScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, scope, section string
	}{
		{"settings", "user:read:settings:admin", dsar.SectionSettings},
		{"phone settings", "phone:read:user_setting:admin", dsar.SectionPhoneSettings},
		{"user lookup", "user:read:user:admin", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var scopes []string
			for _, s := range zoomtest.Scopes() {
				if s != tc.scope {
					scopes = append(scopes, s)
				}
			}
			e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithScopes(scopes...)}})
			id := e.create(jane).ID
			r := e.wait(id, inState(dsar.StateFailed, dsar.StateCompleted))
			if r.State != dsar.StateFailed {
				t.Fatalf("state %s (%s), want FAILED", r.State, r.Reason)
			}
			if !strings.Contains(r.Reason, tc.scope) || !strings.Contains(r.Reason, "grant") {
				t.Errorf("reason %q does not say to grant %s", r.Reason, tc.scope)
			}
			if strings.Contains(r.Reason, jane) {
				t.Errorf("reason %q holds the subject's email", r.Reason)
			}
			if got := inProgress(t, e, id); len(got) > 0 {
				t.Errorf("a FAILED request shows sections in progress: %v", got)
			}
			if tc.section == "" {
				return
			}
			if !strings.HasPrefix(r.Reason, "sections failed: "+tc.section+": ") {
				t.Errorf("reason %q does not start with the section", r.Reason)
			}
			if s := section(t, e, id, tc.section); s.State != dsar.SectionFailed || !strings.Contains(s.Reason, tc.scope) {
				t.Errorf("section %s: %s (%s)", tc.section, s.State, s.Reason)
			}
			trail := stateTrail(t, e, id)
			if len(trail) != 3 || trail[2] != "RUNNING -> FAILED: "+r.Reason {
				t.Errorf("state trail %q, want create, RUNNING and FAILED with the reason", trail)
			}
		})
	}
}

// TestFailedReasonGroups checks the request's reason when Zoom keeps
// failing (a resume may help) and when it refuses (an operator must act).
func TestFailedReasonGroups(t *testing.T) {
	t.Parallel()
	unavailable := &dsar.ZoomError{Kind: dsar.ZoomUnavailable, Code: 500, Message: "Zoom kept failing"}
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		z := c.Accounts["main"]
		c.Accounts["main"] = &zoomFn{Zoom: z, fetchFn: func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
			if section == dsar.SectionWebinars || section == dsar.SectionPhoneCallHistory {
				return dsar.Fetched{}, unavailable
			}
			return z.Fetch(ctx, subject, section, part, cur)
		}}
	}})
	r := e.wait(e.create(jane).ID, inState(dsar.StateFailed, dsar.StateCompleted))
	want := "sections failed: webinars, phone_call_history: zoom code 500: Zoom kept failing; resume to retry them from their checkpoints"
	if r.State != dsar.StateFailed || r.Reason != want {
		t.Errorf("%s (%s)\nwant FAILED (%s)", r.State, r.Reason, want)
	}
}

// TestDamagedSections: a request whose section records cannot be read
// fails with the cause, instead of staying RUNNING and failing again at
// every start.
func TestDamagedSections(t *testing.T) {
	damaged := &dsar.Error{Code: dsar.EINTERNAL, Op: "store.Sections",
		Message: "section meetings of request x cannot be decoded: its record in the store is damaged"}
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		c.Store = &storeFn{Store: c.Store, sectionsFn: func(context.Context, string) ([]dsar.Section, error) {
			return nil, damaged
		}}
	}})
	// The processor's Request reads the sections too: watch the store.
	id := e.create(jane).ID
	ch, stop := e.proc.Watch(id)
	defer stop()
	var r *dsar.Request
	for {
		var err error
		if r, err = e.db.Request(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		if r.State == dsar.StateFailed || r.State == dsar.StateCompleted {
			break
		}
		<-ch
	}
	if r.State != dsar.StateFailed || !strings.Contains(r.Reason, "reading the request's sections") || !strings.Contains(r.Reason, "damaged") {
		t.Fatalf("state %s, reason %q: want FAILED naming the damaged sections", r.State, r.Reason)
	}
}
