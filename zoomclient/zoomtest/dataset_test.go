package zoomtest_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

func TestDatasetsHoldJane(t *testing.T) {
	tests := []struct {
		name                                string
		past, recordings, calls, voicemails int // exact for reference, minimum otherwise
		exact                               bool
	}{
		{"tiny", 5, 3, 5, 2, false},
		{"reference", 1200, 200, 3000, 100, true},
		{"mixed", 5, 3, 5, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := zoomtest.Generate(tt.name, zoomtest.GenerateOptions{Seed: 1, Start: start})
			if err != nil {
				t.Fatal(err)
			}
			jane := d.User(zoomtest.JaneEmail)
			if jane == nil || jane.Phone == nil || !jane.WebinarAddon || len(jane.Webinars) == 0 {
				t.Fatalf("jane lacks Phone, webinars or the add-on: %+v", jane)
			}
			var past, recs, trashed int
			for _, m := range jane.Meetings {
				if m.Past() {
					past++
				}
			}
			oldest := start
			for _, r := range jane.Recordings {
				if r.Trashed() {
					trashed++
				} else {
					recs++
				}
				if r.StartTime.Before(oldest) {
					oldest = r.StartTime
				}
			}
			got := []int{past, recs, len(jane.Phone.CallLogs), len(jane.Phone.Voicemails)}
			want := []int{tt.past, tt.recordings, tt.calls, tt.voicemails}
			for i := range got {
				if (tt.exact && got[i] != want[i]) || got[i] < want[i] {
					t.Errorf("counts (past, recordings, calls, voicemails) = %v, want %v", got, want)
					break
				}
			}
			if trashed == 0 {
				t.Error("no recording in the trash")
			}
			if tt.exact && start.Sub(oldest) < 300*24*time.Hour {
				t.Errorf("recordings reach back only to %v", oldest)
			}
			for _, c := range jane.Phone.CallLogs {
				if !c.StartTime.After(start.AddDate(0, -6, 0)) || c.StartTime.After(start) {
					t.Fatalf("call at %v outside the last six months", c.StartTime)
				}
			}
			// The special users.
			primary := d.Accounts[0]
			var mixed, pending, noPhone, noWebinar bool
			for _, u := range primary.Users {
				mixed = mixed || (u.Email != strings.ToLower(u.Email))
				pending = pending || u.Status == "pending"
				noPhone = noPhone || u.Phone == nil
				noWebinar = noWebinar || !u.WebinarAddon
			}
			if !mixed || !pending || !noPhone || !noWebinar {
				t.Errorf("mixed-case %v, pending %v, no Phone %v, no webinar add-on %v", mixed, pending, noPhone, noWebinar)
			}
			plans := map[zoomtest.Plan]bool{}
			for _, a := range d.Accounts {
				plans[a.Plan] = true
			}
			if len(d.Accounts) < 4 || !plans[zoomtest.Free] || !plans[zoomtest.Pro] {
				t.Errorf("accounts: %d, plans %v", len(d.Accounts), plans)
			}
		})
	}
}

func TestDatasetDeterministic(t *testing.T) {
	enc := func(seed int64, at time.Time) []byte {
		d, err := zoomtest.Generate("tiny", zoomtest.GenerateOptions{Seed: seed, Start: at})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := enc(1, start)
	if !bytes.Equal(a, enc(1, start.Add(3*time.Hour))) {
		t.Error("same seed and start day differ")
	}
	if bytes.Equal(a, enc(2, start)) {
		t.Error("another seed gives the same data")
	}
	if bytes.Equal(a, enc(1, start.AddDate(0, 0, 1))) {
		t.Error("another start day gives the same data")
	}
	if _, err := zoomtest.Generate("huge", zoomtest.GenerateOptions{}); err == nil {
		t.Error("unknown dataset name accepted")
	}
}

func TestDatasetFile(t *testing.T) {
	d, err := zoomtest.Generate("tiny", zoomtest.GenerateOptions{Seed: 3, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "data.json")
	if err := d.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	srv := zoomtest.NewServer(t, zoomtest.WithDatasetFile(path), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	if srv.Account().ClientID != d.Accounts[0].ClientID {
		t.Fatal("accounts not loaded from the file")
	}
	tok := token(t, srv, srv.Account())
	r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail)
	if got := decode(t, r)["id"]; got != d.User(zoomtest.JaneEmail).ID {
		t.Errorf("jane's id %v, want %s", got, d.User(zoomtest.JaneEmail).ID)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	(&zoomtest.Dataset{Accounts: []*zoomtest.AccountData{{}}}).WriteJSON(bad)
	for _, p := range []string{bad, filepath.Join(t.TempDir(), "missing.json")} {
		if _, err := zoomtest.New(zoomtest.WithDatasetFile(p)); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
}

// BenchmarkGenerate starts an emulator on a generated dataset: the data
// and its index.
func BenchmarkGenerate(b *testing.B) {
	for _, name := range []string{"reference", "mixed"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := zoomtest.New(zoomtest.WithDataset(name), zoomtest.WithStartTime(start)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
