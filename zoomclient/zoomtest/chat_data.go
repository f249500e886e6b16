package zoomtest

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Chat is a user's Team Chat: 1:1 conversations and channels, each with
// its messages, oldest first.
type Chat struct {
	Conversations []ChatConversation `json:"conversations"`
	Channels      []ChatChannel      `json:"channels"`
}

// ChatConversation is a 1:1 conversation. PeerUserID is empty for a
// contact outside the account, as Zoom leaves peer_contact_user_id.
type ChatConversation struct {
	PeerEmail    string        `json:"peer_contact_email"`
	PeerUserID   string        `json:"peer_contact_user_id,omitempty"`
	PeerMemberID string        `json:"peer_contact_member_id"`
	PeerName     string        `json:"peer_name"`
	Messages     []ChatMessage `json:"messages"`
}

// ChatChannel is a channel the user is a member of.
type ChatChannel struct {
	ID       string        `json:"id"`
	JID      string        `json:"jid"`
	Name     string        `json:"name"`
	Type     int           `json:"type"` // 1..5 as in Zoom's channel types
	Messages []ChatMessage `json:"messages"`
}

// ChatMessage is one message. Replies name the main message of their
// thread (threads are one level deep, as in Zoom).
type ChatMessage struct {
	ID             string         `json:"id"`
	Time           time.Time      `json:"date_time"` // millisecond precision
	SenderEmail    string         `json:"sender"`
	SenderMemberID string         `json:"send_member_id"`
	SenderName     string         `json:"sender_display_name"`
	Text           string         `json:"message"`
	ReplyTo        string         `json:"reply_main_message_id,omitempty"`
	Status         string         `json:"status"` // Normal, Edited, Deleted
	Files          []ChatFile     `json:"files,omitempty"`
	Reactions      []ChatReaction `json:"reactions,omitempty"`
}

// ChatFile is a file shared in a message; its bytes are generated on
// demand from ID and Size, like recording files.
type ChatFile struct {
	ID   string `json:"file_id"`
	Name string `json:"file_name"`
	Size int64  `json:"file_size"`
}

// ChatReaction is one emoji and who reacted with it (user ids).
type ChatReaction struct {
	Emoji   string   `json:"emoji"` // "U+1F44D"
	UserIDs []string `json:"user_ids"`
}

// chatSize is how much Team Chat a user has.
type chatSize struct {
	contacts, channels, inactive int // inactive: channels with no message in the last six months
	direct, channel              int // messages over six months
	// pairReactions: reactions in a 1:1 conversation come from its two
	// people only. jane.doe@example.com's chat predates it and keeps its
	// bytes: reactions there come from any colleague.
	pairReactions bool
}

// chatSizes is jane.doe@example.com's chat by dataset; fillerChatSize
// sizes the mixed dataset's filler users'.
var chatSizes = map[string]chatSize{
	"tiny":      {contacts: 3, channels: 3, inactive: 1, direct: 24, channel: 60},
	"reference": {contacts: 110, channels: 40, inactive: 4, direct: 8000, channel: 40000},
	"large":     {contacts: 200, channels: 80, inactive: 6, direct: 20000, channel: 100000},
	"mixed":     {contacts: 3, channels: 3, inactive: 1, direct: 24, channel: 60},
}

// chatDays is the span of recent chat: inside "the last six months"
// whatever the month lengths, like the phone data.
const chatDays = 178

type chatPerson struct {
	email, userID, memberID, name string
}

// generateChat gives jane.doe@example.com her Team Chat, then each of the
// mixed dataset's filler users theirs (fillerPages). It draws from a
// random stream of its own, jane's first, so adding chat left every other
// generated record as it was, and the fillers' chat leaves jane's.
func generateChat(d *Dataset, name string, seed int64) {
	size, ok := chatSizes[name]
	a := d.primary()
	if !ok || a == nil {
		return
	}
	jane := a.User(JaneEmail)
	if jane == nil {
		return
	}
	h := fnv.New64a()
	h.Write([]byte("chat\x00" + name))
	g := &chatGen{r: rand.New(rand.NewPCG(uint64(seed), h.Sum64())), day: d.Start}
	jane.Chat = g.userChat(a, jane, nil, size)
	for i, pages := range fillerPages[name] {
		if u := a.User(fillerEmail(i)); u != nil {
			u.Chat = g.userChat(a, u, jane, fillerChatSize(pages))
		}
	}
}

// userChat builds the Team Chat of me on account a: 1:1 conversations
// with colleagues (the account's other active users but skip) and outside
// contacts, and channels.
func (g *chatGen) userChat(a *AccountData, me *User, skip *User, size chatSize) *Chat {
	r := g.r
	self := g.person(me.Email, me.ID, me.DisplayName)

	// Peers: the account's other users first, then outside contacts.
	var colleagues []chatPerson
	for _, u := range a.Users {
		if u != me && u != skip && u.Status == "active" {
			colleagues = append(colleagues, g.person(u.Email, u.ID, u.DisplayName))
		}
	}
	var peers []chatPerson
	for i := range size.contacts {
		if i < len(colleagues) && i%4 != 3 {
			peers = append(peers, colleagues[i])
			continue
		}
		p := g.person(fmt.Sprintf("contact%03d@partner.example.net", i+1), "", firstNames[r.IntN(len(firstNames))]+" "+lastNames[r.IntN(len(lastNames))])
		peers = append(peers, p)
	}
	chat := &Chat{}
	for i, n := range g.split(size.direct, len(peers)) {
		p := peers[i]
		c := ChatConversation{PeerEmail: p.email, PeerUserID: p.userID, PeerMemberID: p.memberID, PeerName: p.name}
		reactors := colleagues
		if size.pairReactions {
			reactors = []chatPerson{self}
			if p.userID != "" {
				reactors = append(reactors, p)
			}
		}
		c.Messages = g.messages(n, 0, chatDays, 0.5, 0.05, []chatPerson{self, p}, self, reactors)
		chat.Conversations = append(chat.Conversations, c)
	}
	active := size.channels - size.inactive
	counts := g.split(size.channel, active)
	for i := range size.channels {
		ch := ChatChannel{ID: strings.ToLower(g.hex(32)), Name: channelNames[i%len(channelNames)], Type: []int{1, 2, 3, 3, 4, 5}[r.IntN(6)]}
		if i >= len(channelNames) {
			ch.Name += fmt.Sprint("-", i/len(channelNames)+1)
		}
		ch.JID = ch.ID + "@conference.xmpp.zoom.us"
		members := []chatPerson{self}
		for range 3 + r.IntN(12) {
			if len(colleagues) > 0 {
				members = append(members, colleagues[r.IntN(len(colleagues))])
			}
		}
		members = append(members, peers[r.IntN(len(peers))])
		if i < active {
			ch.Messages = g.messages(counts[i], 0, chatDays, 0.15, 0.2, members, self, colleagues)
		} else {
			// No activity in the last six months: found through
			// /channels only.
			ch.Messages = g.messages(3+r.IntN(20), 200, 360, 0.3, 0.1, members, self, colleagues)
		}
		chat.Channels = append(chat.Channels, ch)
	}
	return chat
}

type chatGen struct {
	r   *rand.Rand
	day time.Time
}

// hex returns n upper-case hex digits, n at most 32.
func (g *chatGen) hex(n int) string {
	const digits = "0123456789ABCDEF"
	var b [32]byte
	x, y := g.r.Uint64(), g.r.Uint64()
	for i := range 16 {
		b[i], b[16+i] = digits[x>>(60-4*i)&15], digits[y>>(60-4*i)&15]
	}
	return string(b[:n])
}

func (g *chatGen) uuid() string {
	h := g.hex(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (g *chatGen) person(email, userID, name string) chatPerson {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(email)))
	return chatPerson{email: email, userID: userID, name: name, memberID: fmt.Sprintf("%016x", h.Sum64())}
}

// split shares total among n parts with uneven, deterministic weights
// (a few busy conversations, many quiet ones); every part gets at least
// one.
func (g *chatGen) split(total, n int) []int {
	if n == 0 {
		return nil
	}
	w := make([]float64, n)
	var sum float64
	for i := range w {
		w[i] = 0.2 + g.r.ExpFloat64()
		sum += w[i]
	}
	out := make([]int, n)
	left := total
	for i := range out {
		out[i] = max(1, int(math.Floor(float64(total)*w[i]/sum)))
		left -= out[i]
	}
	for i := 0; left > 0; i = (i + 1) % n {
		out[i]++
		left--
	}
	return out
}

var channelNames = []string{"eng-platform", "proj-apollo", "team-berlin", "random", "announcements", "design-crit", "oncall", "release-train",
	"customer-success", "hiring", "sales-emea", "data-platform", "security", "infra", "mobile", "frontend", "backend", "qa", "docs", "support-escalations"}

var chatPhrases = []string{"Sounds good", "Can you take a look at the review?", "I'll be 5 minutes late", "Thanks!", "Let's discuss in the sync",
	"The build is green again", "Shared the notes from the call", "Who owns this ticket?", "Deploy is done", "Great work everyone",
	"Can we move the meeting to tomorrow?", "I pushed a fix", "Any update on this?", "Lunch at noon?", "Please see the attached file"}

var chatEmojis = []string{"U+1F44D", "U+2764", "U+1F602", "U+1F389", "U+1F440"}

var chatFileKinds = []struct{ ext, typ string }{{"png", "png_image_file"}, {"jpg", "jpg_image_file"}, {"pdf", "others"}, {"txt", "others"}, {"mp4", "video_file"}}

// messages generates n messages between fromDays and toDays before the
// anchor day, oldest first. own is the share sent by me; reply the share
// that reply to an earlier message (me replies to others where it can);
// reactions come from reactors.
func (g *chatGen) messages(n, fromDays, toDays int, own, reply float64, members []chatPerson, me chatPerson, reactors []chatPerson) []ChatMessage {
	r := g.r
	span := int64(toDays-fromDays) * 86400 * 1000
	times := make([]int64, n)
	for i := range times {
		times[i] = int64(fromDays)*86400*1000 + r.Int64N(span) + 1
	}
	slices.Sort(times)
	out := make([]ChatMessage, n)
	for i := range out {
		m := &out[i]
		m.ID = g.uuid()
		m.Time = g.day.Add(-time.Duration(times[n-1-i]) * time.Millisecond)
		s := members[1+r.IntN(len(members)-1)]
		if r.Float64() < own {
			s = me
		}
		m.SenderEmail, m.SenderMemberID, m.SenderName = s.email, s.memberID, s.name
		m.Text = chatPhrases[r.IntN(len(chatPhrases))]
		m.Status = "Normal"
		switch x := r.IntN(100); {
		case x < 3:
			m.Status, m.Text = "Edited", m.Text+" (edited)"
		case x < 4:
			m.Status = "Deleted"
		}
		if i > 0 && r.Float64() < reply {
			// The main message of the thread: an earlier message that is
			// not itself a reply, from someone else when me is replying.
			for j := i - 1; j >= max(0, i-30); j-- {
				p := out[j]
				if p.ReplyTo == "" && (s != me || p.SenderEmail != me.email) {
					m.ReplyTo = p.ID
					break
				}
			}
		}
		if r.IntN(33) == 0 {
			k := chatFileKinds[r.IntN(len(chatFileKinds))]
			m.Files = []ChatFile{{ID: strings.ToLower(g.hex(32)), Name: fmt.Sprintf("file-%d.%s", r.IntN(10000), k.ext), Size: 512 + r.Int64N(32*1024)}}
			if r.IntN(2) == 0 {
				m.Text = ""
			}
		}
		if r.IntN(12) == 0 && len(reactors) > 0 {
			re := ChatReaction{Emoji: chatEmojis[r.IntN(len(chatEmojis))]}
			for range 1 + r.IntN(3) {
				re.UserIDs = append(re.UserIDs, reactors[r.IntN(len(reactors))].userID)
			}
			m.Reactions = []ChatReaction{re}
		}
	}
	return out
}

// chatMessageType is message_type for a message.
func chatMessageType(m *ChatMessage) string {
	if len(m.Files) == 0 {
		return "plain_text_message"
	}
	if m.Text != "" {
		return "file_and_text"
	}
	ext := m.Files[0].Name[strings.LastIndexByte(m.Files[0].Name, '.')+1:]
	for _, k := range chatFileKinds {
		if k.ext == ext {
			return k.typ
		}
	}
	return "others"
}

// ChatKept returns, for tests of a client's Team Chat policy, the ids of
// the user's messages since since that the policy keeps, and the sizes of
// their files by file id:
// "own" the user's messages; "conversations" also every 1:1 message and,
// in channels, each message the user replied to; "channels" every message.
func (u *User) ChatKept(policy string, since time.Time) (ids map[string]bool, files map[string]int64) {
	ids, files = map[string]bool{}, map[string]int64{}
	keep := func(m ChatMessage) {
		ids[m.ID] = true
		for _, f := range m.Files {
			files[f.ID] = f.Size
		}
	}
	own := func(m ChatMessage) bool { return strings.EqualFold(m.SenderEmail, u.Email) }
	for _, c := range u.Chat.Conversations {
		for _, m := range c.Messages {
			if !m.Time.Before(since) && (own(m) || policy != "own") {
				keep(m)
			}
		}
	}
	for _, c := range u.Chat.Channels {
		byID := map[string]ChatMessage{}
		for _, m := range c.Messages {
			byID[m.ID] = m
		}
		for _, m := range c.Messages {
			if m.Time.Before(since) || (!own(m) && policy != "channels") {
				continue
			}
			keep(m)
			if p, ok := byID[m.ReplyTo]; ok && policy == "conversations" && !p.Time.Before(since) {
				keep(p)
			}
		}
	}
	return ids, files
}
