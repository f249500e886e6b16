package rpc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	"github.com/zoomdsar/zoom-dsar/dsar"
	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// Failed authentications (credentials sent and refused) are limited per
// peer address. A peer may fail
// authFailBurst times at once and then once a second; past that it is
// blocked, for authBackoffMin first, twice as long for every failure
// while blocked, at most authBackoffMax. A blocked peer's failures are
// refused with ResourceExhausted and are not logged one by one (the block
// is logged once), so a flood of bad tokens costs a hash and a map lookup
// each. Credentials are still checked during a block: a valid caller
// behind the same address (a NAT, a proxy) is never refused or slowed,
// and a token of 256 random bits is not found by guessing anyway.
const (
	authFailRate    = rate.Limit(1)
	authFailBurst   = 10
	authBackoffMin  = time.Second
	authBackoffMax  = 5 * time.Minute
	maxLimitedPeers = 4096
)

// failures are the recent failed authentications of each peer address.
type failures struct {
	mu    sync.Mutex
	peers map[string]*peerFailures
}

type peerFailures struct {
	bucket  *rate.Limiter
	backoff time.Duration // of the current or last block
	until   time.Time     // end of the current block
	last    time.Time     // of the last failure
}

// fail records a failed authentication of peer at now. It returns how
// long the peer is blocked from now on, zero if it is not, and whether
// this failure started the block.
func (f *failures) fail(peer string, now time.Time) (wait time.Duration, started bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.peer(peer, now)
	p.last = now
	if now.Before(p.until) {
		p.backoff = min(2*p.backoff, authBackoffMax)
		p.until = now.Add(p.backoff)
		return p.backoff, false
	}
	if p.bucket.AllowN(now, 1) {
		return 0, false
	}
	if now.Sub(p.until) > authBackoffMax {
		p.backoff = 0 // a block long past is forgiven
	}
	p.backoff = min(max(2*p.backoff, authBackoffMin), authBackoffMax)
	p.until = now.Add(p.backoff)
	return p.backoff, true
}

// peer returns the state of peer, made when there is none. The map is
// bounded: peers idle longer than the longest block are dropped first,
// and past maxLimitedPeers every new address shares one state, so that
// a flood from many addresses is limited as one.
func (f *failures) peer(peer string, now time.Time) *peerFailures {
	if p, ok := f.peers[peer]; ok {
		return p
	}
	if f.peers == nil {
		f.peers = make(map[string]*peerFailures)
	}
	if len(f.peers) >= maxLimitedPeers {
		for k, p := range f.peers {
			if now.Sub(p.last) > authBackoffMax && !now.Before(p.until.Add(authBackoffMax)) {
				delete(f.peers, k)
			}
		}
	}
	if len(f.peers) >= maxLimitedPeers {
		peer = otherSources
		if p, ok := f.peers[peer]; ok {
			return p
		}
	}
	p := &peerFailures{bucket: rate.NewLimiter(authFailRate, authFailBurst)}
	f.peers[peer] = p
	return p
}

// failed counts a failed authentication of the call in ctx and returns
// the error to refuse it with: err itself, or a ResourceExhausted one
// when the peer is blocked. limited reports the latter.
func (a *Auth) failed(ctx context.Context, err error) (_ error, limited bool) {
	peer := peerHost(ctx)
	wait, started := a.failures.fail(peer, a.clock().Now())
	if a.OnFailure != nil {
		a.OnFailure(peer, wait > 0)
	}
	if wait == 0 {
		return err, false
	}
	if started {
		a.log().Warn("failed authentications limited", "peer", capped(peer), "blocked_s", wait.Seconds())
	}
	return &dsar.Error{Code: dsar.EEXHAUSTED, Op: authOp, Err: err, Message: fmt.Sprintf(
		"too many failed authentications from your address; wait %s before trying again (a valid token or certificate is served meanwhile)",
		wait.Round(time.Second))}, true
}

func (a *Auth) clock() dsar.Clock {
	if a.Clock == nil {
		return dsar.SystemClock{}
	}
	return a.Clock
}

// watches counts the Watch streams open per caller: a Watch holds a
// goroutine and a subscription for as long as the request runs, so one
// caller could otherwise hold thousands.
type watches struct {
	max  int
	mu   sync.Mutex
	open map[Caller]int
}

func newWatches(max int) *watches {
	return &watches{max: max, open: make(map[Caller]int)}
}

// stream is the interceptor that refuses a caller's Watch beyond max
// with ResourceExhausted, and frees its place when the stream ends. It
// runs after authentication, which put the caller in the context.
func (w *watches) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		c, ok := CallerFrom(ss.Context())
		if !ok || info.FullMethod != dsarv1.AccessRequestService_WatchAccessRequest_FullMethodName {
			return handler(srv, ss)
		}
		if !w.acquire(c) {
			return &dsar.Error{Code: dsar.EEXHAUSTED, Op: "rpc.WatchAccessRequest", Message: fmt.Sprintf(
				"%s already has %d watches open, the most allowed; close one, or get the request instead", c.Name, w.max)}
		}
		defer w.release(c)
		return handler(srv, ss)
	}
}

func (w *watches) acquire(c Caller) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open[c] >= w.max {
		return false
	}
	w.open[c]++
	return true
}

func (w *watches) release(c Caller) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open[c]--; w.open[c] == 0 {
		delete(w.open, c)
	}
}
