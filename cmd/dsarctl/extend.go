package main

import (
	"fmt"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newExtend extends a request's deadline once, as its regulation allows.
func newExtend(e *env) *cobra.Command {
	var reason string
	cmd := command("extend -reason REASON ID", "extend a request's deadline once", 1, 1, nil)
	out := outputFlag(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why the request needs more time (required; audited)")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if reason == "" {
			return usagef("extend: -reason is required")
		}
		c, done, err := e.connect()
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.ExtendDeadline(e.ctx, &dsarv1.ExtendDeadlineRequest{Id: args[0], Reason: reason})
		if err != nil {
			return rpcError("extend", err)
		}
		r := resp.GetAccessRequest()
		return e.printRequest(*out, r, func() error {
			_, err := fmt.Fprintf(e.stdout, "%s due %s\n", r.GetId(), e.time(r.GetDueTime()))
			return err
		})
	}
	return cmd
}
