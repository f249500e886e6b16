package zoomtest_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// walk fetches every page of path (which has a query) and returns the ids
// of the records in field.
func walk(t *testing.T, srv *zoomtest.Server, tok, path, field, idField string) []string {
	t.Helper()
	var ids []string
	next := ""
	for pages := 0; ; pages++ {
		p := path
		if next != "" {
			p += "&next_page_token=" + url.QueryEscape(next)
		}
		r := get(t, srv, tok, p)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		if err := json.Unmarshal(body[field], &recs); err != nil {
			t.Fatalf("%s: field %s: %v", p, field, err)
		}
		for _, rec := range recs {
			ids = append(ids, fmt.Sprint(rec[idField]))
		}
		if err := json.Unmarshal(body["next_page_token"], &next); err != nil {
			t.Fatalf("next_page_token missing: %s", r.body)
		}
		if next == "" {
			return ids
		}
		if pages > 1000 {
			t.Fatal("no last page")
		}
	}
}

func TestPaginationWalksEverything(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithDataset("reference"), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(),
		zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	tok := token(t, srv, srv.Account())
	jane := srv.Dataset().User(zoomtest.JaneEmail)
	const j = zoomtest.JaneEmail

	// Cloud recordings: twelve one-month windows back from the start day.
	var recs []string
	day := start.Truncate(24 * time.Hour)
	for m := range 13 {
		to := day.AddDate(0, -m, 0)
		from := to.AddDate(0, -1, 0).AddDate(0, 0, 1)
		recs = append(recs, walk(t, srv, tok, fmt.Sprintf("/users/%s/recordings?page_size=7&from=%s&to=%s", j, from.Format("2006-01-02"), to.Format("2006-01-02")), "meetings", "uuid")...)
	}
	trash := walk(t, srv, tok, "/users/"+j+"/recordings?trash=true&page_size=3", "meetings", "uuid")
	// Phone: six one-month windows.
	var calls, vms, precs []string
	for m := range 6 {
		to := day.AddDate(0, -m, 0)
		from := to.AddDate(0, -1, 0).AddDate(0, 0, 1)
		q := fmt.Sprintf("?page_size=300&from=%s&to=%s", from.Format("2006-01-02"), to.Format("2006-01-02"))
		calls = append(calls, walk(t, srv, tok, "/phone/users/"+j+"/call_history"+q, "call_logs", "id")...)
		vms = append(vms, walk(t, srv, tok, "/phone/users/"+j+"/voice_mails"+q, "voice_mails", "id")...)
		precs = append(precs, walk(t, srv, tok, "/phone/users/"+j+"/recordings"+q, "recordings", "id")...)
	}
	meetings := walk(t, srv, tok, "/users/"+j+"/meetings?type=previous_meetings&page_size=300", "meetings", "uuid")

	tests := []struct {
		name string
		got  []string
		want int
	}{
		{"cloud recordings", recs, 200},
		{"trash", trash, 8},
		{"past meetings", meetings, 1200},
		{"calls", calls, 3000},
		{"voicemails", vms, 100},
		{"phone recordings", precs, len(jane.Phone.Recordings)},
	}
	for _, tt := range tests {
		seen := map[string]bool{}
		for _, id := range tt.got {
			if seen[id] {
				t.Errorf("%s: %s served twice", tt.name, id)
			}
			seen[id] = true
		}
		if len(seen) != tt.want {
			t.Errorf("%s: %d records, want %d", tt.name, len(seen), tt.want)
		}
	}
	// The log proves no page was fetched twice.
	pages := map[string]bool{}
	for _, e := range srv.Log() {
		k := e.Path + "?" + e.Query
		if pages[k] {
			t.Errorf("page fetched twice: %s", k)
		}
		pages[k] = true
	}
}

func TestPageTokenErrors(t *testing.T) {
	const j = zoomtest.JaneEmail
	tests := []struct {
		name   string
		path   string // with a query
		code   int
		mutate func(srv *zoomtest.Server, path, tok string) string // returns the path of the second call
	}{
		{"expired", "/users/" + j + "/recordings?page_size=2&from=2026-02-01&to=2026-02-28", 300, func(srv *zoomtest.Server, path, tok string) string {
			srv.Clock().Advance(15 * time.Minute)
			return path + "&next_page_token=" + url.QueryEscape(tok)
		}},
		{"expired, phone", "/phone/users/" + j + "/call_history?page_size=2&from=2026-02-01&to=2026-02-28", 400, func(srv *zoomtest.Server, path, tok string) string {
			srv.Clock().Advance(15 * time.Minute)
			return path + "&next_page_token=" + url.QueryEscape(tok)
		}},
		{"forged", "/users/" + j + "/meetings?type=previous_meetings&page_size=2", 300, func(srv *zoomtest.Server, path, tok string) string {
			b := []byte(tok)
			b[3] ^= 1
			return path + "&next_page_token=" + url.QueryEscape(string(b))
		}},
		{"forged, phone", "/phone/users/" + j + "/voice_mails?page_size=1&from=2026-02-01&to=2026-02-28", 400, func(srv *zoomtest.Server, path, tok string) string {
			return path + "&next_page_token=garbage"
		}},
		{"other query", "/users/" + j + "/recordings?page_size=2&from=2026-02-01&to=2026-02-28", 300, func(srv *zoomtest.Server, path, tok string) string {
			return "/users/" + j + "/recordings?page_size=2&from=2026-01-01&to=2026-01-31&next_page_token=" + url.QueryEscape(tok)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := zoomtest.NewServer(t, zoomtest.WithDataset("reference"), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
			tok := token(t, srv, srv.Account())
			r := get(t, srv, tok, tt.path)
			next, _ := decode(t, r)["next_page_token"].(string)
			if r.status != 200 || next == "" {
				t.Fatalf("first page: %d, token %q", r.status, next)
			}
			srv.Clock().Advance(14*time.Minute + 59*time.Second) // still valid
			r = get(t, srv, tok, tt.path+"&next_page_token="+url.QueryEscape(next))
			if r.status != 200 {
				t.Fatalf("valid token after 14m59s: %d %s", r.status, r.body)
			}
			tok2 := token(t, srv, srv.Account()) // the first one may be near expiry
			r = get(t, srv, tok2, tt.mutate(srv, tt.path, next))
			code, msg := zoomErr(t, r)
			if r.status != 400 || code != tt.code || msg != "The next page token is invalid or expired." {
				t.Errorf("got %d %d %q, want 400 %d", r.status, code, msg, tt.code)
			}
		})
	}
}

func TestPageSize(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithDataset("reference"), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	for _, tt := range []struct {
		q    string
		want int
	}{{"", 30}, {"page_size=5", 5}, {"page_size=300", 300}, {"page_size=1000", 300}, {"page_size=x", 30}} {
		r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail+"/meetings?type=previous_meetings&"+tt.q)
		m := decode(t, r)
		if got := len(m["meetings"].([]any)); got != tt.want || m["page_size"] != float64(tt.want) || m["total_records"] != 1200.0 {
			t.Errorf("%q: %d records, page_size %v, total %v; want %d", tt.q, got, m["page_size"], m["total_records"], tt.want)
		}
	}
}

func TestVoicemailStatus(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithDataset("reference"), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	want := map[string]int{}
	for _, v := range srv.Dataset().User(zoomtest.JaneEmail).Phone.Voicemails {
		if v.DateTime.After(start.AddDate(0, 0, -30)) {
			want[v.Status]++
			want["all"]++
		}
	}
	for _, status := range []string{"all", "read", "unread"} {
		r := get(t, srv, tok, "/phone/users/"+zoomtest.JaneEmail+"/voice_mails?page_size=300&status="+status)
		if got := decode(t, r)["total_records"]; got != float64(want[status]) || want[status] == 0 {
			t.Errorf("status=%s: %v records, want %d", status, got, want[status])
		}
	}
}
