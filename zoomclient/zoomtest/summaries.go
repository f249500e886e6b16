package zoomtest

import (
	"net/http"
	"time"
)

// The meeting summary operations are in none of the specs we hold (the
// Meetings copy is from October 2023; Zoom added them on 2023-11-20). The
// source is Zoom's reference:
//
//	https://developers.zoom.us/docs/api/meetings/#tag/summaries
//	https://developers.zoom.us/changelog/meetings/november-20-2023/
//
// It gives the paths, the scopes (meeting:read:list_summaries:admin,
// meeting:read:summary:admin; classic meeting_summary:read:admin), the
// labels (list MEDIUM, one summary LIGHT), page_size up to 300 with a
// 15-minute next_page_token, and the prerequisites (a paid plan, Meeting
// Summary with AI Companion enabled). testdata/openapi/summaries.json
// writes that down for the conformance tests.

// summaryNotEnabled is the answer when Meeting Summary with AI Companion
// is off for the account. The reference names the prerequisite but not
// the error; status and code copy the paid-plan answers of the Meetings
// API (400/200), the text is the emulator's (unverified).
var summaryNotEnabled = &zoomError{http.StatusBadRequest, 200, "Meeting Summary with AI Companion is not enabled for this account."}

// listSummaries is GET /meetings/meeting_summaries: the account's
// summaries of meetings that started in from..to. The reference does not
// bound the range; the emulator refuses more than one month with the
// validation code 300 (unverified), like the Meetings reports, and
// defaults to the past 30 days, so a client that asks month by month works
// whatever Zoom does.
func (e *Emulator) listSummaries(c *call) {
	if !c.ai.a.AISummary {
		c.fail(summaryNotEnabled)
		return
	}
	q := c.r.URL.Query()
	var fresh cursor
	if q.Get("next_page_token") == "" {
		fs, ts := q.Get("from"), q.Get("to")
		from, to := c.now.Add(-30*24*time.Hour), c.now
		if fs != "" || ts != "" {
			var ok1, ok2 bool
			from, ok1 = parsePhoneTime(fs, false)
			to, ok2 = parsePhoneTime(ts, true)
			switch {
			case !ok1:
				c.fail(invalidParam("from"))
				return
			case !ok2 || to.Before(from):
				c.fail(invalidParam("to"))
				return
			}
		}
		if !withinMonth(from, to) {
			c.fail(&zoomError{http.StatusBadRequest, 300, "The date range must not exceed one month."})
			return
		}
		fresh.from, fresh.to = from, to
	}
	cur, ok := e.startCursorWindow(c, "", []string{"from", "to"}, fresh)
	if !ok {
		return
	}
	e.page(c, listing{field: "summaries", items: between(c.ai.x.summaries, cur.from, cur.to),
		head: []string{jstr("from", zt(cur.from)), jstr("to", zt(cur.to))}, bare: true}, cur)
}

// getSummary is GET /meetings/{meetingId}/meeting_summary, by meeting
// UUID (double-encoded when it starts with "/" or holds "//"). A meeting
// without a summary is 404/3001 "Meeting does not exist", the Meetings
// API's answer for an unknown meeting (unverified for summaries).
func (e *Emulator) getSummary(c *call) {
	if !c.ai.a.AISummary {
		c.fail(summaryNotEnabled)
		return
	}
	id := meetingID(c)
	s := c.ai.x.summary[id]
	if s == nil {
		c.fail(&zoomError{http.StatusNotFound, 3001, "Meeting does not exist: " + id + "."})
		return
	}
	c.reply(s.raw)
}
