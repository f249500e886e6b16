package dsar_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// scripted is the account's Zoom, but the webinars section gets the
// answers of a script, one per call, to show what Zoom can send that the
// emulator does not: records without ids, a page token that expires.
type scripted struct {
	dsar.Zoom
	mu     sync.Mutex
	script []answer
	tokens []string // the page token of each call
}

type answer struct {
	f   dsar.Fetched
	err error
}

func (s *scripted) Fetch(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
	if section != dsar.SectionWebinars {
		return s.Zoom.Fetch(ctx, subject, section, part, cur)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, cur.PageToken)
	if len(s.script) == 0 {
		return dsar.Fetched{}, &dsar.ZoomError{Kind: dsar.ZoomRejected, Code: 400, Message: "script ended"}
	}
	a := s.script[0]
	s.script = s.script[1:]
	return a.f, a.err
}

func webinars(next string, calls int, ids []string, recs ...string) answer {
	body := `{"page_size":300,"next_page_token":"` + next + `","webinars":[`
	for i, r := range recs {
		if i > 0 {
			body += ","
		}
		body += r
	}
	return answer{f: dsar.Fetched{Body: []byte(body + "]}"), IDs: ids, NextPageToken: next, Calls: calls}}
}

// TestRecordsWithoutIDs checks that a record without an id is never
// de-duplicated away, that a window fetched again after its page token
// expired drops only the repeats that have ids, and that every HTTP call,
// retries and failed calls included, is counted, with the same count in
// the store, the manifest and the data file.
func TestRecordsWithoutIDs(t *testing.T) {
	t.Parallel()
	expired := answer{err: &dsar.ZoomError{Kind: dsar.ZoomPageTokenExpired, Code: 300, Message: "The next page token is invalid or expired.", Calls: 2}}
	tests := []struct {
		name     string
		script   []answer
		tokens   []string // the page tokens the processor sends
		listings []string // the records of data/webinars.json
		records  int64
		calls    int64
	}{
		{
			name:     "two records without ids on one page",
			script:   []answer{webinars("", 1, []string{"", ""}, `{"topic":"a"}`, `{"topic":"b"}`)},
			tokens:   []string{""},
			listings: []string{`{"topic":"a"}`, `{"topic":"b"}`},
			records:  2, calls: 1,
		},
		{
			name:     "the same record without id twice on one page",
			script:   []answer{webinars("", 3, []string{"", ""}, `{"topic":"a"}`, `{"topic":"a"}`)},
			tokens:   []string{""},
			listings: []string{`{"topic":"a"}`, `{"topic":"a"}`},
			records:  2, calls: 3,
		},
		{
			name: "window fetched again after its token expired",
			script: []answer{
				webinars("t1", 1, []string{"w1", ""}, `{"uuid":"w1"}`, `{"topic":"x"}`),
				expired,
				webinars("t2", 1, []string{"w1", ""}, `{"uuid":"w1"}`, `{"topic":"x"}`),
				webinars("", 1, []string{"w2"}, `{"uuid":"w2"}`),
			},
			tokens: []string{"", "t1", "", "t2"},
			// w1 is a repeat Zoom's ids show; the record without id may be
			// one too, but nothing shows it: it is kept.
			listings: []string{`{"uuid":"w1"}`, `{"topic":"x"}`, `{"topic":"x"}`, `{"uuid":"w2"}`},
			records:  4, calls: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := &scripted{script: tt.script}
			e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
				z.Zoom = c.Accounts["main"]
				c.Accounts["main"] = z
			}})
			r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
			if r.State != dsar.StateCompleted {
				t.Fatalf("state %s (%s)", r.State, r.Reason)
			}
			if len(z.tokens) != len(tt.tokens) {
				t.Fatalf("page tokens sent %q, want %q", z.tokens, tt.tokens)
			}
			for i := range tt.tokens {
				if z.tokens[i] != tt.tokens[i] {
					t.Fatalf("page tokens sent %q, want %q", z.tokens, tt.tokens)
				}
			}
			_, secs, err := e.proc.Request(t.Context(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			var sec dsar.Section
			for _, s := range secs {
				if s.Name == dsar.SectionWebinars {
					sec = s
				}
			}
			if sec.Records != tt.records || sec.Calls != tt.calls {
				t.Errorf("stored section: %d records, %d calls; want %d, %d", sec.Records, sec.Calls, tt.records, tt.calls)
			}
			m := e.verify(r)
			for _, s := range m.Sections {
				if s.Name == dsar.SectionWebinars && (s.Records != tt.records || s.Calls != int(tt.calls) || s.Listings != int64(len(tt.listings))) {
					t.Errorf("manifest: %d records, %d listings, %d calls; want %d, %d, %d",
						s.Records, s.Listings, s.Calls, tt.records, len(tt.listings), tt.calls)
				}
			}
			var got []json.RawMessage
			readEntry(t, m, r, "data/webinars.json", &got)
			if len(got) != len(tt.listings) {
				t.Fatalf("data/webinars.json holds %s, want %q", got, tt.listings)
			}
			for i := range got {
				if string(got[i]) != tt.listings[i] {
					t.Errorf("record %d is %s, want %s", i, got[i], tt.listings[i])
				}
			}
		})
	}
}

// TestCallsCountRetries checks that a section's calls count every HTTP
// call, retries of 5xx and garbled answers, the call after a revoked token
// and media downloads included: they add up to the calls the emulator
// served.
func TestCallsCountRetries(t *testing.T) {
	t.Parallel()
	faults := zoomtest.Faults{Script: map[string][]zoomtest.Fault{
		"GET /users/{userId}/settings":             {zoomtest.Fault500, zoomtest.Fault502},
		"GET /phone/users/{userId}/settings":       {zoomtest.FaultRevoke},
		"GET /users/{userId}/webinars":             {zoomtest.FaultGarble},
		"GET /rec/download/{fileId}":               {zoomtest.Fault500},
		"GET /phone/voice_mails/download/{fileId}": {zoomtest.Fault503},
	}}
	e := newEnv(t, withMedia(envConfig{zoom: []zoomtest.Option{zoomtest.WithFaults(faults)}}, nil))
	tok, err := url.Parse(e.srv.TokenURL)
	if err != nil {
		t.Fatal(err)
	}
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	_, secs, err := e.proc.Request(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int64{}
	var total int64
	for _, s := range secs {
		calls[s.Name] = s.Calls
		total += s.Calls
	}
	// A revoked token fails the calls that carried it, whichever section
	// made them: count each section's calls in the log by its path.
	uid := "/" + e.srv.Dataset().User(jane).ID + "/"
	paths := map[string]string{
		"/v2/users" + uid + "settings":       dsar.SectionSettings,
		"/v2/phone/users" + uid + "settings": dsar.SectionPhoneSettings,
		"/v2/users" + uid + "webinars":       dsar.SectionWebinars,
	}
	want := map[string]int64{}
	var served, faulted int64
	for _, le := range e.srv.Log() {
		if le.Path == tok.Path || strings.HasPrefix(le.Path, "/_zoomfake") {
			continue // the token service, the emulator's controls
		}
		if le.Status == http.StatusFound {
			continue // a download's redirect: part of the call that follows it
		}
		served++
		if le.Fault != "" {
			faulted++
		}
		if s, ok := paths[le.Path]; ok {
			want[s]++
		}
	}
	for s, n := range want {
		if calls[s] != n {
			t.Errorf("%s: %d calls, the emulator served %d", s, calls[s], n)
		}
	}
	if want[dsar.SectionSettings] < 3 || faulted != 6 || total != served {
		t.Errorf("sections count %d calls (settings %d); the emulator served %d calls, %d of them faults (want 6)",
			total, calls[dsar.SectionSettings], served, faulted)
	}
	m := e.verify(r)
	for _, s := range m.Sections {
		if int64(s.Calls) != calls[s.Name] {
			t.Errorf("manifest: %s has %d calls, the store %d", s.Name, s.Calls, calls[s.Name])
		}
	}
}

// noObjectIDs is the account's Zoom, but object pages come without ids, as
// builds before ids were kept for them stored settings and Phone pages.
type noObjectIDs struct{ dsar.Zoom }

func (z noObjectIDs) Fetch(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
	f, err := z.Zoom.Fetch(ctx, subject, section, part, cur)
	if list, _ := z.Shape(section, part); list == "" {
		f.IDs = nil
	}
	return f, err
}

// TestObjectPagesStoredWithoutIDs checks that pages stored without ids
// still assemble, whole: an object page is one record.
func TestObjectPagesStoredWithoutIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		c.Accounts["main"] = noObjectIDs{c.Accounts["main"]}
	}})
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	_, secs, err := e.proc.Request(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := e.verify(r)
	for i, s := range m.Sections {
		switch s.Name {
		case dsar.SectionSettings, dsar.SectionPhoneProfile, dsar.SectionPhoneSettings:
			var obj map[string]any
			readEntry(t, m, r, s.Entry, &obj)
			if s.Records != 1 || secs[i].Records != 1 || len(obj) == 0 {
				t.Errorf("%s: manifest %d records, store %d, data %d fields; want 1, 1, some", s.Name, s.Records, secs[i].Records, len(obj))
			}
		}
	}
}
