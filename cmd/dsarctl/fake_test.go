package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// fakeDsard is dsard's API on loopback answering from what a test gives
// it, and keeping what dsarctl asked: for what dsarctl sends and prints,
// where the real dsard (the end-to-end tests) costs a build and a run.
type fakeDsard struct {
	dsarv1.UnimplementedAccessRequestServiceServer
	addr string

	mu        sync.Mutex
	reqs      []*dsarv1.AccessRequest // by id, in the order List gives them
	pageSizes []int32                 // of each ListAccessRequests call
	account   *dsarv1.Account         // what the account verbs answer
	reason    string                  // of the last ExtendDeadline
}

func startFake(t *testing.T, reqs ...*dsarv1.AccessRequest) *fakeDsard {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDsard{addr: lis.Addr().String(), reqs: reqs}
	srv := grpc.NewServer()
	dsarv1.RegisterAccessRequestServiceServer(srv, f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return f
}

// ctl runs dsarctl in-process against f with env as its environment.
func (f *fakeDsard) ctl(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(t.Context(), append([]string{"-server", f.addr}, args...), func(k string) string { return env[k] },
		strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// ListAccessRequests pages through f.reqs like dsard: the token is the
// index of the next request, the page size capped at 1000 (rpc's cap).
func (f *fakeDsard) ListAccessRequests(_ context.Context, req *dsarv1.ListAccessRequestsRequest) (*dsarv1.ListAccessRequestsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pageSizes = append(f.pageSizes, req.GetPageSize())
	n := int(req.GetPageSize())
	if n == 0 {
		n = 100
	}
	n = min(n, 1000)
	from := 0
	if tok := req.GetPageToken(); tok != "" {
		from = -1
		for i, r := range f.reqs {
			if "after-"+r.GetId() == tok {
				from = i + 1
			}
		}
		if from < 0 {
			return nil, status.Error(codes.InvalidArgument, "page_token is malformed")
		}
	}
	to := min(from+n, len(f.reqs))
	resp := &dsarv1.ListAccessRequestsResponse{AccessRequests: f.reqs[from:to]}
	if to < len(f.reqs) {
		resp.NextPageToken = "after-" + f.reqs[to-1].GetId()
	}
	return resp, nil
}

func (f *fakeDsard) GetAccessRequest(_ context.Context, req *dsarv1.GetAccessRequestRequest) (*dsarv1.GetAccessRequestResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.reqs {
		if r.GetId() == req.GetId() {
			return &dsarv1.GetAccessRequestResponse{AccessRequest: r}, nil
		}
	}
	return nil, status.Error(codes.NotFound, "access request "+req.GetId()+": not found")
}

// asked returns the page sizes of the List calls since it was last called.
func (f *fakeDsard) asked() []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.pageSizes
	f.pageSizes = nil
	return out
}

// ExtendDeadline keeps the reason and answers with the request as it is.
func (f *fakeDsard) ExtendDeadline(ctx context.Context, req *dsarv1.ExtendDeadlineRequest) (*dsarv1.ExtendDeadlineResponse, error) {
	f.mu.Lock()
	f.reason = req.GetReason()
	f.mu.Unlock()
	resp, err := f.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: req.GetId()})
	return &dsarv1.ExtendDeadlineResponse{AccessRequest: resp.GetAccessRequest()}, err
}

func (f *fakeDsard) extendReason() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reason
}

// WatchAccessRequest sends every version of the request in f.reqs, in
// order, and ends.
func (f *fakeDsard) WatchAccessRequest(req *dsarv1.WatchAccessRequestRequest, ss grpc.ServerStreamingServer[dsarv1.WatchAccessRequestResponse]) error {
	f.mu.Lock()
	var versions []*dsarv1.AccessRequest
	for _, r := range f.reqs {
		if r.GetId() == req.GetId() {
			versions = append(versions, r)
		}
	}
	f.mu.Unlock()
	for _, r := range versions {
		if err := ss.Send(&dsarv1.WatchAccessRequestResponse{AccessRequest: r, EstimatedCompletionTime: r.GetEstimate().GetCompletionTime()}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeDsard) StartAccountAuthorization(context.Context, *dsarv1.StartAccountAuthorizationRequest) (*dsarv1.StartAccountAuthorizationResponse, error) {
	return &dsarv1.StartAccountAuthorizationResponse{AuthorizeUrl: "https://zoom.example/oauth/authorize?state=s1",
		RedirectUrl: "https://dsar.example/callback", State: "s1"}, nil
}

func (f *fakeDsard) CompleteAccountAuthorization(context.Context, *dsarv1.CompleteAccountAuthorizationRequest) (*dsarv1.CompleteAccountAuthorizationResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &dsarv1.CompleteAccountAuthorizationResponse{Account: f.account}, nil
}

func (f *fakeDsard) CheckAccount(context.Context, *dsarv1.CheckAccountRequest) (*dsarv1.CheckAccountResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &dsarv1.CheckAccountResponse{Account: f.account}, nil
}
