package zoomclient

import "time"

const dateLayout = "2006-01-02"

// Windows returns the date windows of a windowed endpoint, newest first,
// back horizonMonths months from now (ep.Window.Months when horizonMonths
// is 0): the current calendar month up to today, then whole calendar
// months, then the part of the oldest month inside the horizon. Each
// window lies within one calendar month, so it satisfies Zoom's "at most
// one month" rule, and the oldest starts no earlier than now minus the
// horizon, which satisfies Phone's "within the last six months". Dates are
// UTC and inclusive. An endpoint without windows gets one zero Cursor.
//
// The windows depend on now: a caller that resumes later should keep the
// now it started with so that stored cursors still name its windows.
func Windows(ep Endpoint, now time.Time, horizonMonths int) []Cursor {
	if ep.Window.Months == 0 {
		return []Cursor{{}}
	}
	if horizonMonths <= 0 {
		horizonMonths = ep.Window.Months
	}
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	oldest := addMonths(today, -horizonMonths)
	if ep.Window.Whole {
		// Within the horizon however it is counted: on the 31st, six
		// months back is the 3rd of a later month by AddDate's count.
		if o := today.AddDate(0, -horizonMonths, 0); o.After(oldest) {
			oldest = o
		}
		return []Cursor{{From: oldest.Format(dateLayout), To: today.Format(dateLayout)}}
	}
	var out []Cursor
	to := today
	for !to.Before(oldest) {
		from := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
		if from.Before(oldest) {
			from = oldest
		}
		out = append(out, Cursor{From: from.Format(dateLayout), To: to.Format(dateLayout)})
		to = from.AddDate(0, 0, -1)
	}
	return out
}

// Windows returns the windows of ep at the client's clock, with the
// configured recordings horizon for cloud recordings.
func (c *Client) Windows(ep Endpoint) []Cursor {
	return Windows(ep, c.clock.Now(), c.horizon(ep))
}

// horizon is the horizon to pass to Windows for ep: the configured one for
// cloud recordings, the endpoint's own (0) for the others.
func (c *Client) horizon(ep Endpoint) int {
	if ep.Path == EndpointRecordings.Path {
		return c.cfg.RecordingsHorizon
	}
	return 0
}

// addMonths moves t by n months, clamping the day to the length of the
// target month (31 March − 1 month = 28/29 February, not 3 March).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}
