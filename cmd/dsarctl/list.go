package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
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

// listRequests pages through the requests that match req, from its page
// token on: every one, or at most limit when it is above zero, asking
// dsard for no more than that. next is the token of the requests after
// the limit, "" when there are none.
func listRequests(e *env, c dsarv1.AccessRequestServiceClient, req *dsarv1.ListAccessRequestsRequest, limit int) (reqs []*dsarv1.AccessRequest, next string, err error) {
	for {
		if limit > 0 {
			req.PageSize = int32(min(limit-len(reqs), client.MaxPageSize))
		}
		resp, err := c.ListAccessRequests(e.ctx, req)
		if err != nil {
			return nil, "", rpcError("list", err)
		}
		reqs = append(reqs, resp.GetAccessRequests()...)
		next = resp.GetNextPageToken()
		if limit > 0 && len(reqs) > limit {
			// A server that gave more than asked: where the next page
			// starts is not known.
			return reqs[:limit], "", nil
		}
		if next == "" || limit > 0 && len(reqs) == limit {
			return reqs, next, nil
		}
		req.PageToken = next
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
		token     string
	)
	cmd := command("list", "list access requests", 0, 0, nil)
	out := outputFlag(cmd)
	stateFlag(cmd, &states, "only requests in this `state` (repeatable or comma-separated)")
	cmd.Flags().StringVar(&account, "account", "", "only requests of this `account` (an error if dsard has no such account)")
	cmd.Flags().StringVar(&email, "email", "", "only requests of this data subject's `address`, in any case")
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "only requests created longer than this `duration` ago")
	cmd.Flags().IntVar(&limit, "limit", 0, "print at most `n` requests; 0: all")
	cmd.Flags().StringVar(&token, "page-token", "", "go on from the `token` a -limit'ed list ended with")
	cmd.RunE = func(*cobra.Command, []string) error {
		if limit < 0 {
			return usagef("list: -limit must not be negative; 0 lists all")
		}
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			req := &dsarv1.ListAccessRequestsRequest{States: states, Account: account, Email: email, PageToken: token}
			if olderThan > 0 {
				req.CreatedBefore = timestamppb.New(time.Now().Add(-olderThan))
			}
			reqs, next, err := listRequests(e, c, req, limit)
			if err != nil {
				return err
			}
			if *out == formatJSON {
				return writeJSON(e.stdout, jsonIndented, &dsarv1.ListAccessRequestsResponse{AccessRequests: reqs, NextPageToken: next})
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
			if err := tw.Flush(); err != nil {
				return err
			}
			if next != "" {
				// On stderr, like kubectl's and gh's hints: stdout
				// stays the table.
				fmt.Fprintf(e.stderr, "more requests match: add -page-token %s for the next ones\n", next)
			}
			return nil
		})
	}
	return cmd
}
