package zoomtest

import (
	"bytes"
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Team Chat [TC26: shared/zoom-openapi/team-chat/ZoomTeamChatAPISpec.2026-02.json].
// Every operation is MEDIUM by its Rate Limit Label; scope is the granular
// admin scope, macro the classic ones the spec names.
var chatOps = []*op{
	{pattern: "GET /chat/users/{userId}/sessions", category: Medium, scope: "team_chat:read:list_user_sessions:admin", macro: []string{"chat_message:read:admin"}, handle: (*Emulator).listChatSessions},
	{pattern: "GET /chat/users/{userId}/channels", category: Medium, scope: "team_chat:read:list_user_channels:admin", macro: []string{"chat_channel:read:admin", "chat_channel:write:admin"}, handle: (*Emulator).listChatChannels},
	{pattern: "GET /chat/users/{userId}/messages", category: Medium, scope: "team_chat:read:list_user_messages:admin", macro: []string{"chat_message:read:admin", "chat_message:write:admin"}, handle: (*Emulator).listChatMessages},
	{pattern: "GET /chat/users/{userId}/messages/{messageId}/thread", category: Medium, scope: "team_chat:read:thread_message:admin", macro: []string{"chat_message:read:admin"}, handle: (*Emulator).getChatThread},
}

func init() { ops = append(ops, chatOps...) }

const (
	chatDefaultPageSize = 10
	chatMaxPageSize     = 50 // sessions and messages
	channelsMaxPageSize = 1000
)

// chatFilePath is where the emulator serves a chat file's download_url:
// like a recording's, a redirect to a signed, expiring link.
const chatFilePath = "/file/chat/"

// chatConfig is how Team Chat is set up on the primary account.
type chatConfig struct {
	off        bool // Team Chat disabled
	storageOff bool // cloud storage of chat messages disabled
}

// WithTeamChat sets whether Team Chat is enabled on the primary account
// (default on).
func WithTeamChat(on bool) Option { return func(c *config) { c.chat.off = !on } }

// WithChatCloudStorage sets whether the primary account stores chat
// messages in Zoom's cloud (default on). Off, messages live on the users'
// devices only and the API has none to return.
func WithChatCloudStorage(on bool) Option { return func(c *config) { c.chat.storageOff = !on } }

// chatIndex holds every user's chat in the form the handlers serve it.
type chatIndex struct {
	users map[*User]*chatUser
}

type chatUser struct {
	sessions []item               // 1:1 and channels, by last message time
	channels []item               // every channel, in dataset order
	byPeer   map[string]*chatConv // peer email (lower-case), user id, member id
	byChan   map[string]*chatConv // channel id
}

// chatConv is one conversation's messages, oldest first. They are
// encoded when served, a page at a time: encoding the reference user's
// 48,000 messages up front would double the emulator's start time.
type chatConv struct {
	items  []chatItem
	byID   map[string]int
	thread map[string][]int // main message id -> replies
	msgs   []ChatMessage
}

type chatItem struct {
	t      time.Time
	m      *ChatMessage
	mainTS int64 // the main message's timestamp, for a reply
	status string
	reply  bool
}

func buildChatIndex(d *Dataset, ix *index) *chatIndex {
	ci := &chatIndex{users: map[*User]*chatUser{}}
	for _, a := range d.Accounts {
		for _, u := range a.Users {
			if u.Chat == nil {
				continue
			}
			ci.users[u] = indexChat(a, u.Chat, ix)
		}
	}
	return ci
}

func indexChat(a *AccountData, ch *Chat, ix *index) *chatUser {
	cu := &chatUser{byPeer: map[string]*chatConv{}, byChan: map[string]*chatConv{}}
	type session struct {
		t   time.Time
		raw []byte
	}
	var sessions []session
	conv := func(msgs []ChatMessage) *chatConv {
		cv := &chatConv{byID: map[string]int{}, thread: map[string][]int{}, msgs: msgs}
		cv.items = make([]chatItem, 0, len(msgs))
		for i := range msgs {
			m := &msgs[i]
			cv.byID[m.ID] = i
			it := chatItem{t: m.Time, m: m, status: m.Status}
			if m.ReplyTo != "" {
				cv.thread[m.ReplyTo] = append(cv.thread[m.ReplyTo], i)
				it.reply = true
				if j, ok := cv.byID[m.ReplyTo]; ok {
					it.mainTS = msgs[j].Time.UnixMilli()
				}
			}
			cv.items = append(cv.items, it)
			for _, f := range m.Files {
				ix.files[f.ID] = fileRef{account: a.ID, id: f.ID, size: f.Size, ext: strings.ToUpper(strings.TrimPrefix(path.Ext(f.Name), ".")), mod: m.Time}
			}
		}
		return cv
	}
	for _, c := range ch.Conversations {
		cv := conv(c.Messages)
		for _, k := range []string{strings.ToLower(c.PeerEmail), c.PeerUserID, c.PeerMemberID} {
			if k != "" {
				cu.byPeer[k] = cv
			}
		}
		if n := len(c.Messages); n > 0 {
			sessions = append(sessions, session{c.Messages[n-1].Time, mustJSON(map[string]string{
				"type": "1:1", "name": c.PeerEmail, "peer_contact_email": c.PeerEmail, "peer_contact_user_id": c.PeerUserID,
				"peer_contact_member_id": c.PeerMemberID, "last_message_sent_time": zt(c.Messages[n-1].Time)})})
		}
	}
	for _, c := range ch.Channels {
		cu.byChan[c.ID] = conv(c.Messages)
		cu.channels = append(cu.channels, item{raw: mustJSON(map[string]any{
			"id": c.ID, "jid": c.JID, "name": c.Name, "type": c.Type, "channel_url": "https://example.zoom.us/launch/chat?src=direct_chat_link&channel_id=" + c.ID,
			"channel_settings": map[string]any{"add_member_permissions": 1, "new_members_can_see_previous_messages_files": true,
				"posting_permissions": 1, "mention_all_permissions": 1, "allow_to_add_external_users": 0}})})
		if n := len(c.Messages); n > 0 {
			sessions = append(sessions, session{c.Messages[n-1].Time, mustJSON(map[string]string{
				"type": "groupchat", "name": c.Name, "channel_id": c.ID, "last_message_sent_time": zt(c.Messages[n-1].Time)})})
		}
	}
	slices.SortStableFunc(sessions, func(a, b session) int { return a.t.Compare(b.t) })
	for _, s := range sessions {
		cu.sessions = append(cu.sessions, item{t: s.t, raw: s.raw})
	}
	return cu
}

// viewChatMessage encodes a message of GET .../messages; status is set
// only when include_deleted_and_edited_message asks for it.
func viewChatMessage(m *ChatMessage, mainTS int64, status string) []byte {
	type file struct {
		DownloadURL string `json:"download_url"`
		FileID      string `json:"file_id"`
		FileName    string `json:"file_name"`
		FileSize    int64  `json:"file_size"`
	}
	type sender struct {
		UserID string `json:"user_id"`
	}
	type reaction struct {
		Emoji      string   `json:"emoji"`
		TotalCount int      `json:"total_count"`
		Senders    []sender `json:"senders"`
	}
	v := struct {
		ID           string     `json:"id"`
		Message      string     `json:"message"`
		Sender       string     `json:"sender"`
		SendMemberID string     `json:"send_member_id"`
		SenderName   string     `json:"sender_display_name"`
		DateTime     string     `json:"date_time"`
		Timestamp    int64      `json:"timestamp"`
		MessageType  string     `json:"message_type"`
		ReplyID      string     `json:"reply_main_message_id,omitempty"`
		ReplyTS      int64      `json:"reply_main_message_timestamp,omitempty"`
		DownloadURL  string     `json:"download_url,omitempty"`
		FileID       string     `json:"file_id,omitempty"`
		FileName     string     `json:"file_name,omitempty"`
		FileSize     int64      `json:"file_size,omitempty"`
		Files        []file     `json:"files,omitempty"`
		Reactions    []reaction `json:"reactions,omitempty"`
		Status       string     `json:"status,omitempty"`
	}{Status: status, ID: m.ID, Message: m.Text, Sender: m.SenderEmail, SendMemberID: m.SenderMemberID, SenderName: m.SenderName,
		DateTime: zt(m.Time), Timestamp: m.Time.UnixMilli(), MessageType: chatMessageType(m), ReplyID: m.ReplyTo}
	if m.ReplyTo != "" {
		v.ReplyTS = mainTS
	}
	for _, f := range m.Files {
		v.Files = append(v.Files, file{DownloadURL: baseMark + chatFilePath + f.ID, FileID: f.ID, FileName: f.Name, FileSize: f.Size})
	}
	if len(v.Files) > 0 {
		f := v.Files[0]
		v.DownloadURL, v.FileID, v.FileName, v.FileSize = f.DownloadURL, f.FileID, f.FileName, f.FileSize
	}
	for _, r := range m.Reactions {
		re := reaction{Emoji: r.Emoji, TotalCount: len(r.UserIDs)}
		for _, id := range r.UserIDs {
			re.Senders = append(re.Senders, sender{UserID: id})
		}
		v.Reactions = append(v.Reactions, re)
	}
	return mustJSON(v)
}

// chatUser resolves {userId} and checks that Team Chat is available. The
// Chat API needs a Pro plan or higher
// (https://developers.zoom.us/docs/api/rest/chat-api/: "You must have a
// Pro or a higher plan"), as does cloud storage of chat messages
// (https://support.zoom.us/hc/en-us/articles/115005516426, prerequisites:
// "Paid Zoom account"). Neither a free plan nor a disabled Team Chat has
// a documented API answer of its own, so the emulator sends each
// operation's documented permission error, deny (unverified).
func (e *Emulator) chatUser(c *call, deny *zoomError) (*chatUser, bool) {
	primary := c.ai.a == e.data.primary()
	if c.ai.a.Plan == Free || (primary && e.cfg.chat.off) {
		c.fail(deny)
		return nil, false
	}
	ui := c.lookup(userNotExist)
	if ui == nil {
		return nil, false
	}
	cu := e.chat.users[ui.u]
	if cu == nil {
		cu = &chatUser{}
	}
	if primary && e.cfg.chat.storageOff {
		// Cloud storage off: the messages are on the users' devices only;
		// admins see chat history only "if chat cloud storage is enabled"
		// (https://support.zoom.com/hc/en/article?id=zm_kb&sysparm_article=KB0061552).
		// The API answer is undocumented: no sessions and no messages,
		// channels still listed (unverified).
		cu = cu.withoutMessages()
	}
	return cu, true
}

// withoutMessages is the user's chat with the channels but no messages.
func (cu *chatUser) withoutMessages() *chatUser {
	out := &chatUser{channels: cu.channels, byChan: map[string]*chatConv{}}
	for id := range cu.byChan {
		out.byChan[id] = &chatConv{}
	}
	return out
}

// chatPageSize reads page_size: default 10, at most max. Zoom documents
// the maximum but not its answer to more; the emulator serves the maximum
// (unverified), like the other lists.
func chatPageSize(r *http.Request, maxSize int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page_size"))
	if err != nil || n < 1 {
		return chatDefaultPageSize
	}
	return min(n, maxSize)
}

// chatPage writes one page of a chat list of total items, at(i) the i-th:
// Team Chat envelopes carry page_size and next_page_token, and
// total_records only where withTotal.
func (e *Emulator) chatPage(c *call, field string, total int, at func(int) []byte, size int, head []string, withTotal bool, cur cursor) {
	envelope := func(int) string {
		s := `"page_size":` + strconv.Itoa(size)
		if withTotal {
			s += `,"total_records":` + strconv.Itoa(total)
		}
		return s
	}
	e.writePage(c, cur, total, size, head, envelope, field, at)
}

// chatTime reads a yyyy-MM-ddTHH:mm:ssZ parameter; a malformed one is
// Zoom's validation error 300.
func chatTime(c *call, name string, def time.Time) (time.Time, bool) {
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", s)
	if err != nil {
		c.fail(invalidParam(name))
		return t, false
	}
	return t, true
}

// listChatSessions is GET /chat/users/{userId}/sessions: conversations
// whose last message was sent in [from, to], latest first (the spec does
// not say which messages count; unverified). from and to default to the
// start and end of today [TC26]; the spec sets no longest range.
func (e *Emulator) listChatSessions(c *call) {
	cu, ok := e.chatUser(c, &zoomError{http.StatusForbidden, 200, "Unauthorized request. You do not have permission to access this user's chat sessions."})
	if !ok {
		return
	}
	q := c.r.URL.Query()
	typ := q.Get("type")
	switch typ {
	case "", "1:1", "groupchat":
	default:
		c.fail(&zoomError{http.StatusNotFound, 1001, "Unknown session type."})
		return
	}
	if q.Has("search_star") {
		// Starred sessions are for user-level apps only [TC26]; this is
		// an account-level app.
		c.fail(invalidParam("search_star"))
		return
	}
	today := utcDay(c.now)
	var fresh cursor
	if q.Get("next_page_token") == "" {
		from, ok := chatTime(c, "from", today)
		if !ok {
			return
		}
		to, ok := chatTime(c, "to", today.Add(day-time.Second))
		if !ok {
			return
		}
		fresh.from, fresh.to = from, to
	}
	cur, ok := e.startCursorWindow(c, userParam(c), []string{"type", "from", "to"}, fresh)
	if !ok {
		return
	}
	var raws [][]byte
	in := between(cu.sessions, cur.from, cur.to.Add(time.Second))
	for i := len(in) - 1; i >= 0; i-- {
		if typ != "" && !bytes.Contains(in[i].raw, []byte(`"type":"`+typ+`"`)) {
			continue
		}
		raws = append(raws, in[i].raw)
	}
	e.chatPage(c, "sessions", len(raws), func(i int) []byte { return raws[i] }, chatPageSize(c.r, chatMaxPageSize),
		[]string{jstr("from", zt(cur.from)), jstr("to", zt(cur.to))}, false, cur)
}

// listChatChannels is GET /chat/users/{userId}/channels: every channel the
// user is a member of, active or not.
func (e *Emulator) listChatChannels(c *call) {
	// The spec documents no permission error here; 403/200 as for the
	// user's sessions (unverified).
	cu, ok := e.chatUser(c, &zoomError{http.StatusForbidden, 200, "Unauthorized request. You do not have permission to access this user's chat channels."})
	if !ok {
		return
	}
	cur, ok := e.startCursor(c, userParam(c), nil)
	if !ok {
		return
	}
	e.chatPage(c, "channels", len(cu.channels), func(i int) []byte { return cu.channels[i].raw }, chatPageSize(c.r, channelsMaxPageSize), nil, true, cur)
}

// conversation resolves to_contact or to_channel, one of which is
// required [TC26].
func (cu *chatUser) conversation(c *call) (*chatConv, bool) {
	q := c.r.URL.Query()
	contact, channel := q.Get("to_contact"), q.Get("to_channel")
	switch {
	case channel != "":
		cv := cu.byChan[channel]
		if cv == nil {
			c.fail(&zoomError{http.StatusNotFound, 4130, "Channel does not exist: " + channel + "."})
			return nil, false
		}
		return cv, true
	case contact != "":
		if cv := cu.byPeer[strings.ToLower(contact)]; cv != nil {
			return cv, true
		}
		if cv := cu.byPeer[contact]; cv != nil {
			return cv, true
		}
		if c.ai.user(contact) != nil {
			return &chatConv{}, true // a colleague never written to
		}
		c.fail(&zoomError{http.StatusNotFound, 1001, "User does not exist: " + contact + "."})
		return nil, false
	}
	c.fail(&zoomError{http.StatusBadRequest, 300, "Must provide either contact or channel parameter."})
	return nil, false
}

// listChatMessages is GET /chat/users/{userId}/messages: one
// conversation's messages in a day (date, the default today) or from..to
// (to defaults to now), newest first, within the last six months
// (400/300 otherwise) [TC26].
//
// Without include_deleted_and_edited_message only unedited messages come
// back and none has "status": the spec's "set ... true to include edited
// and deleted messages" read literally (unverified).
func (e *Emulator) listChatMessages(c *call) {
	cu, ok := e.chatUser(c, &zoomError{http.StatusBadRequest, 200, "Unauthorized request. You do not have permission to access this user's chat messages."})
	if !ok {
		return
	}
	q := c.r.URL.Query()
	if q.Has("search_key") || q.Has("search_type") {
		// Search is not emulated.
		c.fail(invalidParam("search_key"))
		return
	}
	cv, ok := cu.conversation(c)
	if !ok {
		return
	}
	filters := []string{"to_contact", "to_channel", "date", "from", "to", "include_deleted_and_edited_message", "exclude_child_message"}
	var head []string
	var fresh cursor
	if q.Get("next_page_token") == "" {
		switch ds := q.Get("date"); {
		case ds != "" || q.Get("from") == "":
			d := utcDay(c.now)
			if ds != "" {
				var ok bool
				if d, ok = parseDate(ds); !ok {
					c.fail(invalidParam("date"))
					return
				}
			}
			fresh.from, fresh.to = d, d.Add(day)
		default:
			from, ok := chatTime(c, "from", time.Time{})
			if !ok {
				return
			}
			to, ok := chatTime(c, "to", c.now)
			if !ok {
				return
			}
			fresh.from, fresh.to = from, to.Add(time.Second)
		}
		if !withinSixMonths(fresh.from, c.now) {
			c.fail(&zoomError{http.StatusBadRequest, 300, "Only provide past chat messages in recent 6 months."})
			return
		}
	}
	cur, ok := e.startCursorWindow(c, userParam(c), filters, fresh)
	if !ok {
		return
	}
	if q.Get("date") != "" || q.Get("from") == "" {
		head = []string{jstr("date", dateString(cur.from))}
	} else {
		head = []string{jstr("from", q.Get("from")), jstr("to", zt(cur.to.Add(-time.Second)))}
	}
	all := q.Get("include_deleted_and_edited_message") == "true"
	noChild := q.Get("exclude_child_message") == "true"
	// Count what the filters keep, newest first, and encode only the
	// page served.
	size, off := chatPageSize(c.r, chatMaxPageSize), cur.offset
	var page [][]byte
	total := 0
	in := chatBetween(cv.items, cur.from, cur.to)
	for i := len(in) - 1; i >= 0; i-- {
		it := &in[i]
		if (!all && it.status != "Normal") || (noChild && it.reply) {
			continue
		}
		if total >= off && total < off+size {
			status := ""
			if all {
				status = it.status
			}
			page = append(page, viewChatMessage(it.m, it.mainTS, status))
		}
		total++
	}
	e.chatPage(c, "messages", total, func(i int) []byte { return page[i-off] }, size, head, false, cur)
}

// chatBetween returns the items with from <= t < to.
func chatBetween(items []chatItem, from, to time.Time) []chatItem {
	lo := sort.Search(len(items), func(i int) bool { return !items[i].t.Before(from) })
	hi := sort.Search(len(items), func(i int) bool { return !items[i].t.Before(to) })
	return items[lo:max(lo, hi)]
}

// getChatThread is GET /chat/users/{userId}/messages/{messageId}/thread:
// the replies to a main message sent in [from, to], at most limit of
// them, with the main message first unless need_main_message=false.
func (e *Emulator) getChatThread(c *call) {
	cu, ok := e.chatUser(c, &zoomError{http.StatusForbidden, 403, "Authenticated user has not permitted access to the targeted resource."})
	if !ok {
		return
	}
	q := c.r.URL.Query()
	limit := 10
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			c.fail(&zoomError{http.StatusBadRequest, 4231, "The 'limit' cannot exceed 100."})
			return
		}
		limit = n
	}
	order := q.Get("sort")
	if order != "" && order != "asc" && order != "desc" {
		c.fail(&zoomError{http.StatusBadRequest, 4232, "The `sort` can only be passed `asc` or `desc`."})
		return
	}
	if q.Get("from") == "" {
		c.fail(&zoomError{http.StatusBadRequest, 4233, "The `from` cannot be blank."})
		return
	}
	from, ok := chatTime(c, "from", time.Time{})
	if !ok {
		return
	}
	to, ok := chatTime(c, "to", c.now)
	if !ok {
		return
	}
	if q.Get("to_channel") == "" && q.Get("to_contact") == "" {
		c.fail(&zoomError{http.StatusBadRequest, 4234, "The `to_channel` cannot be blank."})
		return
	}
	cv, ok := cu.conversation(c)
	if !ok {
		return
	}
	id := c.r.PathValue("messageId")
	mi, found := cv.byID[id]
	if !found {
		c.fail(&zoomError{http.StatusNotFound, 4131, "Message does not exist: " + id + "."})
		return
	}
	var replies []int
	for _, i := range cv.thread[id] {
		if t := cv.msgs[i].Time; !t.Before(from) && !t.After(to) {
			replies = append(replies, i)
		}
	}
	if order != "asc" {
		for l, r := 0, len(replies)-1; l < r; l, r = l+1, r-1 {
			replies[l], replies[r] = replies[r], replies[l]
		}
	}
	replies = replies[:min(limit, len(replies))]
	emoji, files := q.Get("need_emoji") == "true", q.Get("need_attachment") == "true"
	var msgs []map[string]any
	if q.Get("need_main_message") != "false" {
		msgs = append(msgs, threadMessage(&cv.msgs[mi], false, emoji, files))
	}
	for _, i := range replies {
		msgs = append(msgs, threadMessage(&cv.msgs[i], true, emoji, files))
	}
	if msgs == nil {
		msgs = []map[string]any{}
	}
	c.reply(mustJSON(map[string]any{"total": len(cv.thread[id]), "messages": msgs}))
}

func threadMessage(m *ChatMessage, reply, emoji, files bool) map[string]any {
	v := map[string]any{"msg_id": m.ID, "message": m.Text, "is_reply": reply, "timestamp": m.Time.UnixMilli(),
		"sender_email": m.SenderEmail, "sender_member_id": m.SenderMemberID, "sender_display_name": m.SenderName,
		"message_type": chatMessageType(m)}
	if emoji && len(m.Reactions) > 0 {
		var rs []map[string]any
		for _, r := range m.Reactions {
			rs = append(rs, map[string]any{"emoji_id": r.Emoji, "count": len(r.UserIDs), "is_sender": false})
		}
		v["reactions"] = rs
	}
	if files && len(m.Files) > 0 {
		var fs []map[string]any
		for _, f := range m.Files {
			fs = append(fs, map[string]any{"file_id": f.ID, "file_name": f.Name, "file_size": f.Size, "download_url": baseMark + chatFilePath + f.ID})
		}
		v["files"] = fs
	}
	return v
}
