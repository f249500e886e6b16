package dsar_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild()) // a child process of TestCrash
	}
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		// -parallel defaults to GOMAXPROCS, which suits tests that keep a
		// core busy. Most of these wait, in real time, on the per-second
		// rate limits of the plan (a test of the tiny dataset uses a
		// quarter of a core), so twice as many run at once; -parallel
		// given on the command line wins.
		flag.Set("test.parallel", strconv.Itoa(2*runtime.GOMAXPROCS(0)))
	}
	goleak.VerifyTestMain(m)
}

// t0 is the emulator's start: mid-afternoon UTC, hours before a daily reset.
var t0 = time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)

const jane = zoomtest.JaneEmail

// env is a processor wired to a temp-dir store and an in-process emulator,
// all on the emulator's clock.
type env struct {
	t    testing.TB
	srv  *zoomtest.Server
	db   *store.DB
	dir  string
	pub  ed25519.PublicKey
	proc *dsar.Processor
}

type envConfig struct {
	zoom   []zoomtest.Option
	client func(*zoomclient.Config)
	proc   func(*dsar.Config)
}

func newEnv(t testing.TB, ec envConfig) *env {
	t.Helper()
	srv := zoomtest.NewServer(t, append([]zoomtest.Option{zoomtest.WithStartTime(t0), zoomtest.WithSeed(1)}, ec.zoom...)...)
	e := &env{t: t, srv: srv, dir: t.TempDir()}
	e.open(ec)
	return e
}

// open (re)starts the store and the processor over e.dir, as dsard does.
func (e *env) open(ec envConfig) {
	t := e.t
	t.Helper()
	db, err := store.Open(filepath.Join(e.dir, "dsar.db"), store.Options{Clock: e.srv.Clock()})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	a := e.srv.Account()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	cc := zoomclient.Config{
		AccountID: a.ID, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Plan: string(a.Plan),
		APIURL: e.srv.APIURL, TokenURL: e.srv.TokenURL,
		RetryBase: time.Millisecond, RetryCap: 10 * time.Millisecond,
		HTTPClient: &http.Client{Transport: tr}, Clock: e.srv.Clock(),
	}
	if ec.client != nil {
		ec.client(&cc)
	}
	c, err := zoomclient.New(cc)
	if err != nil {
		t.Fatalf("zoomclient.New: %v", err)
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := dsar.Config{
		Store:     db,
		Accounts:  map[string]dsar.Zoom{"main": zoomclient.NewSource(c)},
		Assembler: &bundle.Assembler{Store: db, Dir: filepath.Join(e.dir, "bundles"), Key: key, Version: "test"},
		Clock:     e.srv.Clock(),
		Owner:     "test",
	}
	if ec.proc != nil {
		ec.proc(&cfg)
	}
	p, err := dsar.NewProcessor(cfg)
	if err != nil {
		t.Fatalf("NewProcessor: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	if err := p.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	e.db, e.pub, e.proc = db, pub, p
}

// create opens a request for email on the "main" account.
func (e *env) create(email string) *dsar.Request {
	e.t.Helper()
	return e.createAs(email, "k-"+email)
}

// createAs creates a request with an idempotency key of its own: another
// request for the same subject.
func (e *env) createAs(email, key string) *dsar.Request {
	e.t.Helper()
	r, err := e.proc.Create(e.t.Context(), dsar.CreateInput{Email: email, Account: "main", IdempotencyKey: key})
	if err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	return r
}

// waitLimit bounds how long wait looks for a state: a hang fails the test
// rather than go test's timeout, yet tests that run in parallel on a
// loaded two-core machine have the time they need.
const waitLimit = 5 * time.Minute

// wait returns the request once until says so, watching its changes.
func (e *env) wait(id string, until func(*dsar.Request) bool) *dsar.Request {
	e.t.Helper()
	ch, stop := e.proc.Watch(id)
	defer stop()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		r, _, err := e.proc.Request(e.t.Context(), id)
		if err != nil {
			e.t.Fatalf("Request: %v", err)
		}
		if until(r) {
			return r
		}
		select {
		case <-ch:
		case <-deadline.C:
			e.t.Fatalf("request %s still %s after %v", id, r.State, waitLimit)
		}
	}
}

func inState(states ...dsar.State) func(*dsar.Request) bool {
	return func(r *dsar.Request) bool {
		for _, s := range states {
			if r.State == s {
				return true
			}
		}
		return false
	}
}

// verify checks a completed request's bundle and returns its manifest.
func (e *env) verify(r *dsar.Request) *bundle.Manifest {
	e.t.Helper()
	f, err := os.Open(r.Bundle.Path)
	if err != nil {
		e.t.Fatalf("open bundle: %v", err)
	}
	defer f.Close()
	m, err := bundle.Verify(f, r.Bundle.Size, e.pub)
	if err != nil {
		e.t.Fatalf("Verify: %v", err)
	}
	return m
}

// refetched returns the API calls answered 200 that repeat an earlier
// answered call exactly (same path and query): pages fetched twice.
func refetched(srv *zoomtest.Server) []string {
	seen := map[string]bool{}
	var dups []string
	for _, le := range srv.Log() {
		if le.Category == "" || le.Status != http.StatusOK || le.Fault != "" {
			continue
		}
		k := le.Path + "?" + le.Query
		if seen[k] {
			dups = append(dups, k)
		}
		seen[k] = true
	}
	return dups
}

func records(m *bundle.Manifest) map[string]int64 {
	out := map[string]int64{}
	for _, s := range m.Sections {
		out[s.Name] = s.Records
	}
	return out
}

func TestCollectEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	m := e.verify(r)
	u := e.srv.Dataset().User(jane)
	got := records(m)
	var past int64
	for _, mt := range u.Meetings {
		if mt.Past() {
			past++
		}
	}
	want := map[string]int64{
		dsar.SectionProfile:          1 + int64(len(u.Assistants)+len(u.Schedulers)),
		dsar.SectionPhoneCallHistory: int64(len(u.Phone.CallLogs)),
		dsar.SectionPhoneVoicemails:  int64(len(u.Phone.Voicemails)),
		dsar.SectionPhoneRecordings:  int64(len(u.Phone.Recordings)),
		dsar.SectionCloudRecordings:  int64(len(u.Recordings)),
	}
	for s, n := range want {
		if got[s] != n {
			t.Errorf("%s: %d records in the bundle, the dataset has %d", s, got[s], n)
		}
	}
	for _, s := range m.Sections {
		if s.State != string(dsar.SectionComplete) {
			t.Errorf("section %s: %s (%s)", s.Name, s.State, s.Reason)
		}
	}
	if d := refetched(e.srv); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}
	if r.ZoomUserID != u.ID {
		t.Errorf("zoom user id %q, want %q", r.ZoomUserID, u.ID)
	}
	if fp := bundle.Fingerprint(e.pub); r.Bundle.KeyFingerprint != fp || m.PublicKey != fp {
		t.Errorf("bundle signed by %q (manifest %q), want %q", r.Bundle.KeyFingerprint, m.PublicKey, fp)
	}
}

func TestNoZoomUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	r := e.wait(e.create("nobody@example.com").ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted || r.Outcome != dsar.OutcomeNoZoomUser {
		t.Fatalf("state %s outcome %q, want COMPLETED no_zoom_user", r.State, r.Outcome)
	}
	m := e.verify(r)
	if m.Outcome != dsar.OutcomeNoZoomUser {
		t.Errorf("manifest outcome %q", m.Outcome)
	}
	for _, s := range m.Sections {
		if s.State != string(dsar.SectionNotApplicable) || s.Records != 0 {
			t.Errorf("section %s: %s with %d records", s.Name, s.State, s.Records)
		}
		// The lookup's one call is the profile's; no other section calls.
		if want := map[bool]int{true: 1}[s.Name == dsar.SectionProfile]; s.Calls != want {
			t.Errorf("section %s: %d calls, want %d", s.Name, s.Calls, want)
		}
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	ctx := t.Context()
	first, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "key-1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   dsar.CreateInput
		code string
	}{
		{"malformed email", dsar.CreateInput{Email: "jane.example.com", Account: "main", IdempotencyKey: "a"}, dsar.EINVALID},
		{"email with space", dsar.CreateInput{Email: "jane doe@example.com", Account: "main", IdempotencyKey: "a"}, dsar.EINVALID},
		{"unknown account", dsar.CreateInput{Email: jane, Account: "other", IdempotencyKey: "a"}, dsar.ENOTFOUND},
		{"empty key", dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: " "}, dsar.EINVALID},
		{"unknown regulation", dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "a", Regulation: "lgpd"}, dsar.EINVALID},
		{"key reused for another email", dsar.CreateInput{Email: "john@example.com", Account: "main", IdempotencyKey: "key-1"}, dsar.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.proc.Create(ctx, tt.in)
			if got := dsar.ErrorCode(err); got != tt.code {
				t.Fatalf("code %q (%v), want %q", got, err, tt.code)
			}
			if strings.Contains(err.Error(), "@example.com") {
				t.Errorf("error names the email: %v", err)
			}
		})
	}
	again, err := e.proc.Create(ctx, dsar.CreateInput{Email: jane, Account: "main", IdempotencyKey: "key-1"})
	if err != nil || again.ID != first.ID {
		t.Fatalf("same key: %v, id %v want %v", err, again, first.ID)
	}
	e.wait(first.ID, inState(dsar.StateCompleted))
}

// TestNotApplicable runs a user without Phone licence or webinar add-on:
// those sections end NOT_APPLICABLE with Zoom's reason, the request
// completes.
func TestNotApplicable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	var subject *zoomtest.User
	for _, u := range e.srv.Dataset().Accounts[0].Users {
		if u.Phone == nil && !u.WebinarAddon && u.Status == "active" {
			subject = u
			break
		}
	}
	if subject == nil {
		t.Fatal("the dataset has no active user without Phone and webinars")
	}
	r := e.wait(e.create(subject.Email).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	_, secs, err := e.proc.Request(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	na := map[string]bool{}
	for _, s := range secs {
		if s.State == dsar.SectionNotApplicable {
			na[s.Name] = true
			if s.Reason == "" || s.ReasonCode == 0 {
				t.Errorf("%s: not applicable without Zoom's reason", s.Name)
			}
		}
	}
	for _, s := range []string{dsar.SectionWebinars, dsar.SectionPhoneProfile, dsar.SectionPhoneCallHistory} {
		if !na[s] {
			t.Errorf("section %s is not NOT_APPLICABLE", s)
		}
	}
	if na[dsar.SectionMeetings] || na[dsar.SectionProfile] {
		t.Errorf("meetings or profile not applicable: %v", na)
	}
	e.verify(r)
}

// TestQuotaParks runs on a free plan whose daily Medium cap is smaller than
// the calls jane needs: the request parks WAITING_QUOTA until 00:00 UTC,
// makes no call until the clock passes it, then completes with nothing
// fetched twice.
func TestQuotaParks(t *testing.T) {
	t.Parallel()
	fast := zoomtest.Rate{N: 200, Per: time.Second}
	e := newEnv(t, envConfig{
		zoom: []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free), zoomtest.WithLimits(zoomtest.Limits{
			Rate:  map[string]zoomtest.Rate{zoomtest.Light: fast, zoomtest.Medium: fast},
			Daily: map[string]int{zoomtest.Medium: 14}, // jane needs ~21 Medium calls: two days
		})},
		client: func(c *zoomclient.Config) {
			c.Limits = map[zoomclient.Bucket]float64{
				{Category: zoomclient.Light}: 200, {Category: zoomclient.Medium}: 200,
			}
		},
	})
	r := e.wait(e.create(jane).ID, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateWaitingQuota {
		t.Fatalf("state %s (%s), want WAITING_QUOTA", r.State, r.Reason)
	}
	midnight := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	// Retry-After less Date, in the processor's clock: the Date header has
	// whole seconds.
	if d := r.WaitingUntil.Sub(midnight); d < -time.Second || d > time.Second {
		t.Errorf("waiting until %v, want %v", r.WaitingUntil, midnight)
	}
	parkedAt := len(e.srv.Log())
	e.srv.Clock().Set(midnight.Add(-time.Minute))
	if r, _, _ := e.proc.Request(t.Context(), r.ID); r.State != dsar.StateWaitingQuota {
		t.Fatalf("woke before the reset: %s", r.State)
	}
	e.srv.Clock().Set(midnight.Add(time.Second))
	r = e.wait(r.ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	log := e.srv.Log()
	for _, le := range log[parkedAt:] {
		if le.Category != "" && le.Time.Before(midnight) {
			t.Errorf("call while parked: %s %s at %v", le.Method, le.Path, le.Time)
		}
	}
	var daily int
	for _, le := range log {
		if le.RateLimit == "Daily-limit" {
			daily++
		}
	}
	if daily == 0 {
		t.Error("no Daily-limit 429: the test did not exhaust the quota")
	}
	if d := refetched(e.srv); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}
	e.verify(r)
}

// TestFaults runs with injected 5xx, resets and garbled bodies: the request
// completes, or waits for Zoom (WAITING_ZOOM) and, once Zoom recovers,
// completes by itself, no page fetched twice.
func TestFaults(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.05, 0.5} {
		t.Run(fmt.Sprintf("%.0f%%", rate*100), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithFaults(zoomtest.Faults{Rates: map[zoomtest.Fault]float64{
				zoomtest.Fault500: rate / 4, zoomtest.Fault503: rate / 4, zoomtest.FaultReset: rate / 4, zoomtest.FaultGarble: rate / 4,
			}})}})
			id := e.create(jane).ID
			r := e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed, dsar.StateWaitingZoom))
			if r.State == dsar.StateWaitingZoom {
				e.srv.SetFaults(zoomtest.Faults{}) // Zoom recovers
			}
			if r = e.throughOutage(id); r.State != dsar.StateCompleted {
				t.Fatalf("state %s (%s), want COMPLETED with no operator action", r.State, r.Reason)
			}
			if d := refetched(e.srv); len(d) > 0 {
				t.Errorf("pages fetched twice: %v", d)
			}
			e.verify(r)
		})
	}
}

// TestPageTokenExpired lets Zoom's page token expire in the middle of a
// window, of previous meetings and of the first Team Chat conversation:
// the window is fetched again from its start and the bundle holds every
// record once.
func TestPageTokenExpired(t *testing.T) {
	t.Parallel()
	var e *env
	expired, chatExpired := false, false
	e = newEnv(t, envConfig{proc: func(c *dsar.Config) {
		c.Concurrency = 1
		c.Hooks.AfterCommit = func(section, part string) {
			switch {
			case section == dsar.SectionMeetings && part == dsar.PartPrevious && !expired:
				expired = true
			case section == dsar.SectionTeamChat && part == dsar.PartMessages && !chatExpired:
				chatExpired = true
			default:
				return
			}
			e.srv.Clock().Advance(16 * time.Minute)
		}
	}, zoom: []zoomtest.Option{
		// The reference subject's meetings and chat span pages; her Zoom
		// Phone data, the bulk of the rest, plays no part here.
		zoomtest.WithDataset("reference"), zoomtest.WithPhoneEnabled(false), zoomtest.WithLimits(zoomtest.Limits{Off: true}),
	}, client: func(c *zoomclient.Config) { c.Limits = zoomclient.EveryBucket(1000) }})
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	if !expired || !chatExpired {
		t.Fatal("the hook never ran")
	}
	var past int
	for _, mt := range e.srv.Dataset().User(jane).Meetings {
		if mt.Past() {
			past++
		}
	}
	var data struct {
		Previous []struct {
			UUID string `json:"uuid"`
		} `json:"previous_meetings"`
	}
	readEntry(t, e.verify(r), r, bundle.DataPath(dsar.SectionMeetings), &data)
	uuids := map[string]bool{}
	for _, m := range data.Previous {
		if uuids[m.UUID] {
			t.Errorf("meeting %s twice in the bundle", m.UUID)
		}
		uuids[m.UUID] = true
	}
	if len(uuids) != past {
		t.Errorf("%d past meetings in the bundle, the dataset has %d", len(uuids), past)
	}
	var chat struct {
		Messages map[string][]struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	readEntry(t, nil, r, bundle.DataPath(dsar.SectionTeamChat), &chat)
	sixAgo := time.Date(t0.Year(), t0.Month()-6, t0.Day(), 0, 0, 0, 0, time.UTC)
	kept, _ := e.srv.Dataset().User(jane).ChatKept(string(dsar.ChatConversations), sixAgo)
	ids := map[string]bool{}
	for _, msgs := range chat.Messages {
		for _, m := range msgs {
			if ids[m.ID] || !kept[m.ID] {
				t.Errorf("message %s twice in the bundle, or not the policy's", m.ID)
			}
			ids[m.ID] = true
		}
	}
	if len(ids) != len(kept) {
		t.Errorf("%d Team Chat messages in the bundle, the policy keeps %d", len(ids), len(kept))
	}
	var codes []int
	chatCode := false
	for _, le := range e.srv.Log() {
		if le.Code != 0 {
			codes = append(codes, le.Code)
			chatCode = chatCode || (le.Code == 300 && strings.HasPrefix(le.Path, "/v2/chat/"))
		}
	}
	if !containsInt(codes, 300) || !chatCode {
		t.Errorf("no expired-token error (code 300) in the log, of meetings and of Team Chat: %v", codes)
	}
}

// readEntry decodes a JSON entry of a request's bundle.
func readEntry(t *testing.T, _ *bundle.Manifest, r *dsar.Request, name string, v any) {
	t.Helper()
	if err := json.Unmarshal(bundleEntry(t, r.Bundle.Path, name), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestRestartResumes closes the processor in the middle of a request and
// starts a new one on the same store: it finishes without fetching a
// committed page again.
func TestRestartResumes(t *testing.T) {
	t.Parallel()
	stopAt := make(chan struct{})
	var commits atomic.Int32
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		c.Hooks.AfterCommit = func(string, string) {
			if commits.Add(1) == 5 {
				close(stopAt)
			}
		}
	}})
	id := e.create(jane).ID
	<-stopAt
	e.proc.Close()
	e.db.Close()
	e.open(envConfig{})
	r := e.wait(id, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	// At most the pages in flight at the stop (one per running section) may
	// be fetched again.
	if d := refetched(e.srv); len(d) > 8 {
		t.Errorf("%d pages fetched twice: %v", len(d), d)
	}
	e.verify(r)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	reached, release := make(chan struct{}), make(chan struct{})
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		var first sync.Once
		c.Hooks.AfterCommit = func(section, _ string) {
			if section != dsar.SectionProfile { // the lookup's commit is no page
				first.Do(func() { close(reached); <-release })
			}
		}
	}})
	id := e.create(jane).ID
	<-reached // a page is stored
	// Cancel waits for the run to end; the run ends once the commit in
	// flight is released, after the cancel has landed.
	type result struct {
		r   *dsar.Request
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := e.proc.Cancel(dsar.WithActor(t.Context(), dsar.Actor{Name: "oncall", Role: "operator"}), id, "wrong subject")
		done <- result{r, err}
	}()
	e.wait(id, inState(dsar.StateCancelled))
	before := storedPages(t, e, id) // the run waits after its first commit
	close(release)
	res := <-done
	r, err := res.r, res.err
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if r.State != dsar.StateCancelled {
		t.Fatalf("state %s", r.State)
	}
	e.proc.Close() // waits for the request's goroutines: cancel stopped them
	// What was collected is gone at once; the counts stay.
	if got, err := e.db.Request(t.Context(), id); err != nil || got.Purge.CollectedAt.IsZero() {
		t.Errorf("cancelled request: %v, collected data purged at %v; want it purged", err, got.Purge.CollectedAt)
	}
	if kept := storedPages(t, e, id); before == 0 || kept != 0 {
		t.Errorf("%d pages stored before the cancel, %d after; want some, then none", before, kept)
	}
	evs, err := e.db.Audit(t.Context(), dsar.AuditFilter{Request: id})
	if err != nil {
		t.Fatal(err)
	}
	var byOncall bool
	for _, ev := range evs {
		if ev.Action == dsar.ActionCancel && ev.Actor.Name == "oncall" {
			byOncall = true
		}
	}
	if !byOncall {
		t.Errorf("no cancel event by the operator in %+v", evs)
	}
	if _, err := e.proc.Cancel(t.Context(), id, ""); dsar.ErrorCode(err) != dsar.EPRECONDITION {
		t.Errorf("second cancel: %v", err)
	}
}

// quotaOnce is the account's Zoom, but its first page fetch answers that
// the daily quota is spent until a time already past.
type quotaOnce struct {
	dsar.Zoom
	once  sync.Once
	until time.Time
}

func (q *quotaOnce) Fetch(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
	var err error
	q.once.Do(func() { err = &dsar.ZoomError{Kind: dsar.ZoomQuota, Code: 429, Message: "quota", Until: q.until} })
	if err != nil {
		return dsar.Fetched{}, err
	}
	return q.Zoom.Fetch(ctx, subject, section, part, cur)
}

// TestQuotaResetPassed parks a request until a reset that has already
// passed: its wake-up fires while the run that parked it is ending, and the
// request must still go on.
func TestQuotaResetPassed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		c.Accounts["main"] = &quotaOnce{Zoom: c.Accounts["main"], until: t0.Add(-time.Second)}
	}})
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	evs, err := e.db.Audit(t.Context(), dsar.AuditFilter{Request: r.ID})
	if err != nil {
		t.Fatal(err)
	}
	var parked bool
	for _, ev := range evs {
		parked = parked || strings.HasPrefix(ev.Detail, "RUNNING -> WAITING_QUOTA: until ")
	}
	if !parked {
		t.Error("the request never parked")
	}
}

// lateClock is a clock whose timers the test fires itself, and whose stop
// always comes too late, as when a timer fires while Close stops it.
type lateClock struct {
	dsar.Clock
	armed chan func() // each timer's function, as it is armed
}

func (c *lateClock) AfterFunc(_ time.Duration, f func()) func() bool {
	c.armed <- f
	return func() bool { return false }
}

// heldStore holds the first read of a request, once armed, until released.
type heldStore struct {
	dsar.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *heldStore) Request(ctx context.Context, id string) (*dsar.Request, error) {
	if s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		<-s.release
	}
	return s.Store.Request(ctx, id)
}

// TestWakeAfterClose: a wake-up that fires as the processor closes either
// finds it closed or is waited for by Close, so it never reads the store
// after Close has returned (and the store has been closed after it).
func TestWakeAfterClose(t *testing.T) {
	t.Parallel()
	var clock *lateClock
	st := &heldStore{entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		clock = &lateClock{Clock: c.Clock, armed: make(chan func(), 8)}
		st.Store = c.Store
		c.Clock, c.Store = clock, st
		c.Accounts["main"] = &quotaOnce{Zoom: c.Accounts["main"], until: t0.Add(time.Hour)}
	}})
	e.create(jane)
	// The request is stored WAITING_QUOTA before its wake-up is armed, so
	// the test waits for the timer itself.
	fire := <-clock.armed
	// The timer fires just before Close: its read is under way.
	st.armed.Store(true)
	woke := make(chan struct{})
	go func() { defer close(woke); fire() }()
	<-st.entered
	closed := make(chan error, 1)
	go func() { closed <- e.proc.Close() }()
	// Close must wait for the wake; a fifth of a second bounds how long
	// the test looks for a Close that does not, and cannot fail a correct one.
	select {
	case <-closed:
		t.Error("Close returned while a wake-up was reading the store")
	case <-time.After(200 * time.Millisecond):
	}
	close(st.release)
	<-woke
	<-closed
	// After Close, a timer that fires finds the processor closed.
	st.armed.Store(true)
	fire()
	if !st.armed.Load() {
		t.Error("a wake-up after Close read the store")
	}
}

// emailsListed is the store, counting the emails in the requests it
// lists.
type emailsListed struct {
	*store.DB
	n *atomic.Int64
}

func (s emailsListed) ListRequests(ctx context.Context, f dsar.RequestFilter) ([]dsar.Request, string, error) {
	reqs, next, err := s.DB.ListRequests(ctx, f)
	for _, r := range reqs {
		if r.Email != "" {
			s.n.Add(1)
		}
	}
	return reqs, next, err
}

// TestListsNoEmail: the processor's own lists of requests (admission's
// and the estimates' open requests, an account's requests in flight,
// Start's requests to resume, the account's history read again after a
// restart) open no subject's email.
func TestListsNoEmail(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	ec := envConfig{proc: func(c *dsar.Config) { c.Store = emailsListed{c.Store.(*store.DB), &n} }}
	e := newEnv(t, ec)
	e.completed(jane)
	// john's request waits for Zoom, open across the restart.
	e.srv.SetFaults(failingSettings)
	r := e.wait(e.create(john).ID, inState(dsar.StateWaitingZoom))
	estimateOf(t, e, r.ID)
	if _, err := e.proc.Account(t.Context(), "main"); err != nil {
		t.Fatal(err)
	}
	e.proc.Close()
	e.db.Close()
	e.open(ec)
	estimateOf(t, e, r.ID) // the history, read again
	if got := n.Load(); got != 0 {
		t.Errorf("the processor listed %d requests with their emails", got)
	}
}
