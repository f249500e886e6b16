package zoomtest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// zoomError is an API error in Zoom's {code, message} shape.
type zoomError struct {
	status  int
	code    int
	message string
}

func (z *zoomError) body() []byte {
	return mustJSON(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{z.code, z.message})
}

// recorder wraps the ResponseWriter of one request: it counts what is
// written for the log and carries out body faults.
type recorder struct {
	http.ResponseWriter
	le      LogEntry
	status  int
	limit   int64 // FaultReset: abort after this many body bytes; -1: no reset
	written int64
}

func (rw *recorder) WriteHeader(status int) {
	if rw.status != 0 {
		return
	}
	rw.status = status
	if rw.limit >= 0 {
		if n, err := strconv.ParseInt(rw.Header().Get("Content-Length"), 10, 64); err == nil {
			rw.limit = n / 2
		}
	}
	rw.ResponseWriter.WriteHeader(status)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.limit >= 0 && rw.written+int64(len(b)) > rw.limit {
		n, _ := rw.ResponseWriter.Write(b[:max(rw.limit-rw.written, 0)])
		rw.written += int64(n)
		rw.abort()
	}
	n, err := rw.ResponseWriter.Write(b)
	rw.written += int64(n)
	return n, err
}

// abort resets the connection half-way through the body. It hijacks the
// connection where it can, so the client sees a reset, and otherwise lets
// net/http abort the response.
func (rw *recorder) abort() {
	rc := http.NewResponseController(rw.ResponseWriter)
	_ = rc.Flush()
	if conn, buf, err := rc.Hijack(); err == nil {
		_ = buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
	}
	panic(http.ErrAbortHandler)
}

// resetMidBody arms the reset fault: the connection is reset half-way
// through the body (the limit is set at WriteHeader).
func resetMidBody(w http.ResponseWriter) {
	if rw, ok := w.(*recorder); ok {
		rw.limit = 0
	}
}

func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

var baseMarkBytes = []byte(baseMark)

// ServeHTTP serves the emulated API: it stamps the emulator's Date, logs
// the request and dispatches it.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := e.clock.Now()
	w.Header().Set("Date", now.Format(http.TimeFormat))
	rec := &recorder{ResponseWriter: w, limit: -1, le: LogEntry{Time: now, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}}
	control := strings.HasPrefix(r.URL.Path, "/_zoomfake/")
	slot := -1
	if !control {
		slot = e.log.take()
	}
	defer func() {
		rec.le.Status = rec.status
		if rec.le.Status == 0 {
			rec.le.Status = http.StatusOK
		}
		rec.le.Bytes = rec.written
		if control {
			e.log.add(rec.le)
		} else {
			e.log.fill(slot, rec.le)
		}
	}()
	e.mux.ServeHTTP(rec, r)
}

// handlerFunc is a handler that may fill in its log entry.
type handlerFunc func(w http.ResponseWriter, r *http.Request, le *LogEntry)

func (e *Emulator) plain(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*recorder)
		if !ok {
			var le LogEntry
			h(w, r, &le)
			return
		}
		h(w, r, &rec.le)
	})
}

// call is the state of one API request that passed authentication.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	le    *LogEntry
	op    *op
	ai    *accountIndex
	now   time.Time
	base  string
	token string
}

// api runs the pipeline every API operation goes through: bearer token,
// scope, rate limit, injected fault, then the handler.
func (e *Emulator) api(o *op) http.Handler {
	return e.plain(func(w http.ResponseWriter, r *http.Request, le *LogEntry) {
		le.Category, le.Phone = o.category, o.phone
		tok, info, zerr := e.authenticate(r, false)
		if zerr != nil {
			writeError(w, le, zerr)
			return
		}
		ai := e.index.accounts[info.account]
		le.Account = ai.a.ID
		if !o.granted(info) {
			writeError(w, le, &zoomError{http.StatusBadRequest, 4711, "Invalid access token, does not contain scopes:[" + o.scope + "]."})
			return
		}
		now := e.clock.Now()
		if !e.admit(w, le, ai.a, o, now) {
			return
		}
		c := &call{w: w, r: r, le: le, op: o, ai: ai, now: now, base: baseURL(r), token: tok}
		if e.injectFault(c, o.pattern) {
			return
		}
		o.handle(e, c)
	})
}

// admit applies the rate limits; on a 429 it writes the response.
func (e *Emulator) admit(w http.ResponseWriter, le *LogEntry, a *AccountData, o *op, now time.Time) bool {
	v := e.limiter.admit(a.ID, a.Plan, o.phone, o.category, now)
	h := w.Header()
	if v.ok {
		if v.limit > 0 {
			// Observed on daily-capped plans; optional for clients.
			h.Set("X-RateLimit-Category", o.category)
			h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
			h.Set("X-RateLimit-Remaining", strconv.Itoa(v.remaining))
		}
		return true
	}
	h.Set("X-RateLimit-Category", o.category)
	h.Set("X-RateLimit-Type", v.kind)
	msg := "You have reached the maximum per-second rate limit for this API. Try again later."
	if v.kind == "Daily-limit" {
		h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("Retry-After", v.reset.Format("2006-01-02T15:04:05Z"))
		msg = "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."
	}
	le.RateLimit = v.kind
	e.mu.Lock()
	e.rateLimited[v.kind]++
	e.mu.Unlock()
	writeError(w, le, &zoomError{http.StatusTooManyRequests, 429, msg})
	return false
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, le *LogEntry, z *zoomError) {
	le.Code = z.code
	writeJSON(w, z.status, z.body())
}

// reply writes a 200 JSON body, applying a body fault chosen for the call.
func (c *call) reply(body []byte) {
	if bytes.Contains(body, baseMarkBytes) {
		body = bytes.ReplaceAll(body, baseMarkBytes, []byte(c.base))
	}
	switch Fault(c.le.Fault) {
	case FaultTruncate:
		body = body[:len(body)/2]
	case FaultGarble:
		body = garble(body)
	}
	writeJSON(c.w, http.StatusOK, body)
}

func (c *call) fail(z *zoomError) { writeError(c.w, c.le, z) }

// garble overwrites a few bytes in the middle of the body so it no longer
// parses.
func garble(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := len(out) / 3; i < len(out) && i < len(out)/3+8; i++ {
		out[i] = "\x00}{\"]:,\xff"[i%8]
	}
	return out
}

// sleepCtx waits d of real time or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// injectFault applies the fault picked for this request. It reports
// whether the response has been written.
func (e *Emulator) injectFault(c *call, endpoint string) bool {
	f, delay := e.faults.pick(endpoint)
	if f == "" {
		return false
	}
	c.le.Fault = string(f)
	switch f {
	case FaultSlow:
		if err := sleepCtx(c.r.Context(), delay); err != nil {
			return true
		}
		return false
	case FaultTruncate, FaultGarble:
		return false // reply applies them
	case FaultReset:
		resetMidBody(c.w)
		return false
	case FaultRevoke:
		e.auth.revoke(c.token)
		writeError(c.w, c.le, &zoomError{http.StatusUnauthorized, 124, "Invalid access token."})
		return true
	case Fault500:
		writeError(c.w, c.le, &zoomError{http.StatusInternalServerError, 500, "Internal server error."})
		return true
	default:
		status, _ := strconv.Atoi(string(f))
		c.w.Header().Set("Content-Type", "text/html")
		c.w.WriteHeader(status)
		_, _ = c.w.Write([]byte("<html><body><h1>" + strconv.Itoa(status) + " " + http.StatusText(status) + "</h1></body></html>\n"))
		return true
	}
}
