package zoomclient

import (
	"math/rand/v2"
	"sync"
	"time"
)

// backoff returns the wait before attempt+1: full jitter, uniform in
// [0, min(cap, base·2^(attempt-1))], so that callers that failed together
// do not retry together.
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.cfg.RetryBase << min(attempt-1, 30)
	if ceil <= 0 || ceil > c.cfg.RetryCap {
		ceil = c.cfg.RetryCap
	}
	return rand.N(ceil + 1)
}

// retryBudget bounds the retries of transient failures on one account, so
// that a broken Zoom sees at most ratio more calls than callers make (plus
// a small reserve) instead of MaxAttempts times as many. Every call
// deposits ratio; every retry withdraws one.
type retryBudget struct {
	mu      sync.Mutex
	tokens  float64
	ratio   float64
	reserve float64
}

func newRetryBudget(ratio, reserve float64) *retryBudget {
	return &retryBudget{tokens: reserve, ratio: ratio, reserve: reserve}
}

func (b *retryBudget) deposit() {
	b.mu.Lock()
	b.tokens = min(b.tokens+b.ratio, b.reserve)
	b.mu.Unlock()
}

func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
