package rpc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

const benchBundleSize = 32 << 20

// benchTLS returns a server config with a certificate of the test CA
// (newPKI) and a client config that trusts it.
func benchTLS(b *testing.B) (*tls.Config, *tls.Config) {
	p := newPKI(b)
	return &tls.Config{Certificates: []tls.Certificate{p.server}},
		&tls.Config{RootCAs: p.pool, ServerName: "dsard.test"}
}

// bareServer streams the same bytes from memory in the same chunks,
// without validation, files, auth or interceptors: the baseline.
type bareServer struct {
	dsarv1.UnimplementedAccessRequestServiceServer
	data  []byte
	chunk int
}

func (s *bareServer) DownloadBundle(_ *dsarv1.DownloadBundleRequest, ss grpc.ServerStreamingServer[dsarv1.DownloadBundleResponse]) error {
	if err := ss.Send(&dsarv1.DownloadBundleResponse{Part: &dsarv1.DownloadBundleResponse_Header{Header: &dsarv1.DownloadBundleHeader{SizeBytes: int64(len(s.data))}}}); err != nil {
		return err
	}
	for off := 0; off < len(s.data); off += s.chunk {
		end := min(off+s.chunk, len(s.data))
		if err := ss.Send(&dsarv1.DownloadBundleResponse{Part: &dsarv1.DownloadBundleResponse_Chunk{Chunk: s.data[off:end]}}); err != nil {
			return err
		}
	}
	return nil
}

// serveTCP serves s on a loopback port and returns a client connection.
func serveTCP(b *testing.B, s *grpc.Server, clientTLS *tls.Config, dial ...grpc.DialOption) *grpc.ClientConn {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	creds := insecure.NewCredentials()
	if clientTLS != nil {
		creds = credentials.NewTLS(clientTLS)
	}
	conn, err := grpc.NewClient(lis.Addr().String(), append(dial, grpc.WithTransportCredentials(creds))...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn.Close()
		s.Stop()
		<-done
	})
	return conn
}

// benchSetup writes a bundle file and serves it twice: through the service
// (with NewServer's interceptors, over a fake processor whose request is
// COMPLETED with that file) and through bareServer.
func benchSetup(b *testing.B, useTLS bool, dial ...grpc.DialOption) (svc, bare dsarv1.AccessRequestServiceClient, id string, data []byte) {
	data = make([]byte, benchBundleSize)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bundle.zip")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(data)
	fake := newFakeProcessor()
	id = "01bench"
	fake.reqs[id] = &dsar.Request{ID: id, State: dsar.StateCompleted,
		Bundle: dsar.Bundle{Path: path, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}}

	var serverTLS, clientTLS *tls.Config
	if useTLS {
		serverTLS, clientTLS = benchTLS(b)
	}
	toks, err := ParseTokens(strings.NewReader("auditor aud " + hashHex("tok-a") + "\n"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewService(ServiceConfig{Processor: fake, SigningKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	gs, err := NewServer(ServerConfig{Service: s, Auth: &Auth{Tokens: toks}, Health: NewHealth(), TLS: serverTLS})
	if err != nil {
		b.Fatal(err)
	}
	svc = dsarv1.NewAccessRequestServiceClient(serveTCP(b, gs, clientTLS, dial...))

	var opts []grpc.ServerOption
	if serverTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	bs := grpc.NewServer(opts...)
	dsarv1.RegisterAccessRequestServiceServer(bs, &bareServer{data: data, chunk: DefaultChunkSize})
	bare = dsarv1.NewAccessRequestServiceClient(serveTCP(b, bs, clientTLS))
	return svc, bare, id, data
}

// drain reads a whole download and returns the bytes received.
func drain(ctx context.Context, c dsarv1.AccessRequestServiceClient, id string) (int, error) {
	st, err := c.DownloadBundle(ctx, &dsarv1.DownloadBundleRequest{Id: id})
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += len(m.GetChunk())
	}
}

// BenchmarkDownloadBundle measures DownloadBundle over loopback TCP and
// reports its throughput as a ratio to a bare stream of the same bytes,
// both measured in the same iterations.
//
//	go test -run '^$' -bench DownloadBundle -benchtime 20x ./dsar/rpc
func BenchmarkDownloadBundle(b *testing.B) {
	for _, mode := range []string{"plaintext", "tls"} {
		b.Run(mode, func(b *testing.B) {
			svc, bare, id, data := benchSetup(b, mode == "tls")
			ctx := withToken(b.Context(), "tok-a")
			b.ReportAllocs()
			var tSvc, tBare time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				n, err := drain(ctx, bare, id)
				if err != nil || n != len(data) {
					b.Fatalf("bare: %d bytes, %v", n, err)
				}
				mid := time.Now()
				n, err = drain(ctx, svc, id)
				if err != nil || n != len(data) {
					b.Fatalf("service: %d bytes, %v", n, err)
				}
				tBare += mid.Sub(start)
				tSvc += time.Since(mid)
			}
			mb := float64(len(data)) / (1 << 20) * float64(b.N)
			b.ReportMetric(mb/tSvc.Seconds(), "svc-MiB/s")
			b.ReportMetric(mb/tBare.Seconds(), "bare-MiB/s")
			b.ReportMetric(tBare.Seconds()/tSvc.Seconds(), "ratio")
		})
	}
}

// BenchmarkConcurrentDownloads holds many downloads open at once, each
// stalled after its first chunk as a slow client would, and reports the
// heap in use per download. Client and server share the process: with
// grpc's default (BDP-grown) client windows the figure is mostly the
// client's receive buffers; with a fixed 64 KiB client window it is
// mostly the server's.
//
//	go test -run '^$' -bench ConcurrentDownloads -benchtime 1x ./dsar/rpc
func BenchmarkConcurrentDownloads(b *testing.B) {
	b.Run("default-window", func(b *testing.B) { benchConcurrent(b) })
	b.Run("client-window-64KiB", func(b *testing.B) {
		benchConcurrent(b, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	})
}

func benchConcurrent(b *testing.B, dial ...grpc.DialOption) {
	const streams = 64
	svc, _, id, _ := benchSetup(b, false, dial...)
	ctx, cancel := context.WithCancel(withToken(b.Context(), "tok-a"))
	defer cancel()
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var started, stopped sync.WaitGroup
		started.Add(streams)
		release := make(chan struct{})
		for range streams {
			stopped.Go(func() {
				st, err := svc.DownloadBundle(ctx, &dsarv1.DownloadBundleRequest{Id: id})
				if err == nil {
					_, err = st.Recv() // header
				}
				if err == nil {
					_, err = st.Recv() // first chunk
				}
				started.Done()
				if err != nil {
					b.Error(err)
					return
				}
				<-release
				for {
					if _, err := st.Recv(); err != nil {
						return
					}
				}
			})
		}
		started.Wait()
		runtime.GC()
		var during runtime.MemStats
		runtime.ReadMemStats(&during)
		close(release)
		stopped.Wait()
		b.ReportMetric(float64(int64(during.HeapInuse)-int64(before.HeapInuse))/streams/1024, "heap-KiB/download")
	}
}
