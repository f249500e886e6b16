package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"net"
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

// failureLog keeps what Auth.OnFailure was told.
type failureLog struct {
	mu  sync.Mutex
	got []string
}

func (l *failureLog) note(peer string, limited bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, fmt.Sprintf("%s limited=%v", peer, limited))
}

func (l *failureLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

// TestAuthFailuresLimited sends wrong tokens from one peer: after the
// burst they are refused with ResourceExhausted and a backoff that doubles
// while they go on, each is counted, the block is logged once, a valid
// token from the same peer is served all along, and once the backoff is
// over a wrong token is merely Unauthenticated again.
func TestAuthFailuresLimited(t *testing.T) {
	clock := &manualClock{now: time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)}
	fails := &failureLog{}
	var logs syncBuffer
	auth := &Auth{Tokens: testTokens(t), Clock: clock, OnFailure: fails.note, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	srv := startServer(t, auth, nil)
	client := dsarv1.NewAccessRequestServiceClient(srv.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials())))
	call := func(token string) error {
		_, err := client.GetAccessRequest(withToken(t.Context(), token), &dsarv1.GetAccessRequestRequest{Id: "r1"})
		return err
	}
	for i := range authFailBurst {
		if err := call("tok-wrong"); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("wrong token %d: %v, want Unauthenticated", i+1, err)
		}
	}
	for _, wait := range []string{"wait 1s", "wait 2s", "wait 4s"} {
		err := call("tok-wrong")
		if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), wait) {
			t.Fatalf("wrong token past the burst: %v, want ResourceExhausted saying %q", err, wait)
		}
		if err := call("tok-p"); err != nil {
			t.Fatalf("valid token during the block: %v", err)
		}
	}
	got := fails.take()
	if len(got) != authFailBurst+3 || got[0] != "bufconn limited=false" || got[authFailBurst] != "bufconn limited=true" {
		t.Errorf("OnFailure told %q; want %d failures of bufconn, the last 3 limited", got, authFailBurst+3)
	}
	if n := strings.Count(logs.String(), "failed authentications limited"); n != 1 {
		t.Errorf("the block is logged %d times, want once:\n%s", n, logs.String())
	}

	clock.add(4*time.Second + authFailBurst*time.Second)
	if err := call("tok-wrong"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token after the backoff: %v, want Unauthenticated", err)
	}
	fails.take()
	for range 3 * authFailBurst {
		if err := call(""); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("no credentials: %v, want Unauthenticated", err)
		}
	}
	if got := fails.take(); len(got) != 0 {
		t.Errorf("calls without credentials counted as failed authentications: %q", got)
	}
}

// TestAuthFailuresBounded fails once from more peers than are tracked one
// by one: the state stays bounded and the addresses past the bound share
// one budget, so that they are limited together.
func TestAuthFailuresBounded(t *testing.T) {
	var f failures
	now := time.Date(2026, 3, 15, 14, 0, 0, 0, time.UTC)
	for i := range maxLimitedPeers + 100 {
		f.fail(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), now)
	}
	if n := len(f.peers); n != maxLimitedPeers+1 {
		t.Fatalf("%d peers tracked, want %d", n, maxLimitedPeers+1)
	}
	if wait, _ := f.fail("192.0.2.1", now); wait == 0 {
		t.Errorf("the shared budget of %d new peers was not spent after 100 failures", 100)
	}
	// Once the peers are idle past the longest block, a new one is
	// tracked on its own again.
	later := now.Add(2*authBackoffMax + time.Second)
	if wait, _ := f.fail("192.0.2.2", later); wait != 0 {
		t.Errorf("first failure of a new peer after the others expired: blocked %v", wait)
	}
	if _, ok := f.peers["192.0.2.2"]; !ok {
		t.Errorf("the new peer is not tracked on its own after the others expired")
	}
}

// TestWatchesPerCaller opens a caller's Watch streams up to the cap: the
// next is refused with ResourceExhausted, another caller is not affected,
// and a stream that ends frees its place.
func TestWatchesPerCaller(t *testing.T) {
	fake := newFakeProcessor()
	h := newHarness(t, harnessConfig{proc: fake, maxWatches: 2})
	plat := as(t.Context(), RolePlatform)
	var ids []string
	for i := range 3 {
		r, err := h.client.CreateAccessRequest(plat, &dsarv1.CreateAccessRequestRequest{
			Email: "a@example.com", Account: "main", IdempotencyKey: fmt.Sprint("k", i), Regulation: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.GetAccessRequest().GetId())
	}
	watch := func(ctx context.Context, id string) (grpc.ServerStreamingClient[dsarv1.WatchAccessRequestResponse], error) {
		st, err := h.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
		if err != nil {
			return nil, err
		}
		_, err = st.Recv()
		return st, err
	}
	first, err := watch(plat, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := watch(plat, ids[1]); err != nil {
		t.Fatal(err)
	}
	_, err = watch(plat, ids[2])
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "2 watches open") {
		t.Fatalf("third watch: %v, want ResourceExhausted naming the cap", err)
	}
	if _, err := watch(as(t.Context(), RoleOperator), ids[2]); err != nil {
		t.Fatalf("another caller's watch: %v", err)
	}
	if _, err := fake.setState(ids[0], dsar.StateCancelled); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := first.Recv(); err != nil {
			break // the stream ended
		}
	}
	if _, err := watch(plat, ids[2]); err != nil {
		t.Errorf("watch after one ended: %v", err)
	}
}

// TestMaxStreams holds the connection's only stream: another call on it
// waits (until its deadline here) and goes through once the stream ends.
func TestMaxStreams(t *testing.T) {
	fake := newFakeProcessor()
	h := newHarness(t, harnessConfig{proc: fake, maxStreams: 1})
	plat := as(t.Context(), RolePlatform)
	r, err := h.client.CreateAccessRequest(plat, &dsarv1.CreateAccessRequestRequest{
		Email: "a@example.com", Account: "main", IdempotencyKey: "k", Regulation: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := r.GetAccessRequest().GetId()
	ctx, cancel := context.WithCancel(plat)
	st, err := h.client.WatchAccessRequest(ctx, &dsarv1.WatchAccessRequestRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Recv(); err != nil {
		t.Fatal(err)
	}
	short, stop := context.WithTimeout(plat, 200*time.Millisecond)
	defer stop()
	if _, err := h.client.GetAccessRequest(short, &dsarv1.GetAccessRequestRequest{Id: id}); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a second stream on the connection: %v, want it to wait until its deadline", err)
	}
	cancel()
	if _, err := h.client.GetAccessRequest(plat, &dsarv1.GetAccessRequestRequest{Id: id}); err != nil {
		t.Errorf("after the stream ended: %v", err)
	}
}

// TestLogFlood sends what flooded the log before: megabyte ids and emails
// as ids, with and without credentials, and a flood of wrong tokens. Every
// line stays short, none holds the email, and the wrong tokens past the
// limiter's burst are not logged one by one.
func TestLogFlood(t *testing.T) {
	h := newHarness(t, harnessConfig{proc: newFakeProcessor()})
	const email = "flood.subject@example.com"
	huge := strings.Repeat("x", 1<<20)
	calls := 0
	for _, ctx := range []context.Context{t.Context(), as(t.Context(), RoleOperator)} {
		for _, id := range []string{huge, email, strings.Repeat(email, 1000)} {
			_, _ = h.client.GetAccessRequest(ctx, &dsarv1.GetAccessRequestRequest{Id: id})
			_, _ = h.client.CancelAccessRequest(ctx, &dsarv1.CancelAccessRequestRequest{Id: id, Reason: huge})
			_, _ = h.client.CreateAccessRequest(ctx, &dsarv1.CreateAccessRequestRequest{Email: email + huge, Account: huge, IdempotencyKey: huge})
			calls += 3
		}
	}
	for range 200 {
		_, _ = h.client.GetAccessRequest(withToken(t.Context(), "tok-wrong"), &dsarv1.GetAccessRequestRequest{Id: huge})
	}
	logs := h.logs.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	for _, l := range lines {
		if len(l) > 1024 {
			t.Errorf("a log line of %d bytes: %.200s…", len(l), l)
		}
	}
	// The calls above with an unknown token count as failures too: at most
	// the burst of those is logged, and one line for the block.
	if max := calls + authFailBurst + 1; len(lines) > max {
		t.Errorf("%d log lines for %d calls and 200 wrong tokens; want at most %d", len(lines), calls, max)
	}
	if len(logs) > 100<<10 {
		t.Errorf("%d bytes of log", len(logs))
	}
	if strings.Contains(logs, "flood.subject") {
		t.Errorf("the log holds the email")
	}
}

// TestCapped cuts a long value at a rune boundary and marks it.
func TestCapped(t *testing.T) {
	if got := capped("short"); got != "short" {
		t.Errorf("capped(short) = %q", got)
	}
	long := strings.Repeat("é", maxLogValue) // 2 bytes a rune
	got := capped(long)
	if len(got) > maxLogValue+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("capped(%d bytes) = %d bytes %q", len(long), len(got), got)
	}
}

// TestFailuresOnlyForAuthentication: a refusal for the role is not a
// failed authentication and is never limited.
func TestFailuresOnlyForAuthentication(t *testing.T) {
	fails := &failureLog{}
	a := &Auth{Tokens: testTokens(t), OnFailure: fails.note}
	ctx := peer.NewContext(metadata.NewIncomingContext(t.Context(), metadata.Pairs("authorization", "Bearer tok-p")), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}})
	for range 3 * authFailBurst {
		if _, err := a.authorize(ctx, dsarv1.AccessRequestService_ListAccessRequests_FullMethodName); dsar.ErrorCode(err) != dsar.EFORBIDDEN {
			t.Fatalf("list as platform: %v, want %s", err, dsar.EFORBIDDEN)
		}
	}
	if got := fails.take(); len(got) != 0 {
		t.Errorf("role refusals counted as failed authentications: %q", got)
	}
}
