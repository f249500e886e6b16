package zoomtest

import (
	"sync"
	"time"
)

// LogEntry records one request the emulator served.
type LogEntry struct {
	Time      time.Time `json:"time"` // emulator time of arrival
	Account   string    `json:"account,omitempty"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Query     string    `json:"query,omitempty"` // raw query string
	Status    int       `json:"status"`
	Category  string    `json:"category,omitempty"`   // "Light", "Medium", "Heavy", "Resource-intensive"; "" for token, downloads, /_zoomfake
	Phone     bool      `json:"phone,omitempty"`      // counted in a Zoom Phone API bucket
	Bytes     int64     `json:"bytes"`                // response body bytes written
	RateLimit string    `json:"rate_limit,omitempty"` // "QPS" or "Daily-limit" on a 429
	Code      int       `json:"code,omitempty"`       // Zoom error code, 0 if none
	Fault     string    `json:"fault,omitempty"`      // injected fault, "" if none
}

// requestLog keeps entries in order of arrival. A request takes its slot
// when it arrives and fills it when its handler returns, and a reader waits
// for the slots taken before it read: a client can have its whole answer
// before the handler has returned, and a test reading the log then must
// still see that request.
type requestLog struct {
	mu     sync.Mutex
	filled *sync.Cond // broadcast when done grows
	all    []LogEntry
	done   int // all[:done] are filled; a filled slot has a Status
}

func newRequestLog() *requestLog {
	l := &requestLog{}
	l.filled = sync.NewCond(&l.mu)
	return l
}

// take reserves the next slot.
func (l *requestLog) take() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, LogEntry{})
	return len(l.all) - 1
}

// fill writes the entry of slot i. e.Status must not be 0: a slot without
// one counts as open.
func (l *requestLog) fill(i int, e LogEntry) {
	l.mu.Lock()
	l.all[i] = e
	moved := false
	for l.done < len(l.all) && l.all[l.done].Status != 0 {
		l.done++
		moved = true
	}
	l.mu.Unlock()
	if moved {
		l.filled.Broadcast()
	}
}

// add appends a finished entry (the control endpoints, which a reader
// must not wait for).
func (l *requestLog) add(e LogEntry) {
	l.fill(l.take(), e)
}

func (l *requestLog) entries() []LogEntry {
	out, _ := l.since(0)
	return out
}

// since returns the entries from index i on, and the index to pass next,
// once every request that arrived before the call has been logged.
func (l *requestLog) since(i int) ([]LogEntry, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.all)
	for l.done < n {
		l.filled.Wait()
	}
	if i < 0 || i > n {
		i = 0
	}
	return append([]LogEntry(nil), l.all[i:n]...), n
}
