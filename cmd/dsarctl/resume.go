package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newResume resumes one request, or in bulk every request in the given
// states (created longer ago than -older-than).
func newResume(e *env) *cobra.Command {
	var (
		states    stateList
		olderThan time.Duration
		probe     bool
	)
	cmd := command("resume [ID]", "resume a request, or all in a state", 0, 1, nil)
	out := outputFlag(cmd)
	stateFlag(cmd, &states, "resume every request in this `state` (repeatable or comma-separated), e.g. failed")
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "with -state: only requests created longer than this `duration` ago")
	cmd.Flags().BoolVar(&probe, "probe", false, "for a request parked by Zoom's daily limit: forget the account's parks (audited) and ask Zoom now")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) == 1 && len(states) > 0:
			return usagef("resume: give an id or -state, not both")
		case len(args) == 0 && len(states) == 0:
			return usagef("resume: give an id, or -state for all requests in a state")
		case olderThan != 0 && len(states) == 0:
			return usagef("resume: -older-than needs -state")
		}
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			ids := args
			if len(states) > 0 {
				req := &dsarv1.ListAccessRequestsRequest{States: states}
				if olderThan > 0 {
					req.CreatedBefore = timestamppb.New(time.Now().Add(-olderThan))
				}
				reqs, _, err := listRequests(e, c, req, 0)
				if err != nil {
					return err
				}
				for _, r := range reqs {
					ids = append(ids, r.GetId())
				}
				if len(ids) == 0 {
					fmt.Fprintln(e.stderr, "no request to resume")
					return nil
				}
			}
			var failed int
			var last error
			for _, id := range ids {
				resp, err := c.ResumeAccessRequest(e.ctx, &dsarv1.ResumeAccessRequestRequest{Id: id, Probe: probe})
				if err != nil && len(ids) == 1 {
					return rpcError("resume", err)
				}
				if err != nil {
					failed++
					last = rpcError("resume "+id, err)
					fmt.Fprintln(e.stderr, oneLine(last))
					continue
				}
				r := resp.GetAccessRequest()
				err = e.printRequest(*out, r, func() error {
					if waiting(r.GetState()) && r.GetWaitingUntil() != nil {
						// Resumed early, the request would only meet the recorded park.
						_, err := fmt.Fprintf(e.stdout, "%s %s until %s: it goes on by itself then; -probe asks Zoom now\n",
							id, stateWord(r.GetState()), e.time(r.GetWaitingUntil()))
						return err
					}
					_, err := fmt.Fprintf(e.stdout, "%s %s\n", id, stateWord(r.GetState()))
					return err
				})
				if err != nil {
					return err
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d requests could not be resumed; the last: %w", failed, len(ids), last)
			}
			return nil
		})
	}
	return cmd
}

// waiting reports whether a request in state s goes on by itself at its
// waiting_until.
func waiting(s dsarv1.RequestState) bool {
	return s == dsarv1.RequestState_REQUEST_STATE_WAITING_QUOTA || s == dsarv1.RequestState_REQUEST_STATE_WAITING_ZOOM
}
