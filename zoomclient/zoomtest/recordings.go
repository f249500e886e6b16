package zoomtest

import (
	"net/http"
	"net/url"
	"strings"
)

// listRecordings is GET /users/{userId}/recordings.
func (e *Emulator) listRecordings(c *call) {
	ui := c.lookup(func(id string) *zoomError {
		return &zoomError{http.StatusNotFound, 1001, "User " + id + " does not exist, or does not belong to this account."}
	})
	if ui == nil {
		return
	}
	q := c.r.URL.Query()
	trash := q.Get("trash") == "true"
	fresh := cursor{}
	if !trash {
		// Default window: today to tomorrow (MTG: a call on 2020-06-30
		// gets from=2020-06-30, to=2020-07-01).
		from, ok := dateParam(c, "from", utcDay(c.now))
		if !ok {
			return
		}
		to, ok := dateParam(c, "to", utcDay(c.now).Add(day))
		if !ok {
			return
		}
		// Zoom documents "The maximum range can be a month" but not the
		// answer to a longer range (a forum thread asks, devforum 138558).
		// The emulator refuses it with the validation code 300, the
		// nearest documented behaviour (unverified), so that a client
		// that asks for more than a month is caught in tests.
		if to.Before(from) || !withinMonth(from, to.Add(day)) {
			c.fail(&zoomError{http.StatusBadRequest, 300, "The date range must not exceed one month."})
			return
		}
		fresh.from, fresh.to = from, to
	}
	cur, ok := e.startCursorWindow(c, ui.u.ID, []string{"from", "to", "trash", "trash_type", "meeting_id"}, fresh)
	if !ok {
		return
	}
	var items []item
	var head []string
	if trash {
		// Trash items cannot be filtered by date [MTG].
		items = ui.trash
	} else {
		items = between(ui.recordings, cur.from, cur.to.Add(day))
		head = []string{jstr("from", dateString(cur.from)), jstr("to", dateString(cur.to))}
	}
	if !ui.u.CloudRecording {
		// Cloud recording needs a paid plan with the setting on; Zoom's
		// answer for others is not documented: an empty list (unverified).
		items = nil
	}
	e.page(c, listing{field: "meetings", items: items, desc: true, head: head}, cur)
}

// meetingID is the {meetingId} of a path, decoded: UUIDs that start with
// "/" or contain "//" arrive double-encoded, as Zoom asks of clients.
func meetingID(c *call) string {
	id := c.r.PathValue("meetingId")
	for range 2 {
		if !strings.Contains(id, "%") {
			break
		}
		u, err := url.PathUnescape(id)
		if err != nil {
			break
		}
		id = u
	}
	return id
}

// getMeetingRecordings is GET /meetings/{meetingId}/recordings; a meeting
// id means its latest instance, a UUID that instance.
func (e *Emulator) getMeetingRecordings(c *call) {
	id := meetingID(c)
	ref := c.ai.recs[id]
	if ref == nil || ref.trashed {
		c.fail(&zoomError{http.StatusNotFound, 3301, "There is no recording for this meeting."})
		return
	}
	c.reply(ref.raw)
}
