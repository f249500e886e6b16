package main

import (
	"fmt"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newRebuild writes a completed request's damaged or missing bundle again
// from its stored pages; dsard refuses any result other than the bundle
// first assembled.
func newRebuild(e *env) *cobra.Command {
	cmd := command("rebuild ID", "rebuild a damaged bundle from the stored pages, byte for byte", 1, 1, nil)
	out := outputFlag(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		c, done, err := e.connect()
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.RebuildBundle(e.ctx, &dsarv1.RebuildBundleRequest{Id: args[0]})
		if err != nil {
			return rpcError("rebuild", err)
		}
		r := resp.GetAccessRequest()
		return e.printRequest(*out, r, func() error {
			b := r.GetBundle()
			_, err := fmt.Fprintf(e.stdout, "%s rebuilt: %d bytes, sha256 %s\n", r.GetId(), b.GetSizeBytes(), b.GetSha256())
			return err
		})
	}
	return cmd
}
