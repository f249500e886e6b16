package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/progress"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newWatch follows a request until it is final. It fails when the request
// ends FAILED or CANCELLED, so that a script can tell.
func newWatch(e *env) *cobra.Command {
	cmd := command("watch ID", "follow an access request until it is final", 1, 1, nil)
	cmd.Long = "follow an access request until it is final: each section's state, records and\n" +
		"media files, and the estimated completion time dsard gives. -o json prints each\n" +
		"WatchAccessRequestResponse on a line of its own; wide is table."
	out := outputFlag(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			id := args[0]
			v := progress.NewView(e.stdout, progress.IsTerminal(e.stdout))
			v.Loc = e.loc()
			show := v.Show
			if *out == formatJSON {
				show = func(m *dsarv1.WatchAccessRequestResponse) error { return writeJSON(e.stdout, jsonLine, m) }
			}
			last, err := progress.Watch(e.ctx, c, id, show)
			if err != nil {
				return rpcError("watch", err)
			}
			switch last.GetState() {
			case dsarv1.RequestState_REQUEST_STATE_COMPLETED:
				return nil
			case dsarv1.RequestState_REQUEST_STATE_FAILED:
				return fmt.Errorf("request %s FAILED: %s; `dsarctl resume %s` goes on from its checkpoints", id, last.GetReason(), id)
			case dsarv1.RequestState_REQUEST_STATE_CANCELLED:
				return fmt.Errorf("request %s was CANCELLED: %s", id, last.GetReason())
			}
			return fmt.Errorf("watch of %s ended while the request was %s", id, stateWord(last.GetState()))
		})
	}
	return cmd
}
