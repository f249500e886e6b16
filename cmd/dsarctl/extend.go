package main

import (
	"fmt"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newExtend extends a request's deadline once, as its regulation allows.
func newExtend(e *env) *cobra.Command {
	var reason string
	cmd := requestCommand(e, "extend -reason REASON ID", "extend a request's deadline once",
		func(c dsarv1.AccessRequestServiceClient, id string) (*dsarv1.AccessRequest, error) {
			resp, err := c.ExtendDeadline(e.ctx, &dsarv1.ExtendDeadlineRequest{Id: id, Reason: reason})
			return resp.GetAccessRequest(), err
		},
		func(r *dsarv1.AccessRequest) error {
			_, err := fmt.Fprintf(e.stdout, "%s due %s\n", r.GetId(), e.time(r.GetDueTime()))
			return err
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why the request needs more time (required; audited)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if reason == "" {
			return usagef("extend: -reason is required")
		}
		return nil
	}
	return cmd
}
