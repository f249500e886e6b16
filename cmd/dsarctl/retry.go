package main

import (
	"github.com/spf13/cobra"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newRetry fetches one section of a stopped request again.
func newRetry(e *env) *cobra.Command {
	var section string
	var fromStart bool
	cmd := requestCommand(e, "retry -section SECTION ID", "fetch one section of a request again",
		func(c dsarv1.AccessRequestServiceClient, id string) (*dsarv1.AccessRequest, error) {
			resp, err := c.RetrySection(e.ctx, &dsarv1.RetrySectionRequest{Id: id, Section: section, FromStart: fromStart})
			return resp.GetAccessRequest(), err
		}, nil)
	cmd.Flags().StringVar(&section, "section", "", "the `section` to fetch again, e.g. phone_call_history (required)")
	cmd.Flags().BoolVar(&fromStart, "from-start", false, "drop the section's checkpoints and fetch it from the beginning")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if section == "" {
			return usagef("retry: -section is required")
		}
		return nil
	}
	return cmd
}
