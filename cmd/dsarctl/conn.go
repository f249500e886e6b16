package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// connFlags say how to reach dsard and who we are. The token comes from
// DSAR_TOKEN or a file, never from a flag.
type connFlags struct {
	server    string
	tokenFile string
	ca        string
	cert, key string
	tls       bool
	getenv    func(string) string // for DSAR_TOKEN
}

// register declares the flags on fs, the root command's persistent flags:
// before the command or after it.
func (c *connFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.server, "server", client.DefaultAddr, "dsard `address`")
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

// dial connects to dsard.
func (c *connFlags) dial() (*grpc.ClientConn, dsarv1.AccessRequestServiceClient, error) {
	tok, err := c.token()
	if err != nil {
		return nil, nil, err
	}
	if (c.cert == "") != (c.key == "") {
		return nil, nil, errors.New("-cert and -key go together")
	}
	cl, err := client.Dial(client.Config{Addr: c.server, Token: tok, TLS: c.tls, CAFile: c.ca, CertFile: c.cert, KeyFile: c.key})
	if errors.Is(err, client.ErrPlaintext) {
		return nil, nil, fmt.Errorf("refusing to talk to %s without TLS; pass -ca (or -tls)", c.server)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("-server %s: %w", c.server, err)
	}
	return cl.Conn, cl, nil
}
