package zoomtest_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// mixedFillers returns the filler users of the mixed dataset's primary
// account, in order.
func mixedFillers(d *zoomtest.Dataset) []*zoomtest.User {
	var out []*zoomtest.User
	for _, u := range d.Accounts[0].Users {
		if strings.HasPrefix(u.Email, "user") {
			out = append(out, u)
		}
	}
	return out
}

// TestMixedDataset checks what the mixed dataset is for: filler users
// whose sizes differ widely, each with Team Chat of its own whose 1:1
// conversations hold only the user's and the peer's messages, generated
// the same way every time.
func TestMixedDataset(t *testing.T) {
	gen := func(seed int64) *zoomtest.Dataset {
		d, err := zoomtest.Generate("mixed", zoomtest.GenerateOptions{Seed: seed, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	enc := func(d *zoomtest.Dataset) []byte {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	d := gen(1)
	if a := enc(d); !bytes.Equal(a, enc(gen(1))) || bytes.Equal(a, enc(gen(2))) {
		t.Error("the seed does not decide the data")
	}
	if !slices.Contains(zoomtest.DatasetNames(), "mixed") {
		t.Error("DatasetNames lacks mixed")
	}
	fillers := mixedFillers(d)
	if len(fillers) < 12 || len(fillers) > 16 {
		t.Fatalf("%d filler users, want 12 to 16", len(fillers))
	}
	recent := start.AddDate(0, -6, 0)
	var pages []int
	for _, u := range fillers {
		past := 0
		for _, m := range u.Meetings {
			if m.Past() {
				past++
			}
		}
		pages = append(pages, (past+299)/300)
		if u.Chat == nil || len(u.Chat.Conversations) == 0 || len(u.Chat.Channels) == 0 {
			t.Fatalf("a filler user without conversations or channels: %+v", u.Chat)
		}
		for _, c := range u.Chat.Conversations {
			if strings.EqualFold(c.PeerEmail, u.Email) || strings.EqualFold(c.PeerEmail, zoomtest.JaneEmail) {
				t.Errorf("a conversation of a filler user with itself or jane")
			}
			peer := d.User(c.PeerEmail)
			for _, m := range c.Messages {
				if !strings.EqualFold(m.SenderEmail, u.Email) && !strings.EqualFold(m.SenderEmail, c.PeerEmail) {
					t.Fatal("a 1:1 message from someone else than the two")
				}
				for _, r := range m.Reactions {
					for _, id := range r.UserIDs {
						if id != u.ID && (peer == nil || id != peer.ID) {
							t.Fatal("a reaction in a 1:1 conversation from someone else than the two")
						}
					}
				}
				if m.Time.Before(recent) || m.Time.After(start) {
					t.Fatalf("a 1:1 message at %v, outside the last six months", m.Time)
				}
			}
		}
	}
	least, most := slices.Min(pages), slices.Max(pages)
	if most < 10*least {
		t.Errorf("pages of previous meetings from %d to %d: not long-tailed", least, most)
	}
	if n := len(slices.Compact(slices.Sorted(slices.Values(pages)))); n < 8 {
		t.Errorf("pages of previous meetings %v: %d sizes, want 8 or more", pages, n)
	}
	if jane := d.User(zoomtest.JaneEmail); jane.Chat == nil || len(jane.Chat.Conversations) == 0 {
		t.Error("jane has no Team Chat in the mixed dataset")
	}
}

// TestChatFiller checks that the chat endpoints answer for the largest
// filler user of the mixed dataset as they do for jane: sessions and
// channels, each conversation's messages with
// include_deleted_and_edited_message over the six months, as MinCalls
// counts them.
func TestChatFiller(t *testing.T) {
	srv, tok, _ := newChatServer(t, zoomtest.WithDataset("mixed"))
	fillers := mixedFillers(srv.Dataset())
	u := fillers[len(fillers)-1]
	checkChatMinCalls(t, srv, tok, u)
	checkChatMessages(t, srv, tok, u)
	if calls := srv.Dataset().MinCalls(u.Email, start)["GET /chat/users/{userId}/messages"]; calls < 50 {
		t.Errorf("%d message calls for the largest filler user, want 50 or more", calls)
	}
}
