package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newKey fetches the public key that signs bundle manifests, as PEM, for
// `dsarctl verify -public-key` (or openssl).
func newKey(e *env) *cobra.Command {
	var out string
	cmd := command("key [-o FILE]", "fetch the public key that signs bundles", 0, 0, nil)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the PEM to this `file` instead of stdout")
	cmd.RunE = func(*cobra.Command, []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			fp, err := fetchKey(e, c, out)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stderr, "fingerprint", fp)
			return nil
		})
	}
	return cmd
}

// fetchKey writes the signing key as PEM to out (stdout when empty) and
// returns its fingerprint, checked against the server's.
func fetchKey(e *env, c dsarv1.AccessRequestServiceClient, out string) (string, error) {
	pub, fp, err := client.SigningKey(e.ctx, c)
	if _, ok := status.FromError(err); ok && err != nil {
		return "", rpcError("key", err)
	}
	if err != nil {
		return "", err
	}
	pem, err := bundle.MarshalPublicKey(pub)
	if err != nil {
		return "", err
	}
	if err := e.writeOutput("key", out, pem); err != nil {
		return "", err
	}
	return fp, nil
}
