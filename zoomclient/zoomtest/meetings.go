package zoomtest

import (
	"net/http"
	"time"
)

func invalidParam(name string) *zoomError {
	return &zoomError{http.StatusBadRequest, 300, "Invalid parameter: " + name + "."}
}

func (e *Emulator) listMeetings(c *call) {
	ui := c.lookup(userNotInAccount)
	if ui == nil {
		return
	}
	q := c.r.URL.Query()
	var items []item
	switch typ := q.Get("type"); typ {
	case "", "scheduled":
		items = ui.scheduled
	case "upcoming", "upcoming_meetings":
		items = between(ui.scheduled, c.now.Add(-2*time.Hour), time.Time{})
	case "live":
		items = nil
	case "previous_meetings":
		items = ui.previous
	default:
		c.fail(invalidParam("type"))
		return
	}
	from, ok := dateParam(c, "from", time.Time{})
	if !ok {
		return
	}
	to, ok := dateParam(c, "to", time.Time{})
	if !ok {
		return
	}
	if !to.IsZero() {
		to = to.Add(day)
	}
	items = between(items, from, to)
	cur, ok := e.startCursor(c, ui.u.ID, []string{"type", "from", "to"})
	if ok {
		e.page(c, listing{field: "meetings", items: items, number: true}, cur)
	}
}

func (e *Emulator) listWebinars(c *call) {
	ui := c.lookup(userNotInAccount)
	if ui == nil {
		return
	}
	if !ui.u.WebinarAddon {
		// Not in the spec, which documents only 404/1001 here; the text is
		// Zoom's as reported on the developer forum (unverified).
		c.fail(&zoomError{http.StatusBadRequest, 200, "Webinar plan is missing. You must subscribe to the webinar plan and enable webinar for this user in order to perform this action."})
		return
	}
	items := ui.webinars
	switch typ := c.r.URL.Query().Get("type"); typ {
	case "", "scheduled":
	case "upcoming":
		items = between(items, c.now.Add(-2*time.Hour), time.Time{})
	default:
		c.fail(invalidParam("type"))
		return
	}
	cur, ok := e.startCursor(c, ui.u.ID, []string{"type"})
	if ok {
		e.page(c, listing{field: "webinars", items: items, number: true}, cur)
	}
}

// reportMeetings is GET /report/users/{userId}/meetings: paid plans only,
// from and to required, one month that falls within the past six months,
// meetings with two participants or more.
func (e *Emulator) reportMeetings(c *call) {
	if c.ai.a.Plan == Free {
		c.fail(&zoomError{http.StatusBadRequest, 200, "This is only available for paid account:" + c.ai.a.ID + "."})
		return
	}
	ui := c.lookup(userNotInAccount)
	if ui == nil {
		return
	}
	q := c.r.URL.Query()
	from, ok1 := parseDate(q.Get("from"))
	to, ok2 := parseDate(q.Get("to"))
	switch {
	case !ok1:
		c.fail(invalidParam("from"))
		return
	case !ok2:
		c.fail(invalidParam("to"))
		return
	}
	to = to.Add(day)
	// The spec says the range "should only be one month" within "the past
	// six months" but not what Zoom answers otherwise; code 300 is its
	// validation code (unverified).
	if to.Before(from) || !withinMonth(from, to) {
		c.fail(&zoomError{http.StatusBadRequest, 300, "The date range must not exceed one month."})
		return
	}
	if !withinSixMonths(from, c.now) {
		c.fail(&zoomError{http.StatusBadRequest, 300, "The date range must fall within the past six months."})
		return
	}
	typ := q.Get("type")
	switch typ {
	case "", "past", "pastOne", "pastJoined":
	default:
		c.fail(invalidParam("type"))
		return
	}
	cur, ok := e.startCursor(c, ui.u.ID, []string{"from", "to", "type"})
	if !ok {
		return
	}
	rows := ui.report
	if typ == "pastJoined" {
		// Meetings the user hosted or joined, including others' (index_extra.go).
		rows = c.ai.x.attended[ui.u.ID]
	}
	e.page(c, listing{field: "meetings", items: between(rows, from, to),
		head: []string{jstr("from", q.Get("from")), jstr("to", q.Get("to"))}, number: true}, cur)
}
