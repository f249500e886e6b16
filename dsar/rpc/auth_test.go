package rpc

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func hashHex(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

func TestParseTokens(t *testing.T) {
	good := "# dsard tokens\n" +
		"\n" +
		"platform  privacy-platform " + hashHex("tok-platform") + "\n" +
		"   # an indented comment\n" +
		"operator\toncall\t" + hashHex("tok-operator") + "\n" +
		"auditor audit-team " + strings.ToUpper(hashHex("tok-auditor")) + "  \n"
	toks, err := ParseTokens(strings.NewReader(good))
	if err != nil {
		t.Fatalf("ParseTokens(good): %v", err)
	}
	if toks.Len() != 3 {
		t.Fatalf("Len = %d, want 3", toks.Len())
	}
	for _, tc := range []struct {
		token string
		want  Caller
		ok    bool
	}{
		{"tok-platform", Caller{"privacy-platform", RolePlatform}, true},
		{"tok-operator", Caller{"oncall", RoleOperator}, true},
		{"tok-auditor", Caller{"audit-team", RoleAuditor}, true},
		{"tok-unknown", Caller{}, false},
		{"", Caller{}, false},
		{hashHex("tok-platform"), Caller{}, false}, // the hash is not the token
	} {
		got, ok := toks.Lookup(tc.token)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tc.token, got, ok, tc.want, tc.ok)
		}
	}
	var nilTokens *Tokens
	if _, ok := nilTokens.Lookup("tok-platform"); ok {
		t.Error("nil Tokens accepted a token")
	}
}

func TestParseTokensErrors(t *testing.T) {
	const secret = "s3cret-token-value"
	h := hashHex("x")
	for _, tc := range []struct {
		name, file, want string
	}{
		{"too few fields", "# c\nplatform " + h + "\n", "line 2: want 3 fields"},
		{"too many fields", "platform a b " + h + "\n", "line 1: want 3 fields"},
		{"unknown role", "admin root " + h + "\n", `line 1: unknown role "admin"`},
		{"token instead of hash", "\n\noperator bob " + secret + "\n", "line 3: third field must be the 64 hex digits"},
		{"not hex", "operator bob " + strings.Repeat("zz", 32) + "\n", "line 1: third field is not hex"},
		{"duplicate hash", "operator a " + h + "\nauditor b " + h + "\n", "line 2: same token hash as line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTokens(strings.NewReader(tc.file))
			if err == nil {
				t.Fatal("ParseTokens succeeded, want error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), h) {
				t.Errorf("error %q repeats the line's token or hash", err)
			}
		})
	}
}

// Every method of the service has a rule, and every rule names a method of
// the service: a new RPC without a rule fails here.
func TestMethodRolesCoverService(t *testing.T) {
	sd := dsarv1.File_dsar_v1_dsar_proto.Services().ByName("AccessRequestService")
	if sd == nil {
		t.Fatal("AccessRequestService not in the file descriptor")
	}
	methods := map[string]bool{}
	for i := range sd.Methods().Len() {
		full := "/" + string(sd.FullName()) + "/" + string(sd.Methods().Get(i).Name())
		methods[full] = true
		if len(methodRoles[full]) == 0 {
			t.Errorf("%s has no rule in methodRoles", full)
		}
	}
	for m, roles := range methodRoles {
		if !methods[m] {
			t.Errorf("methodRoles has %s, which the service does not", m)
		}
		for _, r := range roles {
			if !r.valid() {
				t.Errorf("methodRoles[%s] has unknown role %q", m, r)
			}
		}
	}
}

func TestAllowed(t *testing.T) {
	const svc = "/dsar.v1.AccessRequestService/"
	for _, tc := range []struct {
		role   Role
		method string
		want   bool
	}{
		{RolePlatform, svc + "CreateAccessRequest", true},
		{RolePlatform, svc + "GetAccessRequest", true},
		{RolePlatform, svc + "WatchAccessRequest", true},
		{RolePlatform, svc + "DownloadBundle", true},
		{RolePlatform, svc + "ListAccessRequests", false},
		{RolePlatform, svc + "CancelAccessRequest", false},
		{RolePlatform, svc + "ListAuditEvents", false},
		{RoleOperator, svc + "CreateAccessRequest", true},
		{RoleOperator, svc + "CancelAccessRequest", true},
		{RoleOperator, svc + "ResumeAccessRequest", true},
		{RoleOperator, svc + "RetrySection", true},
		{RoleOperator, svc + "ExtendDeadline", true},
		{RoleOperator, svc + "ListAuditEvents", true},
		{RoleAuditor, svc + "GetAccessRequest", true},
		{RoleAuditor, svc + "DownloadBundle", true},
		{RoleAuditor, svc + "ListAuditEvents", true},
		{RoleAuditor, svc + "GetSigningKey", true},
		{RoleAuditor, svc + "CreateAccessRequest", false},
		{RoleAuditor, svc + "CancelAccessRequest", false},
		{RoleAuditor, svc + "GetManifest", true},
		{RoleOperator, svc + "GetManifest", true},
		{RolePlatform, svc + "GetManifest", false},
		{RoleOperator, svc + "NoSuchMethod", false},
		{Role("admin"), svc + "GetAccessRequest", false},
	} {
		if got := Allowed(tc.role, tc.method); got != tc.want {
			t.Errorf("Allowed(%s, %s) = %v, want %v", tc.role, tc.method, got, tc.want)
		}
	}
}

// stub answers with the caller the interceptor put in the context, and
// panics where asked, so the tests see what reached the handler.
type stub struct {
	dsarv1.UnimplementedAccessRequestServiceServer
}

func callerReply(ctx context.Context) *dsarv1.AccessRequest {
	c, ok := CallerFrom(ctx)
	if !ok {
		return &dsarv1.AccessRequest{Reason: "no caller"}
	}
	return &dsarv1.AccessRequest{Reason: c.Name + "/" + string(c.Role)}
}

func (stub) GetAccessRequest(ctx context.Context, _ *dsarv1.GetAccessRequestRequest) (*dsarv1.GetAccessRequestResponse, error) {
	return &dsarv1.GetAccessRequestResponse{AccessRequest: callerReply(ctx)}, nil
}

func (stub) CancelAccessRequest(ctx context.Context, _ *dsarv1.CancelAccessRequestRequest) (*dsarv1.CancelAccessRequestResponse, error) {
	return &dsarv1.CancelAccessRequestResponse{AccessRequest: callerReply(ctx)}, nil
}

func (stub) WatchAccessRequest(_ *dsarv1.WatchAccessRequestRequest, ss grpc.ServerStreamingServer[dsarv1.WatchAccessRequestResponse]) error {
	return ss.Send(&dsarv1.WatchAccessRequestResponse{AccessRequest: callerReply(ss.Context())})
}

func (stub) ResumeAccessRequest(context.Context, *dsarv1.ResumeAccessRequestRequest) (*dsarv1.ResumeAccessRequestResponse, error) {
	var m map[string]int
	//lint:ignore SA5000 a nil-map panic, as a bug would make, is what the recovery test needs
	m["boom"] = 1
	return nil, nil
}

func (stub) DownloadBundle(*dsarv1.DownloadBundleRequest, grpc.ServerStreamingServer[dsarv1.DownloadBundleResponse]) error {
	panic("stream bug")
}

type testServer struct {
	health *Health
	log    *bytes.Buffer
	dial   func(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn
}

// startServer serves the stub, health and reflection over bufconn with the
// interceptors of ServerOptions. serverTLS nil means plaintext.
func startServer(t *testing.T, auth *Auth, serverTLS *tls.Config) *testServer {
	t.Helper()
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	opts := ServerOptions(auth, log)
	if serverTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	s := grpc.NewServer(opts...)
	dsarv1.RegisterAccessRequestServiceServer(s, stub{})
	h := NewHealth()
	h.Register(s)
	RegisterReflection(s)
	lis := bufconn.Listen(1 << 20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	dial := func(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
		t.Helper()
		opts = append([]grpc.DialOption{
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		}, opts...)
		conn, err := grpc.NewClient("passthrough:///bufnet", opts...)
		if err != nil {
			t.Fatalf("grpc.NewClient: %v", err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	return &testServer{health: h, log: &logBuf, dial: dial}
}

func withToken(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func testTokens(t *testing.T) *Tokens {
	t.Helper()
	toks, err := ParseTokens(strings.NewReader(
		"platform plat " + hashHex("tok-p") + "\n" +
			"operator ops " + hashHex("tok-o") + "\n" +
			"auditor aud " + hashHex("tok-a") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func TestInterceptors(t *testing.T) {
	srv := startServer(t, &Auth{Tokens: testTokens(t)}, nil)
	client := dsarv1.NewAccessRequestServiceClient(srv.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials())))

	unary := map[string]func(ctx context.Context) (*dsarv1.AccessRequest, error){
		"Get": func(ctx context.Context) (*dsarv1.AccessRequest, error) {
			r, err := client.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: "r1"})
			return r.GetAccessRequest(), err
		},
		"Cancel": func(ctx context.Context) (*dsarv1.AccessRequest, error) {
			r, err := client.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: "r1"})
			return r.GetAccessRequest(), err
		},
		"Watch": func(ctx context.Context) (*dsarv1.AccessRequest, error) {
			st, err := client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: "r1"})
			if err != nil {
				return nil, err
			}
			r, err := st.Recv()
			return r.GetAccessRequest(), err
		},
		"Retry": func(ctx context.Context) (*dsarv1.AccessRequest, error) {
			r, err := client.RetrySection(ctx, &dsarv1.RetrySectionRequest{Id: "r1", Section: "profile"})
			return r.GetAccessRequest(), err
		},
	}
	for _, tc := range []struct {
		name, call, token string
		header            string // raw authorization header instead of token
		want              codes.Code
		caller            string
	}{
		{name: "no credentials", call: "Get", want: codes.Unauthenticated},
		{name: "unknown token", call: "Get", token: "tok-wrong", want: codes.Unauthenticated},
		{name: "not bearer", call: "Get", header: "Basic dG9rLW8=", want: codes.Unauthenticated},
		{name: "platform get", call: "Get", token: "tok-p", want: codes.OK, caller: "plat/platform"},
		{name: "platform cancel", call: "Cancel", token: "tok-p", want: codes.PermissionDenied},
		{name: "operator cancel", call: "Cancel", token: "tok-o", want: codes.OK, caller: "ops/operator"},
		{name: "auditor cancel", call: "Cancel", token: "tok-a", want: codes.PermissionDenied},
		{name: "stream no credentials", call: "Watch", want: codes.Unauthenticated},
		{name: "platform watch", call: "Watch", token: "tok-p", want: codes.OK, caller: "plat/platform"},
		{name: "auditor watch", call: "Watch", token: "tok-a", want: codes.PermissionDenied},
		{name: "operator retry reaches handler", call: "Retry", token: "tok-o", want: codes.Unimplemented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := withToken(t.Context(), tc.token)
			if tc.header != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tc.header)
			}
			got, err := unary[tc.call](ctx)
			if code := status.Code(err); code != tc.want {
				t.Fatalf("code = %v (%v), want %v", code, err, tc.want)
			}
			if tc.want == codes.OK && got.GetReason() != tc.caller {
				t.Errorf("handler saw caller %q, want %q", got.GetReason(), tc.caller)
			}
			if tc.token != "" && strings.Contains(status.Convert(err).Message(), tc.token) {
				t.Errorf("error message %q repeats the token", status.Convert(err).Message())
			}
		})
	}
}

// TestRefusals checks the exact status a refused client gets, through
// ServerOptions and through NewServer: authentication refuses with domain
// errors, so this fails if the mapping of codes.go does not run outside it.
func TestRefusals(t *testing.T) {
	const svc = "/dsar.v1.AccessRequestService/"
	stubSrv := startServer(t, &Auth{Tokens: testTokens(t)}, nil)
	servers := map[string]dsarv1.AccessRequestServiceClient{
		"ServerOptions": dsarv1.NewAccessRequestServiceClient(stubSrv.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials()))),
		"NewServer":     newHarness(t, harnessConfig{proc: newFakeProcessor()}).client,
	}
	for _, tc := range []struct {
		name    string
		stream  bool
		headers []string // authorization headers
		code    codes.Code
		msg     string
	}{
		{"no credentials", false, nil, codes.Unauthenticated,
			"missing credentials; send `authorization: Bearer <token>` or a client certificate"},
		{"two headers", false, []string{"Bearer tok-o", "Bearer tok-p"}, codes.Unauthenticated,
			"more than one authorization header; send one"},
		{"not bearer", false, []string{"Basic dG9rLW8="}, codes.Unauthenticated,
			"authorization header must be `Bearer <token>`"},
		{"unknown token", false, []string{"Bearer tok-wrong"}, codes.Unauthenticated,
			"unknown bearer token; check the token or ask an operator to add it to the tokens file"},
		{"role may not", false, []string{"Bearer tok-p"}, codes.PermissionDenied,
			"role platform may not call " + svc + "CancelAccessRequest"},
		{"stream without credentials", true, nil, codes.Unauthenticated,
			"missing credentials; send `authorization: Bearer <token>` or a client certificate"},
		{"stream role may not", true, []string{"Bearer tok-a"}, codes.PermissionDenied,
			"role auditor may not call " + svc + "WatchAccessRequest"},
	} {
		for name, client := range servers {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				ctx := t.Context()
				for _, h := range tc.headers {
					ctx = metadata.AppendToOutgoingContext(ctx, "authorization", h)
				}
				var err error
				if tc.stream {
					var st grpc.ServerStreamingClient[dsarv1.WatchAccessRequestResponse]
					if st, err = client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: "r1"}); err == nil {
						_, err = st.Recv()
					}
				} else {
					_, err = client.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: "r1"})
				}
				if s := status.Convert(err); s.Code() != tc.code || s.Message() != tc.msg {
					t.Errorf("got %v %q, want %v %q", s.Code(), s.Message(), tc.code, tc.msg)
				}
			})
		}
	}
}

func TestRecovery(t *testing.T) {
	srv := startServer(t, &Auth{Tokens: testTokens(t)}, nil)
	client := dsarv1.NewAccessRequestServiceClient(srv.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials())))
	ctx := withToken(t.Context(), "tok-o")

	_, err := client.ResumeAccessRequest(ctx, &dsarv1.ResumeAccessRequestRequest{Id: "r1"})
	checkInternal(t, "unary", err)

	st, err := client.DownloadBundle(ctx, &dsarv1.DownloadBundleRequest{Id: "r1"})
	if err == nil {
		_, err = st.Recv()
	}
	checkInternal(t, "stream", err)

	logged := srv.log.String()
	for _, want := range []string{"panic in handler", "ResumeAccessRequest", "DownloadBundle", "stream bug", "goroutine"} {
		if !strings.Contains(logged, want) {
			t.Errorf("log does not contain %q:\n%s", want, logged)
		}
	}

	// The server still serves after the panics.
	if _, err := client.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: "r1"}); err != nil {
		t.Errorf("GetAccessRequest after panic: %v", err)
	}
}

func checkInternal(t *testing.T, what string, err error) {
	t.Helper()
	s := status.Convert(err)
	if s.Code() != codes.Internal || s.Message() != "internal error" {
		t.Errorf("%s panic: got %v %q, want Internal \"internal error\"", what, s.Code(), s.Message())
	}
}

// pki is a CA with a server certificate, for the mTLS tests.
type pki struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue(t, pkix.Name{CommonName: "dsard"}, x509.ExtKeyUsageServerAuth, "dsard.test")
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (p *pki) issue(t testing.TB, subject pkix.Name, usage x509.ExtKeyUsage, dns ...string) tls.Certificate {
	t.Helper()
	key := newKey(t)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		DNSNames:     dns,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestClientCertificates(t *testing.T) {
	p := newPKI(t)
	serverTLS := &tls.Config{
		Certificates: []tls.Certificate{p.server},
		ClientCAs:    p.pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS13,
	}
	withCerts := startServer(t, &Auth{Tokens: testTokens(t), ClientCerts: true}, serverTLS)
	tokensOnly := startServer(t, &Auth{Tokens: testTokens(t)}, serverTLS)

	for _, tc := range []struct {
		name    string
		srv     *testServer
		subject *pkix.Name // nil: no client certificate
		token   string
		want    codes.Code
		msg     string // the refusal's exact message, where checked
		caller  string
	}{
		{name: "operator cert", srv: withCerts, subject: &pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"operator"}}, want: codes.OK, caller: "alice/operator"},
		{name: "role in second OU", srv: withCerts, subject: &pkix.Name{CommonName: "bob", OrganizationalUnit: []string{"privacy", "operator"}}, want: codes.OK, caller: "bob/operator"},
		{name: "platform cert may not cancel", srv: withCerts, subject: &pkix.Name{CommonName: "plat", OrganizationalUnit: []string{"platform"}}, want: codes.PermissionDenied},
		{name: "cert without role", srv: withCerts, subject: &pkix.Name{CommonName: "carol", OrganizationalUnit: []string{"admins"}}, want: codes.PermissionDenied,
			msg: "client certificate has no role; its subject OU must be platform, operator or auditor"},
		{name: "cert without CN", srv: withCerts, subject: &pkix.Name{OrganizationalUnit: []string{"operator"}}, want: codes.Unauthenticated,
			msg: "client certificate has no subject common name to name the caller"},
		{name: "token wins over cert", srv: withCerts, subject: &pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"operator"}}, token: "tok-p", want: codes.PermissionDenied},
		{name: "no cert no token", srv: withCerts, want: codes.Unauthenticated},
		{name: "token over TLS", srv: withCerts, token: "tok-o", want: codes.OK, caller: "ops/operator"},
		{name: "certs not accepted", srv: tokensOnly, subject: &pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"operator"}}, want: codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clientTLS := &tls.Config{RootCAs: p.pool, ServerName: "dsard.test", MinVersion: tls.VersionTLS13}
			if tc.subject != nil {
				clientTLS.Certificates = []tls.Certificate{p.issue(t, *tc.subject, x509.ExtKeyUsageClientAuth)}
			}
			client := dsarv1.NewAccessRequestServiceClient(tc.srv.dial(t, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS))))
			r, err := client.CancelAccessRequest(withToken(t.Context(), tc.token), &dsarv1.CancelAccessRequestRequest{Id: "r1"})
			if code := status.Code(err); code != tc.want {
				t.Fatalf("code = %v (%v), want %v", code, err, tc.want)
			}
			if msg := status.Convert(err).Message(); tc.msg != "" && msg != tc.msg {
				t.Errorf("message %q, want %q", msg, tc.msg)
			}
			if tc.want == codes.OK && r.GetAccessRequest().GetReason() != tc.caller {
				t.Errorf("handler saw caller %q, want %q", r.GetAccessRequest().GetReason(), tc.caller)
			}
		})
	}
}
