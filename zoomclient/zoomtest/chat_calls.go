package zoomtest

import "time"

// chatCalls is the fewest API calls that collect a user's Team Chat.
type chatCalls struct {
	Sessions int // GET /chat/users/{userId}/sessions over the six months
	Channels int // GET /chat/users/{userId}/channels
	Messages int // GET /chat/users/{userId}/messages, every page of every conversation
	Files    int // chat file downloads
}

// chatMinCalls returns the fewest calls that fetch the Team Chat of u as
// of now (MinCalls' chat keys): at page_size 50, one sessions
// window covering the last six months (the earliest from Zoom accepts), the
// channel list, then every conversation's messages with
// include_deleted_and_edited_message=true over that window, one call at
// least per conversation (a 1:1 conversation with a message in the window,
// or any channel, including those without recent activity), and one
// download per file in the window.
func chatMinCalls(u *User, now time.Time) chatCalls {
	if u.Chat == nil {
		return chatCalls{Sessions: 1, Channels: 1}
	}
	from := utcDay(now).AddDate(0, -6, 0)
	pages := func(n int) int { return max(1, (n+chatMaxPageSize-1)/chatMaxPageSize) }
	inWindow := func(ms []ChatMessage) (n, files int) {
		for _, m := range ms {
			if !m.Time.Before(from) && !m.Time.After(now) {
				n++
				files += len(m.Files)
			}
		}
		return n, files
	}
	var c chatCalls
	sessions := 0
	for _, cv := range u.Chat.Conversations {
		if n, f := inWindow(cv.Messages); n > 0 {
			sessions++
			c.Messages += pages(n)
			c.Files += f
		}
	}
	for _, ch := range u.Chat.Channels {
		n, f := inWindow(ch.Messages)
		if n > 0 {
			sessions++
		}
		c.Messages += pages(n)
		c.Files += f
	}
	c.Sessions = pages(sessions)
	c.Channels = pages(len(u.Chat.Channels))
	return c
}
