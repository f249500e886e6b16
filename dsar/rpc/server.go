package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// ServerConfig is what NewServer puts together.
type ServerConfig struct {
	Service *Service
	Auth    *Auth
	Health  *Health
	Logger  *slog.Logger // nil: discard
	// TLS, if set, serves TLS with it; nil serves plaintext (dsard allows
	// that on loopback only).
	TLS *tls.Config
	// MaxStreams bounds the concurrent calls of one connection
	// (grpc.MaxConcurrentStreams); zero is DefaultMaxStreams.
	MaxStreams uint32
	// MaxWatches bounds the Watch streams open at once per caller; zero is
	// DefaultMaxWatches.
	MaxWatches int
	// Unary and Stream observe every call just inside the logging, where
	// a call's code is final: dsard's gRPC metrics.
	Unary  []grpc.UnaryServerInterceptor
	Stream []grpc.StreamServerInterceptor
}

// Defaults of ServerConfig: enough for a platform and a few operators,
// few enough that open streams cannot exhaust dsard's memory.
const (
	DefaultMaxStreams = 256
	DefaultMaxWatches = 64
)

// NewServer returns a gRPC server with the service, health and reflection
// registered, behind the interceptors: logging outermost, then those of
// the config (metrics), then recovery,
// then the mapping of domain errors to gRPC statuses (codes.go), then
// authentication, so that the refusals of authentication and every
// handler's error pass through the one mapping.
func NewServer(cfg ServerConfig) (*grpc.Server, error) {
	if cfg.Service == nil || cfg.Auth == nil || cfg.Health == nil {
		return nil, errors.New("rpc.NewServer: service, auth and health are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(append([]grpc.UnaryServerInterceptor{LogUnary(log)}, cfg.Unary...)...),
		grpc.ChainStreamInterceptor(append([]grpc.StreamServerInterceptor{LogStream(log)}, cfg.Stream...)...),
	}
	opts = append(opts, ServerOptions(cfg.Auth, log)...)
	maxStreams, maxWatches := cfg.MaxStreams, cfg.MaxWatches
	if maxStreams == 0 {
		maxStreams = DefaultMaxStreams
	}
	if maxWatches == 0 {
		maxWatches = DefaultMaxWatches
	}
	opts = append(opts,
		grpc.ChainUnaryInterceptor(noteCallerUnary()),
		grpc.ChainStreamInterceptor(noteCallerStream(), newWatches(maxWatches).stream()),
	)
	opts = append(opts,
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.MaxConcurrentStreams(maxStreams),
	)
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s := grpc.NewServer(opts...)
	cfg.Service.Register(s)
	cfg.Health.Register(s)
	RegisterReflection(s)
	return s, nil
}

// idOf returns the access request id a message names, if any: logs name
// requests by id only, never by email.
func idOf(m any) string {
	var id string
	switch m := m.(type) {
	case interface{ GetId() string }:
		id = m.GetId()
	case interface{ GetRequestId() string }:
		id = m.GetRequestId()
	case interface {
		GetAccessRequest() *dsarv1.AccessRequest
	}:
		id = m.GetAccessRequest().GetId()
	}
	if id != "" && checkID("", id) != nil {
		// Whatever a caller sent, authenticated or not: not a request
		// id, so never logged (it may be an email or megabytes).
		return "invalid"
	}
	return id
}

// callInfo collects what the inner interceptors learn about a call for the
// log line the outer one writes.
type callInfo struct {
	caller Caller
	known  bool
	quiet  bool // not logged: a refusal already logged in aggregate
}

type callInfoKey struct{}

// LogUnary logs every call: method, code, duration, the caller's name and
// the access request's id, a valid one of an authenticated call only.
// Nothing else of the message is logged, and every value is capped. The
// refusals of a peer blocked for failed authentications are not logged
// one by one (limit.go).
func LogUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		ci := &callInfo{}
		resp, err := handler(context.WithValue(ctx, callInfoKey{}, ci), req)
		id := idOf(req)
		if id == "" && err == nil {
			id = idOf(resp)
		}
		logCall(ctx, log, info.FullMethod, id, ci, start, err)
		return resp, err
	}
}

// LogStream is LogUnary for streams; the id is read from the first message
// the client sends.
func LogStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		ci := &callInfo{}
		ls := &loggedStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), callInfoKey{}, ci)}
		err := handler(srv, ls)
		logCall(ss.Context(), log, info.FullMethod, ls.id, ci, start, err)
		return err
	}
}

type loggedStream struct {
	grpc.ServerStream
	ctx context.Context
	id  string
}

func (s *loggedStream) Context() context.Context { return s.ctx }

func (s *loggedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil && s.id == "" {
		s.id = idOf(m)
	}
	return err
}

// noteCaller runs after authentication and tells the log interceptor who
// called.
func noteCaller(ctx context.Context) {
	if ci, ok := ctx.Value(callInfoKey{}).(*callInfo); ok {
		ci.caller, ci.known = CallerFrom(ctx)
	}
}

func noteCallerUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		noteCaller(ctx)
		return handler(ctx, req)
	}
}

func noteCallerStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		noteCaller(ss.Context())
		return handler(srv, ss)
	}
}

// quiet marks the call of ctx as one the log interceptors do not log.
func quiet(ctx context.Context) {
	if ci, ok := ctx.Value(callInfoKey{}).(*callInfo); ok {
		ci.quiet = true
	}
}

// maxLogValue caps every value of an rpc log line, whatever its origin,
// so that no call can make its log line long.
const maxLogValue = 256

// capped returns s cut to maxLogValue bytes, at a rune boundary, marked
// as cut.
func capped(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	cut := maxLogValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func logCall(ctx context.Context, log *slog.Logger, method, id string, ci *callInfo, start time.Time, err error) {
	if ci.quiet {
		return
	}
	st := status.Convert(err)
	attrs := []slog.Attr{
		slog.String("method", capped(method)),
		slog.String("code", st.Code().String()),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()),
	}
	// Nothing the client sent is logged unless it authenticated.
	if id != "" && ci.known {
		attrs = append(attrs, slog.String("request", capped(id)))
	}
	if ci.known {
		attrs = append(attrs, slog.String("caller", capped(ci.caller.Name)), slog.String("role", capped(string(ci.caller.Role))))
	}
	level := slog.LevelInfo
	if err != nil {
		// The status message is ours and free of personal data.
		attrs = append(attrs, slog.String("error", capped(st.Message())))
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "rpc", attrs...)
}
