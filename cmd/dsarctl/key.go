package main

import (
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runKey fetches the public key that signs bundle manifests, as PEM, for
// `dsarctl verify -public-key` (or openssl).
func runKey(e *env, args []string) error {
	fs := e.newFlags("key", "", true)
	out := fs.String("o", "", "write the PEM to this `file` instead of stdout")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	fp, err := fetchKey(e, c, *out)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, "fingerprint", fp)
	return nil
}

// fetchKey writes the signing key as PEM to out (stdout when empty) and
// returns its fingerprint, checked against the server's.
func fetchKey(e *env, c dsarv1.AccessRequestServiceClient, out string) (string, error) {
	resp, err := c.GetSigningKey(e.ctx, &dsarv1.GetSigningKeyRequest{})
	if err != nil {
		return "", rpcError("key", err)
	}
	pub := ed25519.PublicKey(resp.GetPublicKey())
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("key: the server sent a %d-byte key, not an Ed25519 public key", len(pub))
	}
	fp := bundle.Fingerprint(pub)
	if fp != resp.GetFingerprint() {
		return "", fmt.Errorf("key: the server's fingerprint %s does not match its key (%s)", resp.GetFingerprint(), fp)
	}
	pem, err := bundle.MarshalPublicKey(pub)
	if err != nil {
		return "", err
	}
	if out == "" {
		_, err = e.stdout.Write(pem)
	} else {
		err = os.WriteFile(out, pem, 0o644)
	}
	if err != nil {
		return "", fmt.Errorf("key: %w", err)
	}
	return fp, nil
}
