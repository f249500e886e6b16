package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// newAudit prints the audit log, oldest first: a table, or one
// ListAuditEventsResponse of every page.
func newAudit(e *env) *cobra.Command {
	var since time.Duration
	cmd := command("audit [ID]", "list the audit log, or a request's", 0, 1, nil)
	out := outputFlag(cmd)
	cmd.Flags().DurationVar(&since, "since", 0, "only events of the last `duration`")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		return e.call(func(c dsarv1.AccessRequestServiceClient) error {
			req := &dsarv1.ListAuditEventsRequest{PageSize: 1000}
			if len(args) == 1 {
				req.RequestId = args[0]
			}
			if since > 0 {
				req.StartTime = timestamppb.New(time.Now().Add(-since))
			}
			var evs []*dsarv1.AuditEvent
			for {
				resp, err := c.ListAuditEvents(e.ctx, req)
				if err != nil {
					return rpcError("audit", err)
				}
				evs = append(evs, resp.GetAuditEvents()...)
				if resp.GetNextPageToken() == "" {
					break
				}
				req.PageToken = resp.GetNextPageToken()
			}
			if *out == formatJSON {
				return writeJSON(e.stdout, jsonIndented, &dsarv1.ListAuditEventsResponse{AuditEvents: evs})
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			head := "TIME\tCALLER\tROLE\tACTION\tREQUEST\tDETAIL"
			if *out == formatWide {
				head = "ID\t" + head
			}
			fmt.Fprintln(tw, head)
			for _, ev := range evs {
				if *out == formatWide {
					fmt.Fprintf(tw, "%s\t", ev.GetId())
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.time(ev.GetTime()), ev.GetCaller(), ev.GetRole(), ev.GetAction(), ev.GetRequestId(), ev.GetDetail())
			}
			return tw.Flush()
		})
	}
	return cmd
}
