package main

import (
	"context"
	"fmt"
	"io"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runDelete deletes a request's bundle and collected data at once.
func runDelete(e *env, args []string) error {
	fs := e.newFlags("delete", "ID", true)
	reason := fs.String("reason", "", "why (kept on the request and in the audit log)")
	pos, c, done, err := e.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	return deleteRequest(e.ctx, c, e.stdout, pos[0], *reason)
}

// deleteRequest asks dsard to delete request id (DeleteAccessRequest) and
// prints when and why it was purged. It takes only what it uses, so that
// it moves to any command framework as it is.
func deleteRequest(ctx context.Context, c dsarv1.AccessRequestServiceClient, w io.Writer, id, reason string) error {
	resp, err := c.DeleteAccessRequest(ctx, &dsarv1.DeleteAccessRequestRequest{Id: id, Reason: reason})
	if err != nil {
		return rpcError("delete", err)
	}
	r := resp.GetAccessRequest()
	rt := r.GetRetention()
	_, err = fmt.Fprintf(w, "%s %s purged %s because %s\n", r.GetId(), stateWord(r.GetState()),
		timeString(rt.GetBundlePurgeTime()), rt.GetPurgeReason())
	return err
}
