package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// defaultServer is dsard's default listen address.
const defaultServer = "127.0.0.1:7443"

// connFlags say how to reach dsard and who we are. The token comes from
// DSAR_TOKEN or a file, never from a flag.
type connFlags struct {
	server    string
	tokenFile string
	ca        string
	cert, key string
	tls       bool
	getenv    func(string) string
}

// register declares the flags on fs. With getenv (the flags before the
// command name), the defaults are dsard's; without, the values already
// set, by those flags or their DSAR_* variables (run applies flagenv).
func (c *connFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	if getenv != nil {
		c.getenv = getenv
		c.server = defaultServer
	}
	fs.StringVar(&c.server, "server", c.server, "dsard `address`")
	fs.StringVar(&c.tokenFile, "token-file", c.tokenFile, "`file` holding the bearer token; default: env DSAR_TOKEN")
	fs.StringVar(&c.ca, "ca", c.ca, "CA certificate `file` (PEM) of dsard's TLS certificate; implies TLS")
	fs.StringVar(&c.cert, "cert", c.cert, "client certificate `file` (PEM) for mTLS; implies TLS")
	fs.StringVar(&c.key, "key", c.key, "private key `file` (PEM) of -cert")
	fs.BoolVar(&c.tls, "tls", c.tls, "use TLS with the system's CAs")
}

// token returns the bearer token, or "" when none is configured.
func (c *connFlags) token() (string, error) {
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return "", fmt.Errorf("token file: %w", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", fmt.Errorf("token file %s is empty", c.tokenFile)
		}
		return t, nil
	}
	if c.getenv != nil {
		return strings.TrimSpace(c.getenv("DSAR_TOKEN")), nil
	}
	return "", nil
}

// bearer sends the token with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: dial refuses plaintext to anything
// but loopback itself, which grpc cannot judge.
func (bearer) RequireTransportSecurity() bool { return false }

// dial connects to dsard.
func (c *connFlags) dial() (*grpc.ClientConn, dsarv1.AccessRequestServiceClient, error) {
	tok, err := c.token()
	if err != nil {
		return nil, nil, err
	}
	var opts []grpc.DialOption
	useTLS := c.tls || c.ca != "" || c.cert != ""
	if useTLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.ca != "" {
			pem, err := os.ReadFile(c.ca)
			if err != nil {
				return nil, nil, fmt.Errorf("CA file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, nil, fmt.Errorf("CA file %s holds no PEM certificate", c.ca)
			}
		}
		if (c.cert == "") != (c.key == "") {
			return nil, nil, errors.New("-cert and -key go together")
		}
		if c.cert != "" {
			cert, err := tls.LoadX509KeyPair(c.cert, c.key)
			if err != nil {
				return nil, nil, fmt.Errorf("client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	} else {
		host, _, err := net.SplitHostPort(c.server)
		if err != nil {
			return nil, nil, fmt.Errorf("-server %q: want host:port", c.server)
		}
		if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			return nil, nil, fmt.Errorf("refusing to talk to %s without TLS; pass -ca (or -tls)", c.server)
		}
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if tok != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(tok)))
	}
	cc, err := grpc.NewClient("passthrough:///"+c.server, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", c.server, err)
	}
	return cc, dsarv1.NewAccessRequestServiceClient(cc), nil
}
