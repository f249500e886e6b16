package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// stateList is a repeatable, comma-separated -state flag.
type stateList []dsarv1.RequestState

func (s *stateList) String() string { return fmt.Sprint(*s) }

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
func stateNames() string {
	var names []string
	for n := int32(1); n < int32(len(dsarv1.RequestState_name)); n++ {
		names = append(names, strings.ToLower(strings.TrimPrefix(dsarv1.RequestState(n).String(), "REQUEST_STATE_")))
	}
	return strings.Join(names, ", ")
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

// runList prints requests as a table or JSON.
func runList(e *env, args []string) error {
	fs := e.newFlags("list", "", true)
	var states stateList
	fs.Var(&states, "state", "only requests in this `state` (repeatable or comma-separated)")
	account := fs.String("account", "", "only requests of this `account`")
	olderThan := fs.Duration("older-than", 0, "only requests created longer than this `duration` ago")
	limit := fs.Int("limit", 0, "print at most `n` requests; 0: all")
	asJSON := fs.Bool("json", false, "print JSON")
	_, c, done, err := e.connect(fs, args, 0, 0)
	if err != nil {
		return err
	}
	defer done()
	req := &dsarv1.ListAccessRequestsRequest{States: states, Account: *account}
	if *olderThan > 0 {
		req.CreatedBefore = timestamppb.New(time.Now().Add(-*olderThan))
	}
	reqs, err := listRequests(e, c, req, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		views := make([]requestView, 0, len(reqs))
		for _, r := range reqs {
			views = append(views, viewOf(r))
		}
		return writeJSON(e.stdout, views)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tACCOUNT\tREGULATION\tCREATED\tDUE\tREASON")
	for _, r := range reqs {
		v := viewOf(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.State, v.Account, v.Regulation, v.Created, v.Due, v.Reason)
	}
	return tw.Flush()
}
