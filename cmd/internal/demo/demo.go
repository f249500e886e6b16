// Package demo is `dsard demo`: an access request end to end, in one
// process, against the embedded Zoom emulator. It lives with the server so
// that dsarctl, the operator's client, carries neither the server nor the
// emulator.
package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/daemon"
	"github.com/zoomdsar/zoom-dsar/cmd/internal/progress"
	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// Run runs the whole flow in one process: an emulated Zoom with the
// reference dataset (or the one -dataset names: tests that only need a
// real bundle take "tiny"), a dsard on loopback with a temporary data directory,
// an access request for the well-known subject, its progress, the
// download, the verification and the report. args are the demo's flags.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dsard demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "dsar-demo", "`directory` for the bundle, the public key and the report")
	dataset := fs.String("dataset", "reference", "the emulated Zoom's `dataset`: "+strings.Join(zoomtest.DatasetNames(), ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("demo: unexpected arguments %q", fs.Args())
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Zoom, emulated.
	emu, err := zoomtest.New(zoomtest.WithDataset(*dataset), zoomtest.WithLimits(zoomtest.Limits{Off: true}))
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
	logs, err := os.OpenFile(filepath.Join(*dir, "dsard.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
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
			Limits: zoomclient.EveryBucket(1000), // the emulator's limits are off too
		}},
	})
	if err != nil {
		return fmt.Errorf("demo: start dsard: %w", err)
	}
	defer func() {
		cancel()
		_ = d.Wait()
	}()
	fmt.Fprintf(stderr, "emulated Zoom at %s, dsard at %s (logs in %s)\n", zoomURL, d.Addr(), logs.Name())

	c, err := client.Dial(client.Config{Addr: d.Addr().String(), Token: token})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer c.Close()
	start := time.Now()

	resp, err := c.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: zoomtest.JaneEmail, Account: "demo", IdempotencyKey: "demo-" + rand.Text(),
		Regulation: dsarv1.Regulation_REGULATION_GDPR,
	})
	if err != nil {
		return fmt.Errorf("demo: create: %w", err)
	}
	id := resp.GetAccessRequest().GetId()
	fmt.Fprintf(stderr, "created access request %s for the emulator's %s\n", id, zoomtest.JaneEmail)
	last, err := progress.Watch(ctx, c, id, progress.NewView(stdout, progress.IsTerminal(stdout)).Show)
	if err != nil {
		return fmt.Errorf("demo: watch: %w", err)
	}
	if st := last.GetState(); st != dsarv1.RequestState_REQUEST_STATE_COMPLETED {
		return fmt.Errorf("demo: request %s ended %s: %s (see %s)", id, progress.StateWord(st), last.GetReason(), logs.Name())
	}

	zipPath := filepath.Join(*dir, "bundle.zip")
	pubPath := filepath.Join(*dir, "signing.pub")
	// Force: the demo's own directory, rerun.
	size, _, err := client.Download(ctx, c, id, zipPath, client.DownloadOptions{Force: true, Progress: progress.NewBytes(stderr).Update})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	pub, _, err := client.SigningKey(ctx, c)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	m, err := verify(zipPath, pub)
	if err != nil {
		return fmt.Errorf("demo: the bundle does not verify: %w", err)
	}
	pem, err := bundle.MarshalPublicKey(pub)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(pubPath, pem, 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// The report links its further pages, data and media: it is read
	// where the whole bundle is extracted.
	out := filepath.Join(*dir, "bundle")
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := bundle.Extract(zipPath, out); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	index := filepath.Join(out, bundle.IndexPath)
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
		fmt.Fprintf(stdout, "  %-20s %-14s %6d %s\n", s.Name, s.State, s.Records, unit)
		records += s.Records
		switch s.State {
		case string(dsar.SectionComplete):
			complete++
		case string(dsar.SectionNotApplicable):
			na++
		}
	}
	fmt.Fprintln(stdout, abs)
	fmt.Fprintf(stdout, "request %s: %d sections complete, %d not applicable, %d records, %d-byte bundle verified (signed by %s) in %s\n",
		id, complete, na, records, size, m.PublicKey, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// verify checks the bundle at path with the public key pub.
func verify(path string, pub ed25519.PublicKey) (*bundle.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return bundle.Verify(f, fi.Size(), pub)
}
