package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/daemon"
	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// demoLimits lets the demo's client go as fast as the emulator answers:
// the emulator's limits are off too.
func demoLimits() map[zoomclient.Bucket]float64 {
	m := map[zoomclient.Bucket]float64{}
	for _, c := range []zoomclient.Category{zoomclient.Light, zoomclient.Medium, zoomclient.Heavy, zoomclient.ResourceIntensive} {
		m[zoomclient.Bucket{Category: c}] = 1000
		m[zoomclient.Bucket{Category: c, Phone: true}] = 1000
	}
	return m
}

// runDemo runs the whole flow in one process: an emulated Zoom with the
// reference dataset, a dsard on loopback with a temporary data directory,
// an access request for the well-known subject, its progress, the
// download, the verification and the report.
func runDemo(e *env, args []string) error {
	fs := e.newFlags("demo", "", false)
	dir := fs.String("dir", "dsar-demo", "`directory` for the bundle, the public key and the report")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()

	// Zoom, emulated.
	emu, err := zoomtest.New(zoomtest.WithDataset("reference"), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	if err != nil {
		return fmt.Errorf("demo: emulator: %w", err)
	}
	defer emu.Close()
	zl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	hs := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(zl)
	}()
	defer func() {
		_ = hs.Close()
		<-served
	}()
	zoomURL := "http://" + zl.Addr().String()

	// dsard, in this process, with an operator token of its own.
	tmp, err := os.MkdirTemp("", "dsar-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(tmp)
	token := rand.Text()
	sum := sha256.Sum256([]byte(token))
	tokens := filepath.Join(tmp, "tokens")
	if err := os.WriteFile(tokens, []byte("operator demo "+hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	logs, err := os.Create(filepath.Join(*dir, "dsard.log"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer logs.Close()
	acct := emu.Account()
	d, err := daemon.Start(ctx, daemon.Config{
		Listen: "127.0.0.1:0", DataDir: filepath.Join(tmp, "data"), TokensFile: tokens,
		LogLevel: "info", ShutdownGrace: 5 * time.Second, Logs: logs,
		Accounts: []daemon.Account{{
			Name: "demo", Plan: string(acct.Plan), AccountID: acct.ID, ClientID: acct.ClientID,
			ClientSecret: acct.ClientSecret, APIURL: zoomURL + "/v2", TokenURL: zoomURL + "/oauth/token",
			Limits: demoLimits(),
		}},
	})
	if err != nil {
		return fmt.Errorf("demo: start dsard: %w", err)
	}
	defer func() {
		cancel()
		_ = d.Wait()
	}()
	fmt.Fprintf(e.stderr, "emulated Zoom at %s, dsard at %s (logs in %s)\n", zoomURL, d.Addr(), logs.Name())

	e.conn = connFlags{server: d.Addr().String(), getenv: func(k string) string {
		if k == "DSAR_TOKEN" {
			return token
		}
		return ""
	}}
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	start := time.Now()

	resp, err := c.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: zoomtest.JaneEmail, Account: "demo", IdempotencyKey: "demo-" + rand.Text(),
		Regulation: dsarv1.Regulation_REGULATION_GDPR,
	})
	if err != nil {
		return rpcError("demo: create", err)
	}
	id := resp.GetAccessRequest().GetId()
	fmt.Fprintf(e.stderr, "created access request %s for the emulator's %s\n", id, zoomtest.JaneEmail)
	if err := watch(e, c, id, newProgressView(e.stdout, isTerminal(e.stdout))); err != nil {
		return err
	}

	zipPath := filepath.Join(*dir, "bundle.zip")
	pubPath := filepath.Join(*dir, "signing.pub")
	size, _, err := download(e, c, id, zipPath, false, true) // -f: the demo's own directory, rerun
	if err != nil {
		return err
	}
	if _, err := fetchKey(e, c, pubPath); err != nil {
		return err
	}
	m, err := verify(zipPath, pubPath)
	if err != nil {
		return fmt.Errorf("demo: the bundle does not verify: %w", err)
	}
	index := filepath.Join(*dir, bundle.IndexPath)
	if err := extract(zipPath, bundle.IndexPath, index); err != nil {
		return err
	}
	abs, err := filepath.Abs(index)
	if err != nil {
		abs = index
	}
	// The records of each section as the manifest counts them: the same
	// numbers as `dsarctl get` and the watch above.
	var records int64
	var complete, na int
	for _, s := range m.Sections {
		unit := "records"
		if s.Records == 1 {
			unit = "record"
		}
		fmt.Fprintf(e.stdout, "  %-20s %-14s %6d %s\n", s.Name, s.State, s.Records, unit)
		records += s.Records
		switch s.State {
		case string(dsar.SectionComplete):
			complete++
		case string(dsar.SectionNotApplicable):
			na++
		}
	}
	fmt.Fprintln(e.stdout, abs)
	fmt.Fprintf(e.stdout, "request %s: %d sections complete, %d not applicable, %d records, %d-byte bundle verified (signed by %s) in %s\n",
		id, complete, na, records, size, m.PublicKey, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// extract copies one entry of a zip file to dst.
func extract(zipPath, name, dst string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("demo: open bundle: %w", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("demo: %s: %w", name, err)
		}
		defer rc.Close()
		out, err := os.Create(dst)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		_, err = io.Copy(out, rc)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("demo: write %s: %w", dst, err)
		}
		return nil
	}
	return errors.New("demo: the bundle has no " + name)
}
