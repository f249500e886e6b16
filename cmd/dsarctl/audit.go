package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

type auditView struct {
	ID      string `json:"id"`
	Time    string `json:"time"`
	Caller  string `json:"caller"`
	Role    string `json:"role,omitempty"`
	Action  string `json:"action"`
	Request string `json:"request_id,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// runAudit prints the audit log, oldest first.
func runAudit(e *env, args []string) error {
	fs := e.newFlags("audit", "[ID]", true)
	since := fs.Duration("since", 0, "only events of the last `duration`")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, c, done, err := e.connect(fs, args, 0, 1)
	if err != nil {
		return err
	}
	defer done()
	req := &dsarv1.ListAuditEventsRequest{PageSize: 1000}
	if len(pos) == 1 {
		req.RequestId = pos[0]
	}
	if *since > 0 {
		req.StartTime = timestamppb.New(time.Now().Add(-*since))
	}
	var evs []auditView
	for {
		resp, err := c.ListAuditEvents(e.ctx, req)
		if err != nil {
			return rpcError("audit", err)
		}
		for _, ev := range resp.GetAuditEvents() {
			evs = append(evs, auditView{ID: ev.GetId(), Time: timeString(ev.GetTime()), Caller: ev.GetCaller(),
				Role: ev.GetRole(), Action: ev.GetAction(), Request: ev.GetRequestId(), Detail: ev.GetDetail()})
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if *asJSON {
		if evs == nil {
			evs = []auditView{}
		}
		return writeJSON(e.stdout, evs)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCALLER\tROLE\tACTION\tREQUEST\tDETAIL")
	for _, ev := range evs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time, ev.Caller, ev.Role, ev.Action, ev.Request, ev.Detail)
	}
	return tw.Flush()
}
