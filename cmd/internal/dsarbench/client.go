package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarclient "github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// client is a gRPC connection to dsard.
type client struct {
	*dsarclient.Client
	api dsarv1.AccessRequestServiceClient
}

// dial connects to addr with the bench's token, over TLS when roots is
// set.
func dial(addr string, roots *x509.CertPool) (*client, error) {
	c, err := dsarclient.Dial(dsarclient.Config{Addr: addr, Token: benchToken, RootCAs: roots,
		DialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16 << 20))}})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &client{Client: c, api: c}, nil
}

// create starts an access request and returns its id.
func (c *client) create(ctx context.Context, account, email, key string) (string, error) {
	resp, err := c.api.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{Email: email, Account: account, IdempotencyKey: key, Regulation: dsarv1.Regulation_REGULATION_GDPR})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	return resp.GetAccessRequest().GetId(), nil
}

// createJane starts an access request for jane on the primary account.
func (c *client) createJane(ctx context.Context, key string) (string, error) {
	return c.create(ctx, primary, zoomtest.JaneEmail, key)
}

// requestJane starts an access request for jane on the primary account and
// waits until it is final; seen is as for wait.
func (c *client) requestJane(ctx context.Context, key string, seen func(*dsarv1.AccessRequest)) (string, *dsarv1.AccessRequest, error) {
	id, err := c.createJane(ctx, key)
	if err != nil {
		return "", nil, err
	}
	r, err := c.wait(ctx, id, seen)
	return id, r, err
}

// completed returns an error unless r ended COMPLETED.
func completed(r *dsarv1.AccessRequest) error {
	if r.GetState() != dsarv1.RequestState_REQUEST_STATE_COMPLETED {
		return fmt.Errorf("request ended %s: %s", r.GetState(), r.GetReason())
	}
	return nil
}

func final(s dsarv1.RequestState) bool {
	switch s {
	case dsarv1.RequestState_REQUEST_STATE_COMPLETED, dsarv1.RequestState_REQUEST_STATE_FAILED, dsarv1.RequestState_REQUEST_STATE_CANCELLED:
		return true
	}
	return false
}

// wait polls the request every 20ms until it is final or ctx ends. seen,
// if set, is called with every state read.
func (c *client) wait(ctx context.Context, id string, seen func(*dsarv1.AccessRequest)) (*dsarv1.AccessRequest, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		resp, err := c.api.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: id})
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", id, err)
		}
		r := resp.GetAccessRequest()
		if seen != nil {
			seen(r)
		}
		if final(r.GetState()) {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("request %s still %s: %w", id, r.GetState(), ctx.Err())
		case <-t.C:
		}
	}
}

// drain streams a whole bundle into nothing and returns its size: the
// download that throughput times. It is not client.Download on purpose:
// that one writes, fsyncs and hashes a file, and the figure compares
// dsard's stream with a bare gRPC stream of the same bytes, so the client
// side must add nothing but the stream (the disk would be timed too).
func (c *client) drain(ctx context.Context, id string) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.api.DownloadBundle(ctx, &dsarv1.DownloadBundleRequest{Id: id})
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", id, err)
	}
	var size, n int64
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("download %s: %w", id, err)
		}
		if h := m.GetHeader(); h != nil {
			size = h.GetSizeBytes()
		}
		n += int64(len(m.GetChunk()))
	}
	if n != size {
		return n, fmt.Errorf("download %s: %d bytes of %d", id, n, size)
	}
	return n, nil
}

// fetchBundle downloads a whole bundle with client.Download, which checks
// every byte against dsard's SHA-256, into dir, verifies it with the
// daemon's public key and returns its bytes and manifest. The file is
// removed: the bytes are all a scenario needs.
func (c *client) fetchBundle(ctx context.Context, id, dir string) ([]byte, *bundle.Manifest, error) {
	out := filepath.Join(dir, id+".zip")
	if _, _, err := dsarclient.Download(ctx, c.api, id, out, dsarclient.DownloadOptions{Force: true}); err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	if err := os.Remove(out); err != nil {
		return nil, nil, fmt.Errorf("bundle %s: %w", id, err)
	}
	pub, _, err := dsarclient.SigningKey(ctx, c.api)
	if err != nil {
		return nil, nil, fmt.Errorf("signing key: %w", err)
	}
	m, err := bundle.Verify(bytes.NewReader(b), int64(len(b)), pub)
	if err != nil {
		return nil, nil, fmt.Errorf("verify bundle %s: %w", id, err)
	}
	return b, m, nil
}

// certs are a self-signed server certificate for 127.0.0.1.
type certs struct {
	certFile, keyFile string
	pool              *x509.CertPool
	cert              tls.Certificate
}

// poolOrNil returns the roots that trust c, or nil for plaintext.
func (c *certs) poolOrNil() *x509.CertPool {
	if c == nil {
		return nil
	}
	return c.pool
}

func makeCerts(dir string) (*certs, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "dsarbench"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := &certs{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
	if err := os.WriteFile(c.certFile, certPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if c.cert, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, err
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c.pool.AddCert(parsed)
	return c, nil
}
