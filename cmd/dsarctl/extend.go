package main

import (
	"fmt"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runExtend extends a request's deadline once, as its regulation allows.
func runExtend(e *env, args []string) error {
	fs := e.newFlags("extend", "ID", true)
	reason := fs.String("reason", "", "why the request needs more time (required; audited)")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *reason == "" {
		return usagef("extend: -reason is required")
	}
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	resp, err := c.ExtendDeadline(e.ctx, &dsarv1.ExtendDeadlineRequest{Id: pos[0], Reason: *reason})
	if err != nil {
		return rpcError("extend", err)
	}
	r := resp.GetAccessRequest()
	_, err = fmt.Fprintf(e.stdout, "%s due %s\n", r.GetId(), timeString(r.GetDueTime()))
	return err
}
