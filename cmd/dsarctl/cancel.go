package main

import (
	"fmt"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newCancel cancels a request.
func newCancel(e *env) *cobra.Command {
	var reason string
	cmd := requestCommand(e, "cancel ID", "cancel a request",
		func(c dsarv1.AccessRequestServiceClient, id string) (*dsarv1.AccessRequest, error) {
			resp, err := c.CancelAccessRequest(e.ctx, &dsarv1.CancelAccessRequestRequest{Id: id, Reason: reason})
			return resp.GetAccessRequest(), err
		}, nil)
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept on the request and in the audit log)")
	return cmd
}

// printState prints a request as -o says; in a table, its id and state.
func (e *env) printState(f format, r *dsarv1.AccessRequest) error {
	return e.printRequest(f, r, func() error {
		_, err := fmt.Fprintf(e.stdout, "%s %s\n", r.GetId(), stateWord(r.GetState()))
		return err
	})
}
