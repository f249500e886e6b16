package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar/rpc/client"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// requests makes n queued requests r01, r02, ...
func requests(n int) []*dsarv1.AccessRequest {
	var out []*dsarv1.AccessRequest
	for i := 1; i <= n; i++ {
		out = append(out, &dsarv1.AccessRequest{Id: fmt.Sprintf("r%02d", i), Account: "main", State: dsarv1.RequestState_REQUEST_STATE_QUEUED})
	}
	return out
}

// TestListLimit: -limit is the page size dsarctl asks for, not a cut of
// whole pages fetched; when more requests match, dsarctl says how to list
// them (-page-token), and -page-token goes on from there.
func TestListLimit(t *testing.T) {
	f := startFake(t, requests(10)...)
	out, errOut, err := f.ctl(t, nil, "list", "-limit", "3")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.asked(); !slices.Equal(got, []int32{3}) {
		t.Errorf("page sizes asked %v, want one call for 3", got)
	}
	if rows := strings.Count(out, "QUEUED"); rows != 3 || !strings.Contains(out, "r03") || strings.Contains(out, "r04") {
		t.Errorf("list -limit 3 printed %d requests:\n%s", rows, out)
	}
	if !strings.Contains(errOut, "-page-token after-r03") {
		t.Errorf("no hint of the next page on stderr: %q", errOut)
	}

	out, errOut, err = f.ctl(t, nil, "list", "-limit", "5", "-page-token", "after-r03")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "r04") || !strings.Contains(out, "r08") || strings.Contains(out, "r03") || strings.Contains(out, "r09") {
		t.Errorf("the next page of 5:\n%s", out)
	}
	if !strings.Contains(errOut, "-page-token after-r08") {
		t.Errorf("no hint of the page after: %q", errOut)
	}

	// All of them: pages of the server's default until the last; no hint.
	f.asked()
	out, errOut, err = f.ctl(t, nil, "list")
	if err != nil || strings.Count(out, "QUEUED") != 10 || errOut != "" {
		t.Errorf("list: %v, %d rows, stderr %q", err, strings.Count(out, "QUEUED"), errOut)
	}
	// A limit above the server's cap is asked for as the cap, page by page.
	f.asked()
	if _, _, err := f.ctl(t, nil, "list", "-limit", "5000"); err != nil || !slices.Equal(f.asked(), []int32{client.MaxPageSize}) {
		t.Errorf("list -limit 5000: %v; want one call for the server's cap", err)
	}

	// -o json: the token is in the message, as the API gives it.
	out, _, err = f.ctl(t, nil, "list", "-limit", "2", "-o", "json")
	var resp dsarv1.ListAccessRequestsResponse
	parseJSON(t, out, &resp)
	if err != nil || len(resp.GetAccessRequests()) != 2 || resp.GetNextPageToken() != "after-r02" {
		t.Errorf("list -limit 2 -o json: %v\n%s", err, out)
	}
}
