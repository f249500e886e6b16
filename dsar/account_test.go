package dsar_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// withoutScopes returns every scope the emulator knows but those given.
func withoutScopes(drop ...string) []string {
	return slices.DeleteFunc(zoomtest.Scopes(), func(s string) bool { return slices.Contains(drop, s) })
}

// TestCheckedScopeFailsUpFront: once the account's check has found a
// section's scope missing, the section fails at once with the scope to
// grant, and Zoom sees no call of it; the others are collected.
func TestCheckedScopeFailsUpFront(t *testing.T) {
	t.Parallel()
	const scope = "phone:read:list_sms_sessions:admin"
	e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithScopes(withoutScopes(scope)...)}})
	c, err := e.proc.CheckAccount(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	if c.Problem != "" || !c.OK() || !slices.Equal(c.Missing, []string{scope}) || len(c.Sections) != 1 {
		t.Fatalf("check: %+v; want OK with %s missing for one section", c, scope)
	}
	if !strings.Contains(c.Sections[dsar.SectionPhoneSMS], scope) {
		t.Errorf("check of phone_sms: %q", c.Sections[dsar.SectionPhoneSMS])
	}
	r := e.wait(e.create(jane).ID, inState(dsar.StateFailed, dsar.StateCompleted))
	if r.State != dsar.StateFailed || !strings.Contains(r.Reason, scope) {
		t.Fatalf("state %s (%s), want FAILED naming %s", r.State, r.Reason, scope)
	}
	s := section(t, e, r.ID, dsar.SectionPhoneSMS)
	if s.State != dsar.SectionFailed || s.ReasonCode != dsar.CodeMissingScope || s.Calls != 0 || !strings.Contains(s.Reason, "grant") {
		t.Errorf("phone_sms: %s code %d, %d calls (%s); want FAILED 4711 with no call", s.State, s.ReasonCode, s.Calls, s.Reason)
	}
	for _, le := range e.srv.Log() {
		if strings.Contains(le.Path, "/sms/") {
			t.Errorf("a call of the section whose scope is missing: %s", le.Path)
		}
	}
	if s := section(t, e, r.ID, dsar.SectionPhoneCallHistory); s.State != dsar.SectionComplete {
		t.Errorf("phone_call_history: %s (%s), want COMPLETE", s.State, s.Reason)
	}
}

// TestFailedCheckRefusesRequests: an account whose check failed takes no
// request, and says why; a check that passes again lets them in.
func TestFailedCheckRefusesRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ec    envConfig
		words string
	}{
		{"no lookup scope", envConfig{zoom: []zoomtest.Option{zoomtest.WithScopes(withoutScopes("user:read:user:admin")...)}},
			"user:read:user:admin; grant it to the app"},
		{"wrong secret", envConfig{client: func(c *zoomclient.Config) { c.ClientSecret = "wrong" }},
			"getting a token: "},
		{"wrong api_url", envConfig{client: func(c *zoomclient.Config) { c.APIURL = strings.TrimSuffix(c.APIURL, "/v2") }},
			"check the account's api_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.ec)
			bad := e.proc.CheckAccounts(t.Context())
			if c := bad["main"]; !strings.Contains(c.Problem, tc.words) {
				t.Fatalf("check problem %q, want %q", c.Problem, tc.words)
			}
			calls := len(e.srv.Log())
			_, err := e.proc.Create(t.Context(), dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "k"})
			if dsar.ErrorCode(err) != dsar.EPRECONDITION || !strings.Contains(dsar.ErrorMessage(err), tc.words) {
				t.Fatalf("Create: %v; want a refusal naming %q", err, tc.words)
			}
			if n := len(e.srv.Log()); n != calls {
				t.Errorf("the refused request made %d calls", n-calls)
			}
			a, err := e.proc.Account(t.Context(), "main")
			if err != nil || a.Check.Problem == "" || len(a.InFlight) != 0 {
				t.Errorf("account %+v, %v; want the failed check and nothing in flight", a, err)
			}
		})
	}
}

// TestResumeWhileParked: resuming a request parked by the daily limit
// makes no call and leaves it parked with its end; with probe, or after
// ResetQuota (audited), the next call asks Zoom once.
func TestResumeWhileParked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, heavyCap(5))
	r := e.wait(e.create(jane).ID, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateWaitingQuota {
		t.Fatalf("state %s (%s), want WAITING_QUOTA", r.State, r.Reason)
	}
	heavy := func() int {
		n := 0
		for _, le := range e.srv.Log() {
			if le.Category == zoomtest.Heavy {
				n++
			}
		}
		return n
	}
	before := heavy()
	got, err := e.proc.Resume(t.Context(), r.ID, false)
	if err != nil || got.State != dsar.StateWaitingQuota || !got.WaitingUntil.Equal(r.WaitingUntil) {
		t.Fatalf("Resume: %v, %v; want it WAITING_QUOTA until %v", got, err, r.WaitingUntil)
	}
	a, err := e.proc.Account(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	var parked bool
	for _, b := range a.Status.Buckets {
		if b.Name == "Heavy" {
			parked = b.ParkedUntil.Equal(r.WaitingUntil) && b.DailyRemaining == 0
		}
	}
	if !parked || !slices.Equal(a.InFlight, []string{r.ID}) {
		t.Errorf("account %+v; want Heavy parked until %v with 0 remaining, the request in flight", a, r.WaitingUntil)
	}

	probes := []func() error{
		func() error {
			b, err := e.proc.ResetQuota(t.Context(), "main")
			if err == nil && !slices.Contains(b, "Heavy") {
				t.Errorf("ResetQuota unparked %v, want Heavy among them", b)
			}
			return err
		},
		func() error { _, err := e.proc.Resume(t.Context(), r.ID, true); return err },
	}
	for i, probe := range probes {
		if n := heavy(); n != before {
			t.Fatalf("probe %d: %d Heavy calls while parked", i, n-before)
		}
		if err := probe(); err != nil {
			t.Fatal(err)
		}
		r = e.wait(r.ID, func(r *dsar.Request) bool { return r.State == dsar.StateWaitingQuota && heavy() > before })
		if n := heavy() - before; n != 1 {
			t.Errorf("probe %d: %d Heavy calls, want 1", i, n)
		}
		before = heavy()
	}
	evs, err := e.proc.Audit(t.Context(), dsar.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var resets int
	for _, ev := range evs {
		if ev.Action == dsar.ActionResetQuota && ev.Request == "" && strings.Contains(ev.Detail, "Heavy") {
			resets++
		}
	}
	if resets != 2 {
		t.Errorf("%d reset-quota events naming Heavy, want 2 (ResetQuota and Resume with probe)", resets)
	}
}
