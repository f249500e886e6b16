package dsar_test

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

func TestCanTransition(t *testing.T) {
	allowed := map[[2]dsar.State]bool{
		{dsar.StateQueued, dsar.StateRunning}:           true,
		{dsar.StateRunning, dsar.StateWaitingQuota}:     true,
		{dsar.StateWaitingQuota, dsar.StateRunning}:     true,
		{dsar.StateRunning, dsar.StateAssembling}:       true,
		{dsar.StateWaitingQuota, dsar.StateAssembling}:  true,
		{dsar.StateAssembling, dsar.StateCompleted}:     true,
		{dsar.StateFailed, dsar.StateRunning}:           true,
		{dsar.StateQueued, dsar.StateFailed}:            true,
		{dsar.StateQueued, dsar.StateCancelled}:         true,
		{dsar.StateRunning, dsar.StateFailed}:           true,
		{dsar.StateRunning, dsar.StateCancelled}:        true,
		{dsar.StateWaitingQuota, dsar.StateFailed}:      true,
		{dsar.StateWaitingQuota, dsar.StateCancelled}:   true,
		{dsar.StateAssembling, dsar.StateFailed}:        true,
		{dsar.StateAssembling, dsar.StateCancelled}:     true,
		{dsar.StateRunning, dsar.StateWaitingZoom}:      true,
		{dsar.StateWaitingZoom, dsar.StateRunning}:      true,
		{dsar.StateWaitingZoom, dsar.StateAssembling}:   true,
		{dsar.StateWaitingQuota, dsar.StateWaitingZoom}: true,
		{dsar.StateWaitingZoom, dsar.StateWaitingQuota}: true,
		{dsar.StateWaitingZoom, dsar.StateFailed}:       true,
		{dsar.StateWaitingZoom, dsar.StateCancelled}:    true,
	}
	states := append(slices.Clone(dsar.States), "BOGUS", "")
	for _, from := range states {
		for _, to := range states {
			if got, want := dsar.CanTransition(from, to), allowed[[2]dsar.State{from, to}]; got != want {
				t.Errorf("CanTransition(%q, %q) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestDeadlines(t *testing.T) {
	created := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		d    dsar.Deadlines
		reg  dsar.Regulation
		want time.Time
		ok   bool
	}{
		{dsar.DefaultDeadlines, dsar.GDPR, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), true},
		{dsar.DefaultDeadlines, dsar.CCPA, time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC), true},
		{dsar.Deadlines{dsar.GDPR: {Days: 10}}, dsar.GDPR, time.Date(2026, 2, 10, 10, 0, 0, 0, time.UTC), true},
		{dsar.Deadlines{dsar.GDPR: {Days: 10}}, dsar.CCPA, time.Time{}, false},
		{dsar.DefaultDeadlines, "lgpd", time.Time{}, false},
		{dsar.Deadlines{dsar.GDPR: {Days: 0, Extension: 5}}, dsar.GDPR, time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := tt.d.Due(tt.reg, created)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%v.Due(%q) = %v, %v; want %v ok=%v", tt.d, tt.reg, got, err, tt.want, tt.ok)
		}
		if err != nil && dsar.ErrorCode(err) != dsar.EINVALID {
			t.Errorf("code %q, want invalid", dsar.ErrorCode(err))
		}
	}
}

func TestExtensionDays(t *testing.T) {
	for _, tt := range []struct {
		d    dsar.Deadlines
		reg  dsar.Regulation
		want int
		code string
	}{
		{dsar.DefaultDeadlines, dsar.GDPR, 60, ""},
		{dsar.DefaultDeadlines, dsar.CCPA, 45, ""},
		{dsar.Deadlines{dsar.GDPR: {Days: 30, Extension: 7}}, dsar.GDPR, 7, ""},
		{dsar.Deadlines{dsar.GDPR: {Days: 30}}, dsar.GDPR, 0, dsar.EPRECONDITION},
		{dsar.DefaultDeadlines, "lgpd", 0, dsar.EPRECONDITION},
	} {
		got, err := tt.d.ExtensionDays(tt.reg)
		if got != tt.want || dsar.ErrorCode(err) != tt.code {
			t.Errorf("%v.ExtensionDays(%q) = %d, %v; want %d, code %q", tt.d, tt.reg, got, err, tt.want, tt.code)
		}
	}
}

func TestRequestExtend(t *testing.T) {
	due := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := due.AddDate(0, 0, -3)
	r := &dsar.Request{DueAt: due}
	for _, bad := range []struct {
		reason string
		days   int
	}{{"", 30}, {"  ", 30}, {"complex", 0}, {"complex", -1}} {
		if err := r.Extend(dsar.System, bad.reason, at, bad.days); dsar.ErrorCode(err) != dsar.EINVALID {
			t.Errorf("Extend(%q, %d) = %v, want invalid", bad.reason, bad.days, err)
		}
	}
	if r.Extension != nil || !r.DueAt.Equal(due) {
		t.Fatal("a refused extension changed the request")
	}
	if err := r.Extend(dsar.System, "many requests", at, 60); err != nil {
		t.Fatal(err)
	}
	want := due.AddDate(0, 0, 60)
	if !r.DueAt.Equal(want) || r.Extension == nil || !r.Extension.NewDue.Equal(want) || !r.Extension.At.Equal(at) {
		t.Errorf("after Extend: due %v extension %+v", r.DueAt, r.Extension)
	}
	if err := r.Extend(dsar.System, "again", at, 10); dsar.ErrorCode(err) != dsar.EPRECONDITION || !r.DueAt.Equal(want) {
		t.Errorf("second Extend = %v, due %v; want precondition and no change", err, r.DueAt)
	}
}

func TestRequestValidate(t *testing.T) {
	ok := dsar.Request{ID: "r1", Account: "acme", Email: "a@example.com", Regulation: dsar.GDPR, State: dsar.StateQueued}
	tests := map[string]func(*dsar.Request){
		"":               func(*dsar.Request) {},
		"no id":          func(r *dsar.Request) { r.ID = "" },
		"no account":     func(r *dsar.Request) { r.Account = "" },
		"no at":          func(r *dsar.Request) { r.Email = "example.com" },
		"at end":         func(r *dsar.Request) { r.Email = "a@" },
		"space":          func(r *dsar.Request) { r.Email = "a b@example.com" },
		"too long":       func(r *dsar.Request) { r.Email = strings.Repeat("a", 250) + "@x.io" },
		"bad regulation": func(r *dsar.Request) { r.Regulation = "hipaa" },
		"bad state":      func(r *dsar.Request) { r.State = "NEW" },
	}
	for name, mod := range tests {
		r := ok
		mod(&r)
		err := r.Validate()
		if (err == nil) != (name == "") {
			t.Errorf("%s: Validate = %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), r.Email) && r.Email != "" {
			t.Errorf("%s: error %q shows the email", name, err)
		}
	}
}

func TestRequestLogValueRedacts(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	r := &dsar.Request{ID: "acme-01abc", Email: "jane.doe@example.com", ZoomUserID: "u1", State: dsar.StateRunning}
	log.Info("working", "request", r)
	log.Info("by value", "request", *r)
	log.Info("in a group", slog.Group("g", "request", r))
	out := buf.String()
	if strings.Contains(out, "jane") || strings.Contains(out, "example.com") {
		t.Errorf("log shows the email: %s", out)
	}
	if strings.Count(out, `"id":"acme-01abc"`) != 3 || !strings.Contains(out, `"state":"RUNNING"`) {
		t.Errorf("log lacks the id and state: %s", out)
	}
}

func TestNewID(t *testing.T) {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	seen := map[string]bool{}
	for i := range 200 {
		id, err := dsar.NewID("eu1", base.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		if len(id) != len("eu1-")+26 || dsar.ShardOf(id) != "eu1" {
			t.Errorf("id %q: length %d shard %q", id, len(id), dsar.ShardOf(id))
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Error("ids of increasing times do not sort")
	}
	// Same millisecond: the random part differs.
	a, _ := dsar.NewID("", base)
	b, _ := dsar.NewID("", base)
	if a == b || a[:10] != b[:10] || len(a) != 26 || dsar.ShardOf(a) != "" {
		t.Errorf("same-time ids %q %q", a, b)
	}
	for _, shard := range []string{"EU", "eu-1", "a\x00", strings.Repeat("a", 17)} {
		if _, err := dsar.NewID(shard, base); dsar.ErrorCode(err) != dsar.EINVALID {
			t.Errorf("NewID(%q) = %v, want invalid", shard, err)
		}
	}
}

func TestNewSections(t *testing.T) {
	secs := dsar.NewSections("r1")
	if len(secs) != len(dsar.Sections) {
		t.Fatalf("%d sections, want %d", len(secs), len(dsar.Sections))
	}
	wantParts := map[string][]string{
		dsar.SectionProfile:          {"user", "assistants", "schedulers"},
		dsar.SectionMeetings:         {"scheduled", "upcoming", "previous_meetings"},
		dsar.SectionCloudRecordings:  {"recordings", "trash", "participant_audio"},
		dsar.SectionSettings:         {"settings"},
		dsar.SectionPhoneSMS:         {"sessions", "messages"},
		dsar.SectionGroups:           {"groups", "im_groups"},
		dsar.SectionPhoneVoicemails:  {"phone_voicemails", "transcriptions"},
		dsar.SectionMeetingSummaries: {"summaries", "summary"},
		dsar.SectionMeetingsAttended: {"meetings_attended"},
		dsar.SectionPhoneRecordings:  {"phone_recordings"},
	}
	for _, s := range secs {
		if s.Request != "r1" || s.State != dsar.SectionPending || s.Done() {
			t.Errorf("section %+v", s)
		}
		if want, ok := wantParts[s.Name]; ok {
			var got []string
			for _, p := range s.Parts {
				got = append(got, p.Name)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s parts %v, want %v", s.Name, got, want)
			}
		}
		if s.Part(s.Parts[0].Name) != &s.Parts[0] || s.Part("nope") != nil {
			t.Errorf("%s: Part lookup", s.Name)
		}
	}
	// PartsOf returns a copy.
	p := dsar.PartsOf(dsar.SectionProfile)
	p[0] = "x"
	if dsar.PartsOf(dsar.SectionProfile)[0] != "user" {
		t.Error("PartsOf shares its slice")
	}
}

func TestSpanAdd(t *testing.T) {
	tests := []struct{ a, b, want dsar.Span }{
		{dsar.Span{}, dsar.Span{}, dsar.Span{}},
		{dsar.Span{}, dsar.Span{From: "2026-01-01", To: "2026-01-31"}, dsar.Span{From: "2026-01-01", To: "2026-01-31"}},
		{dsar.Span{From: "2026-02-01", To: "2026-02-28"}, dsar.Span{From: "2026-01-01", To: "2026-01-31"}, dsar.Span{From: "2026-01-01", To: "2026-02-28"}},
		{dsar.Span{From: "2026-01-01", To: "2026-02-28"}, dsar.Span{}, dsar.Span{From: "2026-01-01", To: "2026-02-28"}},
	}
	for _, tt := range tests {
		if got := tt.a.Add(tt.b); got != tt.want {
			t.Errorf("%v.Add(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestActorFrom(t *testing.T) {
	if got := dsar.ActorFrom(t.Context()); got != dsar.System {
		t.Errorf("ActorFrom(empty) = %v, want system", got)
	}
	ops := dsar.Actor{Name: "ops", Role: "operator"}
	if got := dsar.ActorFrom(dsar.WithActor(t.Context(), ops)); got != ops {
		t.Errorf("ActorFrom = %v, want %v", got, ops)
	}
	if got := ops.String(); got != "ops (operator)" {
		t.Errorf("String = %q", got)
	}
}

func TestLeaseHeld(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		l    dsar.Lease
		want bool
	}{
		{dsar.Lease{}, false},
		{dsar.Lease{Owner: "p1", Until: now.Add(time.Second)}, true},
		{dsar.Lease{Owner: "p1", Until: now}, false},
		{dsar.Lease{Until: now.Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		if got := tt.l.Held(now); got != tt.want {
			t.Errorf("%+v.Held = %v, want %v", tt.l, got, tt.want)
		}
	}
}

// TestCheckEmailSays: each kind of address refused has a message of its
// own that says what is wrong, and none repeats the address.
func TestCheckEmailSays(t *testing.T) {
	for _, tc := range []struct{ email, want string }{
		{"jane@doe@example.com", "more than one @"},
		{"jane\u202e@example.com", "bidirectional control"},
		{"jane\u200f@example.com", "bidirectional control"},
		{"jane\u200bdoe@example.com", "zero-width"},
		{"jane\u2060doe@example.com", "zero-width"},
		{"jane\u00addoe@example.com", "invisible"},
		{"jane@example", "not a domain name"},
	} {
		err := dsar.CheckEmail(tc.email)
		if dsar.ErrorCode(err) != dsar.EINVALID || !strings.Contains(dsar.ErrorMessage(err), tc.want) {
			t.Errorf("CheckEmail(%+q) = %v, want %s saying %q", tc.email, err, dsar.EINVALID, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "jane") {
			t.Errorf("CheckEmail(%+q) repeats the address: %v", tc.email, err)
		}
	}
}

func TestSameEmail(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"jane@example.com", "JANE@Example.COM", true},
		{"jane@example.com", "jane@example.com", true},
		{"jane@example.com", "jane2@example.com", false},
		{"jane@example.com", "jane@example.org", false},
	} {
		if got := dsar.SameEmail(tc.a, tc.b); got != tc.same {
			t.Errorf("SameEmail(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
