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

type requestLog struct {
	mu  sync.Mutex
	all []LogEntry
}

func (l *requestLog) add(e LogEntry) {
	l.mu.Lock()
	l.all = append(l.all, e)
	l.mu.Unlock()
}

func (l *requestLog) entries() []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LogEntry(nil), l.all...)
}

// since returns the entries from index i on, and the index to pass next.
func (l *requestLog) since(i int) ([]LogEntry, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i > len(l.all) {
		i = 0
	}
	return append([]LogEntry(nil), l.all[i:]...), len(l.all)
}
