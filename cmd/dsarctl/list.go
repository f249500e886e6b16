package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// stateList is a repeatable, comma-separated -state flag.
type stateList []dsarv1.RequestState

func (s *stateList) String() string { return fmt.Sprint(*s) }
func (s *stateList) Type() string   { return "state" }

func (s *stateList) Set(v string) error {
	for _, w := range strings.Split(v, ",") {
		st, ok := dsarv1.RequestState_value["REQUEST_STATE_"+strings.ToUpper(strings.TrimSpace(w))]
		if !ok || st == 0 {
			return fmt.Errorf("unknown state %q; want %s", w, stateNames())
		}
		*s = append(*s, dsarv1.RequestState(st))
	}
	return nil
}

// stateNames lists the request states as -state takes them, from the
// proto's enum, so that a new state needs no edit here.
func stateNames() string { return strings.Join(stateWords(), ", ") }

func stateWords() []string {
	var names []string
	for n := int32(1); n < int32(len(dsarv1.RequestState_name)); n++ {
		names = append(names, strings.ToLower(strings.TrimPrefix(dsarv1.RequestState(n).String(), "REQUEST_STATE_")))
	}
	return names
}

// stateFlag declares -state on cmd, with its values for completion.
func stateFlag(cmd *cobra.Command, s *stateList, usage string) {
	cmd.Flags().Var(s, "state", usage)
	cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(stateWords(), cobra.ShellCompDirectiveNoFileComp))
}

// listRequests pages through every request that matches req.
func listRequests(e *env, c dsarv1.AccessRequestServiceClient, req *dsarv1.ListAccessRequestsRequest, limit int) ([]*dsarv1.AccessRequest, error) {
	var out []*dsarv1.AccessRequest
	for {
		resp, err := c.ListAccessRequests(e.ctx, req)
		if err != nil {
			return nil, rpcError("list", err)
		}
		out = append(out, resp.GetAccessRequests()...)
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
		}
		if resp.GetNextPageToken() == "" {
			return out, nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// newList prints requests as a table or as one ListAccessRequestsResponse
// of every page.
func newList(e *env) *cobra.Command {
	var (
		states    stateList
		account   string
		email     string
		olderThan time.Duration
		limit     int
	)
	cmd := command("list", "list access requests", 0, 0, nil)
	out := outputFlag(cmd)
	stateFlag(cmd, &states, "only requests in this `state` (repeatable or comma-separated)")
	cmd.Flags().StringVar(&account, "account", "", "only requests of this `account` (an error if dsard has no such account)")
	cmd.Flags().StringVar(&email, "email", "", "only requests of this data subject's `address`, in any case")
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "only requests created longer than this `duration` ago")
	cmd.Flags().IntVar(&limit, "limit", 0, "print at most `n` requests; 0: all")
	cmd.RunE = func(*cobra.Command, []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			req := &dsarv1.ListAccessRequestsRequest{States: states, Account: account, Email: email}
			if olderThan > 0 {
				req.CreatedBefore = timestamppb.New(time.Now().Add(-olderThan))
			}
			reqs, err := listRequests(e, c, req, limit)
			if err != nil {
				return err
			}
			if *out == formatJSON {
				return writeJSON(e.stdout, &dsarv1.ListAccessRequestsResponse{AccessRequests: reqs})
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			head := "ID\tSTATE\tACCOUNT\tEMAIL\tOUTCOME\tCREATED\tDUE"
			if *out == formatWide {
				head += "\tREGULATION\tUPDATED\tWAITING UNTIL\tREASON"
			}
			fmt.Fprintln(tw, head)
			for _, r := range reqs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s", r.GetId(), stateWord(r.GetState()), r.GetAccount(), r.GetEmail(),
					outcomeWord(r.GetOutcome()), e.time(r.GetCreateTime()), e.time(r.GetDueTime()))
				if *out == formatWide {
					fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s", enumWord(r.GetRegulation().String(), "REGULATION_"),
						e.time(r.GetUpdateTime()), e.time(r.GetWaitingUntil()), r.GetReason())
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		})
	}
	return cmd
}
