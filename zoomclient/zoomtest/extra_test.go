package zoomtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// walker fetches a user's issue-14 data the cheapest way Zoom allows and
// counts its calls by the keys of MinCalls.
type walker struct {
	t     *testing.T
	srv   *zoomtest.Server
	tok   string
	calls map[string]int
}

func (w *walker) get(key, path string) map[string]any {
	w.t.Helper()
	w.calls[key]++
	r := get(w.t, w.srv, w.tok, path)
	if r.status != 200 {
		w.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	return decode(w.t, r)
}

// list pages through path (which has a query) in each window, or once
// when windows is nil, and returns the items of field.
func (w *walker) list(key, path, field string, windows [][2]time.Time, format func(from, to time.Time) string) []map[string]any {
	w.t.Helper()
	if windows == nil {
		windows = [][2]time.Time{{}}
	}
	var out []map[string]any
	for _, win := range windows {
		q := ""
		if !win[0].IsZero() {
			q = "&" + format(win[0], win[1])
		}
		tok := ""
		for {
			p := path + q
			if tok != "" {
				p = path + "&next_page_token=" + url.QueryEscape(tok)
			}
			m := w.get(key, p)
			items, _ := m[field].([]any)
			for _, it := range items {
				out = append(out, it.(map[string]any))
			}
			tok, _ = m["next_page_token"].(string)
			if tok == "" {
				break
			}
		}
	}
	return out
}

func dates(from, to time.Time) string {
	return "from=" + from.Format("2006-01-02") + "&to=" + to.Format("2006-01-02")
}

func instants(from, to time.Time) string {
	return "from=" + from.Format(time.RFC3339) + "&to=" + to.Add(24*time.Hour-time.Second).Format(time.RFC3339)
}

// TestMinCallsWalk fetches jane's meetings attended, SMS, transcripts,
// summaries and groups at Zoom's largest page sizes, one call per window
// of MinWindows, and checks that the calls made are MinCalls' figures and
// that every record of the dataset arrived once.
func TestMinCallsWalk(t *testing.T) {
	for _, name := range []string{"tiny", "reference"} {
		t.Run(name, func(t *testing.T) {
			srv := zoomtest.NewServer(t, zoomtest.WithDataset(name), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(),
				zoomtest.WithLimits(zoomtest.Limits{Off: true}))
			w := &walker{t: t, srv: srv, tok: token(t, srv, srv.Account()), calls: map[string]int{}}
			jane := srv.Dataset().User(zoomtest.JaneEmail)
			const j = zoomtest.JaneEmail
			six := zoomtest.MinWindows(start, zoomtest.SixMonths)
			sixAgo := time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC)

			// meetings attended
			rows := w.list("GET /report/users/{userId}/meetings?type=pastJoined", "/report/users/"+j+"/meetings?type=pastJoined&page_size=300", "meetings", six, dates)
			hosts := map[string]int{}
			for _, r := range rows {
				hosts[fmt.Sprint(r["user_email"])]++
			}
			want := len(jane.Joined)
			for _, m := range jane.Meetings {
				if m.Past() && m.ParticipantsCount >= 2 && !m.StartTime.Before(sixAgo) {
					want++
				}
			}
			if len(rows) != want || unique(rows, "uuid") != want || hosts[j] == len(rows) {
				t.Errorf("attended: %d rows (%d unique, %d hosted by jane), want %d with others' meetings", len(rows), unique(rows, "uuid"), hosts[j], want)
			}

			// SMS: sessions, then each session's messages by the sync call
			sessions := w.list("GET /phone/users/{userId}/sms/sessions", "/phone/users/"+j+"/sms/sessions?page_size=100", "sms_sessions", six, dates)
			if len(sessions) != len(jane.SMS) || unique(sessions, "session_id") != len(jane.SMS) {
				t.Errorf("%d sessions, want %d", len(sessions), len(jane.SMS))
			}
			msgs, atts := 0, 0
			for _, s := range sessions {
				id := fmt.Sprint(s["session_id"])
				for tok, typ := "", "FSync"; ; typ = "BSync" {
					m := w.get("GET /phone/sms/sessions/{sessionId}/sync", "/phone/sms/sessions/"+id+"/sync?count=250&sync_type="+typ+"&sync_token="+url.QueryEscape(tok))
					h, _ := m["sms_histories"].([]any)
					msgs += len(h)
					for _, x := range h {
						a, _ := x.(map[string]any)["attachments"].([]any)
						atts += len(a)
					}
					if tok, _ = m["sync_token"].(string); tok == "" {
						break
					}
				}
			}
			wantMsgs, wantAtts := 0, 0
			for _, s := range jane.SMS {
				wantMsgs += len(s.Messages)
				for _, m := range s.Messages {
					wantAtts += len(m.Attachments)
				}
			}
			if msgs != wantMsgs || atts != wantAtts || atts == 0 {
				t.Errorf("%d messages with %d attachments, want %d with %d", msgs, atts, wantMsgs, wantAtts)
			}

			// voicemail transcriptions, by the detail of each voicemail
			vms := w.list("GET /phone/users/{userId}/voice_mails", "/phone/users/"+j+"/voice_mails?page_size=300", "voice_mails", six, dates)
			transcribed := 0
			for _, v := range vms {
				d := w.get("GET /phone/voice_mails/{voicemailId}", "/phone/voice_mails/"+fmt.Sprint(v["id"]))
				w.calls["GET /phone/voice_mails/download/{fileId}"]++ // the client downloads each; not fetched here
				if tr, _ := d["transcription"].(map[string]any); tr["status"] == 2.0 && tr["content"] != "" {
					transcribed++
				}
			}
			wantTr := 0
			for _, v := range jane.Phone.Voicemails {
				if v.Transcript != "" {
					wantTr++
				}
			}
			if transcribed != wantTr || transcribed == 0 || transcribed == len(vms) {
				t.Errorf("%d of %d voicemails transcribed, want %d and some not", transcribed, len(vms), wantTr)
			}

			// call recording transcripts, where the list gives a URL
			precs := w.list("GET /phone/users/{userId}/recordings", "/phone/users/"+j+"/recordings?page_size=300", "recordings", six, dates)
			got := 0
			for _, r := range precs {
				w.calls["GET /phone/recording/download/{fileId}"]++
				u, ok := r["transcript_download_url"].(string)
				if !ok {
					continue
				}
				path := strings.TrimPrefix(u, srv.APIURL)
				w.calls["GET /phone/recording_transcript/download/{recordingId}"]++
				resp := get(t, srv, w.tok, path) // follows the 302 to the file host
				if resp.status != 200 || len(resp.body) == 0 || resp.header.Get("Content-Type") != "application/json" {
					t.Fatalf("transcript %s: %d %q, %d bytes", path, resp.status, resp.header.Get("Content-Type"), len(resp.body))
				}
				got++
			}
			if got == 0 || got == len(precs) {
				t.Errorf("%d of %d call recordings have a transcript, want some", got, len(precs))
			}

			// AI Companion summaries: the account's list, then jane's
			sums := w.list("GET /meetings/meeting_summaries", "/meetings/meeting_summaries?page_size=300", "summaries", six, instants)
			mine := 0
			for _, s := range sums {
				if s["meeting_host_email"] != j {
					continue
				}
				d := w.get("GET /meetings/{meetingId}/meeting_summary", "/meetings/"+url.PathEscape(url.PathEscape(fmt.Sprint(s["meeting_uuid"])))+"/meeting_summary")
				if d["summary_overview"] == "" || d["meeting_uuid"] != s["meeting_uuid"] {
					t.Errorf("summary %v", d)
				}
				mine++
			}
			if mine != len(jane.Summaries) || len(sums) <= mine {
				t.Errorf("%d summaries, %d of them jane's; want %d of hers among others'", len(sums), mine, len(jane.Summaries))
			}

			// groups: the profile's ids resolve through /groups and /im/groups
			profile := w.get("GET /users/{userId}", "/users/"+j)
			groups := w.list("GET /groups", "/groups?page_size=300", "groups", nil, nil)
			im := w.get("GET /im/groups", "/im/groups")["groups"].([]any)
			for field, list := range map[string][]any{"group_ids": toAny(groups), "im_group_ids": im} {
				ids, _ := profile[field].([]any)
				names := map[string]string{}
				for _, g := range list {
					names[fmt.Sprint(g.(map[string]any)["id"])] = fmt.Sprint(g.(map[string]any)["name"])
				}
				for _, id := range ids {
					if names[fmt.Sprint(id)] == "" {
						t.Errorf("%s: %v not listed", field, id)
					}
				}
				if len(ids) < 2 {
					t.Errorf("%s: %v, want several", field, ids)
				}
			}

			min := srv.MinCalls(j)
			for key, n := range w.calls {
				if key == "GET /users/{userId}" {
					continue // the walk does not fetch the whole profile section
				}
				if min[key] != n {
					t.Errorf("%s: %d calls, MinCalls says %d", key, n, min[key])
				}
			}
		})
	}
}

func toAny(m []map[string]any) []any {
	out := make([]any, len(m))
	for i := range m {
		out[i] = m[i]
	}
	return out
}

func unique(items []map[string]any, key string) int {
	seen := map[string]bool{}
	for _, it := range items {
		seen[fmt.Sprint(it[key])] = true
	}
	return len(seen)
}

// TestParticipantAudio checks that the one-meeting recordings answer lists
// participant_audio_files, the user's list does not, and the files
// download.
func TestParticipantAudio(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	jane := srv.Dataset().User(zoomtest.JaneEmail)
	var rec zoomtest.Recording
	for _, r := range jane.Recordings {
		if len(r.ParticipantAudio) > 0 && !r.Trashed() {
			rec = r
		}
	}
	if rec.UUID == "" {
		t.Fatal("no recording with participant audio in tiny")
	}
	m := decode(t, get(t, srv, tok, fmt.Sprintf("/meetings/%d/recordings", rec.MeetingID)))
	files, _ := m["participant_audio_files"].([]any)
	if len(files) != len(rec.ParticipantAudio) {
		t.Fatalf("participant_audio_files %v, want %d", files, len(rec.ParticipantAudio))
	}
	u := files[0].(map[string]any)["download_url"].(string)
	resp, body := download(t, u, tok, "")
	if resp.StatusCode != 200 || int64(len(body)) != rec.ParticipantAudio[0].FileSize {
		t.Errorf("download: %d, %d bytes, want %d", resp.StatusCode, len(body), rec.ParticipantAudio[0].FileSize)
	}
	from := rec.StartTime.Format("2006-01-02")
	list := get(t, srv, tok, "/users/"+zoomtest.JaneEmail+"/recordings?from="+from+"&to="+from)
	if bytes.Contains(list.body, []byte("participant_audio_files")) {
		t.Error("the user's recordings list carries participant_audio_files")
	}
	var transcripts int
	for _, r := range jane.Recordings {
		for _, f := range r.Files {
			if f.FileType == "TRANSCRIPT" {
				transcripts++
			}
		}
	}
	if transcripts == 0 {
		t.Error("no cloud recording transcript in tiny")
	}
}

// TestExtraPagination checks the SMS page limit of 100, the sync call's
// count limit and its token.
func TestExtraPagination(t *testing.T) {
	// tiny, with 120 more sessions in the last month
	d, err := zoomtest.Generate("tiny", zoomtest.GenerateOptions{Seed: 1, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	jane := d.User(zoomtest.JaneEmail)
	for i := range 120 {
		at := start.Add(-time.Duration(i+1) * time.Hour)
		jane.SMS = append(jane.SMS, zoomtest.SMSSession{ID: fmt.Sprintf("extra%03d", i), PeerNumber: "12125550000",
			Messages: []zoomtest.SMSMessage{{ID: fmt.Sprintf("m%03d", i), DateTime: at, Direction: "In", Text: "hi", Status: "received"}}})
	}
	file := filepath.Join(t.TempDir(), "d.json")
	if err := d.WriteJSON(file); err != nil {
		t.Fatal(err)
	}
	srv := zoomtest.NewServer(t, zoomtest.WithDatasetFile(file), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	m := decode(t, get(t, srv, tok, "/phone/users/"+zoomtest.JaneEmail+"/sms/sessions?page_size=300&from=2026-02-15&to=2026-03-15"))
	if s, _ := m["sms_sessions"].([]any); len(s) > 100 || m["page_size"] != 100.0 || m["next_page_token"] == "" {
		t.Errorf("page of %d sessions, page_size %v, next %q; want at most 100 and more to come", len(s), m["page_size"], m["next_page_token"])
	}
	id := jane.SMS[0].ID
	tests := []struct {
		query  string
		status int
		code   int
	}{
		{"count=0", 400, 300},
		{"count=251", 400, 300},
		{"count=10&sync_type=BSync&sync_token=forged", 400, 300},
		{"count=10&sync_type=Sideways", 400, 300},
		{"count=250&sync_type=FSync", 200, 0},
	}
	for _, tt := range tests {
		r := get(t, srv, tok, "/phone/sms/sessions/"+id+"/sync?"+tt.query)
		if r.status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.query, r.status, r.body, tt.status)
			continue
		}
		if tt.code != 0 {
			if code, _ := zoomErr(t, r); code != tt.code {
				t.Errorf("%s: code %d, want %d", tt.query, code, tt.code)
			}
		}
	}
}

// TestNotApplicable checks that MinCalls leaves out what a free plan or an
// account without Phone cannot have, and that the user without a Phone
// licence has no Phone calls to make.
func TestNotApplicable(t *testing.T) {
	tests := []struct {
		name   string
		opts   []zoomtest.Option
		user   string
		absent []string
	}{
		{"free plan", []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}, zoomtest.JaneEmail,
			[]string{"GET /report/users/{userId}/meetings?type=pastJoined", "GET /meetings/meeting_summaries", "GET /im/groups", "GET /phone/users/{userId}/sms/sessions"}},
		{"phone off", []zoomtest.Option{zoomtest.WithPhoneEnabled(false)}, zoomtest.JaneEmail,
			[]string{"GET /phone/users/{userId}/sms/sessions", "GET /phone/voice_mails/{voicemailId}"}},
		{"no phone licence", nil, "John.Smith@Example.COM",
			[]string{"GET /phone/users/{userId}/sms/sessions", "GET /phone/sms/sessions/{sessionId}/sync"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := zoomtest.NewServer(t, append([]zoomtest.Option{zoomtest.WithStartTime(start), zoomtest.WithFrozenClock()}, tt.opts...)...)
			min := srv.MinCalls(tt.user)
			if min["GET /users/{userId}"] != 1 {
				t.Fatalf("MinCalls(%s) = %v", tt.user, min)
			}
			for _, k := range tt.absent {
				if _, ok := min[k]; ok {
					t.Errorf("%s: %d calls, want none", k, min[k])
				}
			}
		})
	}
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start))
	if srv.MinCalls("nobody@example.com") != nil {
		t.Error("MinCalls of an unknown user is not nil")
	}
}

// TestExtraFigures pins the sizes issue 14 asks of the datasets and their
// determinism.
func TestExtraFigures(t *testing.T) {
	tests := []struct {
		name                        string
		attendedLo, attendedHi      int
		sms, summaries, groupsLeast int
	}{
		{"tiny", 5, 30, 4, 3, 3},
		{"reference", 550, 650, 150, 100, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := zoomtest.Generate(tt.name, zoomtest.GenerateOptions{Seed: 1, Start: start})
			if err != nil {
				t.Fatal(err)
			}
			jane := d.User(zoomtest.JaneEmail)
			min := d.MinCalls(zoomtest.JaneEmail, start)
			attended := len(jane.Joined)
			for _, m := range jane.Meetings {
				if m.Past() && m.ParticipantsCount >= 2 && !m.StartTime.Before(start.AddDate(0, -6, 0)) {
					attended++
				}
			}
			if attended < tt.attendedLo || attended > tt.attendedHi || len(jane.SMS) != tt.sms || len(jane.Summaries) != tt.summaries || len(jane.GroupIDs) < tt.groupsLeast {
				t.Errorf("attended %d, sms %d, summaries %d, groups %d", attended, len(jane.SMS), len(jane.Summaries), len(jane.GroupIDs))
			}
			if min["GET /report/users/{userId}/meetings?type=pastJoined"] < len(zoomtest.MinWindows(start, 6)) {
				t.Errorf("MinCalls %v", min)
			}
			again, _ := zoomtest.Generate(tt.name, zoomtest.GenerateOptions{Seed: 1, Start: start})
			a, _ := json.Marshal(d)
			b, _ := json.Marshal(again)
			if !bytes.Equal(a, b) {
				t.Error("the same seed gave different data")
			}
		})
	}
}

// TestMinWindows checks that the windows cover six months, each one
// Zoom accepts.
func TestMinWindows(t *testing.T) {
	ws := zoomtest.MinWindows(start, 6)
	if len(ws) != 6 {
		t.Errorf("%d windows, want 6: %v", len(ws), ws)
	}
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	for i, w := range ws {
		if i > 0 && !w[1].Add(24*time.Hour).Equal(ws[i-1][0]) {
			t.Errorf("gap before %v", w)
		}
		r := get(t, srv, tok, "/report/users/"+zoomtest.JaneEmail+"/meetings?type=pastJoined&"+dates(w[0], w[1]))
		if r.status != 200 {
			t.Errorf("%v: %d %s", w, r.status, r.body)
		}
	}
	if last := ws[len(ws)-1][0]; !last.Equal(time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("oldest window starts %v", last)
	}
}

// TestSMSWithoutPhone: a dataset written by hand with SMS threads for a
// user without a Phone number loads; nothing panics.
func TestSMSWithoutPhone(t *testing.T) {
	d, err := zoomtest.Generate("tiny", zoomtest.GenerateOptions{Seed: 1, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	var withSMS *zoomtest.User
	for _, a := range d.Accounts {
		for _, u := range a.Users {
			if len(u.SMS) > 0 {
				withSMS = u
			}
		}
	}
	if withSMS == nil {
		t.Fatal("tiny has no user with SMS")
	}
	withSMS.Phone = nil
	path := filepath.Join(t.TempDir(), "d.json")
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := zoomtest.New(zoomtest.WithDatasetFile(path), zoomtest.WithStartTime(start))
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
}
