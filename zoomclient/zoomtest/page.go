package zoomtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pageTokenTTL is how long a next_page_token stays valid [DW:pagination].
const pageTokenTTL = 15 * time.Minute

const (
	defaultPageSize = 30
	maxPageSize     = 300
)

// cursor is what a next_page_token carries: where the next page starts and
// the window the first page resolved, bound to the operation, the user and
// the query's filters.
type cursor struct {
	scope  string // op pattern, user id and filters
	from   time.Time
	to     time.Time
	offset int
	issued time.Time
}

// encodeToken signs a cursor. The token is opaque to clients: its only
// promises are Zoom's (valid 15 minutes, "" on the last page).
func (e *Emulator) encodeToken(c cursor) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(c.from.Unix(), 36))
	b.WriteByte('.')
	b.WriteString(strconv.FormatInt(c.to.Unix(), 36))
	b.WriteByte('.')
	b.WriteString(strconv.Itoa(c.offset))
	b.WriteByte('.')
	b.WriteString(strconv.FormatInt(c.issued.UnixMilli(), 36))
	payload := b.String()
	mac := hmac.New(sha256.New, e.pageKey)
	mac.Write([]byte(c.scope))
	mac.Write([]byte{0})
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "_" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
}

// decodeToken checks a token against the scope it must have been issued
// for and its age.
func (e *Emulator) decodeToken(tok, scope string, now time.Time) (cursor, bool) {
	p, sig, ok := strings.Cut(tok, "_")
	if !ok {
		return cursor{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return cursor{}, false
	}
	mac := hmac.New(sha256.New, e.pageKey)
	mac.Write([]byte(scope))
	mac.Write([]byte{0})
	mac.Write(payload)
	if !hmac.Equal(got, mac.Sum(nil)[:12]) {
		return cursor{}, false
	}
	f := strings.Split(string(payload), ".")
	if len(f) != 4 {
		return cursor{}, false
	}
	from, e1 := strconv.ParseInt(f[0], 36, 64)
	to, e2 := strconv.ParseInt(f[1], 36, 64)
	off, e3 := strconv.Atoi(f[2])
	iss, e4 := strconv.ParseInt(f[3], 36, 64)
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil || off < 0 {
		return cursor{}, false
	}
	c := cursor{scope: scope, from: time.Unix(from, 0).UTC(), to: time.Unix(to, 0).UTC(), offset: off, issued: time.UnixMilli(iss).UTC()}
	if !now.Before(c.issued.Add(pageTokenTTL)) {
		return cursor{}, false
	}
	return c, true
}

// pageSize reads page_size: default 30, at most 300.
//
// Zoom documents the maximum but not what a larger value does; the
// emulator serves 300 (unverified).
func pageSize(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page_size"))
	if err != nil || n < 1 {
		return defaultPageSize
	}
	return min(n, maxPageSize)
}

// listing describes one page to write.
type listing struct {
	field  string   // "meetings", "call_logs", ...
	items  []item   // the whole filtered list, oldest first
	desc   bool     // serve newest first
	head   []string // extra envelope members, already encoded: `"from":"2024-01-01"`
	number bool     // include page_number (Meetings API lists)
	// bare: the envelope is page_size and next_page_token only, without
	// page_count and total_records, as the SMS and summary lists' specs
	// declare it (PH26, testdata/openapi/summaries.json).
	bare bool
}

// page writes one page of l starting at cur.offset, with a next_page_token
// when more remain.
func (e *Emulator) page(c *call, l listing, cur cursor) {
	size := min(pageSize(c.r), c.op.pageMax())
	total := len(l.items)
	envelope := func(off int) string {
		if l.bare {
			return `"page_size":` + strconv.Itoa(size)
		}
		s := `"page_count":` + strconv.Itoa((total+size-1)/size)
		if l.number {
			s += `,"page_number":` + strconv.Itoa(off/size+1)
		}
		return s + `,"page_size":` + strconv.Itoa(size) + `,"total_records":` + strconv.Itoa(total)
	}
	e.writePage(c, cur, total, size, l.head, envelope, l.field, func(i int) []byte {
		if l.desc {
			i = total - 1 - i
		}
		return l.items[i].raw
	})
}

// writePage writes the page of a list of total items that starts at
// cur.offset: head's members, the envelope of the API family (which gets
// the page's offset), next_page_token when more remain, and the items,
// at(i) the i-th. It is the one page writer of the emulator.
func (e *Emulator) writePage(c *call, cur cursor, total, size int, head []string, envelope func(off int) string, field string, at func(int) []byte) {
	off := min(cur.offset, total)
	end := min(off+size, total)
	next := ""
	if end < total {
		cur.offset, cur.issued = end, c.now
		next = e.encodeToken(cur)
	}
	var b bytes.Buffer
	b.Grow(256 + (end-off)*600)
	b.WriteByte('{')
	for _, h := range head {
		b.WriteString(h)
		b.WriteByte(',')
	}
	b.WriteString(envelope(off))
	b.WriteString(`,"next_page_token":"` + next + `","` + field + `":[`)
	for i := off; i < end; i++ {
		if i > off {
			b.WriteByte(',')
		}
		b.Write(at(i))
	}
	b.WriteString("]}")
	c.reply(b.Bytes())
}

// jstr encodes a member of a page envelope.
func jstr(name, value string) string {
	return `"` + name + `":` + string(mustJSON(value))
}
