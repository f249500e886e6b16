package rpc

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// TestDeniedCallsAudited refuses a call for its role, one for an unknown
// token and one without credentials, through the real processor and
// store: the audit log names the caller when the credentials named one,
// the role and the method, and neither the token nor a field of the call.
func TestDeniedCallsAudited(t *testing.T) {
	h := newHarness(t, harnessConfig{})
	const secretToken, secretID = "tok-not-in-the-file", "01thisidisafield"
	if _, err := h.client.ListAccessRequests(as(t.Context(), RolePlatform), &dsarv1.ListAccessRequestsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("list as platform: %v", err)
	}
	for _, ctx := range []context.Context{withToken(t.Context(), secretToken), t.Context()} {
		if _, err := h.client.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: secretID}); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("get with a bad token: %v", err)
		}
	}
	resp, err := h.client.ListAuditEvents(as(t.Context(), RoleAuditor), &dsarv1.ListAuditEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range resp.GetAuditEvents() {
		if ev.GetAction() != "CallDenied" {
			continue
		}
		got = append(got, ev.GetCaller()+"/"+ev.GetRole()+": "+ev.GetDetail())
		for _, secret := range []string{secretToken, secretID} {
			if strings.Contains(ev.GetDetail(), secret) {
				t.Errorf("audit detail %q holds %q", ev.GetDetail(), secret)
			}
		}
	}
	// The two unauthenticated calls come from one peer in one minute: one
	// entry, the second counted.
	want := []string{
		"plat/platform: /dsar.v1.AccessRequestService/ListAccessRequests refused (PermissionDenied): role platform may not call /dsar.v1.AccessRequestService/ListAccessRequests; from bufconn",
		"unauthenticated/: /dsar.v1.AccessRequestService/GetAccessRequest refused (Unauthenticated): unknown bearer token; check the token or ask an operator to add it to the tokens file; from bufconn",
	}
	if !slices.Equal(got, want) {
		t.Errorf("denied calls in the audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// memRecorder keeps what is recorded.
type memRecorder struct {
	mu  sync.Mutex
	evs []string
}

func (m *memRecorder) Record(ctx context.Context, id, action, detail string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evs = append(m.evs, dsar.ActorFrom(ctx).String()+" "+action+": "+detail)
	return nil
}

func (m *memRecorder) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.evs
	m.evs = nil
	slices.Sort(out)
	return out
}

// manualClock moves only when told.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *manualClock) AfterFunc(time.Duration, func()) func() bool {
	return func() bool { return false }
}

// TestDeniedAggregated floods the server with refused calls: each source
// (a caller, or a peer without valid credentials) gets one audit entry a
// minute, and the calls counted meanwhile are written as one entry after.
func TestDeniedAggregated(t *testing.T) {
	rec := &memRecorder{}
	clock := &manualClock{now: time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)}
	srv := startServer(t, &Auth{Tokens: testTokens(t), Audit: rec, Clock: clock}, nil)
	client := dsarv1.NewAccessRequestServiceClient(srv.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials())))
	call := func(ctx context.Context, want codes.Code) {
		t.Helper()
		if _, err := client.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: "r1"}); status.Code(err) != want {
			t.Fatalf("cancel: %v, want %v", err, want)
		}
	}
	bad := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer wrong")
	// Past the limiter's burst the wrong tokens are refused with
	// ResourceExhausted (limit.go), and audited all the same.
	for i := range 50 {
		want := codes.Unauthenticated
		if i >= authFailBurst {
			want = codes.ResourceExhausted
		}
		call(bad, want)
	}
	for range 3 {
		call(withToken(t.Context(), "tok-p"), codes.PermissionDenied)
	}
	call(withToken(t.Context(), "tok-o"), codes.OK) // allowed: not audited here
	const method = "/dsar.v1.AccessRequestService/CancelAccessRequest"
	want := []string{
		"plat (platform) denied: " + method + " refused (PermissionDenied): role platform may not call " + method + "; from bufconn",
		"unauthenticated denied: " + method + " refused (Unauthenticated): unknown bearer token; check the token or ask an operator to add it to the tokens file; from bufconn",
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("first minute:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	clock.add(deniedWindow + time.Second)
	call(bad, codes.ResourceExhausted) // still blocked: the backoff reached its longest
	want = []string{
		"plat (platform) denied: 2 more calls refused from caller plat (platform) in the minute from 2026-03-15T14:00:00Z",
		"unauthenticated denied: " + method + " refused (ResourceExhausted): too many failed authentications from your address; wait 5m0s before trying again (a valid token or certificate is served meanwhile); from bufconn",
		"unauthenticated denied: 49 more calls refused from peer bufconn in the minute from 2026-03-15T14:00:00Z",
	} // sorted
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("next minute:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDeniedSourcesBounded refuses calls from more peers than are counted
// one by one: the rest share one entry, so memory and the log stay bounded.
func TestDeniedSourcesBounded(t *testing.T) {
	rec := &memRecorder{}
	a := &Auth{Audit: rec, Clock: &manualClock{now: time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)}}
	for i := range maxDeniedSources + 10 {
		ctx := peer.NewContext(t.Context(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 0, byte(i>>8), byte(i)), Port: 4000 + i}})
		if _, err := a.authorize(ctx, "/dsar.v1.AccessRequestService/GetAccessRequest"); dsar.ErrorCode(err) != dsar.EUNAUTHORIZED {
			t.Fatalf("call %d: %v, want a refusal with code %s", i, err, dsar.EUNAUTHORIZED)
		}
	}
	got := rec.take()
	if len(got) != maxDeniedSources+1 {
		t.Fatalf("%d audit entries, want %d", len(got), maxDeniedSources+1)
	}
	var other int
	for _, ev := range got {
		if strings.HasPrefix(ev, otherSources+" ") {
			other++
		}
		if strings.Contains(ev, ":4") {
			t.Errorf("entry %q holds the peer's port", ev)
		}
	}
	if other != 1 {
		t.Errorf("%d entries of %q, want 1", other, otherSources)
	}
	if !slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, fmt.Sprintf("from 10.0.%d.%d", 3, 255)) }) {
		t.Errorf("no entry names peer 10.0.3.255")
	}
}
