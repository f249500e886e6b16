package main

import (
	"fmt"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newCancel cancels a request.
func newCancel(e *env) *cobra.Command {
	var reason string
	cmd := command("cancel ID", "cancel a request", 1, 1, nil)
	out := outputFlag(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept on the request and in the audit log)")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		c, done, err := e.connect()
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.CancelAccessRequest(e.ctx, &dsarv1.CancelAccessRequestRequest{Id: args[0], Reason: reason})
		if err != nil {
			return rpcError("cancel", err)
		}
		return e.printState(*out, resp.GetAccessRequest())
	}
	return cmd
}

// printState prints a request as -o says; in a table, its id and state.
func (e *env) printState(f format, r *dsarv1.AccessRequest) error {
	return e.printRequest(f, r, func() error {
		_, err := fmt.Fprintf(e.stdout, "%s %s\n", r.GetId(), stateWord(r.GetState()))
		return err
	})
}
