package zoomclient

import (
	"context"
	"slices"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Check is the account's connection check (dsar.Steerable): a token, one
// call of List users (the call connectors use to test a Zoom connection)
// answered in Zoom's shape, and the token's scopes against those each
// section needs (SectionScopes). It fails in words an admin can act on.
func (c *Client) Check(ctx context.Context) dsar.AccountCheck {
	chk := dsar.AccountCheck{At: c.clock.Now()}
	granted, err := c.GrantedScopes(ctx)
	if err != nil {
		chk.Problem = "getting a token: " + err.Error()
		return chk
	}
	if _, _, err := c.page(ctx, EndpointUsers, "", Cursor{}); err != nil && !zoomShaped(err) {
		chk.Problem = "the API URL " + c.api + " does not answer like Zoom's: " + err.Error()
		return chk
	}
	if granted == nil {
		// A token answer without "scope": nothing to compare. Zoom's
		// always has one; say so rather than report every scope missing.
		c.log.Warn("the token answer lists no scopes: the account's scopes were not checked")
		return chk
	}
	chk.Granted = slices.Sorted(slices.Values(granted))
	chk.Problem, chk.Missing, chk.Sections = checkScopes(granted)
	return chk
}

// zoomShaped reports whether err is an answer in Zoom's error shape that
// still proves the API URL is Zoom's: the app may lack List users' scope,
// which no section needs.
func zoomShaped(err error) bool {
	k, ok := kindOf(err)
	return ok && k == MissingScope
}

// Status returns the state of the account's buckets that have been used
// (dsar.Steerable).
func (c *Client) Status() dsar.AccountStatus {
	st := dsar.AccountStatus{Plan: c.cfg.Plan, App: string(c.cfg.App)}
	for _, t := range c.limits.all() {
		st.Buckets = append(st.Buckets, t.status())
	}
	return st
}

// ResetQuota forgets the account's Daily-limit parks, so that the next
// call in each bucket asks Zoom (dsar.Steerable). It returns the buckets
// it unparked.
func (c *Client) ResetQuota() []string {
	var out []string
	now := c.clock.Now()
	for _, t := range c.limits.all() {
		if t.unblock(now) {
			out = append(out, t.bucket.String())
		}
	}
	if len(out) > 0 {
		c.log.Info("daily-limit parks forgotten by an operator", "buckets", out)
	}
	return out
}

// status describes the throttle for an operator.
func (t *throttle) status() dsar.BucketStatus {
	cur := t.rate()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := dsar.BucketStatus{Name: t.bucket.String(), Configured: t.base, Current: cur,
		DailyRemaining: t.remaining, DailySeen: t.remainingAt}
	now := t.clock.Now()
	if t.quota != nil && now.Before(t.quota.Reset) {
		b.ParkedUntil = t.quota.Reset
	}
	b.Breaker, b.NextProbe = t.br.state(now)
	return b
}

// unblock drops a Daily-limit park that has not ended; it reports whether
// there was one.
func (t *throttle) unblock(now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	parked := t.quota != nil && now.Before(t.quota.Reset)
	t.quota = nil
	return parked
}

// Check, Status and ResetQuota make a Source steerable.
var _ dsar.Steerable = (*Source)(nil)

func (s *Source) Check(ctx context.Context) dsar.AccountCheck { return s.c.Check(ctx) }
func (s *Source) Status() dsar.AccountStatus                  { return s.c.Status() }
func (s *Source) ResetQuota() []string                        { return s.c.ResetQuota() }

// Source is a dsar.Authorizer: an OAuth app is authorized through the
// redirect URL of its configuration.
var _ dsar.Authorizer = (*Source)(nil)

// AuthorizeURL returns Zoom's authorize URL of the account's OAuth app
// and the redirect URL Zoom sends the code to; "" for a Server-to-Server
// app.
func (s *Source) AuthorizeURL(state string) (authorize, redirect string) {
	if s.c.cfg.App != AppOAuth {
		return "", ""
	}
	return s.c.AuthorizeURL(s.c.cfg.RedirectURL, state), s.c.cfg.RedirectURL
}

// Authorize exchanges the code Zoom sent to the redirect URL and keeps the
// grant.
func (s *Source) Authorize(ctx context.Context, code string) error {
	return s.c.Authorize(ctx, code, s.c.cfg.RedirectURL)
}
