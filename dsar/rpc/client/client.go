// Package client is the Go client of dsard's gRPC API, for dsarctl and for a
// platform that talks to dsard from Go. It dials dsard over TLS, mTLS or
// plaintext on loopback, with a bearer token, and downloads bundles
// resumably into a file whose every byte is checked against the server's
// SHA-256 (see Download).
//
// It imports the generated API and grpc and, of the rest of the project,
// only dsar/bundle, for the one definition of a key's fingerprint that
// SigningKey checks the server's against, and through it the domain
// package dsar: nothing that serves, no store, Zoom client or metrics
// (dsar's TestImports keeps it so).
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// DefaultAddr is dsard's default listen address.
const DefaultAddr = "127.0.0.1:7443"

// MaxPageSize is the most a List call of dsard answers with at once: a
// larger page_size is taken as this.
const MaxPageSize = 1000

// Config says how to reach dsard and who the caller is. TLS is used when
// TLS, CAFile, CertFile or RootCAs is set; without it only a loopback
// address is dialled, since dsard refuses plaintext from anywhere else and a
// bearer token must not cross a network in the clear.
type Config struct {
	Addr  string // host:port; DefaultAddr when empty
	Token string // bearer token sent with every call; none when empty

	TLS               bool           // TLS with the system's roots
	CAFile            string         // PEM roots that sign dsard's certificate
	RootCAs           *x509.CertPool // roots held in memory instead of CAFile
	ServerName        string         // the name to check dsard's certificate for; default the host of Addr
	CertFile, KeyFile string         // client certificate and key (PEM) for mTLS

	// DialOptions are added to the ones Dial makes.
	DialOptions []grpc.DialOption
}

// Client is a connection to dsard and the API on it.
type Client struct {
	dsarv1.AccessRequestServiceClient
	Conn *grpc.ClientConn
}

// ErrPlaintext is returned by Dial for a plaintext connection to an
// address that is not loopback.
var ErrPlaintext = errors.New("refusing to talk to a non-loopback address without TLS")

// Dial connects to dsard as cfg says. It does not wait for the
// connection: the first call reports an unreachable server.
func Dial(cfg Config) (*Client, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	creds, err := transport(cfg, addr)
	if err != nil {
		return nil, err
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, cfg.DialOptions...)
	if cfg.Token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(Bearer(cfg.Token)))
	}
	cc, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return &Client{AccessRequestServiceClient: dsarv1.NewAccessRequestServiceClient(cc), Conn: cc}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.Conn.Close() }

// transport returns the transport credentials for cfg: TLS, or plaintext
// to loopback only.
func transport(cfg Config, addr string) (credentials.TransportCredentials, error) {
	if !cfg.TLS && cfg.CAFile == "" && cfg.CertFile == "" && cfg.RootCAs == nil {
		ok, err := Loopback(addr)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s: %w", addr, ErrPlaintext)
		}
		return insecure.NewCredentials(), nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs, ServerName: cfg.ServerName}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", cfg.CAFile)
		}
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("a client certificate and its key go together")
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return credentials.NewTLS(tc), nil
}

// Loopback reports whether addr (host:port) is a loopback address or
// localhost, the only ones Dial reaches without TLS.
func Loopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("address %q: want host:port", addr)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// Bearer is a token that is sent with every call.
type Bearer string

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b Bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: Dial refuses plaintext to anything
// but loopback itself, which grpc cannot judge.
func (Bearer) RequireTransportSecurity() bool { return false }

// CodeWords says a gRPC code in words for a person: "not found",
// "not possible now" (FailedPrecondition).
func CodeWords(c codes.Code) string {
	switch c {
	case codes.InvalidArgument:
		return "invalid argument"
	case codes.NotFound:
		return "not found"
	case codes.AlreadyExists:
		return "already exists"
	case codes.FailedPrecondition:
		return "not possible now"
	case codes.PermissionDenied:
		return "permission denied"
	case codes.Unauthenticated:
		return "not authenticated"
	case codes.Unavailable:
		return "unavailable"
	case codes.OutOfRange:
		return "out of range"
	case codes.DataLoss:
		return "data loss"
	case codes.DeadlineExceeded:
		return "timed out"
	case codes.Canceled:
		return "cancelled"
	}
	return strings.ToLower(c.String())
}
