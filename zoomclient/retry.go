package zoomclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// do runs one logical call, an API request or a file download, under the
// client's one retry policy. Each attempt waits for the daily quota and the
// throttle th (nil for files outside the API, which are not throttled),
// takes the account's token and calls send, which makes one HTTP request;
// the answer is then judged:
//
//   - done: a 2xx with a body that passed its checks.
//   - renew: 401 code 124, the token expired early or was revoked. Renewed
//     once per call, at once; it spends no retry budget. Any other 401 is
//     final: a new token would be refused the same way.
//   - quota: a Daily-limit 429 blocks the bucket until the reset.
//   - slowDown: a per-second 429 halves the bucket's rate and is retried
//     after backoff, without spending the retry budget (see below).
//   - retry: Zoom failed (5xx, connection lost, slow, cut or garbled body):
//     retried after backoff while the account's retry budget lasts.
//   - final: any other answer, classified into an *Error.
//
// Why a per-second 429 spends no budget: the budget bounds the extra load
// that retries put on a Zoom that is failing. A per-second 429 is Zoom
// working and asking clients to back off (zoom-api.md §4), and the client
// backs off where it counts: the bucket's throttle halves its rate (AIMD)
// and the retry waits behind it, plus its backoff. Retries of 429s thus add
// no load above the lowered rate. Charging them to the budget would let a
// burst of 429s, for instance from other apps that share the account's
// limits, use up the retries that Zoom's failures need, and fail calls
// the lowered rate would serve. MaxAttempts still bounds every call.
//
// Every attempt counts towards MaxAttempts, a renewal too, so that an
// *Error's Attempts is the number of HTTP attempts made.
func (c *Client) do(ctx context.Context, r *request, th *throttle, send func(ctx context.Context, tok string) result) (result, error) {
	c.budget.deposit()
	br, bucket := c.files, r.ep.Bucket()
	if th != nil {
		br, bucket = th.br, th.bucket
	}
	renewed, probe := false, false
	defer func() {
		// A probe this call still holds (it ended otherwise than by an
		// answer or a transient failure) goes to the next call.
		if probe {
			br.abandon()
		}
	}()
	for attempt := 1; ; attempt++ {
		if err := th.blocked(r.ep.Name); err != nil {
			return result{}, err
		}
		if !probe { // a call that holds the probe keeps it through its attempts
			var err error
			if probe, err = br.admit(c.clock.Now(), r.ep.Name, bucket); err != nil {
				return result{}, err
			}
		}
		tok, err := c.auth.token(ctx, c.cfg.CallTimeout)
		if err != nil {
			if err := c.retryToken(ctx, r, attempt, err); err != nil {
				return result{}, c.outage(br, bucket, r, err)
			}
			br.failure(c.clock.Now(), probe)
			probe = false
			continue
		}
		wait, err := th.wait(ctx)
		if err != nil {
			return result{}, fmt.Errorf("zoomclient: %s: waiting for the throttle: %w", r.ep.Name, err)
		}
		// A Daily-limit answer to another call may have come while this
		// one waited in the throttle.
		if err := th.blocked(r.ep.Name); err != nil {
			return result{}, err
		}
		start := time.Now()
		res := send(ctx, tok)
		res.latency = time.Since(start)
		c.observe(r, attempt, wait, res)
		if n, err := strconv.Atoi(res.header.Get("X-RateLimit-Remaining")); err == nil {
			limit, _ := strconv.Atoi(res.header.Get("X-RateLimit-Limit"))
			th.sawRemaining(n, limit)
		}
		if res.werr != nil {
			return res, fmt.Errorf("zoomclient: %s: writing the file: %w", r.ep.Name, res.werr)
		}
		v := judge(res, renewed)
		if v != done && ctx.Err() != nil {
			return res, fmt.Errorf("zoomclient: %s: %w", r.ep.Name, ctx.Err())
		}
		if v != retry {
			br.success(c.clock.Now(), probe) // Zoom answered
			probe = false
		}
		switch v {
		case done:
			if attempt > 1 {
				c.log.Info("zoom call succeeded after retries", "endpoint", r.ep.Name, "attempts", attempt)
			}
			return res, nil
		case renew:
			if attempt < c.cfg.MaxAttempts {
				renewed = true
				c.auth.invalidate(tok)
				continue
			} // no attempt left: the 401 is final
		case quota:
			return res, c.quota(r, th, res)
		case slowDown:
			th.decrease()
			if attempt < c.cfg.MaxAttempts {
				if err := sleep(ctx, c.backoff(attempt)); err != nil {
					return res, fmt.Errorf("zoomclient: %s: %w", r.ep.Name, err)
				}
				continue
			}
			e := c.newError(r, RateLimited, res.message)
			e.Status, e.Code, e.TrackingID, e.Attempts = res.status, res.code, res.tracking, attempt
			return res, e
		case retry:
			e := c.newError(r, Unavailable, res.message)
			e.Status, e.Code, e.TrackingID, e.Err = res.status, res.code, res.tracking, res.err
			open := br.failure(c.clock.Now(), probe)
			probe = false
			if open {
				return res, c.outage(br, bucket, r, e)
			}
			if err := c.retryWait(ctx, r, attempt, e); err != nil {
				return res, c.outage(br, bucket, r, err)
			}
			continue
		}
		e := c.classify(r, res)
		e.Attempts = attempt
		if renewed && e.Kind == Unauthorized && res.code == 124 {
			e.Message = "access token refused after renewal (" + e.Message +
				"): check the app's client id and secret and that the app is activated, not deactivated or revoked"
		}
		return res, e
	}
}

// outage turns the end of a call that Zoom kept failing (its attempts or
// the account's retry budget spent, or the breaker opened meanwhile) into
// an *OutageError: the bucket's breaker opens and the caller waits for its
// probe instead of failing. Other errors (the caller's context, a refused
// token) pass unchanged.
func (c *Client) outage(br *breaker, bucket Bucket, r *request, err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Kind != Unavailable {
		return err
	}
	oe := br.trip(c.clock.Now(), r.ep.Name, bucket, err)
	c.log.Warn("zoom keeps failing: calls pause", "bucket", bucket.String(), "endpoint", r.ep.Name, "until", oe.Until)
	return oe
}

// verdict is what the retry loop does with the answer to an attempt.
type verdict int

const (
	final verdict = iota
	done
	renew
	quota
	slowDown
	retry
)

// judge sorts the answer to an attempt (see do).
func judge(res result, renewed bool) verdict {
	switch {
	case res.err == nil && res.status/100 == 2:
		return done
	case res.status == http.StatusUnauthorized && res.code == 124 && !renewed:
		return renew
	case res.status == http.StatusTooManyRequests && res.rateLimit == "Daily-limit":
		return quota
	case res.status == http.StatusTooManyRequests: // its headers say so, even if its body was cut
		return slowDown
	case res.err != nil || res.status >= 500:
		return retry
	}
	return final
}

// retryToken handles a failed token fetch for r: the caller's
// cancellation and a refusal are final, while Zoom's token service failing
// is retried like any transient failure. It returns nil to retry.
func (c *Client) retryToken(ctx context.Context, r *request, attempt int, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("zoomclient: %s: %w", r.ep.Name, ctx.Err())
	}
	var e *Error
	if !errors.As(err, &e) {
		e = c.newError(r, Unavailable, "token request failed")
		e.Err = err
	}
	e.Op, e.Path = r.ep.Name, r.ep.Path
	if e.Kind != Unavailable {
		return e
	}
	return c.retryWait(ctx, r, attempt, e)
}

// retryWait decides whether a transient failure may be retried: within the
// attempt limit and the account's retry budget. It sleeps the backoff and
// returns nil to retry, or the final error.
func (c *Client) retryWait(ctx context.Context, r *request, attempt int, last *Error) error {
	last.Attempts = attempt
	if attempt >= c.cfg.MaxAttempts {
		c.log.Warn("zoom call failed", "endpoint", r.ep.Name, "attempts", attempt, "status", last.Status)
		return last
	}
	if !c.budget.withdraw() {
		c.log.Warn("zoom retry budget exhausted", "endpoint", r.ep.Name, "attempts", attempt, "status", last.Status)
		if last.Message != "" {
			last.Message += "; "
		}
		last.Message += "account retry budget exhausted"
		return last
	}
	if err := sleep(ctx, c.backoff(attempt)); err != nil {
		return fmt.Errorf("zoomclient: %s: %w", r.ep.Name, err)
	}
	return nil
}

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

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
