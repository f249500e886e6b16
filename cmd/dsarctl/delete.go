package main

import (
	"fmt"

	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newDelete deletes a request's bundle and collected data at once
// (DeleteAccessRequest); in a table, it prints when and why.
func newDelete(e *env) *cobra.Command {
	var reason string
	cmd := requestCommand(e, "delete ID", "delete a request's bundle and collected data now",
		func(c dsarv1.AccessRequestServiceClient, id string) (*dsarv1.AccessRequest, error) {
			resp, err := c.DeleteAccessRequest(e.ctx, &dsarv1.DeleteAccessRequestRequest{Id: id, Reason: reason})
			return resp.GetAccessRequest(), err
		}, func(r *dsarv1.AccessRequest) error {
			rt := r.GetRetention()
			_, err := fmt.Fprintf(e.stdout, "%s %s purged %s because %s\n", r.GetId(), stateWord(r.GetState()),
				e.time(rt.GetBundlePurgeTime()), rt.GetPurgeReason())
			return err
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept on the request and in the audit log)")
	return cmd
}
