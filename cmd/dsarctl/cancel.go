package main

import (
	"fmt"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runCancel cancels a request.
func runCancel(e *env, args []string) error {
	fs := e.newFlags("cancel", "ID", true)
	reason := fs.String("reason", "", "why (kept on the request and in the audit log)")
	pos, c, done, err := e.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	resp, err := c.CancelAccessRequest(e.ctx, &dsarv1.CancelAccessRequestRequest{Id: pos[0], Reason: *reason})
	if err != nil {
		return rpcError("cancel", err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s %s\n", resp.GetAccessRequest().GetId(), stateWord(resp.GetAccessRequest().GetState()))
	return err
}
