package main

import (
	"fmt"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runRetry fetches one section of a stopped request again.
func runRetry(e *env, args []string) error {
	fs := e.newFlags("retry", "ID", true)
	section := fs.String("section", "", "the `section` to fetch again, e.g. phone_call_history (required)")
	fromStart := fs.Bool("from-start", false, "drop the section's checkpoints and fetch it from the beginning")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *section == "" {
		return usagef("retry: -section is required")
	}
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	resp, err := c.RetrySection(e.ctx, &dsarv1.RetrySectionRequest{Id: pos[0], Section: *section, FromStart: *fromStart})
	if err != nil {
		return rpcError("retry", err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s %s\n", resp.GetAccessRequest().GetId(), stateWord(resp.GetAccessRequest().GetState()))
	return err
}
