package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/zoomdsar/zoom-dsar/dsar/rpc"
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
		_, got, err := c.download(ctx, id, 0, "", io.Discard, 0)
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
				if b, _, err = c.fetchBundle(wctx, id); err != nil {
					return nil, err
				}
				r, err := resumeCheck(wctx, c, id, b)
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

// resumeCheck cuts a download half-way, resumes it from where it stopped
// with the expected SHA-256, and checks the joined bytes against the
// header and against whole, which fetchBundle has already hashed and
// verified against the daemon's signature.
func resumeCheck(ctx context.Context, c *client, id string, whole []byte) (row, error) {
	var buf bytes.Buffer
	h, n, err := c.download(ctx, id, 0, "", &buf, int64(len(whole)/2))
	if err != nil {
		return row{}, err
	}
	if _, _, err := c.download(ctx, id, n, h.GetSha256(), &buf, 0); err != nil {
		return row{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	ok := hex.EncodeToString(sum[:]) == h.GetSha256() && bytes.Equal(buf.Bytes(), whole)
	v := "SHA-256 and signature match"
	if !ok {
		v = "MISMATCH"
	}
	return row{scenario: "download", figure: "interrupted download resumed",
		value: fmt.Sprintf("cut at %d of %d bytes, resumed: %s", n, len(whole), v), goal: "SHA-256 matches", verdict: judge(ok)}, nil
}
