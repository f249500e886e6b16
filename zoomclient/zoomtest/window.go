package zoomtest

import (
	"time"
)

const day = 24 * time.Hour

func utcDay(t time.Time) time.Time { return t.UTC().Truncate(day) }

// parseDate reads yyyy-mm-dd.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

// dateParam reads the yyyy-mm-dd query parameter name, def when absent.
// A malformed one fails the call with Zoom's invalid-parameter error.
func dateParam(c *call, name string, def time.Time) (time.Time, bool) {
	s := c.r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	t, ok := parseDate(s)
	if !ok {
		c.fail(invalidParam(name))
	}
	return t, ok
}

// parsePhoneTime reads the two forms the Phone API accepts: yyyy-mm-dd and
// yyyy-MM-ddTHH:mm:ssZ. A date as an upper bound means the whole day.
func parsePhoneTime(s string, upper bool) (time.Time, bool) {
	if t, ok := parseDate(s); ok {
		if upper {
			t = t.Add(day)
		}
		return t, true
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", s)
	return t, err == nil
}

// withinMonth reports whether [from, to) spans at most one calendar month
// (to is exclusive, so 2024-01-01..2024-02-01 as dates is allowed).
func withinMonth(from, to time.Time) bool {
	return !to.After(from.AddDate(0, 1, 0).Add(day))
}

// withinSixMonths reports whether from falls in the six months before now.
func withinSixMonths(from, now time.Time) bool {
	return !from.Before(utcDay(now).AddDate(0, -6, 0))
}

func dateString(t time.Time) string { return t.UTC().Format("2006-01-02") }
