package zoomtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// control serves /_zoomfake/: the request log, the clock and the faults,
// for tests and demos driving a running zoomfake.
//
//	GET  /_zoomfake/log[?since=N]      the log as JSON lines; X-Next-Since names the next N
//	GET  /_zoomfake/clock              {"now": RFC 3339}
//	POST /_zoomfake/clock?advance=1h   move the clock (Go duration syntax)
//	POST /_zoomfake/clock?set=RFC3339  move the clock forward to a time
//	GET  /_zoomfake/faults             the fault settings
//	POST /_zoomfake/faults             replace them (JSON body, see Faults)
//	GET  /_zoomfake/rate_limited       429 counts by type
//	GET  /_zoomfake/accounts           accounts and credentials
//	GET  /_zoomfake/min_calls?user=U   MinCalls of user U (id or email) now
//	POST /_zoomfake/consent?granted=B  whether the admin grants consent at /oauth/authorize
//	POST /_zoomfake/deauthorize?account=ID  uninstall the account's OAuth app
func (e *Emulator) control(w http.ResponseWriter, r *http.Request, le *LogEntry) {
	bad := func(msg string) {
		writeJSON(w, http.StatusBadRequest, mustJSON(map[string]string{"error": msg}))
	}
	switch r.URL.Path {
	case "/_zoomfake/log":
		since, _ := strconv.Atoi(r.URL.Query().Get("since"))
		entries, next := e.log.since(since)
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("X-Next-Since", strconv.Itoa(next))
		enc := json.NewEncoder(w)
		for _, x := range entries {
			if err := enc.Encode(x); err != nil {
				return
			}
		}
	case "/_zoomfake/clock":
		if r.Method == http.MethodPost {
			q := r.URL.Query()
			if s := q.Get("advance"); s != "" {
				d, err := time.ParseDuration(s)
				if err != nil || d < 0 {
					bad("advance: want a positive Go duration such as 90m")
					return
				}
				e.clock.Advance(d)
			} else if s := q.Get("set"); s != "" {
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					bad("set: want an RFC 3339 time")
					return
				}
				e.clock.Set(t)
			} else {
				bad("want advance=DURATION or set=TIME")
				return
			}
		}
		writeJSON(w, http.StatusOK, mustJSON(map[string]string{"now": e.clock.Now().Format(time.RFC3339Nano)}))
	case "/_zoomfake/faults":
		if r.Method == http.MethodPost {
			var f Faults
			b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err == nil {
				err = json.Unmarshal(b, &f)
			}
			if err == nil {
				err = f.Validate()
			}
			if err != nil {
				bad("faults: " + err.Error())
				return
			}
			e.SetFaults(f)
		}
		e.faults.mu.Lock()
		b, _ := json.Marshal(e.faults.f)
		e.faults.mu.Unlock()
		writeJSON(w, http.StatusOK, b)
	case "/_zoomfake/rate_limited":
		writeJSON(w, http.StatusOK, mustJSON(e.RateLimited()))
	case "/_zoomfake/accounts":
		writeJSON(w, http.StatusOK, mustJSON(e.Accounts()))
	case "/_zoomfake/min_calls":
		m := e.MinCalls(r.URL.Query().Get("user"))
		if m == nil {
			writeJSON(w, http.StatusNotFound, mustJSON(map[string]string{"error": "no such user"}))
			return
		}
		writeJSON(w, http.StatusOK, mustJSON(m))
	case "/_zoomfake/consent":
		granted, err := strconv.ParseBool(r.URL.Query().Get("granted"))
		if r.Method != http.MethodPost || err != nil {
			bad("want POST with granted=true or granted=false")
			return
		}
		e.SetConsent(granted)
		writeJSON(w, http.StatusOK, mustJSON(map[string]bool{"granted": granted}))
	case "/_zoomfake/deauthorize":
		id := r.URL.Query().Get("account")
		if r.Method != http.MethodPost || e.index.accounts[id] == nil {
			bad("want POST with account=ID of an account")
			return
		}
		e.Deauthorize(id)
		writeJSON(w, http.StatusOK, mustJSON(map[string]string{"deauthorized": id}))
	default:
		writeJSON(w, http.StatusNotFound, mustJSON(map[string]string{"error": "unknown control endpoint"}))
	}
}
