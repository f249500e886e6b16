package main

import (
	"errors"
	"fmt"
	"io"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// runWatch follows a request until it is final. It fails when the request
// ends FAILED or CANCELLED, so that a script can tell.
func runWatch(e *env, args []string) error {
	fs := e.newFlags("watch", "ID", true)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cc, c, err := e.conn.dial()
	if err != nil {
		return err
	}
	defer cc.Close()
	return watch(e, c, pos[0], newProgressView(e.stdout, isTerminal(e.stdout)))
}

func watch(e *env, c dsarv1.AccessRequestServiceClient, id string, view *progressView) error {
	stream, err := c.WatchAccessRequest(e.ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
	if err != nil {
		return rpcError("watch", err)
	}
	var last *dsarv1.AccessRequest
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rpcError("watch", err)
		}
		view.show(m)
		last = m.GetAccessRequest()
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
