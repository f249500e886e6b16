package main

import (
	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newRetry fetches one section of a stopped request again.
func newRetry(e *env) *cobra.Command {
	var section string
	var fromStart bool
	cmd := command("retry -section SECTION ID", "fetch one section of a request again", 1, 1, nil)
	out := outputFlag(cmd)
	cmd.Flags().StringVar(&section, "section", "", "the `section` to fetch again, e.g. phone_call_history (required)")
	cmd.Flags().BoolVar(&fromStart, "from-start", false, "drop the section's checkpoints and fetch it from the beginning")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if section == "" {
			return usagef("retry: -section is required")
		}
		c, done, err := e.connect()
		if err != nil {
			return err
		}
		defer done()
		resp, err := c.RetrySection(e.ctx, &dsarv1.RetrySectionRequest{Id: args[0], Section: section, FromStart: fromStart})
		if err != nil {
			return rpcError("retry", err)
		}
		return e.printState(*out, resp.GetAccessRequest())
	}
	return cmd
}
