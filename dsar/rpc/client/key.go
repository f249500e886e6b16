package client

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// SigningKey returns the public key that signs dsard's bundle manifests,
// for bundle.Verify, and its fingerprint, checked against the one dsard
// gives. A failed call is returned as grpc's error.
func SigningKey(ctx context.Context, api dsarv1.AccessRequestServiceClient) (ed25519.PublicKey, string, error) {
	resp, err := api.GetSigningKey(ctx, &dsarv1.GetSigningKeyRequest{})
	if err != nil {
		return nil, "", err
	}
	pub := ed25519.PublicKey(resp.GetPublicKey())
	if len(pub) != ed25519.PublicKeySize {
		return nil, "", fmt.Errorf("key: the server sent a %d-byte key, not an Ed25519 public key", len(pub))
	}
	fp := bundle.Fingerprint(pub)
	if fp != resp.GetFingerprint() {
		return nil, "", fmt.Errorf("key: the server's fingerprint %s does not match its key (%s)", resp.GetFingerprint(), fp)
	}
	return pub, fp, nil
}
