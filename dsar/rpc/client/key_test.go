package client

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// keyServer answers GetSigningKey with resp.
type keyServer struct {
	dsarv1.AccessRequestServiceClient
	resp *dsarv1.GetSigningKeyResponse
}

func (k keyServer) GetSigningKey(context.Context, *dsarv1.GetSigningKeyRequest, ...grpc.CallOption) (*dsarv1.GetSigningKeyResponse, error) {
	return k.resp, nil
}

func TestSigningKey(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		resp *dsarv1.GetSigningKeyResponse
		want string // error; "" for success
	}{
		{"the key and its fingerprint", &dsarv1.GetSigningKeyResponse{PublicKey: pub, Fingerprint: bundle.Fingerprint(pub)}, ""},
		{"another key's fingerprint", &dsarv1.GetSigningKeyResponse{PublicKey: pub, Fingerprint: bundle.Fingerprint(other)}, "does not match"},
		{"not an Ed25519 key", &dsarv1.GetSigningKeyResponse{PublicKey: pub[:16], Fingerprint: bundle.Fingerprint(pub)}, "16-byte key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fp, err := SigningKey(t.Context(), keyServer{resp: tc.resp})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("SigningKey: %v, want an error containing %q", err, tc.want)
				}
				return
			}
			if err != nil || !got.Equal(pub) || fp != bundle.Fingerprint(pub) {
				t.Errorf("SigningKey = %x, %s, %v; want %x, %s", got, fp, err, pub, bundle.Fingerprint(pub))
			}
		})
	}
}
