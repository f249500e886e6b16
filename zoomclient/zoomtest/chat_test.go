package zoomtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// sixMonths is the from of a chat query covering the six months before
// start, the earliest Zoom accepts.
var sixMonths = "from=2025-09-15T00:00:00Z&to=2026-03-15T12:00:00Z"

// chatThread finds a main message with replies in jane's channels.
func chatThread(jane *zoomtest.User) (channel, main string, at time.Time) {
	for _, ch := range jane.Chat.Channels {
		for _, m := range ch.Messages {
			if m.ReplyTo != "" {
				for _, p := range ch.Messages {
					if p.ID == m.ReplyTo {
						return ch.ID, p.ID, p.Time
					}
				}
			}
		}
	}
	return "", "", time.Time{}
}

// chatConformance is TestConformance's calls of the Team Chat operations.
func chatConformance(jane *zoomtest.User) []struct{ op, path string } {
	const j = "/chat/users/" + zoomtest.JaneEmail
	peer := jane.Chat.Conversations[0].PeerEmail
	ch, main, at := chatThread(jane)
	return []struct{ op, path string }{
		{"GET /chat/users/{userId}/sessions", j + "/sessions?page_size=50&" + sixMonths},
		{"GET /chat/users/{userId}/sessions", j + "/sessions?type=groupchat&page_size=2&" + sixMonths},
		{"GET /chat/users/{userId}/channels", j + "/channels?page_size=50"},
		{"GET /chat/users/{userId}/messages", j + "/messages?to_contact=" + url.QueryEscape(peer) + "&page_size=50&include_deleted_and_edited_message=true&" + sixMonths},
		{"GET /chat/users/{userId}/messages", j + "/messages?to_channel=" + ch + "&page_size=50&exclude_child_message=true&" + sixMonths},
		{"GET /chat/users/{userId}/messages", j + "/messages?to_channel=" + ch + "&date=" + at.Format("2006-01-02")},
		{"GET /chat/users/{userId}/messages/{messageId}/thread", j + "/messages/" + main + "/thread?to_channel=" + ch + "&from=2025-09-15T00:00:00Z&need_emoji=true&need_attachment=true&sort=asc&limit=100"},
	}
}

// chatDocumentedErrors is TestDocumentedErrorsInSpec's Team Chat rows.
var chatDocumentedErrors = []struct {
	op     string
	status int
	code   int
}{
	{"GET /chat/users/{userId}/sessions", 400, 300},
	{"GET /chat/users/{userId}/sessions", 403, 200},
	{"GET /chat/users/{userId}/sessions", 404, 1001},
	{"GET /chat/users/{userId}/channels", 400, 300},
	{"GET /chat/users/{userId}/messages", 400, 200},
	{"GET /chat/users/{userId}/messages", 400, 300},
	{"GET /chat/users/{userId}/messages", 404, 1001},
	{"GET /chat/users/{userId}/messages", 404, 4130},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 400, 4231},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 400, 4232},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 400, 4233},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 400, 4234},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 403, 403},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 404, 1001},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 404, 4130},
	{"GET /chat/users/{userId}/messages/{messageId}/thread", 404, 4131},
}

// chatGet calls path under /v2 and decodes the answer into out when it is
// 200; it returns the status and Zoom's error code.
func chatGet(t *testing.T, srv *zoomtest.Server, tok, path string, out any) (int, int) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.APIURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Code int }
		_ = json.Unmarshal(body, &e)
		return resp.StatusCode, e.Code
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return resp.StatusCode, 0
}

type chatMessages struct {
	PageSize      int    `json:"page_size"`
	NextPageToken string `json:"next_page_token"`
	Messages      []struct {
		ID          string `json:"id"`
		Timestamp   int64  `json:"timestamp"`
		Status      string `json:"status"`
		ReplyTo     string `json:"reply_main_message_id"`
		DownloadURL string `json:"download_url"`
		FileID      string `json:"file_id"`
		FileSize    int64  `json:"file_size"`
	} `json:"messages"`
}

type chatSessions struct {
	NextPageToken string `json:"next_page_token"`
	Sessions      []struct {
		Type      string `json:"type"`
		ChannelID string `json:"channel_id"`
		PeerEmail string `json:"peer_contact_email"`
	} `json:"sessions"`
}

type chatChannels struct {
	NextPageToken string `json:"next_page_token"`
	TotalRecords  int    `json:"total_records"`
	Channels      []struct {
		ID string `json:"id"`
	} `json:"channels"`
}

func newChatServer(t *testing.T, opts ...zoomtest.Option) (*zoomtest.Server, string, *zoomtest.User) {
	t.Helper()
	opts = append([]zoomtest.Option{zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(), zoomtest.WithLimits(zoomtest.Limits{Off: true})}, opts...)
	srv := zoomtest.NewServer(t, opts...)
	return srv, token(t, srv, srv.Account()), srv.Dataset().User(zoomtest.JaneEmail)
}

// TestChatErrors checks each documented error of the Team Chat
// operations.
func TestChatErrors(t *testing.T) {
	srv, tok, jane := newChatServer(t)
	const j = "/chat/users/" + zoomtest.JaneEmail
	ch, main, _ := chatThread(jane)
	var first chatMessages
	chatGet(t, srv, tok, j+"/messages?to_channel="+ch+"&page_size=1&"+sixMonths, &first)
	if first.NextPageToken == "" {
		t.Fatal("no next_page_token")
	}
	srv.Clock().Advance(15 * time.Minute)
	tests := []struct {
		name         string
		path         string
		status, code int
	}{
		{"messages without contact or channel", j + "/messages?" + sixMonths, 400, 300},
		{"messages beyond six months", j + "/messages?to_channel=" + ch + "&from=2025-09-14T23:59:59Z", 400, 300},
		{"messages on a date beyond six months", j + "/messages?to_channel=" + ch + "&date=2025-09-01", 400, 300},
		{"messages bad from", j + "/messages?to_channel=" + ch + "&from=yesterday", 400, 300},
		{"messages unknown channel", j + "/messages?to_channel=nochannel", 404, 4130},
		{"messages unknown contact", j + "/messages?to_contact=nobody@example.net", 404, 1001},
		{"messages expired token", j + "/messages?to_channel=" + ch + "&page_size=1&" + sixMonths + "&next_page_token=" + first.NextPageToken, 400, 300},
		{"messages unknown user", "/chat/users/nobody@example.com/messages?to_channel=" + ch, 404, 1001},
		{"sessions unknown type", j + "/sessions?type=channel", 404, 1001},
		{"sessions bad token", j + "/sessions?next_page_token=x", 400, 300},
		{"channels bad token", j + "/channels?next_page_token=x", 400, 300},
		{"thread limit", j + "/messages/" + main + "/thread?to_channel=" + ch + "&from=2025-10-01T00:00:00Z&limit=101", 400, 4231},
		{"thread sort", j + "/messages/" + main + "/thread?to_channel=" + ch + "&from=2025-10-01T00:00:00Z&sort=up", 400, 4232},
		{"thread no from", j + "/messages/" + main + "/thread?to_channel=" + ch, 400, 4233},
		{"thread no channel", j + "/messages/" + main + "/thread?from=2025-10-01T00:00:00Z", 400, 4234},
		{"thread unknown channel", j + "/messages/" + main + "/thread?to_channel=x&from=2025-10-01T00:00:00Z", 404, 4130},
		{"thread unknown message", j + "/messages/nomessage/thread?to_channel=" + ch + "&from=2025-10-01T00:00:00Z", 404, 4131},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := chatGet(t, srv, tok, tt.path, nil)
			if status != tt.status || code != tt.code {
				t.Errorf("got %d/%d, want %d/%d", status, code, tt.status, tt.code)
			}
		})
	}
}

// TestChatNotApplicable checks the answers where Team Chat, or its cloud
// storage, is off, and on a plan without the Chat API.
func TestChatNotApplicable(t *testing.T) {
	const j = "/chat/users/" + zoomtest.JaneEmail
	tests := []struct {
		name     string
		opt      zoomtest.Option
		sessions [2]int // status, code
		messages [2]int
		channels int // channels listed; -1: refused
	}{
		{"chat off", zoomtest.WithTeamChat(false), [2]int{403, 200}, [2]int{400, 200}, -1},
		{"free plan", zoomtest.WithPlan(zoomtest.Free), [2]int{403, 200}, [2]int{400, 200}, -1},
		{"cloud storage off", zoomtest.WithChatCloudStorage(false), [2]int{200, 0}, [2]int{200, 0}, 3},
		{"on", zoomtest.WithTeamChat(true), [2]int{200, 0}, [2]int{200, 0}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, tok, jane := newChatServer(t, tt.opt)
			ch := jane.Chat.Channels[0].ID
			var s chatSessions
			if st, code := chatGet(t, srv, tok, j+"/sessions?page_size=50&"+sixMonths, &s); [2]int{st, code} != tt.sessions {
				t.Errorf("sessions: %d/%d, want %v", st, code, tt.sessions)
			}
			var m chatMessages
			if st, code := chatGet(t, srv, tok, j+"/messages?page_size=50&to_channel="+ch+"&"+sixMonths, &m); [2]int{st, code} != tt.messages {
				t.Errorf("messages: %d/%d, want %v", st, code, tt.messages)
			}
			var c chatChannels
			st, _ := chatGet(t, srv, tok, j+"/channels", &c)
			if got := len(c.Channels); (tt.channels < 0 && st == 200) || (tt.channels >= 0 && got != tt.channels) {
				t.Errorf("channels: %d, %d listed, want %d", st, got, tt.channels)
			}
			storage := tt.name != "cloud storage off"
			if tt.sessions[0] == 200 && (len(s.Sessions) > 0) != storage {
				t.Errorf("%d sessions with cloud storage %v", len(s.Sessions), storage)
			}
			if tt.messages[0] == 200 && (len(m.Messages) > 0) != storage {
				t.Errorf("%d messages with cloud storage %v", len(m.Messages), storage)
			}
		})
	}
}

// walkMessages pages through one of user's conversations at page_size 50
// and returns the messages and the number of calls.
func walkMessages(t *testing.T, srv *zoomtest.Server, tok, user, query string) (out chatMessages, calls int) {
	t.Helper()
	next := ""
	for {
		var p chatMessages
		path := "/chat/users/" + user + "/messages?page_size=50&" + query
		if next != "" {
			path += "&next_page_token=" + url.QueryEscape(next)
		}
		if st, code := chatGet(t, srv, tok, path, &p); st != 200 {
			t.Fatalf("%s: %d/%d", path, st, code)
		}
		calls++
		out.Messages = append(out.Messages, p.Messages...)
		if next = p.NextPageToken; next == "" {
			return out, calls
		}
	}
}

// TestChatMessages checks paging, order, the deleted/edited flag, replies
// and exclude_child_message against the dataset.
func TestChatMessages(t *testing.T) {
	srv, tok, jane := newChatServer(t)
	checkChatMessages(t, srv, tok, jane)
	// page_size is capped at 50.
	var p chatMessages
	chatGet(t, srv, tok, "/chat/users/"+zoomtest.JaneEmail+"/messages?page_size=80&to_channel="+jane.Chat.Channels[0].ID+"&"+sixMonths, &p)
	if p.PageSize != 50 {
		t.Errorf("page_size %d, want 50", p.PageSize)
	}
}

// checkChatMessages checks the messages of two of u's channels, walked
// with and without include_deleted_and_edited_message and
// exclude_child_message over the six months, against the dataset.
func checkChatMessages(t *testing.T, srv *zoomtest.Server, tok string, u *zoomtest.User) {
	t.Helper()
	for _, ch := range u.Chat.Channels[:2] {
		var normal, replies int
		for _, m := range ch.Messages {
			if m.Status == "Normal" {
				normal++
			}
			if m.ReplyTo != "" && m.Status == "Normal" {
				replies++
			}
		}
		all, _ := walkMessages(t, srv, tok, u.Email, "to_channel="+ch.ID+"&include_deleted_and_edited_message=true&"+sixMonths)
		if len(all.Messages) != len(ch.Messages) {
			t.Errorf("%s: %d messages with the flag, want %d", ch.Name, len(all.Messages), len(ch.Messages))
		}
		statuses := map[string]int{}
		for i, m := range all.Messages {
			statuses[m.Status]++
			if i > 0 && m.Timestamp > all.Messages[i-1].Timestamp {
				t.Fatalf("%s: not newest first at %d", ch.Name, i)
			}
		}
		if statuses["Normal"] != normal || statuses[""] != 0 {
			t.Errorf("%s: statuses %v, want %d Normal", ch.Name, statuses, normal)
		}
		plain, _ := walkMessages(t, srv, tok, u.Email, "to_channel="+ch.ID+"&"+sixMonths)
		if len(plain.Messages) != normal {
			t.Errorf("%s: %d messages without the flag, want %d", ch.Name, len(plain.Messages), normal)
		}
		parents, _ := walkMessages(t, srv, tok, u.Email, "to_channel="+ch.ID+"&exclude_child_message=true&"+sixMonths)
		if len(parents.Messages) != normal-replies {
			t.Errorf("%s: %d main messages, want %d", ch.Name, len(parents.Messages), normal-replies)
		}
	}
}

// TestChatFileDownload fetches a chat file through its download_url.
func TestChatFileDownload(t *testing.T) {
	srv, tok, jane := newChatServer(t, zoomtest.WithDataset("reference"))
	var file zoomtest.ChatFile
	var ch string
	for _, c := range jane.Chat.Channels {
		for _, m := range c.Messages {
			if len(m.Files) > 0 && file.ID == "" {
				file, ch = m.Files[0], c.ID
			}
		}
	}
	all, _ := walkMessages(t, srv, tok, zoomtest.JaneEmail, "to_channel="+ch+"&include_deleted_and_edited_message=true&"+sixMonths)
	var link string
	for _, m := range all.Messages {
		if m.FileID == file.ID {
			link = m.DownloadURL
		}
	}
	if !strings.HasPrefix(link, srv.URL+"/") {
		t.Fatalf("download_url %q", link)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(b, zoomtest.FileBytes(file.ID, file.Size)) {
		t.Errorf("download: %d, %d bytes, want %d", resp.StatusCode, len(b), file.Size)
	}
}

// TestChatMinCalls collects tiny's chat in the fewest calls and checks the
// count against MinCalls' chat keys.
func TestChatMinCalls(t *testing.T) {
	srv, tok, jane := newChatServer(t)
	checkChatMinCalls(t, srv, tok, jane)
}

// checkChatMinCalls collects u's Team Chat as a client would, sessions
// and channels (one page each) then every conversation's messages with
// include_deleted_and_edited_message over the six months, and compares
// the calls with MinCalls.
func checkChatMinCalls(t *testing.T, srv *zoomtest.Server, tok string, u *zoomtest.User) {
	t.Helper()
	base := "/chat/users/" + u.Email
	var got struct{ Sessions, Channels, Messages, Files int }
	var s chatSessions
	chatGet(t, srv, tok, base+"/sessions?page_size=50&"+sixMonths, &s)
	got.Sessions++
	var c chatChannels
	chatGet(t, srv, tok, base+"/channels?page_size=50", &c)
	got.Channels++
	if s.NextPageToken != "" || c.NextPageToken != "" {
		t.Fatal("more than one page of sessions or channels")
	}
	seen := map[string]bool{}
	for _, x := range s.Sessions {
		q := "to_channel=" + x.ChannelID
		if x.Type == "1:1" {
			q = "to_contact=" + url.QueryEscape(x.PeerEmail)
		}
		seen[x.ChannelID] = true
		m, n := walkMessages(t, srv, tok, u.Email, q+"&include_deleted_and_edited_message=true&"+sixMonths)
		got.Messages += n
		for _, msg := range m.Messages {
			if msg.FileID != "" {
				got.Files++
			}
		}
	}
	for _, x := range c.Channels {
		if !seen[x.ID] {
			_, n := walkMessages(t, srv, tok, u.Email, "to_channel="+x.ID+"&include_deleted_and_edited_message=true&"+sixMonths)
			got.Messages += n
		}
	}
	min := srv.Dataset().MinCalls(u.Email, start)
	want := got
	want.Sessions, want.Channels = min["GET /chat/users/{userId}/sessions"], min["GET /chat/users/{userId}/channels"]
	want.Messages, want.Files = min["GET /chat/users/{userId}/messages"], min["GET /file/chat/{fileId}"]
	if got != want {
		t.Errorf("calls %+v, MinCalls %+v", got, want)
	}
	if len(c.Channels) == len(s.Sessions)-len(u.Chat.Conversations) {
		t.Error("no channel without recent activity")
	}
}

// TestChatReferenceData checks the shape of the reference user's chat.
func TestChatReferenceData(t *testing.T) {
	d, err := zoomtest.Generate("reference", zoomtest.GenerateOptions{Seed: 1, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	jane := d.User(zoomtest.JaneEmail)
	var direct, channel, own, ownReplies, edited, deleted, files, inactive int
	for _, c := range jane.Chat.Conversations {
		direct += len(c.Messages)
	}
	byID := map[string]zoomtest.ChatMessage{}
	for _, ch := range jane.Chat.Channels {
		channel += len(ch.Messages)
		if n := len(ch.Messages); n == 0 || start.Sub(ch.Messages[n-1].Time) > 183*24*time.Hour {
			inactive++
		}
		for _, m := range ch.Messages {
			byID[m.ID] = m
			if m.SenderEmail == zoomtest.JaneEmail {
				own++
				if m.ReplyTo != "" && byID[m.ReplyTo].SenderEmail != zoomtest.JaneEmail {
					ownReplies++
				}
			}
			switch m.Status {
			case "Edited":
				edited++
			case "Deleted":
				deleted++
			}
			files += len(m.Files)
		}
	}
	messageCalls := d.MinCalls(zoomtest.JaneEmail, start)["GET /chat/users/{userId}/messages"]
	t.Logf("1:1 %d, channel %d, own %d (%d replies to others), edited %d, deleted %d, files %d, inactive %d; message calls %d",
		direct, channel, own, ownReplies, edited, deleted, files, inactive, messageCalls)
	checks := []struct {
		name string
		ok   bool
	}{
		{"110 conversations", len(jane.Chat.Conversations) == 110},
		{"40 channels", len(jane.Chat.Channels) == 40},
		{"8,000 1:1 messages", direct == 8000},
		{"about 40,000 channel messages", channel >= 40000 && channel < 40100},
		{"most channel messages from others", own > 0 && own < channel/4},
		{"some of jane's are replies to others", ownReplies > 100},
		{"edited and deleted", edited > 100 && deleted > 50},
		{"files", files > 100},
		{"a few inactive channels", inactive >= 3},
		{"about 1,000 message calls, 850 of them in channels", messageCalls > 900 && messageCalls < 1100},
	}
	for _, ck := range checks {
		if !ck.ok {
			t.Error(ck.name)
		}
	}
}

// TestChatScopes checks that each Team Chat operation needs its granular
// scope or one of the classic scopes the spec names.
func TestChatScopes(t *testing.T) {
	const j = "/chat/users/" + zoomtest.JaneEmail
	paths := map[string]string{
		"sessions": j + "/sessions?" + sixMonths,
		"channels": j + "/channels",
		"messages": j + "/messages?to_channel=%s&" + sixMonths,
	}
	tests := []struct {
		scopes []string
		ok     map[string]bool
	}{
		{[]string{"team_chat:read:list_user_sessions:admin"}, map[string]bool{"sessions": true}},
		{[]string{"team_chat:read:list_user_channels:admin", "team_chat:read:list_user_messages:admin"}, map[string]bool{"channels": true, "messages": true}},
		{[]string{"chat_message:read:admin"}, map[string]bool{"sessions": true, "messages": true}},
		{[]string{"chat_channel:read:admin"}, map[string]bool{"channels": true}},
		{[]string{"user:read:admin"}, map[string]bool{}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.scopes, ","), func(t *testing.T) {
			srv, tok, jane := newChatServer(t, zoomtest.WithScopes(tt.scopes...))
			for name, p := range paths {
				p = strings.Replace(p, "%s", jane.Chat.Channels[0].ID, 1)
				status, code := chatGet(t, srv, tok, p, nil)
				if ok := status == 200; ok != tt.ok[name] || (!ok && code != 4711) {
					t.Errorf("%s: %d/%d", name, status, code)
				}
			}
		})
	}
}

// TestChatSessions checks the conversations listed by window and type.
func TestChatSessions(t *testing.T) {
	srv, tok, jane := newChatServer(t)
	const j = "/chat/users/" + zoomtest.JaneEmail
	direct, channels := len(jane.Chat.Conversations), len(jane.Chat.Channels)
	tests := []struct {
		query string
		want  int
	}{
		{sixMonths, direct + channels - 1}, // one channel has no recent activity
		{"type=1:1&" + sixMonths, direct},
		{"type=groupchat&" + sixMonths, channels - 1},
		{"from=2025-03-01T00:00:00Z&to=2026-03-15T12:00:00Z", direct + channels},
		{"", 0}, // today: nothing yet
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var s chatSessions
			if st, code := chatGet(t, srv, tok, j+"/sessions?page_size=50&"+tt.query, &s); st != 200 {
				t.Fatalf("%d/%d", st, code)
			}
			if len(s.Sessions) != tt.want {
				t.Errorf("%d sessions, want %d", len(s.Sessions), tt.want)
			}
			for _, x := range s.Sessions {
				if (x.Type == "1:1") != (x.PeerEmail != "") || (x.Type == "groupchat") != (x.ChannelID != "") {
					t.Errorf("session %+v", x)
				}
			}
		})
	}
}

// BenchmarkChatMessagesPage serves 50 messages of the reference user's
// busiest channel, with the deleted and edited ones, through ServeHTTP.
func BenchmarkChatMessagesPage(b *testing.B) {
	srv := zoomtest.NewServer(b, zoomtest.WithDataset("reference"), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(),
		zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	tok := token(b, srv, srv.Account())
	jane := srv.Dataset().User(zoomtest.JaneEmail)
	busiest := jane.Chat.Channels[0]
	for _, ch := range jane.Chat.Channels {
		if len(ch.Messages) > len(busiest.Messages) {
			busiest = ch
		}
	}
	path := "/v2/chat/users/" + zoomtest.JaneEmail + "/messages?page_size=50&include_deleted_and_edited_message=true&to_channel=" + busiest.ID + "&" + sixMonths
	cpu0 := cpuTime()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	reportCPU(b, cpuTime()-cpu0)
	b.ReportMetric(float64(len(busiest.Messages)), "channel-msgs")
}

// TestChatThread checks a thread's replies against the dataset.
func TestChatThread(t *testing.T) {
	srv, tok, jane := newChatServer(t, zoomtest.WithDataset("reference"))
	// The main message with the most replies.
	var ch, main string
	most := 0
	for _, c := range jane.Chat.Channels {
		n := map[string]int{}
		for _, m := range c.Messages {
			if m.ReplyTo != "" {
				if n[m.ReplyTo]++; n[m.ReplyTo] > most {
					most, ch, main = n[m.ReplyTo], c.ID, m.ReplyTo
				}
			}
		}
	}
	if most < 2 {
		t.Fatal("no thread with two replies")
	}
	type thread struct {
		Total    int `json:"total"`
		Messages []struct {
			MsgID     string `json:"msg_id"`
			IsReply   bool   `json:"is_reply"`
			Timestamp int64  `json:"timestamp"`
		} `json:"messages"`
	}
	base := "/chat/users/" + zoomtest.JaneEmail + "/messages/" + main + "/thread?to_channel=" + ch + "&from=2025-09-15T00:00:00Z"
	tests := []struct {
		query      string
		n          int
		main, desc bool
	}{
		{"&limit=100", most + 1, true, true},
		{"&limit=100&sort=asc&need_main_message=false", most, false, false},
		{"&limit=1", 2, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var th thread
			if st, code := chatGet(t, srv, tok, base+tt.query, &th); st != 200 {
				t.Fatalf("%d/%d", st, code)
			}
			if th.Total != most || len(th.Messages) != tt.n {
				t.Fatalf("total %d, %d messages; want %d, %d", th.Total, len(th.Messages), most, tt.n)
			}
			replies := th.Messages
			if tt.main {
				if th.Messages[0].MsgID != main || th.Messages[0].IsReply {
					t.Errorf("first is %+v, want the main message", th.Messages[0])
				}
				replies = replies[1:]
			}
			for i := 1; i < len(replies); i++ {
				if !replies[i].IsReply || (replies[i].Timestamp > replies[i-1].Timestamp) != !tt.desc {
					t.Errorf("reply %d out of order", i)
				}
			}
		})
	}
}
