package zoomclient

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// keepChat removes from a page of Team Chat messages those the account's
// ChatPolicy leaves out, before the page is stored: Zoom lists a
// conversation whole and cannot filter by sender. email is the subject's,
// item the conversation ("to_contact=..." or "to_channel=..."), refs the
// ids of messages the subject's replies on earlier pages answer, which are
// kept wherever they are. It returns the page, the ids of the messages
// kept and the refs still to be found on later pages. A page from which
// nothing is removed is returned as Zoom sent it.
func (c *Client) keepChat(body []byte, email, item string, refs []string) ([]byte, []string, []string, error) {
	policy := c.cfg.ChatPolicy
	direct := strings.HasPrefix(item, "to_contact=")
	all := policy == dsar.ChatChannels || (direct && policy != dsar.ChatOwn)
	if !all && email == "" {
		return nil, nil, nil, errors.New("the subject's email is unknown: cannot tell their messages from others'")
	}
	want := map[string]bool{}
	for _, id := range refs {
		want[id] = true
	}
	b, ids, err := keepRecords(body, "messages", "id", func(rec map[string]json.RawMessage) bool {
		id := idString(rec["id"])
		own := dsar.SameEmail(idString(rec["sender"]), email)
		if !all && !own && !want[id] {
			return false
		}
		delete(want, id)
		// Newest first: a reply comes before the message it answers.
		if parent := idString(rec["reply_main_message_id"]); own && parent != "" && policy != dsar.ChatOwn && !all {
			want[parent] = true
		}
		return true
	})
	if err != nil {
		return nil, nil, nil, err
	}
	var next []string
	for id := range want {
		next = append(next, id)
	}
	slices.Sort(next)
	return b, ids, next, nil
}

// Note says what the account's Team Chat policy leaves out of team_chat.
func (s *Source) Note(section string) string {
	if section != dsar.SectionTeamChat {
		return ""
	}
	return s.c.cfg.ChatPolicy.Words()
}
