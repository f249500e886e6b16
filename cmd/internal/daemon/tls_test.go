package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	dsarclient "github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// issue makes a certificate signed by ca (self-signed when ca is nil) and
// returns it with its key.
func issue(t *testing.T, ca *tls.Certificate, subject pkix.Name, isCA bool, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: isCA, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	if usage != 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.Leaf, ca.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTLSAndClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := issue(t, nil, pkix.Name{CommonName: "test CA"}, true, 0)
	server := issue(t, &ca, pkix.Name{CommonName: "dsard"}, false, x509.ExtKeyUsageServerAuth)
	client := issue(t, &ca, pkix.Name{CommonName: "auditor-1", OrganizationalUnit: []string{"auditor"}}, false, x509.ExtKeyUsageClientAuth)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Certificate[0])
	writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", server.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(server.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "server.key"), "PRIVATE KEY", keyDER)

	ctx, stop := context.WithCancel(t.Context())
	d, err := Start(ctx, Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
		TLSCert: filepath.Join(dir, "server.pem"), TLSKey: filepath.Join(dir, "server.key"), ClientCA: filepath.Join(dir, "ca.pem"),
		ShutdownGrace: 5 * time.Second})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	defer func() {
		stop()
		if err := d.Wait(); err != nil {
			t.Error(err)
		}
	}()
	clientKey, err := x509.MarshalPKCS8PrivateKey(client.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "client.pem"), "CERTIFICATE", client.Certificate[0])
	writePEM(t, filepath.Join(dir, "client.key"), "PRIVATE KEY", clientKey)
	// dsarctl's and a platform's way in: dsar/rpc/client with files.
	addr := d.Addr().String()
	for _, tc := range []struct {
		name string
		cfg  dsarclient.Config
		ok   bool
	}{
		{"mTLS auditor", dsarclient.Config{Addr: addr, CAFile: filepath.Join(dir, "ca.pem"),
			CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client.key")}, true},
		{"TLS without a certificate", dsarclient.Config{Addr: addr, CAFile: filepath.Join(dir, "ca.pem")}, false},
		{"plaintext", dsarclient.Config{Addr: addr}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dsarclient.Dial(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.GetSigningKey(t.Context(), &dsarv1.GetSigningKeyRequest{})
			if (err == nil) != tc.ok {
				t.Errorf("GetSigningKey: %v, want success %v", err, tc.ok)
			}
		})
	}
}
