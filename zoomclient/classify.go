package zoomclient

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Zoom error codes that say the data cannot exist for this user or
// account rather than that something went wrong (zoom-api.md §3).
var notApplicableCodes = map[int]bool{
	200:  true, // "Only available for paid account", "Webinar plan is missing", "No permission." on add-on features
	2031: true, // "Zoom Phone has not been enabled for this account."
	2032: true, // user has no Zoom Phone licence (as used by Zoom Phone admin APIs)
	3161: true, // "Meeting hosting and scheduling capabilities are not allowed for your user account."
}

// parseZoomError reads Zoom's {"code","message"} body; for anything else
// (a gateway's HTML page) it returns the status text.
func parseZoomError(body []byte, status int, userID string) (int, string) {
	var z struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if json.Unmarshal(body, &z) != nil || (z.Code == "" && z.Message == "") {
		return 0, http.StatusText(status)
	}
	code, _ := strconv.Atoi(z.Code.String())
	return code, redact(z.Message, userID)
}

// classify turns a final non-200, non-retryable answer into an *Error.
func (c *Client) classify(r *request, res result) *Error {
	e := c.newError(r, Other, res.message)
	e.Status, e.Code, e.TrackingID = res.status, res.code, res.tracking
	msg := strings.ToLower(res.message)
	switch {
	case res.code == 4711 || res.code == 4700 || strings.Contains(msg, "does not contain scope"):
		e.Kind = MissingScope
		e.Scopes = parseScopes(res.message)
		if len(e.Scopes) > 0 {
			e.Message = "the app lacks scope " + strings.Join(e.Scopes, ", ") +
				": grant it to the Server-to-Server OAuth app in the Zoom App Marketplace (" + res.message + ")"
		}
	case notApplicableCodes[res.code]:
		e.Kind = NotApplicable
	case res.status == http.StatusBadRequest && r.query.Get("next_page_token") != "" &&
		(strings.Contains(msg, "page token") || strings.Contains(msg, "next_page_token")):
		e.Kind = PageTokenExpired
	case res.status == http.StatusNotFound:
		e.Kind = NotFound
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		e.Kind = Unauthorized
	case res.status >= 400 && res.status < 500:
		e.Kind = Invalid
	}
	return e
}

// quota records a Daily-limit answer: the bucket named by
// X-RateLimit-Category makes no call until the reset, in the client's clock.
func (c *Client) quota(r *request, th *throttle, res result) error {
	b := r.ep.Bucket()
	if cat := res.header.Get("X-RateLimit-Category"); cat != "" {
		b.Category = Category(cat)
	}
	reset := resetTime(res.header, c.clock.Now())
	q := &QuotaError{Op: r.ep.Name, Category: b.Category, Phone: b.Phone, Reset: reset}
	c.limits.block(b, q)
	if b != th.bucket {
		c.limits.block(th.bucket, q)
	}
	c.log.Warn("zoom daily limit reached", "endpoint", r.ep.Name, "bucket", b.String(), "reset", reset)
	return q
}

// resetTime computes when a Daily-limit ends in the client's clock: now +
// (Retry-After − Date), so that it is right whatever the skew between the
// two clocks. Retry-After may be an absolute time (Zoom sends RFC 3339,
// e.g. 2025-08-23T00:00:00Z) or seconds. Without a usable Retry-After the
// next 00:00 UTC of the client's clock is assumed, Zoom's documented reset.
func resetTime(h http.Header, now time.Time) time.Time {
	ra := strings.TrimSpace(h.Get("Retry-After"))
	if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
		return now.Add(time.Duration(secs) * time.Second)
	}
	at, ok := parseTime(ra)
	if !ok {
		return nextMidnightUTC(now)
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		// Date is truncated to the second, which errs towards a later reset.
		return now.Add(at.Sub(date))
	}
	return at
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func nextMidnightUTC(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
