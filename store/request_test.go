package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

func TestCreateRequestIdempotent(t *testing.T) {
	tests := []struct {
		name        string
		second      func(r *dsar.Request)
		wantCreated bool
		wantID      string
		wantCode    string
	}{
		{"same key same input", func(r *dsar.Request) { r.ID = "r2" }, false, "r1", ""},
		{"same key other email", func(r *dsar.Request) { r.ID = "r2"; r.Email = "b@example.com" }, false, "", dsar.ECONFLICT},
		{"same key other account", func(r *dsar.Request) { r.ID = "r2"; r.Account = "other" }, false, "", dsar.ECONFLICT},
		{"same key other regulation", func(r *dsar.Request) { r.ID = "r2"; r.Regulation = dsar.CCPA }, false, "", dsar.ECONFLICT},
		{"other key", func(r *dsar.Request) { r.ID = "r2"; r.IdempotencyKey = "k2" }, true, "r2", ""},
		{"no key", func(r *dsar.Request) { r.ID = "r2"; r.IdempotencyKey = "" }, true, "r2", ""},
		{"other key same id", func(r *dsar.Request) { r.IdempotencyKey = "k2" }, false, "", dsar.ECONFLICT},
		{"invalid email", func(r *dsar.Request) { r.ID = "r2"; r.IdempotencyKey = "k2"; r.Email = "nope" }, false, "", dsar.EINVALID},
		{"id with zero byte", func(r *dsar.Request) { r.ID = "r\x002"; r.IdempotencyKey = "k2" }, false, "", dsar.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _, _ := openTest(t)
			ctx := t.Context()
			first, created, err := db.CreateRequest(ctx, newRequest("r1", "k1", "a@example.com"), dsar.NewSections("r1"))
			if err != nil || !created || first.ID != "r1" {
				t.Fatalf("first CreateRequest = %v, %v, %v", first, created, err)
			}
			r := newRequest("r1", "k1", "a@example.com")
			tt.second(r)
			got, created, err := db.CreateRequest(ctx, r, dsar.NewSections(r.ID))
			if code := dsar.ErrorCode(err); code != tt.wantCode {
				t.Fatalf("second CreateRequest error %v (code %q), want code %q", err, code, tt.wantCode)
			}
			if err != nil {
				if _, err := db.Request(ctx, "r2"); !errors.Is(err, ErrNotFound) {
					t.Errorf("a refused request was stored: %v", err)
				}
				return
			}
			if created != tt.wantCreated || got.ID != tt.wantID {
				t.Errorf("got id %q created %v, want %q %v", got.ID, created, tt.wantID, tt.wantCreated)
			}
		})
	}
}

func TestCreateRequestDefaults(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "platform-1", Role: "platform"})
	r := newRequest("r1", "k1", "a@example.com")
	r.Regulation = dsar.CCPA
	got, _, err := db.CreateRequest(ctx, r, dsar.NewSections(""))
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(t0) || !got.DueAt.Equal(t0.AddDate(0, 0, 45)) {
		t.Errorf("created %v due %v, want %v and 45 days later", got.CreatedAt, got.DueAt, t0)
	}
	secs, err := db.Sections(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range secs {
		names = append(names, s.Name)
		if s.Request != "r1" || s.State != dsar.SectionPending {
			t.Errorf("section %s: request %q state %q", s.Name, s.Request, s.State)
		}
	}
	if !slices.Equal(names, dsar.Sections) {
		t.Errorf("sections %v, want %v", names, dsar.Sections)
	}
	evs, err := db.Audit(ctx, dsar.AuditFilter{Request: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Action != dsar.ActionCreate || evs[0].Actor.Name != "platform-1" {
		t.Errorf("audit = %+v, want one create by platform-1", evs)
	}
}

func TestCreateRequestBadSections(t *testing.T) {
	tests := map[string][]dsar.Section{
		"duplicate section": {{Name: "a"}, {Name: "a"}},
		"other request":     {{Name: "a", Request: "r9"}},
		"empty name":        {{Name: ""}},
		"duplicate part":    {{Name: "a", Parts: []dsar.Part{{Name: "p"}, {Name: "p"}}}},
		"bad state":         {{Name: "a", State: "DONE"}},
	}
	for name, secs := range tests {
		t.Run(name, func(t *testing.T) {
			db, _, _ := openTest(t)
			_, _, err := db.CreateRequest(t.Context(), newRequest("r1", "", "a@example.com"), secs)
			if code := dsar.ErrorCode(err); code != dsar.EINVALID {
				t.Errorf("err %v, want code invalid", err)
			}
		})
	}
}

func TestUpdateRequestTransitions(t *testing.T) {
	db, clock, _ := openTest(t)
	ctx := dsar.WithActor(t.Context(), dsar.Actor{Name: "ops", Role: "operator"})
	if _, _, err := db.CreateRequest(ctx, newRequest("r1", "k1", "a@example.com"), nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		to      dsar.State
		wantErr string
	}{
		{dsar.StateAssembling, dsar.EPRECONDITION},
		{dsar.StateRunning, ""},
		{dsar.StateWaitingQuota, ""},
		{dsar.StateRunning, ""},
		{dsar.StateQueued, dsar.EPRECONDITION},
		{dsar.StateAssembling, ""},
		{dsar.StateCompleted, ""},
		{dsar.StateCancelled, dsar.EPRECONDITION},
	}
	var want []string
	for _, st := range steps {
		before, err := db.Request(ctx, "r1")
		if err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		_, err = db.UpdateRequest(ctx, "r1", func(r *dsar.Request) error { r.State = st.to; return nil })
		if code := dsar.ErrorCode(err); code != st.wantErr {
			t.Fatalf("%s -> %s: err %v, want code %q", before.State, st.to, err, st.wantErr)
		}
		if err == nil {
			want = append(want, fmt.Sprintf("%s -> %s", before.State, st.to))
		}
	}
	got, err := db.Request(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != dsar.StateCompleted {
		t.Errorf("state %s, want COMPLETED", got.State)
	}
	evs, err := db.Audit(ctx, dsar.AuditFilter{Request: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, ev := range evs[1:] {
		if ev.Action != dsar.ActionState || ev.Actor.Role != "operator" {
			t.Errorf("event %+v, want a state change by the operator", ev)
		}
		details = append(details, ev.Detail)
	}
	if !slices.Equal(details, want) {
		t.Errorf("audit details %q, want %q", details, want)
	}
	// The state index follows: only COMPLETED lists it.
	for _, s := range []dsar.State{dsar.StateQueued, dsar.StateRunning, dsar.StateCompleted} {
		list, _, err := db.ListRequests(ctx, dsar.RequestFilter{States: []dsar.State{s}})
		if err != nil {
			t.Fatal(err)
		}
		if wantN := map[bool]int{true: 1, false: 0}[s == dsar.StateCompleted]; len(list) != wantN {
			t.Errorf("ListRequests(%s) = %d requests, want %d", s, len(list), wantN)
		}
	}
}

// TestUpdateRequestStopsSections ends a request whose sections are in
// every state: in the same transaction as the state change, the sections
// RUNNING or WAITING_QUOTA become FAILED saying the request stopped them;
// the others keep their state; the audit entry holds the reason.
func TestUpdateRequestStopsSections(t *testing.T) {
	before := map[string]dsar.SectionState{
		"a_pending": dsar.SectionPending, "b_running": dsar.SectionRunning,
		"c_waiting": dsar.SectionWaitingQuota, "d_complete": dsar.SectionComplete,
		"e_not_applicable": dsar.SectionNotApplicable, "f_failed": dsar.SectionFailed,
	}
	for _, tc := range []struct {
		to     dsar.State
		reason string // of the request
		stop   string // of a stopped section
	}{
		{dsar.StateFailed, "sections failed: x", "stopped: the request failed"},
		{dsar.StateCancelled, "wrong subject", "stopped: the request was cancelled"},
	} {
		t.Run(string(tc.to), func(t *testing.T) {
			db, _, _ := openTest(t)
			ctx := t.Context()
			var secs []dsar.Section
			for name, st := range before {
				secs = append(secs, dsar.Section{Name: name, State: st, Reason: "own", WaitingUntil: t0.Add(time.Hour)})
			}
			if _, _, err := db.CreateRequest(ctx, newRequest("r1", "k1", "a@example.com"), secs); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateRequest(ctx, "r1", func(r *dsar.Request) error { r.State = dsar.StateRunning; return nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateRequest(ctx, "r1", func(r *dsar.Request) error {
				r.State, r.Reason = tc.to, tc.reason
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got, err := db.Sections(ctx, "r1")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range got {
				want, reason := before[s.Name], "own"
				if want == dsar.SectionRunning || want == dsar.SectionWaitingQuota {
					want, reason = dsar.SectionFailed, tc.stop
				}
				if s.State != want || s.Reason != reason {
					t.Errorf("section %s: %s (%s), want %s (%s)", s.Name, s.State, s.Reason, want, reason)
				}
				if reason == tc.stop && (!s.WaitingUntil.IsZero() || !s.FinishedAt.Equal(t0)) {
					t.Errorf("section %s: waiting until %v, finished %v", s.Name, s.WaitingUntil, s.FinishedAt)
				}
			}
			evs, err := db.Audit(ctx, dsar.AuditFilter{Request: "r1"})
			if err != nil {
				t.Fatal(err)
			}
			if want := "RUNNING -> " + string(tc.to) + ": " + tc.reason; evs[len(evs)-1].Detail != want {
				t.Errorf("audit detail %q, want %q", evs[len(evs)-1].Detail, want)
			}
		})
	}
}

func TestUpdateRequestRollback(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	if _, _, err := db.CreateRequest(ctx, newRequest("r1", "k1", "a@example.com"), nil); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	tests := map[string]func(*dsar.Request) error{
		"fn error":      func(r *dsar.Request) error { r.State = dsar.StateRunning; return boom },
		"email changed": func(r *dsar.Request) error { r.Email = "b@example.com"; return nil },
		"id changed":    func(r *dsar.Request) error { r.ID = "r2"; return nil },
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := db.UpdateRequest(ctx, "r1", fn); err == nil {
				t.Fatal("UpdateRequest succeeded")
			}
			got, err := db.Request(ctx, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if got.State != dsar.StateQueued || got.Email != "a@example.com" {
				t.Errorf("request changed: %s", got.State)
			}
		})
	}
	evs, err := db.Audit(ctx, dsar.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Errorf("%d audit events, want only the create", len(evs))
	}
}

// TestIdempotencyKeyPerCaller: a key belongs to the caller that sent it;
// one caller's key neither returns nor blocks another's request.
// TestSchemaFixture checks the keys of older files after migrate3.
func TestIdempotencyKeyPerCaller(t *testing.T) {
	db, _, _ := openTest(t)
	plat := dsar.WithActor(t.Context(), dsar.Actor{Name: "plat", Role: "platform"})
	ops := dsar.WithActor(t.Context(), dsar.Actor{Name: "ops", Role: "operator"})
	create := func(ctx context.Context, id, email string) (string, bool, error) {
		r, created, err := db.CreateRequest(ctx, newRequest(id, "k1", email), nil)
		if err != nil {
			return "", false, err
		}
		return r.ID, created, nil
	}
	if id, created, err := create(plat, "r1", "a@example.com"); err != nil || !created || id != "r1" {
		t.Fatalf("plat's first k1: %v %v %v", id, created, err)
	}
	if id, created, err := create(ops, "r2", "b@example.com"); err != nil || !created || id != "r2" {
		t.Fatalf("ops' k1, another email: %v %v %v; want a request of its own", id, created, err)
	}
	if id, created, err := create(plat, "r3", "A@Example.COM"); err != nil || created || id != "r1" {
		t.Errorf("plat's k1 again, the email in another case: %v %v %v; want r1 again", id, created, err)
	}
	if _, _, err := create(plat, "r3", "b@example.com"); dsar.ErrorCode(err) != dsar.ECONFLICT {
		t.Errorf("plat's k1 with another email: %v, want %s", err, dsar.ECONFLICT)
	}

}

func TestListRequests(t *testing.T) {
	db, clock, _ := openTest(t)
	ctx := t.Context()
	var ids []string
	for i := range 25 {
		id := fmt.Sprintf("r%02d", i)
		r := newRequest(id, "k"+id, "a@example.com")
		if i%5 == 0 {
			r.Account = "other"
		}
		if i%3 == 0 {
			r.Email = "Jane.Doe@Example.com"
		}
		if _, _, err := db.CreateRequest(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := db.UpdateRequest(ctx, id, func(r *dsar.Request) error { r.State = dsar.StateRunning; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, id)
		clock.Add(time.Hour)
	}
	counts, err := db.CountByState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[dsar.State]int{dsar.StateRunning: 13, dsar.StateQueued: 12}); !maps.Equal(counts, want) {
		t.Errorf("CountByState = %v, want %v", counts, want)
	}
	tests := []struct {
		name string
		f    dsar.RequestFilter
		want func(i int) bool
	}{
		{"all", dsar.RequestFilter{}, func(int) bool { return true }},
		{"running", dsar.RequestFilter{States: []dsar.State{dsar.StateRunning}}, func(i int) bool { return i%2 == 0 }},
		{"running or queued", dsar.RequestFilter{States: []dsar.State{dsar.StateQueued, dsar.StateRunning, dsar.StateQueued}}, func(int) bool { return true }},
		{"account", dsar.RequestFilter{Account: "other"}, func(i int) bool { return i%5 == 0 }},
		{"running in account", dsar.RequestFilter{Account: "other", States: []dsar.State{dsar.StateRunning}}, func(i int) bool { return i%10 == 0 }},
		{"email in another case", dsar.RequestFilter{Email: "jane.doe@EXAMPLE.com"}, func(i int) bool { return i%3 == 0 }},
		{"email and state", dsar.RequestFilter{Email: "JANE.DOE@example.com", States: []dsar.State{dsar.StateQueued}}, func(i int) bool { return i%3 == 0 && i%2 == 1 }},
		{"no such email", dsar.RequestFilter{Email: "jane@example.com"}, func(int) bool { return false }},
		{"created window", dsar.RequestFilter{CreatedAfter: t0.Add(2 * time.Hour), CreatedBefore: t0.Add(6 * time.Hour)}, func(i int) bool { return i > 2 && i < 6 }},
		{"due before", dsar.RequestFilter{DueBefore: t0.AddDate(0, 0, 30).Add(3*time.Hour + time.Minute)}, func(i int) bool { return i <= 3 }},
	}
	for _, tt := range tests {
		for _, limit := range []int{0, 1, 4, 1000} {
			t.Run(fmt.Sprintf("%s/limit %d", tt.name, limit), func(t *testing.T) {
				f := tt.f
				f.Limit = limit
				var got []string
				for page := 0; ; page++ {
					list, next, err := db.ListRequests(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if limit > 0 && len(list) > limit {
						t.Fatalf("page of %d, limit %d", len(list), limit)
					}
					for _, r := range list {
						got = append(got, r.ID)
					}
					if next == "" {
						break
					}
					if page > 30 {
						t.Fatal("paging does not end")
					}
					f.PageToken = next
				}
				var want []string
				for i, id := range ids {
					if tt.want(i) {
						want = append(want, id)
					}
				}
				slices.Reverse(want) // newest first
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	}
	if _, _, err := db.ListRequests(ctx, dsar.RequestFilter{States: []dsar.State{"DONE"}}); dsar.ErrorCode(err) != dsar.EINVALID {
		t.Errorf("unknown state: err %v, want invalid", err)
	}
}

func TestClaim(t *testing.T) {
	db, clock, _ := openTest(t)
	ctx := t.Context()
	if _, _, err := db.CreateRequest(ctx, newRequest("r1", "", "a@example.com"), nil); err != nil {
		t.Fatal(err)
	}
	type step struct {
		advance time.Duration
		owner   string
		until   time.Duration // from the clock's now
		release bool
		want    string // error code
	}
	steps := []step{
		{owner: "p1", until: time.Minute},
		{owner: "p2", until: time.Minute, want: dsar.EPRECONDITION},
		{owner: "p1", until: 2 * time.Minute},                       // renew
		{owner: "p2", release: true, want: dsar.EPRECONDITION},      // not p2's
		{advance: 3 * time.Minute, owner: "p2", until: time.Minute}, // expired: p2 takes it
		{owner: "p2", release: true},
		{owner: "p1", until: time.Minute},
		{owner: "p1", until: -time.Second, want: dsar.EINVALID},
		{owner: "", until: time.Minute, want: dsar.EINVALID},
	}
	for i, s := range steps {
		clock.Add(s.advance)
		var err error
		if s.release {
			err = db.Release(ctx, "r1", s.owner)
		} else {
			_, err = db.Claim(ctx, "r1", s.owner, clock.Now().Add(s.until))
		}
		if code := dsar.ErrorCode(err); code != s.want {
			t.Fatalf("step %d (%+v): err %v, want code %q", i, s, err, s.want)
		}
	}
	r, err := db.Request(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Lease.Owner != "p1" || !r.Lease.Held(clock.Now()) {
		t.Errorf("lease %+v, want held by p1", r.Lease)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "dsar.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateRequest(ctx, newRequest("r1", "k1", "a@example.com"), dsar.NewSections("r1")); err != nil {
		t.Fatal(err)
	}
	next := dsar.Cursor{Window: 1, From: "2026-01-01", To: "2026-01-31", PageToken: "tok"}
	page := dsar.Page{Body: []byte(`{"meetings":[{"id":1}]}`), IDs: []string{"1"}}
	if err := db.CommitPage(ctx, "r1", dsar.SectionMeetings, dsar.PartScheduled, page, next, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendAudit(ctx, dsar.AuditEvent{Request: "r1", Action: dsar.ActionDownload, Detail: "offset 0"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if r, err := db.Request(ctx, "r1"); err != nil || r.Email != "a@example.com" {
		t.Errorf("Request after reopen: %v, %v", r, err)
	}
	s, err := db.Section(ctx, "r1", dsar.SectionMeetings)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Part(dsar.PartScheduled); p == nil || !reflect.DeepEqual(p.Cursor, next) || p.Pages != 1 || p.Records != 1 {
		t.Errorf("part after reopen: %+v", p)
	}
	var bodies []string
	if err := db.Pages(ctx, "r1", dsar.SectionMeetings, dsar.PartScheduled, func(p dsar.Page) error {
		bodies = append(bodies, string(p.Body))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bodies, []string{string(page.Body)}) {
		t.Errorf("pages after reopen: %q", bodies)
	}
	evs, err := db.Audit(ctx, dsar.AuditFilter{Request: "r1"})
	if err != nil || len(evs) != 2 || evs[1].Action != dsar.ActionDownload || evs[1].Actor != dsar.System {
		t.Errorf("audit after reopen: %+v, %v", evs, err)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}
