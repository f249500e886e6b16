package zoomclient

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// walk fetches every page of every window of ep for user, as the processor
// does, and returns the record ids and the number of pages.
func walk(t *testing.T, c *Client, ep Endpoint, user string) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for _, w := range c.Windows(ep) {
		cur := w
		for {
			p, err := c.Page(t.Context(), ep, user, cur)
			if err != nil {
				t.Fatalf("%s %+v: %v", ep.Name, cur, err)
			}
			pages++
			var top map[string]json.RawMessage
			if err := json.Unmarshal(p.Body, &top); err != nil || top[ep.List] == nil {
				t.Fatalf("%s: page body is not a page: %v", ep.Name, err)
			}
			ids = append(ids, p.IDs...)
			if p.Last {
				if p.Next != (Cursor{}) {
					t.Fatalf("last page with next cursor %+v", p.Next)
				}
				break
			}
			if p.Next.From != w.From || p.Next.To != w.To || p.Next.PageToken == "" {
				t.Fatalf("next cursor %+v leaves window %+v", p.Next, w)
			}
			cur = p.Next
		}
	}
	return ids, pages
}

// TestPagination walks every list endpoint of jane with small pages and
// compares the ids with the emulator's dataset.
func TestPagination(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv, nil)
	u := srv.Dataset().User(jane)
	now := srv.Clock().Now()
	oldest := addMonths(now.UTC().Truncate(24*time.Hour), -12)

	var recs, trash, calls, vms, phoneRecs []string
	for _, r := range u.Recordings {
		switch {
		case r.Trashed():
			trash = append(trash, r.UUID)
		case !r.StartTime.Before(oldest):
			recs = append(recs, r.UUID)
		}
	}
	for _, x := range u.Phone.CallLogs {
		calls = append(calls, x.ID)
	}
	for _, x := range u.Phone.Voicemails {
		vms = append(vms, x.ID)
	}
	for _, x := range u.Phone.Recordings {
		phoneRecs = append(phoneRecs, x.ID)
	}
	small := func(ep Endpoint) Endpoint { ep.PageSize = 2; return ep }
	tests := []struct {
		ep   Endpoint
		want []string
	}{
		{small(EndpointRecordings), recs},
		{small(EndpointRecordingsTrash), trash},
		{small(EndpointCallHistory), calls},
		{small(EndpointVoicemails), vms},
		{small(EndpointPhoneRecordings), phoneRecs},
		{EndpointAssistants, []string{u.Assistants[0].ID, u.Assistants[1].ID}},
	}
	for _, tt := range tests {
		t.Run(tt.ep.Name, func(t *testing.T) {
			got, pages := walk(t, c, tt.ep, jane)
			if len(tt.want) == 0 {
				t.Fatalf("dataset has no %s for the subject: the test proves nothing", tt.ep.Name)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("ids:\n got %q\nwant %q", got, want)
			}
			if tt.ep.PageSize == 2 && pages < len(want)/2 {
				t.Errorf("%d pages for %d records of page size 2", pages, len(want))
			}
		})
	}
}

// TestTypedErrors: each of Zoom's refusals becomes its Kind, and the
// text carries Zoom's code and message but never the subject's email.
func TestTypedErrors(t *testing.T) {
	tests := []struct {
		name string
		opts []zoomtest.Option
		call func(t *testing.T, c *Client) error
		kind Kind
		code int
	}{
		{name: "unknown user", kind: NotFound, code: 1001, call: func(t *testing.T, c *Client) error {
			_, _, err := c.User(t.Context(), "nobody.here@example.com")
			return err
		}},
		{name: "phone not enabled", kind: NotApplicable, code: 2031, opts: []zoomtest.Option{zoomtest.WithPhoneEnabled(false)},
			call: func(t *testing.T, c *Client) error {
				_, err := c.Get(t.Context(), EndpointPhoneUser, jane)
				return err
			}},
		{name: "webinars without the add-on", kind: NotApplicable, code: 200, call: func(t *testing.T, c *Client) error {
			_, err := c.Page(t.Context(), EndpointWebinars, "John.Smith@Example.COM", Cursor{})
			return err
		}},
		{name: "window over a month", kind: Invalid, call: func(t *testing.T, c *Client) error {
			_, err := c.Page(t.Context(), EndpointRecordings, jane, Cursor{From: "2025-12-01", To: "2026-03-15"})
			return err
		}},
		{name: "page token expired", kind: PageTokenExpired, code: 300, call: func(t *testing.T, c *Client) error {
			return expire(t, c, EndpointRecordingsTrash)
		}},
		{name: "phone page token expired", kind: PageTokenExpired, code: 400, call: func(t *testing.T, c *Client) error {
			return expire(t, c, EndpointCallHistory)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.opts...)
			c := newClient(t, srv, nil)
			err := tt.call(t, c)
			t.Log(err)
			e, ok := err.(*Error)
			if !ok || e.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			if tt.code != 0 && e.Code != tt.code {
				t.Errorf("code %d, want %d", e.Code, tt.code)
			}
			if Retryable(err) {
				t.Errorf("%v is retryable", err)
			}
			for _, pii := range []string{jane, "nobody.here@example.com"} {
				if containsFold(err.Error(), pii) {
					t.Errorf("error %q names the subject", err)
				}
			}
			if e.Code != 0 && e.Message == "" {
				t.Errorf("error %q lacks Zoom's message", err)
			}
		})
	}
}

func srvClock(c *Client) *zoomtest.Clock { return c.clock.(*zoomtest.Clock) }

// expire fetches the first page of ep (one record a page) that has a
// next page, lets its token expire and asks for the next page.
func expire(t *testing.T, c *Client, ep Endpoint) error {
	ep.PageSize = 1
	for _, w := range c.Windows(ep) {
		p, err := c.Page(t.Context(), ep, jane, w)
		if err != nil {
			t.Fatalf("first page: %v", err)
		}
		if !p.Last {
			srvClock(c).Advance(16 * time.Minute)
			_, err = c.Page(t.Context(), ep, jane, p.Next)
			return err
		}
	}
	t.Fatal("no window with two pages")
	return nil
}

// TestEndpoints calls every exported endpoint for the subject and checks
// that the emulator counted it in the bucket the endpoint declares.
func TestEndpoints(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv, nil)
	for _, ep := range []Endpoint{
		EndpointUser, EndpointUserSettings, EndpointAssistants, EndpointSchedulers,
		EndpointMeetingsScheduled, EndpointMeetingsUpcoming, EndpointMeetingsPrevious, EndpointWebinars,
		EndpointRecordings, EndpointRecordingsTrash, EndpointPhoneUser, EndpointPhoneSettings,
		EndpointCallHistory, EndpointVoicemails, EndpointPhoneRecordings,
	} {
		t.Run(ep.Name, func(t *testing.T) {
			var err error
			var n int
			if ep.List == "" {
				_, err = c.Get(t.Context(), ep, jane)
			} else {
				var p Page
				p, err = c.Page(t.Context(), ep, jane, c.Windows(ep)[0])
				n = len(p.IDs)
			}
			if err != nil {
				t.Fatal(err)
			}
			log := srv.Log()
			last := log[len(log)-1]
			if last.Category != string(ep.Category) || last.Phone != ep.Phone || last.Status != 200 {
				t.Errorf("emulator logged %s phone=%v status %d; endpoint declares %s phone=%v",
					last.Category, last.Phone, last.Status, ep.Category, ep.Phone)
			}
			t.Logf("%s: %d records", ep.Name, n)
		})
	}
}
