package daemon

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const operatorToken = "operator-token-for-tests"

// started is a daemon running in-process against the emulator.
type started struct {
	dir    string // the data directory
	d      *Daemon
	stop   context.CancelFunc
	logs   *syncBuffer
	conn   *grpc.ClientConn
	client dsarv1.AccessRequestServiceClient
	zoom   *zoomtest.Server
}

func start(t *testing.T, withAccount bool, zoom ...zoomtest.Option) *started {
	t.Helper()
	return startWith(t, withAccount, nil, zoom...)
}

// startWith is start with edit, if not nil, changing the configuration
// before the daemon starts; s.zoom is set by then.
func startWith(t *testing.T, withAccount bool, edit func(s *started, cfg *Config), zoom ...zoomtest.Option) *started {
	t.Helper()
	dir := t.TempDir()
	sum := sha256.Sum256([]byte(operatorToken))
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("operator ops "+hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &started{logs: &syncBuffer{}, dir: filepath.Join(dir, "data")}
	cfg := Config{Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
		TokensFile: tokens, LogLevel: "debug", ShutdownGrace: 10 * time.Second, Logs: s.logs}
	if withAccount {
		s.zoom = zoomtest.NewServer(t, append([]zoomtest.Option{zoomtest.WithLimits(zoomtest.Limits{Off: true})}, zoom...)...)
		a := s.zoom.Account()
		accts := filepath.Join(dir, "accounts.json")
		body := `[{"name": "main", "plan": "` + string(a.Plan) + `", "account_id": "` + a.ID + `", "client_id": "` + a.ClientID +
			`", "client_secret_env": "ZOOM_SECRET", "api_url": "` + s.zoom.APIURL + `", "token_url": "` + s.zoom.TokenURL + `"}]`
		if err := os.WriteFile(accts, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.AccountsFile = accts
		cfg.Getenv = envMap(map[string]string{"ZOOM_SECRET": a.ClientSecret})
	}
	if edit != nil {
		edit(s, &cfg)
	}
	ctx, stop := context.WithCancel(context.Background())
	d, err := Start(ctx, cfg)
	if err != nil {
		stop()
		t.Fatalf("Start: %v", err)
	}
	s.d, s.stop = d, stop
	conn, err := grpc.NewClient(d.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	s.client = dsarv1.NewAccessRequestServiceClient(conn)
	t.Cleanup(func() {
		conn.Close()
		stop()
		if err := d.Wait(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// watch follows a request until its Watch stream ends, and returns its
// last state.
func (s *started) watch(ctx context.Context, t *testing.T, id string) *dsarv1.AccessRequest {
	t.Helper()
	st, err := s.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var last *dsarv1.AccessRequest
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return last
		}
		if err != nil {
			t.Fatal(err)
		}
		last = m.GetAccessRequest()
	}
}

func operator(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+operatorToken)
}

func (s *started) metrics(t *testing.T) string {
	t.Helper()
	_, body := s.get(t, "/metrics")
	return body
}

// probe returns the status of a GET of path on the metrics listener.
func (s *started) probe(t *testing.T, path string) int {
	t.Helper()
	code, _ := s.get(t, path)
	return code
}

// get GETs path on the metrics listener.
func (s *started) get(t *testing.T, path string) (code int, body string) {
	t.Helper()
	resp, err := http.Get("http://" + s.d.MetricsAddr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections()
	return resp.StatusCode, string(b)
}

// TestWholeRequest runs a request through the in-process daemon and checks
// health, metrics and that the logs hold no personal data or secret.
func TestWholeRequest(t *testing.T) {
	s := start(t, true)
	ctx := operator(t.Context())

	hc := healthpb.NewHealthClient(s.conn)
	h, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health after Start: %v, %v; want SERVING", h, err)
	}

	resp, err := s.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{
		Email: zoomtest.JaneEmail, Account: "main", IdempotencyKey: "k", Regulation: dsarv1.Regulation_REGULATION_GDPR})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetAccessRequest().GetId()
	last := s.watch(ctx, t, id)
	if last.GetState() != dsarv1.RequestState_REQUEST_STATE_COMPLETED {
		t.Fatalf("request ended %v: %s", last.GetState(), last.GetReason())
	}
	dl, err := s.client.DownloadBundle(ctx, &dsarv1.DownloadBundleRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for {
		m, err := dl.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n += int64(len(m.GetChunk()))
	}
	if n != last.GetBundle().GetSizeBytes() {
		t.Errorf("downloaded %d bytes of %d", n, last.GetBundle().GetSizeBytes())
	}

	// A wrong token is counted by peer.
	wrong := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer wrong")
	if _, err := s.client.GetAccessRequest(wrong, &dsarv1.GetAccessRequestRequest{Id: id}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("get with a wrong token: %v", err)
	}

	m := s.metrics(t)
	for _, want := range []string{
		`dsar_auth_failures_total{limited="false",peer="127.0.0.1"} 1`,
		`dsar_requests{state="COMPLETED"} 1`,
		`dsar_zoom_calls_total{account="main",category="Medium",family="api",status="200"}`,
		`dsar_zoom_calls_total{account="main",category="Light",family="phone",status="200"}`,
		`dsar_zoom_throttle_wait_seconds_count{account="main",category="Light",family="api"}`,
		`dsar_zoom_throttle_wait_seconds_bucket{account="main",category="Light",family="api",le="0.25"}`,
		`dsar_zoom_breaker_state{account="main",category="Medium",family="api"} 0`,
		`dsar_zoom_breaker_state{account="main",category="Light",family="phone"} 0`,
		`dsar_requests_due_soon{account="main"} 0`,
		`dsar_requests_overdue{account="main"} 0`,
		`dsar_requests_missed_due_total{account="main"} 0`,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="CreateAccessRequest",grpc_service="dsar.v1.AccessRequestService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="GetAccessRequest",grpc_service="dsar.v1.AccessRequestService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="DownloadBundle",grpc_service="dsar.v1.AccessRequestService",grpc_type="server_stream"} 1`,
		`grpc_server_handling_seconds_bucket{grpc_method="CreateAccessRequest",grpc_service="dsar.v1.AccessRequestService",grpc_type="unary",le="300"} 1`,
		`grpc_server_started_total{grpc_method="CancelAccessRequest",grpc_service="dsar.v1.AccessRequestService",grpc_type="unary"} 0`,
		`go_build_info{checksum=`,
		`dsar_section_duration_seconds_count{section="meetings",state="COMPLETE"} 1`,
		`dsar_bundle_bytes_served_total ` + strconv.FormatFloat(float64(n), 'g', -1, 64),
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "example.com") {
		t.Errorf("metrics name an email")
	}
	// Bucket bounds as written, not as products of floats.
	for _, le := range regexp.MustCompile(`le="([^"]*)"`).FindAllStringSubmatch(m, -1) {
		if len(le[1]) > 8 {
			t.Errorf("metrics hold a bucket with float noise: le=%q", le[1])
		}
	}
	if code := s.probe(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while serving: %d", code)
	}
	if code := s.probe(t, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz while serving: %d", code)
	}

	// Shutdown: health turns NOT_SERVING, the daemon stops.
	watch, err := hc.Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := watch.Recv(); err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health watch: %v, %v", h, err)
	}
	s.stop()
	for {
		h, err := watch.Recv()
		if err != nil {
			t.Fatalf("health watch ended (%v) before NOT_SERVING", err)
		}
		if h.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
	}
	// The open watch holds the graceful stop: the metrics listener
	// still serves, alive and not ready.
	if code := s.probe(t, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during shutdown: %d, want 503", code)
	}
	if code := s.probe(t, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz during shutdown: %d, want 200", code)
	}
	s.conn.Close() // ends the watch, so the graceful stop need not wait
	if err := s.d.Wait(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	logs := s.logs.String()
	u := s.zoom.Dataset().User(zoomtest.JaneEmail)
	secrets := map[string]string{
		"email": zoomtest.JaneEmail, "local part": "jane.doe", "first name": u.FirstName, "last name": u.LastName,
		"display name": u.DisplayName, "client secret": s.zoom.Account().ClientSecret, "token": operatorToken,
	}
	for what, v := range secrets {
		if v != "" && strings.Contains(logs, v) {
			t.Errorf("the logs contain the subject's %s", what)
		}
	}
	for _, want := range []string{`"msg":"serving"`, `"request":"` + id + `"`, `"msg":"request completed"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

func TestNoAccountsStarts(t *testing.T) {
	s := start(t, false)
	if !strings.Contains(s.logs.String(), "no Zoom accounts configured") {
		t.Errorf("the daemon did not say that it has no accounts")
	}
	_, err := s.client.CreateAccessRequest(operator(t.Context()), &dsarv1.CreateAccessRequestRequest{
		Email: "someone@example.com", Account: "main", IdempotencyKey: "k", Regulation: dsarv1.Regulation_REGULATION_GDPR})
	if status.Code(err) != codes.NotFound {
		t.Errorf("create without accounts: %v, want NotFound", err)
	}
	if _, err := s.client.GetSigningKey(t.Context(), &dsarv1.GetSigningKeyRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("call without a token: %v, want Unauthenticated", err)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	badTokens := filepath.Join(dir, "bad-tokens")
	if err := os.WriteFile(badTokens, []byte("# dsard tokens\nadmin root "+strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"tokens file missing", Config{Listen: "127.0.0.1:0", DataDir: dir, TokensFile: filepath.Join(dir, "nope")}, "load tokens: open " + filepath.Join(dir, "nope")},
		{"tokens file malformed", Config{Listen: "127.0.0.1:0", DataDir: dir, TokensFile: badTokens}, "load tokens " + badTokens + `: tokens file line 2: unknown role "admin"`},
		{"accounts file missing", Config{Listen: "127.0.0.1:0", DataDir: dir, AccountsFile: filepath.Join(dir, "nope")}, "accounts file"},
		{"bad TLS files", Config{Listen: "127.0.0.1:0", DataDir: dir, TLSCert: "nope", TLSKey: "nope"}, "TLS certificate"},
		{"signing key missing", Config{Listen: "127.0.0.1:0", DataDir: dir, SigningKey: filepath.Join(dir, "nope")}, "signing key"},
		{"port taken", Config{Listen: taken.Addr().String(), DataDir: dir}, "listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Start(t.Context(), tc.cfg)
			if err == nil {
				d.Wait()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
