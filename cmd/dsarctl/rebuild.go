package main

import (
	"fmt"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runRebuild writes a completed request's damaged or missing bundle again
// from its stored pages; dsard refuses any result other than the bundle
// first assembled.
func runRebuild(e *env, args []string) error {
	fs := e.newFlags("rebuild", "ID", true)
	pos, c, done, err := e.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	resp, err := c.RebuildBundle(e.ctx, &dsarv1.RebuildBundleRequest{Id: pos[0]})
	if err != nil {
		return rpcError("rebuild", err)
	}
	b := resp.GetAccessRequest().GetBundle()
	_, err = fmt.Fprintf(e.stdout, "%s rebuilt: %d bytes, sha256 %s\n", resp.GetAccessRequest().GetId(), b.GetSizeBytes(), b.GetSha256())
	return err
}
