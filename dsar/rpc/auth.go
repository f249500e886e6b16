package rpc

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// Role is what a caller may do. See DESIGN.md, Security.
type Role string

const (
	RolePlatform Role = "platform" // the privacy-request platform
	RoleOperator Role = "operator" // an operator on call (dsarctl)
	RoleAuditor  Role = "auditor"  // downloads and verifies bundles, reads the audit log
)

// Roles lists every role.
var Roles = []Role{RolePlatform, RoleOperator, RoleAuditor}

func (r Role) valid() bool { return slices.Contains(Roles, r) }

// methodRoles is the one table of which role may call which method. A
// method that is not here is refused to everyone (the test checks that every
// method of the service is here).
var methodRoles = map[string][]Role{
	dsarv1.AccessRequestService_CreateAccessRequest_FullMethodName:          {RolePlatform, RoleOperator},
	dsarv1.AccessRequestService_GetAccessRequest_FullMethodName:             {RolePlatform, RoleOperator, RoleAuditor},
	dsarv1.AccessRequestService_WatchAccessRequest_FullMethodName:           {RolePlatform, RoleOperator},
	dsarv1.AccessRequestService_DownloadBundle_FullMethodName:               {RolePlatform, RoleOperator, RoleAuditor},
	dsarv1.AccessRequestService_ListAccessRequests_FullMethodName:           {RoleOperator},
	dsarv1.AccessRequestService_CancelAccessRequest_FullMethodName:          {RoleOperator},
	dsarv1.AccessRequestService_ResumeAccessRequest_FullMethodName:          {RoleOperator},
	dsarv1.AccessRequestService_ListAccounts_FullMethodName:                 {RoleOperator},
	dsarv1.AccessRequestService_CheckAccount_FullMethodName:                 {RoleOperator},
	dsarv1.AccessRequestService_ResetAccountQuota_FullMethodName:            {RoleOperator},
	dsarv1.AccessRequestService_StartAccountAuthorization_FullMethodName:    {RoleOperator},
	dsarv1.AccessRequestService_CompleteAccountAuthorization_FullMethodName: {RoleOperator},
	dsarv1.AccessRequestService_RetrySection_FullMethodName:                 {RoleOperator},
	dsarv1.AccessRequestService_ExtendDeadline_FullMethodName:               {RoleOperator},
	dsarv1.AccessRequestService_RebuildBundle_FullMethodName:                {RoleOperator},
	dsarv1.AccessRequestService_DeleteAccessRequest_FullMethodName:          {RoleOperator},
	dsarv1.AccessRequestService_ListAuditEvents_FullMethodName:              {RoleOperator, RoleAuditor},
	// The manifest holds no email (the keyed hash instead); the platform
	// has the bundle itself.
	dsarv1.AccessRequestService_GetManifest_FullMethodName: {RoleOperator, RoleAuditor},
	// The public key is public; every role may fetch it to verify bundles.
	dsarv1.AccessRequestService_GetSigningKey_FullMethodName: {RolePlatform, RoleOperator, RoleAuditor},
}

// publicServices may be called without credentials: load balancers probe
// health, and grpcurl needs reflection to describe the API.
var publicServices = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// Allowed reports whether role may call the gRPC method fullMethod
// ("/dsar.v1.AccessRequestService/CreateAccessRequest").
func Allowed(role Role, fullMethod string) bool {
	return slices.Contains(methodRoles[fullMethod], role)
}

func public(fullMethod string) bool {
	for _, p := range publicServices {
		if strings.HasPrefix(fullMethod, p) {
			return true
		}
	}
	return false
}

// Caller is the authenticated client of a call.
type Caller struct {
	Name string // from the tokens file or the certificate's CN; audited
	Role Role
}

type callerKey struct{}

// WithCaller returns a copy of ctx that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller that the auth interceptor put in ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Tokens are the bearer tokens of a tokens file. Only the SHA-256 of each
// token is held, so the file and the process reveal no token.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	caller Caller
	sum    [sha256.Size]byte
}

// ParseTokens reads a tokens file from r (the caller opens it: this package
// opens no file by path): one `<role> <name> <sha256-hex-of-token>`
// per line, separated by spaces or tabs; blank lines and lines starting with
// `#` are ignored. Errors name the line number but never its content.
//
// Make a line with: printf %s "$TOKEN" | sha256sum
func ParseTokens(r io.Reader) (*Tokens, error) {
	t := &Tokens{}
	seen := make(map[[sha256.Size]byte]int)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("tokens file line %d: want 3 fields `<role> <name> <sha256-hex-of-token>`, got %d", n, len(f))
		}
		role := Role(f[0])
		if !role.valid() {
			return nil, fmt.Errorf("tokens file line %d: unknown role %q; want platform, operator or auditor", n, f[0])
		}
		var e tokenEntry
		e.caller = Caller{Name: f[1], Role: role}
		if len(f[2]) != 2*sha256.Size {
			return nil, fmt.Errorf("tokens file line %d: third field must be the 64 hex digits of the token's SHA-256, not the token itself", n)
		}
		if _, err := hex.Decode(e.sum[:], []byte(f[2])); err != nil {
			return nil, fmt.Errorf("tokens file line %d: third field is not hex; want the token's SHA-256 in 64 hex digits", n)
		}
		if prev, dup := seen[e.sum]; dup {
			return nil, fmt.Errorf("tokens file line %d: same token hash as line %d; give every caller its own token", n, prev)
		}
		seen[e.sum] = n
		t.entries = append(t.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	return t, nil
}

// Len returns the number of tokens.
func (t *Tokens) Len() int { return len(t.entries) }

// Lookup returns the caller whose token it is. It compares the token's
// SHA-256 with every entry in constant time, so timing reveals neither
// which entry matched nor how much of a hash did.
func (t *Tokens) Lookup(token string) (Caller, bool) {
	if t == nil || token == "" {
		return Caller{}, false
	}
	sum := sha256.Sum256([]byte(token))
	var found Caller
	var ok int
	for _, e := range t.entries {
		eq := subtle.ConstantTimeCompare(sum[:], e.sum[:])
		if eq == 1 {
			found = e.caller
		}
		ok |= eq
	}
	return found, ok == 1
}

// Auth authenticates the callers of a server and checks their role against
// the method table.
//
// A call that sends "authorization: Bearer <token>" is the caller of that
// token. Otherwise, if ClientCerts is set and the TLS handshake verified a
// client certificate, the certificate names the caller: its subject common
// name is the caller's name and its first subject organizational unit that
// is a role (platform, operator, auditor) is the role. The server's TLS
// config decides which CAs are trusted (tls.VerifyClientCertIfGiven).
//
// Every refused call is written to Audit, if set, aggregated per source
// and minute (see denied.go). Failed authentications are limited per peer
// address (see limit.go).
type Auth struct {
	Tokens      *Tokens      // bearer tokens; nil accepts none
	ClientCerts bool         // accept verified mTLS client certificates
	Audit       Recorder     // records refused calls; nil: they are only logged
	Clock       dsar.Clock   // times the aggregation of refusals; nil: the system clock
	Logger      *slog.Logger // nil: discard
	// OnFailure, if set, is called on every failed authentication with
	// the peer's address and whether the peer is blocked (limit.go).
	OnFailure func(peer string, limited bool)

	denials  denials
	failures failures
}

// authOp is the Op of Auth's refusals: domain errors (dsar.EUNAUTHORIZED,
// dsar.EFORBIDDEN) that the one table of codes.go turns into the status the
// client sees, as it does every handler's error.
const authOp = "rpc.Auth"

var errNoCredentials = &dsar.Error{Code: dsar.EUNAUTHORIZED, Op: authOp, Message: "missing credentials; send `authorization: Bearer <token>` or a client certificate"}

// authorize returns ctx with the caller of the call to fullMethod, or the
// domain error to refuse it with, which it audits.
func (a *Auth) authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	if public(fullMethod) {
		return ctx, nil
	}
	c, err := a.authenticate(ctx)
	if err == nil && !Allowed(c.Role, fullMethod) {
		err = &dsar.Error{Code: dsar.EFORBIDDEN, Op: authOp, Message: fmt.Sprintf("role %s may not call %s", c.Role, fullMethod)}
	}
	// Credentials that fail count against the peer; none at all are not
	// an attempt (a probe, a client not yet configured) and are only refused.
	if dsar.ErrorCode(err) == dsar.EUNAUTHORIZED && err != errNoCredentials {
		var limited bool
		if err, limited = a.failed(ctx, err); limited {
			// Logged once per block, not once per call.
			quiet(ctx)
		}
	}
	if err != nil {
		a.denied(ctx, fullMethod, c, err)
		return nil, err
	}
	return WithCaller(ctx, c), nil
}

func (a *Auth) authenticate(ctx context.Context) (Caller, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if vals := md.Get("authorization"); len(vals) > 0 {
		if len(vals) > 1 {
			return Caller{}, &dsar.Error{Code: dsar.EUNAUTHORIZED, Op: authOp, Message: "more than one authorization header; send one"}
		}
		scheme, token, ok := strings.Cut(vals[0], " ")
		if !ok || !strings.EqualFold(scheme, "bearer") {
			return Caller{}, &dsar.Error{Code: dsar.EUNAUTHORIZED, Op: authOp, Message: "authorization header must be `Bearer <token>`"}
		}
		c, ok := a.Tokens.Lookup(strings.TrimSpace(token))
		if !ok {
			return Caller{}, &dsar.Error{Code: dsar.EUNAUTHORIZED, Op: authOp, Message: "unknown bearer token; check the token or ask an operator to add it to the tokens file"}
		}
		return c, nil
	}
	if a.ClientCerts {
		c, err := certCaller(ctx)
		if !errors.Is(err, errNoCert) {
			return c, err
		}
	}
	return Caller{}, errNoCredentials
}

var errNoCert = errors.New("no verified client certificate")

// certCaller returns the caller named by the verified client certificate of
// the call's TLS connection.
func certCaller(ctx context.Context) (Caller, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Caller{}, errNoCert
	}
	ti, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(ti.State.VerifiedChains) == 0 || len(ti.State.VerifiedChains[0]) == 0 {
		return Caller{}, errNoCert
	}
	leaf := ti.State.VerifiedChains[0][0]
	name := leaf.Subject.CommonName
	if name == "" {
		return Caller{}, &dsar.Error{Code: dsar.EUNAUTHORIZED, Op: authOp, Message: "client certificate has no subject common name to name the caller"}
	}
	for _, ou := range leaf.Subject.OrganizationalUnit {
		if r := Role(ou); r.valid() {
			return Caller{Name: name, Role: r}, nil
		}
	}
	return Caller{Name: name}, &dsar.Error{Code: dsar.EFORBIDDEN, Op: authOp, Message: "client certificate has no role; its subject OU must be platform, operator or auditor"}
}

// Unary is the unary server interceptor of a. It refuses calls with domain
// errors, so StatusUnary must run outside it (ServerOptions puts it there).
func (a *Auth) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Stream is the stream server interceptor of a; StatusStream must run
// outside it, as for Unary.
func (a *Auth) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &callerStream{ServerStream: ss, ctx: ctx})
	}
}

// callerStream is a ServerStream whose context carries the caller.
type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *callerStream) Context() context.Context { return s.ctx }

// ServerOptions returns the interceptors of a dsard server in order:
// recovery outermost, then the mapping of domain errors to gRPC statuses,
// then authentication, so that the refusals of authentication and the
// errors of handlers pass through the one mapping and a server wired with
// these alone never sends an error unmapped.
func ServerOptions(a *Auth, log *slog.Logger) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(RecoverUnary(log), StatusUnary(log), a.Unary()),
		grpc.ChainStreamInterceptor(RecoverStream(log), StatusStream(log), a.Stream()),
	}
}
