package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// inproc is the processor, a temp-dir store and the emulator in this
// process, all on the emulator's clock: the scenarios that move the clock
// across days (backlog) run here, since dsard keeps the system clock.
type inproc struct {
	emu  *zoomtest.Emulator
	hs   *httptest.Server
	db   *store.DB
	proc *dsar.Processor
	zoom *countingZoom
}

// countingZoom counts, by the due date in the context (which names one
// request where dues differ), the calls of each bucket that Zoom answered
// other than with a Daily-limit 429: those that spent its daily cap.
type countingZoom struct {
	*zoomclient.Source
	mu    sync.Mutex
	pages map[time.Time]map[string]int64 // by due, by bucket
}

func (z *countingZoom) Fetch(ctx context.Context, s dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
	f, err := z.Source.Fetch(ctx, s, section, part, cur)
	n := int64(f.Calls)
	var ze *dsar.ZoomError
	if errors.As(err, &ze) {
		n = int64(ze.Calls)
		if ze.Kind == dsar.ZoomQuota {
			n-- // the 429 spent nothing
		}
	}
	b := z.Budget(section, part).Bucket
	z.mu.Lock()
	due := dsar.DueOf(ctx)
	if z.pages[due] == nil {
		z.pages[due] = map[string]int64{}
	}
	z.pages[due][b] += max(n, 0)
	z.mu.Unlock()
	return f, err
}

// fetched returns the pages fetched for the request due at due, by bucket.
func (z *countingZoom) fetched(due time.Time) map[string]int64 {
	z.mu.Lock()
	defer z.mu.Unlock()
	out := map[string]int64{}
	for b, n := range z.pages[due] {
		out[b] = n
	}
	return out
}

type inprocConfig struct {
	zoom   []zoomtest.Option
	client func(*zoomclient.Config)
	proc   func(*dsar.Config)
}

func startInproc(ctx context.Context, e *env, name string, c inprocConfig) (*inproc, error) {
	dir, err := e.tempDir(name)
	if err != nil {
		return nil, err
	}
	emu, err := zoomtest.New(append([]zoomtest.Option{zoomtest.WithSeed(e.seed), zoomtest.WithDataset(e.dataset())}, c.zoom...)...)
	if err != nil {
		return nil, err
	}
	p := &inproc{emu: emu, hs: httptest.NewServer(emu)}
	// Sealed, as dsard's store is.
	master, _, err := store.LoadOrCreateMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		p.close()
		return nil, err
	}
	db, err := store.Open(filepath.Join(dir, "dsar.db"), store.Options{Clock: emu.Clock(), MasterKey: master})
	if err != nil {
		p.close()
		return nil, err
	}
	p.db = db
	a := emu.Account()
	cc := zoomclient.Config{
		AccountID: a.ID, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Plan: string(a.Plan),
		APIURL: p.hs.URL + "/v2", TokenURL: p.hs.URL + "/oauth/token",
		HTTPClient: &http.Client{Timeout: 30 * time.Second}, Clock: emu.Clock(),
	}
	if c.client != nil {
		c.client(&cc)
	}
	client, err := zoomclient.New(cc)
	if err != nil {
		p.close()
		return nil, err
	}
	p.zoom = &countingZoom{Source: zoomclient.NewSource(client), pages: map[time.Time]map[string]int64{}}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		p.close()
		return nil, err
	}
	cfg := dsar.Config{
		Store:     db,
		Accounts:  map[string]dsar.Zoom{"main": p.zoom},
		Assembler: &bundle.Assembler{Store: db, Dir: filepath.Join(dir, "bundles"), Key: key, Version: "dsarbench"},
		Clock:     emu.Clock(),
		Owner:     "dsarbench",
	}
	if c.proc != nil {
		c.proc(&cfg)
	}
	if p.proc, err = dsar.NewProcessor(cfg); err != nil {
		p.close()
		return nil, err
	}
	if err := p.proc.Start(ctx); err != nil {
		p.close()
		return nil, fmt.Errorf("start the processor: %w", err)
	}
	// As dsard does on start: the check's answers also tell the client
	// the account's daily caps.
	if bad := p.proc.CheckAccounts(ctx); len(bad) > 0 {
		p.close()
		return nil, fmt.Errorf("account check: %s", bad["main"].Problem)
	}
	return p, nil
}

func (p *inproc) close() {
	if p.proc != nil {
		p.proc.Close()
	}
	if p.db != nil {
		p.db.Close()
	}
	p.hs.CloseClientConnections()
	p.hs.Close()
	p.emu.Close()
}

// settled waits until no request is being worked on: each is final or
// parked until a time still to come. It polls the store, as an operator
// would.
func (p *inproc) settled(ctx context.Context) error {
	busy := []dsar.State{dsar.StateQueued, dsar.StateRunning, dsar.StateAssembling}
	parked := []dsar.State{dsar.StateWaitingQuota, dsar.StateWaitingZoom}
	for {
		reqs, _, err := p.db.ListRequests(ctx, dsar.RequestFilter{States: busy, Limit: 1})
		if err != nil {
			return err
		}
		done := len(reqs) == 0
		if done {
			// A parked request whose time has come is about to wake.
			reqs, _, err = p.db.ListRequests(ctx, dsar.RequestFilter{States: parked, Limit: 1000})
			if err != nil {
				return err
			}
			now := p.emu.Clock().Now()
			for _, r := range reqs {
				done = done && r.WaitingUntil.After(now)
			}
		}
		if done {
			return nil
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
