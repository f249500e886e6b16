package main

import (
	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newGet prints one request with its sections.
func newGet(e *env) *cobra.Command {
	cmd := command("get ID", "show one access request", 1, 1, nil)
	out := outputFlag(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		c, done, err := e.connect()
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.GetAccessRequest(e.ctx, &dsarv1.GetAccessRequestRequest{Id: args[0]})
		if err != nil {
			return rpcError("get", err)
		}
		r := resp.GetAccessRequest()
		return e.printRequest(*out, r, func() error { return e.writeRequest(e.stdout, r, false) })
	}
	return cmd
}
