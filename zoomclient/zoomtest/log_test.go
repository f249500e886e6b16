package zoomtest

import (
	"slices"
	"testing"
	"testing/synctest"
)

func paths(es []LogEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Path)
	}
	return out
}

// TestRequestLogWaitsForEarlier: a reader waits for the requests that
// arrived before it, whatever order they finish in, and for no later one.
func TestRequestLogWaitsForEarlier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newRequestLog()
		first, second := l.take(), l.take()
		type result struct {
			out  []LogEntry
			next int
		}
		got := make(chan result, 1)
		go func() {
			out, next := l.since(0)
			got <- result{out, next}
		}()
		synctest.Wait()
		l.fill(second, LogEntry{Path: "/second", Status: 200})
		synctest.Wait()
		select {
		case r := <-got:
			t.Fatalf("since returned %v while an earlier request was open", paths(r.out))
		default:
		}
		late := l.take() // arrives after the reader: not waited for
		l.fill(first, LogEntry{Path: "/first", Status: 200})
		r := <-got
		if want := []string{"/first", "/second"}; !slices.Equal(paths(r.out), want) || r.next != 2 {
			t.Errorf("since(0) = %v, %d; want %v, 2", paths(r.out), r.next, want)
		}
		l.fill(late, LogEntry{Path: "/late", Status: 200})
		l.add(LogEntry{Path: "/_zoomfake/log", Status: 200})
		if got := paths(l.entries()); !slices.Equal(got, []string{"/first", "/second", "/late", "/_zoomfake/log"}) {
			t.Errorf("entries = %v", got)
		}
	})
}

func TestRequestLogSince(t *testing.T) {
	l := newRequestLog()
	for _, p := range []string{"/a", "/b", "/c"} {
		l.add(LogEntry{Path: p, Status: 200})
	}
	tests := []struct {
		since int
		want  []string
	}{
		{0, []string{"/a", "/b", "/c"}},
		{2, []string{"/c"}},
		{3, nil},
		{4, []string{"/a", "/b", "/c"}},  // past the end: from the start (a restarted emulator)
		{-1, []string{"/a", "/b", "/c"}}, // likewise
	}
	for _, tt := range tests {
		out, next := l.since(tt.since)
		if !slices.Equal(paths(out), tt.want) || next != 3 {
			t.Errorf("since(%d) = %v, %d; want %v, 3", tt.since, paths(out), next, tt.want)
		}
	}
}
