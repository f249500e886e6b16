package zoomtest

import (
	"net/http"
	"strconv"
	"time"
)

func smsBadParam(name string) *zoomError {
	return &zoomError{http.StatusBadRequest, 400, "Invalid parameter: " + name + "."}
}

// listSMSSessions is GET /phone/users/{userId}/sms/sessions: sessions
// whose last message falls in from..to (filter_type last_message_time,
// the default), one month per call, the past 30 days by default, at most
// 100 a page [PH26]. The other filter types and phone_number are accepted
// and not applied: every session of the emulator is the user's own, and
// its first and last message lie within days of each other.
func (e *Emulator) listSMSSessions(c *call) {
	switch t := c.r.URL.Query().Get("session_type"); t {
	case "", "user", "all":
	case "call_queue", "auto_receptionist":
	default:
		// "SMS session type is invalid" [PH26].
		c.fail(&zoomError{http.StatusBadRequest, 400, "SMS session type is invalid."})
		return
	}
	e.phoneList(c, "sms_sessions", 30*24*time.Hour, userNotExist, smsBadParam,
		func(ui *userIndex) []item {
			if t := c.r.URL.Query().Get("session_type"); t == "call_queue" || t == "auto_receptionist" {
				return nil // the emulator's users have no shared-line sessions
			}
			return c.ai.x.smsSessions[ui.u.ID]
		}, "session_type", "phone_number", "filter_type")
}

// getSMSSession is GET /phone/sms/sessions/{sessionId}: the session's
// messages in from..to (one month, the past 30 days by default), at most
// 100 a page, oldest first unless sort=2 [PH26].
func (e *Emulator) getSMSSession(c *call) {
	if !phoneOn(c) {
		return
	}
	id := c.r.PathValue("sessionId")
	si := c.ai.x.sms[id]
	if si == nil {
		// PH26 documents 404/7013 "Error retrieving SMS history." and no
		// other answer for an unknown session.
		c.fail(&zoomError{http.StatusNotFound, 7013, "Error retrieving SMS history."})
		return
	}
	q := c.r.URL.Query()
	status := q.Get("delivery_status")
	switch status {
	case "", "all", "received", "delivered", "failed_to_send", "sent", "failed_to_deliver", "unknown":
	default:
		c.fail(smsBadParam("delivery_status"))
		return
	}
	var fresh cursor
	if q.Get("next_page_token") == "" {
		from, to, ok := phoneWindow(c, 30*24*time.Hour, smsBadParam)
		if !ok {
			return
		}
		fresh.from, fresh.to = from, to
	}
	cur, ok := e.startCursorWindow(c, id, []string{"from", "to", "delivery_status", "sort"}, fresh)
	if !ok {
		return
	}
	items := between(si.messages, cur.from, cur.to)
	if status != "" && status != "all" {
		var kept []item
		for _, it := range items {
			if it.tag == status {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	e.page(c, listing{field: "sms_histories", items: items, desc: q.Get("sort") == "2", bare: true}, cur)
}

// maxSyncCount is the largest count of the sync call [PH26].
const maxSyncCount = 250

// syncSMSSession is GET /phone/sms/sessions/{sessionId}/sync: no window;
// FSync answers the newest count messages and a sync_token, BSync with
// that token the next older ones, ISync the ones newer than the token
// (none arrive in the emulator). PH26 does not say what sync_token is when
// nothing older remains; the emulator sends "" (unverified), and the
// token lives as long as a next_page_token (unverified).
func (e *Emulator) syncSMSSession(c *call) {
	if !phoneOn(c) {
		return
	}
	id := c.r.PathValue("sessionId")
	si := c.ai.x.sms[id]
	if si == nil {
		c.fail(&zoomError{http.StatusNotFound, 12004, "Session does not exist: " + id + "."})
		return
	}
	q := c.r.URL.Query()
	count, err := strconv.Atoi(q.Get("count"))
	if err != nil || count < 1 || count > maxSyncCount {
		// count is required, 1..250 [PH26]; the answer to a bad one is
		// undocumented: the validation code 300 (unverified).
		c.fail(&zoomError{http.StatusBadRequest, 300, "Invalid parameter: count."})
		return
	}
	typ := q.Get("sync_type")
	switch typ {
	case "", "FSync", "ISync", "BSync":
	default:
		c.fail(&zoomError{http.StatusBadRequest, 300, "Invalid parameter: sync_type."})
		return
	}
	scope := c.op.pattern + "\x00" + id
	off := 0
	if tok := q.Get("sync_token"); tok != "" && typ != "FSync" && typ != "" {
		cur, ok := e.decodeToken(tok, scope, c.now)
		if !ok {
			c.fail(&zoomError{http.StatusBadRequest, 300, "The sync token is invalid or expired. Please resync with the FSync method."})
			return
		}
		off = cur.offset
		if typ == "ISync" {
			c.reply(mustJSON(map[string]any{"sms_histories": []any{}, "sync_token": tok}))
			return
		}
	}
	n := len(si.messages)
	end := min(off+count, n)
	var b []byte
	b = append(b, `{"sms_histories":[`...)
	for i := off; i < end; i++ {
		if i > off {
			b = append(b, ',')
		}
		b = append(b, si.messages[n-1-i].raw...)
	}
	next := ""
	if end < n {
		next = e.encodeToken(cursor{scope: scope, offset: end, issued: c.now})
	}
	b = append(b, `],"sync_token":`...)
	b = append(b, mustJSON(next)...)
	b = append(b, '}')
	c.reply(b)
}
