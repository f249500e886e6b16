package zoomclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"
)

// Cursor is where a list fetch stands: a date window (empty when the
// endpoint is not windowed) and Zoom's next_page_token ("" for the first
// page of the window).
type Cursor struct {
	From, To  string // yyyy-mm-dd, UTC, inclusive
	PageToken string
}

// Page is one validated page of a list endpoint.
type Page struct {
	Body []byte   // the answer as Zoom sent it: a JSON object holding the list field
	IDs  []string // id of each record of the list, in order; "" for a record without one
	Next Cursor   // the cursor of the next page of this window; zero when Last
	Last bool     // no more pages in this window
}

// User is the part of a Zoom user the processor needs. It holds personal
// data; its LogValue leaves the email out.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Status    string `json:"status"` // active, inactive, pending
	Type      int    `json:"type"`   // 1 basic, 2 licensed, ...
	AccountID string `json:"account_id"`
}

// LogValue implements slog.LogValuer without the email.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("status", u.Status))
}

// User looks a user up by email or id (GET /users/{userId}) and returns
// the body as Zoom sent it and its main fields. An unknown user is an
// error for which IsNotFound is true.
func (c *Client) User(ctx context.Context, emailOrID string) ([]byte, User, error) {
	body, u, _, err := c.user(ctx, emailOrID)
	return body, u, err
}

// user is User that also returns the HTTP calls made.
func (c *Client) user(ctx context.Context, emailOrID string) ([]byte, User, int, error) {
	var u User
	r := &request{ep: EndpointUser, userID: emailOrID, check: func(b []byte) error {
		u = User{}
		if err := json.Unmarshal(b, &u); err != nil {
			return err
		}
		if u.ID == "" {
			return errors.New("user without id")
		}
		return nil
	}}
	body, err := c.get(ctx, r)
	if err != nil {
		return nil, User{}, r.calls, err
	}
	return body, u, r.calls, nil
}

// Get fetches an object endpoint (one without a list) for a user and
// returns the body as Zoom sent it, checked to be a JSON object.
func (c *Client) Get(ctx context.Context, ep Endpoint, userID string) ([]byte, error) {
	body, _, err := c.object(ctx, ep, userID, "")
	return body, err
}

// object is Get that also returns the HTTP calls made; item replaces
// {item} in the path of an endpoint fetched item by item.
func (c *Client) object(ctx context.Context, ep Endpoint, userID, item string) ([]byte, int, error) {
	if ep.List != "" {
		return nil, 0, fmt.Errorf("zoomclient: %s is a list endpoint: use Page", ep.Name)
	}
	r := &request{ep: ep, userID: userID, item: item, query: cloneQuery(ep.Query), check: func(b []byte) error {
		var m map[string]json.RawMessage
		return json.Unmarshal(b, &m)
	}}
	body, err := c.get(ctx, r)
	return body, r.calls, err
}

// Page fetches the page of a list endpoint at cur. The page is returned
// only when complete: a well-formed JSON object with the list field, so
// the caller may store Body and Next together as a checkpoint. A page
// token Zoom no longer accepts (they live 15 minutes) is an error for
// which IsPageTokenExpired is true: fetch the window again from its start.
func (c *Client) Page(ctx context.Context, ep Endpoint, userID string, cur Cursor) (Page, error) {
	p, _, err := c.page(ctx, ep, userID, cur)
	return p, err
}

// page is Page that also returns the HTTP calls made, on failure too.
func (c *Client) page(ctx context.Context, ep Endpoint, userID string, cur Cursor) (Page, int, error) {
	return c.itemPage(ctx, ep, userID, "", cur)
}

// itemPage is page for the item of an endpoint fetched item by item
// (Endpoint.Path holds {item}, or Endpoint.ItemQuery); item is "" for the
// others.
func (c *Client) itemPage(ctx context.Context, ep Endpoint, userID, item string, cur Cursor) (Page, int, error) {
	if ep.List == "" {
		return Page{}, 0, fmt.Errorf("zoomclient: %s is not a list endpoint: use Get", ep.Name)
	}
	if (ep.Window.Months > 0) != (cur.From != "") || (cur.From == "") != (cur.To == "") {
		return Page{}, 0, fmt.Errorf("zoomclient: %s: cursor window does not fit the endpoint (use Windows)", ep.Name)
	}
	q, pathItem, err := itemQuery(ep, item)
	if err != nil {
		return Page{}, 0, err
	}
	if cur.From != "" {
		from, err := horizonStart(ep, c.clock.Now(), cur)
		if err != nil {
			return Page{}, 0, err
		}
		to := cur.To
		if ep.DateTime {
			from, to = from+"T00:00:00Z", to+"T23:59:59Z"
		}
		q.Set("from", from)
		q.Set("to", to)
	}
	tokenField := "next_page_token"
	switch {
	case ep.Sync:
		// The first call is FSync (the newest messages); each later one a
		// BSync from the token the previous one gave.
		tokenField = "sync_token"
		q.Set("count", strconv.Itoa(ep.PageSize))
		q.Set("sync_type", "FSync")
		if cur.PageToken != "" {
			q.Set("sync_type", "BSync")
			q.Set("sync_token", cur.PageToken)
		}
	default:
		if ep.PageSize > 0 {
			q.Set("page_size", strconv.Itoa(ep.PageSize))
		}
		if cur.PageToken != "" {
			q.Set("next_page_token", cur.PageToken)
		}
	}
	var p Page
	r := &request{ep: ep, userID: userID, item: pathItem, query: q, check: func(b []byte) error {
		var err error
		p, err = parsePage(b, ep.List, ep.ID, tokenField)
		return err
	}}
	body, err := c.get(ctx, r)
	if err != nil {
		return Page{}, r.calls, err
	}
	p.Body = body
	if ep.Mine != "" {
		mine := func(rec map[string]json.RawMessage) bool { return idString(rec[ep.Mine]) == userID }
		if p.Body, p.IDs, err = keepRecords(body, ep.List, ep.ID, mine); err != nil {
			return Page{}, r.calls, fmt.Errorf("zoomclient: %s: %w", ep.Name, err)
		}
	}
	if !p.Last {
		p.Next = Cursor{From: cur.From, To: cur.To, PageToken: p.Next.PageToken}
	}
	return p, r.calls, nil
}

// itemQuery returns the query of a call for item: the endpoint's fixed
// query, with the item's parameters for an ItemQuery endpoint, and the
// item to put in the path for the others.
func itemQuery(ep Endpoint, item string) (url.Values, string, error) {
	q := cloneQuery(ep.Query)
	if !ep.ItemQuery {
		return q, item, nil
	}
	iq, err := url.ParseQuery(item)
	if err != nil || len(iq) == 0 {
		return nil, "", fmt.Errorf("zoomclient: %s: malformed item", ep.Name)
	}
	for k, v := range iq {
		q[k] = v
	}
	return q, "", nil
}

// listRecords decodes a list page: its top-level fields and the records
// of its list field, none when the field is absent or null.
func listRecords(page []byte, list string) (map[string]json.RawMessage, []map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(page, &top); err != nil {
		return nil, nil, err
	}
	var recs []map[string]json.RawMessage
	if raw, ok := top[list]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &recs); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", list, err)
		}
	}
	return top, recs, nil
}

// keepRecords returns a list page with only the records keep accepts, in
// order, and their ids: what Zoom sent of other people that the request
// must not hold (summaries of other hosts, Team Chat under the account's
// policy). A page whose every record keep accepts is returned as sent;
// another is encoded again.
func keepRecords(page []byte, list, idField string, keep func(rec map[string]json.RawMessage) bool) ([]byte, []string, error) {
	top, recs, err := listRecords(page, list)
	if err != nil {
		return nil, nil, err
	}
	kept := make([]map[string]json.RawMessage, 0, len(recs))
	ids := make([]string, 0, len(recs))
	for _, rec := range recs {
		if keep(rec) {
			kept = append(kept, rec)
			ids = append(ids, idString(rec[idField]))
		}
	}
	if len(kept) == len(recs) {
		return page, ids, nil
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		return nil, nil, err
	}
	top[list] = raw
	b, err := json.Marshal(top)
	return b, ids, err
}

// parsePage validates a list answer and extracts its record ids and next
// page token.
func parsePage(b []byte, list, idField, tokenField string) (Page, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return Page{}, err
	}
	raw, ok := top[list]
	if !ok {
		return Page{}, fmt.Errorf("no %q field", list)
	}
	var recs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		return Page{}, fmt.Errorf("field %q: %w", list, err)
	}
	var p Page
	p.IDs = make([]string, len(recs))
	for i, rec := range recs {
		p.IDs[i] = idString(rec[idField])
	}
	if t, ok := top[tokenField]; ok && !bytes.Equal(t, []byte("null")) {
		var tok string
		if err := json.Unmarshal(t, &tok); err != nil {
			return Page{}, fmt.Errorf("%s: %w", tokenField, err)
		}
		p.Next.PageToken = tok
	}
	p.Last = p.Next.PageToken == ""
	return p, nil
}

// idString renders a string or numeric id; Zoom's meeting ids are numbers
// too large for float64.
func idString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func cloneQuery(q url.Values) url.Values {
	out := make(url.Values, len(q)+3)
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// ErrPastHorizon is a window that lies wholly before the oldest day Zoom
// serves: a request that started months ago and parked or was resumed
// since. Zoom holds nothing of it any more.
var ErrPastHorizon = errors.New("zoomclient: the window lies before the oldest day Zoom serves")

// horizonStart returns the from date to send for cur at now: its own, or
// for an endpoint whose Window.Limit is Zoom's, no earlier than Months back
// from today, since windows are computed when a request starts and Zoom's
// horizon moves on by a day each day.
func horizonStart(ep Endpoint, now time.Time, cur Cursor) (string, error) {
	if !ep.Window.Limit {
		return cur.From, nil
	}
	now = now.UTC()
	oldest := addMonths(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC), -ep.Window.Months).Format(dateLayout)
	switch {
	case cur.To < oldest:
		return "", fmt.Errorf("%s %s..%s: %w", ep.Name, cur.From, cur.To, ErrPastHorizon)
	case cur.From < oldest:
		return oldest, nil
	}
	return cur.From, nil
}
