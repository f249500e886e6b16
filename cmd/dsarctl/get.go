package main

import (
	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newGet prints one request with its sections.
func newGet(e *env) *cobra.Command {
	return requestCommand(e, "get ID", "show one access request",
		func(c dsarv1.AccessRequestServiceClient, id string) (*dsarv1.AccessRequest, error) {
			resp, err := c.GetAccessRequest(e.ctx, &dsarv1.GetAccessRequestRequest{Id: id})
			return resp.GetAccessRequest(), err
		},
		func(r *dsarv1.AccessRequest) error { return e.writeRequest(e.stdout, r, false) })
}

// requestCommand is a command that asks dsard one thing about request ID
// and prints the request it answers with: as -o says, or in a table with
// table (nil: its id and state).
func requestCommand(e *env, use, short string, call func(c dsarv1.AccessRequestServiceClient, id string) (*dsarv1.AccessRequest, error), table func(*dsarv1.AccessRequest) error) *cobra.Command {
	cmd := command(use, short, 1, 1, nil)
	out := outputFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			r, err := call(c, args[0])
			if err != nil {
				return rpcError(cmd.Name(), err)
			}
			if table == nil {
				return e.printState(*out, r)
			}
			return e.printRequest(*out, r, func() error { return table(r) })
		})
	}
	return cmd
}
