package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// createTest creates request r1 with every section.
func createTest(t testing.TB, db *DB) {
	t.Helper()
	if _, _, err := db.CreateRequest(t.Context(), newRequest("r1", "", "a@example.com"), dsar.NewSections("r1")); err != nil {
		t.Fatal(err)
	}
}

// jsonPage returns a page body of about size bytes holding records ids.
func jsonPage(ids []string, size int) []byte {
	var b strings.Builder
	b.WriteString(`{"recordings":[`)
	pad := strings.Repeat("x", max(0, size/max(1, len(ids))-60))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q,"topic":"t%d","pad":%q}`, id, i, pad)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func TestCommitPageAndPages(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	const sec, part = dsar.SectionCloudRecordings, dsar.PartRecordings
	// Enough pages, and bytes, to cross Pages's chunk limits.
	const n = pagesPerChunk*2 + 5
	var want [][]byte
	for i := range n {
		ids := []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)}
		body := jsonPage(ids, 100<<10)
		want = append(want, body)
		next := dsar.Cursor{Window: (i + 1) / 10, PageToken: fmt.Sprintf("t%d", i)}
		if err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{Body: body, IDs: ids, Calls: 1}, next, i == n-1); err != nil {
			t.Fatalf("CommitPage %d: %v", i, err)
		}
	}
	var got int
	err := db.Pages(ctx, "r1", sec, part, func(p dsar.Page) error {
		if p.Seq != uint64(got) || p.Section != sec || p.Part != part || p.Window != got/10 {
			t.Errorf("page %d: seq %d %s/%s window %d", got, p.Seq, p.Section, p.Part, p.Window)
		}
		if !bytes.Equal(p.Body, want[got]) || !slices.Equal(p.IDs, []string{fmt.Sprintf("a%d", got), fmt.Sprintf("b%d", got)}) {
			t.Errorf("page %d differs", got)
		}
		got++
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("Pages: %d pages, %v; want %d", got, err, n)
	}
	s, err := db.Section(ctx, "r1", sec)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Part(part)
	if !p.Done || p.Pages != n || p.Records != 2*n || p.Calls != n || s.Pages != n || s.Records != 2*n {
		t.Errorf("counters: section %+v", s)
	}
	if err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{}, dsar.Cursor{}, true); dsar.ErrorCode(err) != dsar.EPRECONDITION {
		t.Errorf("CommitPage on a done part: %v, want precondition", err)
	}
	// Other parts and sections are untouched.
	if err := db.Pages(ctx, "r1", sec, dsar.PartTrash, func(dsar.Page) error { return errors.New("trash has no pages") }); err != nil {
		t.Error(err)
	}
	stop := errors.New("stop")
	calls := 0
	if err := db.Pages(ctx, "r1", sec, part, func(dsar.Page) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Pages with a failing fn: %v after %d calls", err, calls)
	}
}

func TestCommitPageAtomic(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	const sec, part = dsar.SectionPhoneCallHistory, dsar.SectionPhoneCallHistory
	first := dsar.Cursor{Window: 0, PageToken: "t1"}
	if err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{Body: []byte(`{}`), IDs: []string{"1"}}, first, false); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	testHookCommitPage = func() error { return boom }
	err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{Body: []byte(`{"x":1}`), IDs: []string{"2"}}, dsar.Cursor{PageToken: "t2"}, false)
	testHookCommitPage = nil
	if !errors.Is(err, boom) {
		t.Fatalf("CommitPage = %v, want the hook's error", err)
	}
	s, err := db.Section(ctx, "r1", sec)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Part(part); !reflect.DeepEqual(p.Cursor, first) || p.Pages != 1 || s.Pages != 1 {
		t.Errorf("cursor or counters moved: %+v", p)
	}
	n := 0
	if err := db.Pages(ctx, "r1", sec, part, func(dsar.Page) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("%d pages stored (%v), want 1", n, err)
	}
	// The next commit takes the seq the failed one would have had.
	if err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{Body: []byte(`{}`)}, dsar.Cursor{}, true); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	if err := db.Pages(ctx, "r1", sec, part, func(p dsar.Page) error { seqs = append(seqs, p.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []uint64{0, 1}) {
		t.Errorf("seqs %v, want [0 1]", seqs)
	}
}

func TestPageIDsAndCoverage(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	const sec, part = dsar.SectionPhoneRecordings, dsar.SectionPhoneRecordings
	months := []dsar.Cursor{
		{Window: 0, From: "2026-02-01", To: "2026-02-28"},
		{Window: 1, From: "2026-01-01", To: "2026-01-31"},
	}
	if _, err := db.UpdateSection(ctx, "r1", sec, func(s *dsar.Section) error {
		s.Part(part).Cursor = months[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		ids  []string
		next dsar.Cursor
	}{
		{[]string{"a", "b"}, dsar.Cursor{Window: 0, From: months[0].From, To: months[0].To, PageToken: "p2"}},
		{[]string{"c"}, months[1]},
		{[]string{"d", "e"}, dsar.Cursor{Window: 1, From: months[1].From, To: months[1].To, PageToken: "q2"}},
	}
	for _, p := range pages {
		if err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{Body: []byte(`{}`), IDs: p.ids}, p.next, false); err != nil {
			t.Fatal(err)
		}
	}
	for w, want := range map[int][]string{0: {"a", "b", "c"}, 1: {"d", "e"}, 2: nil} {
		ids, err := db.PageIDs(ctx, "r1", sec, part, w)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(ids)); !slices.Equal(got, want) {
			t.Errorf("window %d: ids %v, want %v", w, got, want)
		}
	}
	// The token expired: window 1 is redone from its start; "d" is dropped.
	if err := db.CommitPage(ctx, "r1", sec, part, dsar.Page{Body: []byte(`{}`), IDs: []string{"d", "f"}, Drop: []string{"d"}}, dsar.Cursor{}, true); err != nil {
		t.Fatal(err)
	}
	s, err := db.Section(ctx, "r1", sec)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Part(part)
	if p.Records != 6 || p.Covered != (dsar.Span{From: "2026-01-01", To: "2026-02-28"}) {
		t.Errorf("records %d covered %+v, want 6 and Jan-Feb", p.Records, p.Covered)
	}
	// Pages by window, from the headers: window 1 holds the redone page.
	byWindow, err := db.PageWindows(ctx, "r1", sec, part)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(byWindow, map[int]int64{0: 2, 1: 2}) {
		t.Errorf("pages by window %v, want 2 and 2", byWindow)
	}
	var drops [][]string
	if err := db.Pages(ctx, "r1", sec, part, func(p dsar.Page) error { drops = append(drops, p.Drop); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(drops) != 4 || !slices.Equal(drops[3], []string{"d"}) {
		t.Errorf("drops %q", drops)
	}
}

func TestResetSection(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	for _, part := range []string{dsar.PartScheduled, dsar.PartUpcoming} {
		for i := range 3 {
			if err := db.CommitPage(ctx, "r1", dsar.SectionMeetings, part, dsar.Page{Body: []byte(`{}`), IDs: []string{"x"}}, dsar.Cursor{PageToken: fmt.Sprint(i)}, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.CommitPage(ctx, "r1", dsar.SectionWebinars, dsar.SectionWebinars, dsar.Page{Body: []byte(`{}`)}, dsar.Cursor{}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateSection(ctx, "r1", dsar.SectionMeetings, func(s *dsar.Section) error {
		s.State, s.Reason, s.ReasonCode = dsar.SectionFailed, "Zoom 500", 500
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s, err := db.ResetSection(ctx, "r1", dsar.SectionMeetings)
	if err != nil {
		t.Fatal(err)
	}
	want := dsar.NewSections("r1")[slices.Index(dsar.Sections, dsar.SectionMeetings)]
	if fmt.Sprint(*s) != fmt.Sprint(want) {
		t.Errorf("after reset %+v, want %+v", *s, want)
	}
	count := func(section, part string) int {
		n := 0
		if err := db.Pages(ctx, "r1", section, part, func(dsar.Page) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(dsar.SectionMeetings, dsar.PartScheduled) + count(dsar.SectionMeetings, dsar.PartUpcoming); n != 0 {
		t.Errorf("%d meeting pages left", n)
	}
	if n := count(dsar.SectionWebinars, dsar.SectionWebinars); n != 1 {
		t.Errorf("webinars has %d pages, want 1 (untouched)", n)
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}

func TestUpdateSection(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	tests := []struct {
		name string
		fn   func(*dsar.Section) error
		want string
	}{
		{"ok", func(s *dsar.Section) error { s.State = dsar.SectionNotApplicable; s.ReasonCode = 1001; return nil }, ""},
		{"rename", func(s *dsar.Section) error { s.Name = "x"; return nil }, dsar.EINVALID},
		{"bad state", func(s *dsar.Section) error { s.State = "DONE"; return nil }, dsar.EINVALID},
		{"dup part", func(s *dsar.Section) error { s.Parts = append(s.Parts, s.Parts[0]); return nil }, dsar.EINVALID},
		// CommitMedia counts the settled files; an update cannot.
		{"files done", func(s *dsar.Section) error { s.Media.FilesDone++; return nil }, dsar.EINVALID},
		{"bytes done", func(s *dsar.Section) error { s.Media.BytesDone = 1; return nil }, dsar.EINVALID},
		{"fn error", func(s *dsar.Section) error {
			s.State = dsar.SectionFailed
			return &dsar.Error{Code: dsar.EUNAVAILABLE, Op: "t", Message: "no"}
		}, dsar.EUNAVAILABLE},
	}
	for _, tt := range tests {
		_, err := db.UpdateSection(ctx, "r1", dsar.SectionPhoneProfile, tt.fn)
		if code := dsar.ErrorCode(err); code != tt.want {
			t.Errorf("%s: err %v, want code %q", tt.name, err, tt.want)
		}
	}
	s, err := db.Section(ctx, "r1", dsar.SectionPhoneProfile)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != dsar.SectionNotApplicable || s.ReasonCode != 1001 {
		t.Errorf("section %+v, want only the first update", s)
	}
}

func TestDecodePageCorrupt(t *testing.T) {
	db, _, _ := openTest(t)
	ctx := t.Context()
	createTest(t, db)
	if err := db.CommitPage(ctx, "r1", dsar.SectionSettings, dsar.SectionSettings, dsar.Page{Body: []byte(`{"a":1}`), IDs: []string{"s"}}, dsar.Cursor{}, true); err != nil {
		t.Fatal(err)
	}
	key := pageKey("r1", dsar.SectionSettings, dsar.SectionSettings, 0)
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPages)
		v := bytes.Clone(b.Get(key))
		v[len(v)-3] ^= 0xff
		return b.Put(key, v)
	}); err != nil {
		t.Fatal(err)
	}
	err := db.Pages(ctx, "r1", dsar.SectionSettings, dsar.SectionSettings, func(dsar.Page) error { return nil })
	if dsar.ErrorCode(err) != dsar.EINTERNAL {
		t.Errorf("corrupt page: %v, want an internal error", err)
	}
}

func FuzzDecodePage(f *testing.F) {
	for _, p := range []dsar.Page{{}, {Body: []byte(`{"x":1}`), IDs: []string{"a", "b"}, Drop: []string{"a"}}} {
		payload, err := encodePayload(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(payload)
	}
	f.Add([]byte{0xff, 0xff, 0xff})
	db, _, _ := openTest(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		// Any payload survives compression; a bad one is an error, never a panic.
		v := append([]byte{pageFormat, 3}, db.enc.EncodeAll(payload, nil)...)
		p, err := db.decodePage(nil, nil, v)
		if err != nil {
			return
		}
		// Varints need not be canonical, so compare decoded pages.
		again, err := encodePayload(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := db.decodePage(nil, nil, append([]byte{pageFormat, 3}, db.enc.EncodeAll(again, nil)...))
		if err != nil || !reflect.DeepEqual(p, q) || p.Window != 3 {
			t.Errorf("round trip: %+v, %v; want %+v", q, err, p)
		}
		_, _ = db.decodePage(nil, nil, payload) // raw garbage as a stored value
	})
}
