package client

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
		err  bool
	}{
		{addr: "127.0.0.1:7443", want: true},
		{addr: "127.8.9.10:1", want: true},
		{addr: "[::1]:7443", want: true},
		{addr: "localhost:7443", want: true},
		{addr: "LocalHost:7443", want: true},
		{addr: "10.0.0.1:7443"},
		{addr: "dsar.example.com:7443"},
		{addr: "localhost.example.com:7443"},
		{addr: "127.0.0.1", err: true},
	} {
		got, err := Loopback(tc.addr)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("Loopback(%q) = %v, %v; want %v, error %v", tc.addr, got, err, tc.want, tc.err)
		}
	}
}

// TestDialRefuses: Dial refuses plaintext to a remote address, with a
// token or without, and a configuration that cannot work.
func TestDialRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"plaintext to a remote address with a token", Config{Addr: "dsar.example.com:7443", Token: "tok-4f9e"}, ErrPlaintext.Error()},
		{"plaintext to a remote address", Config{Addr: "10.1.2.3:7443"}, ErrPlaintext.Error()},
		{"no port", Config{Addr: "127.0.0.1"}, "want host:port"},
		{"certificate without key", Config{Addr: "dsar.example.com:7443", CertFile: filepath.Join(dir, "c.pem")}, "go together"},
		{"missing CA file", Config{Addr: "dsar.example.com:7443", CAFile: filepath.Join(dir, "none.pem")}, "CA file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Dial(tc.cfg)
			if err == nil {
				c.Close()
				t.Fatalf("Dial succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Dial: %v, want %q", err, tc.want)
			}
			if tc.cfg.Token != "" && strings.Contains(err.Error(), tc.cfg.Token) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
	if _, err := Dial(Config{Addr: "dsar.example.com:7443"}); !errors.Is(err, ErrPlaintext) {
		t.Errorf("Dial: %v, want ErrPlaintext", err)
	}
}

// authServer records the authorization header of the calls it gets.
type authServer struct {
	dsarv1.UnimplementedAccessRequestServiceServer
	got chan []string
}

func (s *authServer) GetSigningKey(ctx context.Context, _ *dsarv1.GetSigningKeyRequest) (*dsarv1.GetSigningKeyResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.got <- md.Get("authorization")
	return &dsarv1.GetSigningKeyResponse{}, nil
}

// TestDialSendsToken: plaintext on loopback carries the bearer token, and
// no header at all without one.
func TestDialSendsToken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	as := &authServer{got: make(chan []string, 1)}
	gs := grpc.NewServer()
	dsarv1.RegisterAccessRequestServiceServer(gs, as)
	go gs.Serve(l)
	t.Cleanup(gs.Stop)
	for _, tc := range []struct {
		token string
		want  string
	}{{"s3cret", "Bearer s3cret"}, {"", ""}} {
		c, err := Dial(Config{Addr: l.Addr().String(), Token: tc.token})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetSigningKey(t.Context(), &dsarv1.GetSigningKeyRequest{}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(<-as.got, ","); got != tc.want {
			t.Errorf("token %q: the server got authorization %q, want %q", tc.token, got, tc.want)
		}
		c.Close()
	}
}
