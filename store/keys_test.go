package store

import (
	"bytes"
	"math"
	"testing"
)

func TestPageKey(t *testing.T) {
	tests := []struct {
		id, section, part string
		seq               uint64
	}{
		{"r1", "meetings", "scheduled", 0},
		{"acme-01hx", "profile", "user", math.MaxUint64},
		{"r", "s", "p", 1 << 40},
	}
	for _, tt := range tests {
		k := pageKey(tt.id, tt.section, tt.part, tt.seq)
		id, section, part, seq, err := parsePageKey(k)
		if err != nil || id != tt.id || section != tt.section || part != tt.part || seq != tt.seq {
			t.Errorf("parsePageKey(pageKey(%v)) = %q %q %q %d %v", tt, id, section, part, seq, err)
		}
		if !bytes.HasPrefix(k, pagePrefix(tt.id, tt.section, tt.part)) || !bytes.HasPrefix(k, pagePrefix(tt.id, tt.section, "")) {
			t.Errorf("key %q lacks its prefixes", k)
		}
	}
	for _, bad := range [][]byte{nil, []byte("short"), []byte("a\x00b\x0012345678"), []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")} {
		if _, _, _, _, err := parsePageKey(bad); err == nil {
			t.Errorf("parsePageKey(%q) succeeded", bad)
		}
	}
}

func TestCheckComponent(t *testing.T) {
	tests := map[string]bool{"r1": true, "": false, "a\x00b": false, string(make([]byte, maxComponent+1)): false}
	for s, ok := range tests {
		if err := checkComponent("x", s); (err == nil) != ok {
			t.Errorf("checkComponent(%q) = %v, want ok %v", s, err, ok)
		}
	}
}

// FuzzPageKeyOrder checks that keys order like their (id, section, part,
// seq) tuples and that a part's prefix holds only that part's keys.
func FuzzPageKeyOrder(f *testing.F) {
	f.Add("r1", "meetings", "scheduled", uint64(1), "r1", "meetings", "scheduled_2", uint64(0))
	f.Add("r1", "a", "b", uint64(256), "r10", "a", "b", uint64(1))
	f.Add("r", "ab", "c", uint64(0), "r", "a", "bc", uint64(0))
	f.Fuzz(func(t *testing.T, id1, s1, p1 string, q1 uint64, id2, s2, p2 string, q2 uint64) {
		for _, c := range []string{id1, s1, p1, id2, s2, p2} {
			if checkComponent("c", c) != nil {
				return
			}
		}
		k1, k2 := pageKey(id1, s1, p1, q1), pageKey(id2, s2, p2, q2)
		want := cmpTuple(id1, s1, p1, q1, id2, s2, p2, q2)
		if got := bytes.Compare(k1, k2); got != want {
			t.Errorf("Compare(%q, %q) = %d, want %d", k1, k2, got, want)
		}
		samePart := id1 == id2 && s1 == s2 && p1 == p2
		if bytes.HasPrefix(k2, pagePrefix(id1, s1, p1)) != samePart {
			t.Errorf("prefix of (%q,%q,%q) matches %q: %v", id1, s1, p1, k2, !samePart)
		}
		sameSection := id1 == id2 && s1 == s2
		if bytes.HasPrefix(k2, pagePrefix(id1, s1, "")) != sameSection {
			t.Errorf("section prefix of (%q,%q) matches %q: %v", id1, s1, k2, !sameSection)
		}
		id, s, p, q, err := parsePageKey(k1)
		if err != nil || id != id1 || s != s1 || p != p1 || q != q1 {
			t.Errorf("round trip of %q: %q %q %q %d %v", k1, id, s, p, q, err)
		}
	})
}

func cmpTuple(id1, s1, p1 string, q1 uint64, id2, s2, p2 string, q2 uint64) int {
	for _, c := range [][2]string{{id1, id2}, {s1, s2}, {p1, p2}} {
		if c[0] != c[1] {
			if c[0] < c[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case q1 < q2:
		return -1
	case q1 > q2:
		return 1
	}
	return 0
}
