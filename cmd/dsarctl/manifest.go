package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newManifest prints the manifest of a completed request's bundle, its
// subject replaced by the email's keyed hash: what the request keeps of
// its bundle once the bundle is purged.
func newManifest(e *env) *cobra.Command {
	var out string
	cmd := command("manifest ID [-o FILE]", "show the manifest of a request's bundle (kept after its purge, the email hashed)", 1, 1, nil)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the manifest's JSON to this `file` instead of stdout")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			resp, err := c.GetManifest(e.ctx, &dsarv1.GetManifestRequest{Id: args[0]})
			if err != nil {
				return rpcError(cmd.Name(), err)
			}
			return e.writeOutput(cmd.Name(), out, resp.GetManifest())
		})
	}
	return cmd
}

// writeOutput writes b to the file out, or to stdout when out is empty.
func (e *env) writeOutput(cmd, out string, b []byte) error {
	var err error
	if out == "" {
		_, err = e.stdout.Write(b)
	} else {
		err = os.WriteFile(out, b, 0o644)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}
