package dsar_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// BenchmarkStartToFirstCall measures what a restart costs before work goes
// on: from opening a store that holds 10 in-flight requests and 100,000
// stored pages (90 completed requests) to the first Zoom call. Goal: ≤ 1 s.
func BenchmarkStartToFirstCall(b *testing.B) {
	const inFlight, completed, pages = 10, 90, 100_000
	srv := zoomtest.NewServer(b, zoomtest.WithStartTime(t0))
	dir := b.TempDir()
	filled := filepath.Join(dir, "filled.db")
	start := time.Now()
	fillStore(b, filled, inFlight, completed, pages)
	b.Logf("filled %d pages in %v", pages, time.Since(start).Round(time.Millisecond))

	a := srv.Account()
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(dir, "run.db")
		copyFile(b, filled, path)
		first := make(chan struct{})
		var once sync.Once
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c, err := zoomclient.New(zoomclient.Config{
			AccountID: a.ID, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
			APIURL: srv.APIURL, TokenURL: srv.TokenURL, Clock: srv.Clock(),
			HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Path != "/oauth/token" {
					once.Do(func() { close(first) })
				}
				return tr.RoundTrip(r)
			})},
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		db, err := store.Open(path, store.Options{Clock: srv.Clock()})
		if err != nil {
			b.Fatal(err)
		}
		p, err := dsar.NewProcessor(dsar.Config{
			Store: db, Accounts: map[string]dsar.Zoom{"main": zoomclient.NewSource(c)},
			Assembler: &bundle.Assembler{Store: db, Dir: filepath.Join(dir, "bundles")},
			Clock:     srv.Clock(), Owner: "bench",
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Start(b.Context()); err != nil {
			b.Fatal(err)
		}
		<-first

		b.StopTimer()
		p.Close()
		db.Close()
		tr.CloseIdleConnections()
		b.StartTimer()
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fillStore writes inFlight RUNNING requests for jane and completed ones
// holding pages stored pages of about 2 KiB each, without fsync.
func fillStore(b *testing.B, path string, inFlight, completed, pages int) {
	ctx := context.Background()
	db, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	body := make([]byte, 0, 2048)
	body = append(body, `{"next_page_token":"t","meetings":[`...)
	for i := 0; len(body) < 2000; i++ {
		body = fmt.Appendf(body, `{"uuid":"u%04d","topic":"Weekly sync %d","duration":30},`, i, i)
	}
	body = append(body[:len(body)-1], "]}"...)
	perRequest := pages / completed
	for i := range inFlight + completed {
		id := fmt.Sprintf("r%04d", i)
		r := &dsar.Request{ID: id, Account: "main", Email: jane, Regulation: dsar.GDPR, IdempotencyKey: id,
			State: dsar.StateQueued, CreatedAt: t0, DueAt: t0.AddDate(0, 0, 30)}
		if _, _, err := db.CreateRequest(ctx, r, dsar.NewSections(id)); err != nil {
			b.Fatal(err)
		}
		if _, err := db.UpdateRequest(ctx, id, func(r *dsar.Request) error { r.State = dsar.StateRunning; return nil }); err != nil {
			b.Fatal(err)
		}
		if i < inFlight {
			continue
		}
		for n := range perRequest {
			next := dsar.Cursor{PageToken: "t"}
			if err := db.CommitPage(ctx, id, dsar.SectionMeetings, dsar.PartPrevious,
				dsar.Page{Body: body, IDs: []string{fmt.Sprint(n)}}, next, n == perRequest-1); err != nil {
				b.Fatal(err)
			}
		}
		for _, s := range []dsar.State{dsar.StateAssembling, dsar.StateCompleted} {
			if _, err := db.UpdateRequest(ctx, id, func(r *dsar.Request) error { r.State = s; return nil }); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func copyFile(b *testing.B, from, to string) {
	src, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		b.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPurgeReference measures the purge of a completed request of
// the reference subject (Store.PurgeRequest: its pages deleted, its
// cursors cleared, its email hashed, synced), from a copy of a store that
// holds all its pages. Goal: ≤ 1 s.
func BenchmarkPurgeReference(b *testing.B) {
	e := newEnv(b, envConfig{
		zoom: []zoomtest.Option{zoomtest.WithDataset("reference"), zoomtest.WithLimits(zoomtest.Limits{Off: true})},
		proc: func(c *dsar.Config) { c.Retention.KeepCollected = true },
	})
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		b.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	var pages int64
	_, secs, err := e.proc.Request(b.Context(), r.ID)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range secs {
		pages += s.Pages
	}
	e.proc.Close()
	e.db.Close()
	filled := filepath.Join(e.dir, "dsar.db")
	fi, err := os.Stat(filled)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("reference request: %d pages, store of %d MiB", pages, fi.Size()>>20)
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(e.dir, "run.db")
		copyFile(b, filled, path)
		db, err := store.Open(path, store.Options{CheckTimeout: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := db.PurgeRequest(b.Context(), r.ID, "benchmark", nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}
