package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/zoomdsar/zoom-dsar/dsar/rpc"
	dsarclient "github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// bareChunk is the chunk size of the bare stream: dsard's.
const bareChunk = rpc.DefaultChunkSize

// bareServer streams fixed bytes as DownloadBundle does, with nothing else
// on the path: the yardstick of dsard's download.
type bareServer struct {
	dsarv1.UnimplementedAccessRequestServiceServer
	b   []byte
	sum string
}

func (s *bareServer) DownloadBundle(req *dsarv1.DownloadBundleRequest, ss grpc.ServerStreamingServer[dsarv1.DownloadBundleResponse]) error {
	h := &dsarv1.DownloadBundleHeader{SizeBytes: int64(len(s.b)), Sha256: s.sum, Offset: req.GetOffset()}
	if err := ss.Send(&dsarv1.DownloadBundleResponse{Part: &dsarv1.DownloadBundleResponse_Header{Header: h}}); err != nil {
		return err
	}
	for off := req.GetOffset(); off < int64(len(s.b)); off += bareChunk {
		end := min(off+bareChunk, int64(len(s.b)))
		if err := ss.Send(&dsarv1.DownloadBundleResponse{Part: &dsarv1.DownloadBundleResponse_Chunk{Chunk: s.b[off:end]}}); err != nil {
			return err
		}
	}
	return nil
}

// serveBare starts a bare server on loopback; stop ends it.
func serveBare(b []byte, tc *certs) (addr string, stop func(), err error) {
	sum := sha256.Sum256(b)
	var opts []grpc.ServerOption
	if tc != nil {
		opts = append(opts, grpc.Creds(credentials.NewServerTLSFromCert(&tc.cert)))
	}
	srv := grpc.NewServer(opts...)
	dsarv1.RegisterAccessRequestServiceServer(srv, &bareServer{b: b, sum: hex.EncodeToString(sum[:])})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	return lis.Addr().String(), func() { srv.Stop(); <-done }, nil
}

// throughput downloads the bundle repeatedly for at least d and returns
// bytes per second.
func throughput(ctx context.Context, c *client, id string, d time.Duration) (float64, error) {
	var n int64
	start := time.Now()
	for i := 0; i < 3 || time.Since(start) < d; i++ {
		got, err := c.drain(ctx, id)
		if err != nil {
			return 0, err
		}
		n += got
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// runDownload measures bundle downloads from dsard, plaintext and TLS, as
// a ratio to a bare gRPC stream of the same bytes, and resumes an
// interrupted download.
func runDownload(ctx context.Context, e *env) ([]row, error) {
	z, err := startZoomfake(ctx, e, "business")
	if err != nil {
		return nil, err
	}
	defer z.stop(5 * time.Second)
	dir, err := e.tempDir("download")
	if err != nil {
		return nil, err
	}
	tc, err := makeCerts(dir)
	if err != nil {
		return nil, err
	}
	acct := primaryAccount(z)
	dur := time.Second
	if e.short {
		dur = 200 * time.Millisecond
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	var rows []row
	var id string
	var b []byte
	for _, useTLS := range []bool{false, true} {
		cfg := dsardConfig{dataDir: dir + "/data", accounts: acct}
		name := "plaintext"
		if useTLS {
			cfg.tls, name = tc, "TLS"
		}
		r, err := func() ([]row, error) {
			srv, err := launch(wctx, e, cfg)
			if err != nil {
				return nil, err
			}
			defer srv.stop()
			c := srv.c
			var rows []row
			if id == "" {
				var req *dsarv1.AccessRequest
				if id, req, err = c.requestJane(wctx, "download", nil); err != nil {
					return nil, err
				}
				if err := completed(req); err != nil {
					return nil, err
				}
				if b, _, err = c.fetchBundle(wctx, id, dir); err != nil {
					return nil, err
				}
				r, err := resumeCheck(wctx, c, id, b, dir)
				if err != nil {
					return nil, err
				}
				rows = append(rows, r)
			}
			got, err := throughput(wctx, c, id, dur)
			if err != nil {
				return nil, err
			}
			addr, stop, err := serveBare(b, cfg.tls)
			if err != nil {
				return nil, err
			}
			defer stop()
			bc, err := dial(addr, cfg.tls.poolOrNil())
			if err != nil {
				return nil, err
			}
			defer bc.Close()
			bare, err := throughput(wctx, bc, "bare", dur)
			if err != nil {
				return nil, err
			}
			rows = append(rows, row{scenario: "download", figure: name + ": dsard / bare gRPC stream",
				value: fmt.Sprintf("%.0f / %.0f MB/s = %.2f", got/1e6, bare/1e6, got/bare),
				note: fmt.Sprintf("bundle of %d bytes downloaded whole, repeatedly for %s; dsard spends %.2f ms more per download than the bare stream (in the bench process, %d KiB chunks)",
					len(b), dur, (float64(len(b))/got-float64(len(b))/bare)*1e3, bareChunk>>10)})
			return rows, nil
		}()
		rows = append(rows, r...)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", name, err)
		}
	}
	return rows, nil
}

// errCut is how resumeCheck breaks a download, as a broken connection
// would.
var errCut = errors.New("cut half-way by dsarbench")

// resumeCheck cuts a download with client.Download half-way, resumes it
// with client.Download as dsarctl does (from the partial file's end, with
// the expected SHA-256), and checks the file against whole, which
// fetchBundle has already hashed and verified against the daemon's
// signature. Download cuts at a chunk's end; the partial file is then
// truncated to exactly half, as a connection broken mid-chunk leaves it.
func resumeCheck(ctx context.Context, c *client, id string, whole []byte, dir string) (row, error) {
	out := filepath.Join(dir, "resumed.zip")
	half := int64(len(whole) / 2)
	_, _, err := dsarclient.Download(ctx, c.api, id, out, dsarclient.DownloadOptions{Progress: func(n, _ int64) error {
		if n >= half {
			return errCut
		}
		return nil
	}})
	var partial *dsarclient.PartialError
	switch {
	case err == nil:
		return row{}, errors.New("cut download: completed, want a partial file")
	case !errors.As(err, &partial) || !errors.Is(err, errCut):
		return row{}, fmt.Errorf("cut download: want a partial file: %w", err)
	}
	if err := os.Truncate(partial.Part, half); err != nil {
		return row{}, fmt.Errorf("cut download: %w", err)
	}
	v, ok := "SHA-256 and signature match", true
	if _, _, err := dsarclient.Download(ctx, c.api, id, out, dsarclient.DownloadOptions{Resume: true}); err != nil {
		v, ok = fmt.Sprintf("FAILED (%v)", err), false
	} else {
		got, err := os.ReadFile(out)
		if err != nil {
			return row{}, fmt.Errorf("resumed download: %w", err)
		}
		if !bytes.Equal(got, whole) {
			v, ok = "MISMATCH", false
		}
		if err := os.Remove(out); err != nil {
			return row{}, fmt.Errorf("resumed download: %w", err)
		}
	}
	return row{scenario: "download", figure: "interrupted download resumed",
		value: fmt.Sprintf("cut at %d of %d bytes, resumed: %s", half, len(whole), v), goal: "SHA-256 matches", verdict: judge(ok)}, nil
}
