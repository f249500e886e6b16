package zoomtest

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
)

// fillerPages sizes the filler users of a dataset whose users differ in
// size, the "mixed" one: for the i-th filler user, the pages of its list
// of previous meetings (300 a page) and, about as many, of its Team Chat
// messages (50 a page). Long-tailed, many small and a few large, so that
// requests of the dataset's users cost widely different numbers of Medium
// calls: on a free plan, where Team Chat is refused (chatUser) and cloud
// recording is off, 23 plus the meeting pages, from 25 to 150
// (docs/BENCHMARKS.md); on a paid plan the chat pages come on top.
var fillerPages = map[string][]int{
	"mixed": {2, 4, 7, 9, 12, 15, 17, 22, 27, 37, 47, 57, 87, 127},
}

// meetingsPageSize is the longest page of GET /users/{userId}/meetings.
const meetingsPageSize = 300

// meetingYears is how far back a filler user's meetings go: a large
// one's do not fit in a year.
const meetingYears = 3

// generateFillerMeetings gives each sized filler user (fillerPages) past
// meetings enough to fill its pages, the last one partly. It draws from a
// random stream of its own, so the rest of the dataset is as it would be
// without them.
func generateFillerMeetings(d *Dataset, name string, seed int64) {
	a := d.primary()
	if a == nil || len(fillerPages[name]) == 0 {
		return
	}
	h := fnv.New64a()
	h.Write([]byte("filler meetings\x00" + name))
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), h.Sum64())), day: d.Start}
	for i, pages := range fillerPages[name] {
		u := a.User(fillerEmail(i))
		if u == nil {
			continue
		}
		past := 0
		for _, m := range u.Meetings {
			if m.Past() {
				past++
			}
		}
		want := meetingsPageSize*(pages-1) + 1 + g.r.IntN(meetingsPageSize-1)
		u.Meetings = slices.Grow(u.Meetings, want-past)
		for range want - past {
			u.Meetings = append(u.Meetings, g.meeting(u, g.past(meetingYears*365), true))
		}
		sortUser(u)
	}
}

// fillerChatSize is the Team Chat of a filler user with pages pages of
// meetings: about as many pages of messages, over 1:1 conversations and
// channels, each at least one call.
func fillerChatSize(pages int) chatSize {
	s := chatSize{contacts: 1 + pages/5, channels: 1 + pages/10, inactive: pages / 40, pairReactions: true}
	convs := s.contacts + s.channels
	msgs := max(convs, chatMaxPageSize*(pages-convs/2-s.inactive))
	s.direct = max(s.contacts, msgs*2/5)
	s.channel = max(s.channels-s.inactive, msgs-s.direct)
	return s
}
