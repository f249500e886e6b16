package main

import (
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runGet prints one request with its sections.
func runGet(e *env, args []string) error {
	fs := e.newFlags("get", "ID", true)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, c, done, err := e.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	resp, err := c.GetAccessRequest(e.ctx, &dsarv1.GetAccessRequestRequest{Id: pos[0]})
	if err != nil {
		return rpcError("get", err)
	}
	if *asJSON {
		return writeJSON(e.stdout, viewOf(resp.GetAccessRequest()))
	}
	return writeRequest(e.stdout, resp.GetAccessRequest())
}
