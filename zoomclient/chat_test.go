package zoomclient

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// TestKeepChat: what each policy keeps of a channel's and a 1:1
// conversation's pages, newest first, with the message a reply of the
// subject's answers kept when it comes on a later page.
func TestKeepChat(t *testing.T) {
	const me = "jane.doe@example.com"
	page1 := `{"messages":[{"id":"r1","sender":"JANE.doe@example.com","reply_main_message_id":"p1"},{"id":"o1","sender":"bob@example.com"},{"id":"m1","sender":"jane.doe@example.com"}],"next_page_token":"t"}`
	page2 := `{"messages":[{"id":"o2","sender":"ann@example.com","reply_main_message_id":"p1"},{"id":"p1","sender":"bob@example.com"},{"id":"o3","sender":""}],"next_page_token":""}`
	tests := []struct {
		policy dsar.ChatPolicy
		item   string
		ids1   []string
		refs   []string
		ids2   []string
		asIs1  bool
	}{
		{dsar.ChatConversations, "to_channel=c1", []string{"r1", "m1"}, []string{"p1"}, []string{"p1"}, false},
		{"", "to_channel=c1", []string{"r1", "m1"}, []string{"p1"}, []string{"p1"}, false},
		{dsar.ChatOwn, "to_channel=c1", []string{"r1", "m1"}, nil, []string{}, false},
		{dsar.ChatChannels, "to_channel=c1", []string{"r1", "o1", "m1"}, nil, []string{"o2", "p1", "o3"}, true},
		{dsar.ChatConversations, "to_contact=bob%40example.com", []string{"r1", "o1", "m1"}, nil, []string{"o2", "p1", "o3"}, true},
		{dsar.ChatOwn, "to_contact=bob%40example.com", []string{"r1", "m1"}, nil, []string{}, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy)+" "+tt.item, func(t *testing.T) {
			c := &Client{cfg: Config{ChatPolicy: tt.policy}}
			b1, ids1, refs, err := c.keepChat([]byte(page1), me, tt.item, nil)
			if err != nil || !slices.Equal(ids1, tt.ids1) || !slices.Equal(refs, tt.refs) {
				t.Fatalf("page 1: ids %v refs %v (%v), want %v %v", ids1, refs, err, tt.ids1, tt.refs)
			}
			if (string(b1) == page1) != tt.asIs1 {
				t.Errorf("page 1 returned as sent: %v, want %v", string(b1) == page1, tt.asIs1)
			}
			var top struct {
				Messages []struct{ ID string } `json:"messages"`
				Token    string                `json:"next_page_token"`
			}
			if err := json.Unmarshal(b1, &top); err != nil || len(top.Messages) != len(tt.ids1) || top.Token != "t" {
				t.Errorf("page 1 body %s (%v): want the kept messages and the page token", b1, err)
			}
			_, ids2, refs2, err := c.keepChat([]byte(page2), me, tt.item, refs)
			if err != nil || !slices.Equal(ids2, tt.ids2) || len(refs2) != 0 {
				t.Errorf("page 2: ids %v refs %v (%v), want %v and none", ids2, refs2, err, tt.ids2)
			}
		})
	}
	c := &Client{cfg: Config{ChatPolicy: dsar.ChatOwn}}
	if _, _, _, err := c.keepChat([]byte(page1), "", "to_channel=c1", nil); err == nil {
		t.Error("no error without the subject's email: messages cannot be told apart")
	}
}
