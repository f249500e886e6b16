package main

import (
	"fmt"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/progress"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runWatch follows a request until it is final. It fails when the request
// ends FAILED or CANCELLED, so that a script can tell.
func runWatch(e *env, args []string) error {
	fs := e.newFlags("watch", "ID", true)
	pos, c, done, err := e.connect(fs, args, 1, 1)
	if err != nil {
		return err
	}
	defer done()
	id := pos[0]
	last, err := progress.Watch(e.ctx, c, id, progress.NewView(e.stdout, progress.IsTerminal(e.stdout)))
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
}
