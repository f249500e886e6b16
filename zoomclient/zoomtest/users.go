package zoomtest

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// userParam is {userId}: a user id or an email address, matched without
// regard to case (Zoom's case handling is unverified, zoom-api.md §8).
func userParam(c *call) string {
	v := c.r.PathValue("userId")
	if strings.Contains(v, "%") {
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
	}
	return v
}

// lookup finds {userId} in the caller's account; notFound writes the
// endpoint's own error when it does not exist.
func (c *call) lookup(notFound func(id string) *zoomError) *userIndex {
	id := userParam(c)
	if ui := c.ai.user(id); ui != nil {
		return ui
	}
	c.fail(notFound(id))
	return nil
}

func userNotExist(id string) *zoomError {
	return &zoomError{http.StatusNotFound, 1001, "User does not exist: " + id + "."}
}

func userNotInAccount(id string) *zoomError {
	return &zoomError{http.StatusNotFound, 1001, "User " + id + " not exist or not belong to this account."}
}

func (e *Emulator) getUser(c *call) {
	ui := c.lookup(userNotExist)
	if ui == nil {
		return
	}
	b := ui.profile
	if b == nil {
		b = viewUser(ui.a, ui.u, c.now)
	}
	c.reply(b)
}

// listUsers is GET /users: the account's active users (the default
// status filter), in order of id, with the fields of the list's user
// object (users 2026-02).
func (e *Emulator) listUsers(c *call) {
	cur, ok := e.startCursor(c, "", []string{"status"})
	if !ok {
		return
	}
	status := c.r.URL.Query().Get("status")
	if status == "" {
		status = "active"
	}
	var users []item
	for _, id := range slices.Sorted(maps.Keys(c.ai.byID)) {
		ui := c.ai.byID[id]
		if ui.u.Status != status {
			continue
		}
		var full map[string]json.RawMessage
		if err := json.Unmarshal(viewUser(ui.a, ui.u, c.now), &full); err != nil {
			c.fail(&zoomError{http.StatusInternalServerError, 500, "Internal error."})
			return
		}
		listed := map[string]json.RawMessage{}
		for _, k := range listUserFields {
			if v, ok := full[k]; ok {
				listed[k] = v
			}
		}
		users = append(users, item{raw: mustJSON(listed)})
	}
	e.page(c, listing{field: "users", items: users, number: true}, cur)
}

// listUserFields are the members of a user in List users' answer.
var listUserFields = []string{"id", "first_name", "last_name", "display_name", "email", "type", "pmi", "timezone",
	"verified", "dept", "created_at", "user_created_at", "last_login_time", "last_client_version", "pic_url",
	"language", "phone_number", "status", "role_id", "group_ids", "im_group_ids"}

func (e *Emulator) getUserSettings(c *call) {
	if ui := c.lookup(userNotExist); ui != nil {
		c.reply(ui.settings)
	}
}

func (e *Emulator) getAssistants(c *call) {
	if ui := c.lookup(userNotExist); ui != nil {
		c.reply(ui.assistants)
	}
}

func (e *Emulator) getSchedulers(c *call) {
	if ui := c.lookup(userNotExist); ui != nil {
		c.reply(ui.schedulers)
	}
}

func (e *Emulator) listGroups(c *call) {
	if c.ai.a.Plan == Free {
		c.fail(&zoomError{http.StatusBadRequest, 200, "Only available for Paid account."})
		return
	}
	cur, ok := e.startCursor(c, "", nil)
	if !ok {
		return
	}
	e.page(c, listing{field: "groups", items: c.ai.groups}, cur)
}

// startCursor returns the cursor of this request: decoded from
// next_page_token when there is one, else a fresh one over [from, to).
// filters are the query parameters the token is bound to. On a bad token
// it writes the endpoint family's error and returns false.
func (e *Emulator) startCursor(c *call, userID string, filters []string) (cursor, bool) {
	return e.startCursorWindow(c, userID, filters, cursor{})
}

func (e *Emulator) startCursorWindow(c *call, userID string, filters []string, fresh cursor) (cursor, bool) {
	q := c.r.URL.Query()
	var sb strings.Builder
	sb.WriteString(c.op.pattern)
	sb.WriteByte(0)
	sb.WriteString(userID)
	for _, f := range filters {
		sb.WriteByte(0)
		sb.WriteString(f)
		sb.WriteByte('=')
		sb.WriteString(q.Get(f))
	}
	scope := sb.String()
	tok := q.Get("next_page_token")
	if tok == "" {
		fresh.scope = scope
		return fresh, true
	}
	cur, ok := e.decodeToken(tok, scope, c.now)
	if !ok {
		if c.op.phone {
			// PH26 documents code 400 for the Phone lists (call_history
			// documents only 301; it gets the same, unverified).
			c.fail(&zoomError{http.StatusBadRequest, 400, "The next page token is invalid or expired."})
		} else {
			c.fail(&zoomError{http.StatusBadRequest, 300, "The next page token is invalid or expired."})
		}
		return cursor{}, false
	}
	return cur, true
}
