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
	return requestCommand(e, "rebuild ID", "rebuild a damaged bundle from the stored pages, byte for byte",
		func(c dsarv1.AccessRequestServiceClient, id string) (*dsarv1.AccessRequest, error) {
			resp, err := c.RebuildBundle(e.ctx, &dsarv1.RebuildBundleRequest{Id: id})
			return resp.GetAccessRequest(), err
		},
		func(r *dsarv1.AccessRequest) error {
			b := r.GetBundle()
			_, err := fmt.Fprintf(e.stdout, "%s rebuilt: %d bytes, sha256 %s\n", r.GetId(), b.GetSizeBytes(), b.GetSha256())
			return err
		})
}
