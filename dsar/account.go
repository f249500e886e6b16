package dsar

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// AccountCheck is the outcome of a Zoom account's connection check: a
// token, an API base URL that answers like Zoom, and the scopes each
// section needs among those the token carries.
type AccountCheck struct {
	At time.Time
	// Problem says, in words an admin can act on, why no request can run
	// on the account (a refused token, an API URL that is not Zoom's, the
	// user lookup's scope missing); "" when the account is usable.
	Problem string
	Granted []string // scopes the token carries, sorted
	Missing []string // scopes some section needs and the token lacks, sorted
	// Sections says, by section name, what a section lacks ("phone_sms
	// needs phone:read:list_sms_sessions:admin; grant it to the app"); a
	// section not named has what it needs.
	Sections map[string]string
}

// OK reports whether requests can run on the account.
func (c AccountCheck) OK() bool { return !c.At.IsZero() && c.Problem == "" }

// AccountStatus is what an operator sees of an account's use of Zoom.
type AccountStatus struct {
	Plan    string
	App     string // "s2s" (Server-to-Server OAuth) or "oauth" (an account-level OAuth app)
	Buckets []BucketStatus
}

// BucketStatus is one rate-limit bucket of an account.
type BucketStatus struct {
	Name       string  // "Medium", "phone/Light"
	Configured float64 // requests per second: the configured share of the plan's limit
	Current    float64 // after the cuts that per-second 429s made (AIMD)
	// DailyRemaining is the X-RateLimit-Remaining Zoom sent last, -1 if
	// it sent none; DailySeen is when.
	DailyRemaining int
	DailySeen      time.Time
	ParkedUntil    time.Time // a Daily-limit park's end; zero if none
	// Breaker is "closed", "open" or "half-open"; NextProbe, when open,
	// is when one call will probe whether Zoom answers again.
	Breaker   string
	NextProbe time.Time
}

// Steerable is a Zoom account an operator can check and steer; zoomclient
// adapts one. A Zoom that is not Steerable is used unchecked.
type Steerable interface {
	Check(ctx context.Context) AccountCheck
	Status() AccountStatus
	// ResetQuota forgets the account's recorded Daily-limit parks, so
	// that the next call in each bucket asks Zoom; it returns the buckets
	// it unparked.
	ResetQuota() []string
}

// Authorizer is an account whose Zoom app an admin authorizes once: an
// account-level OAuth app.
type Authorizer interface {
	// AuthorizeURL returns the URL at which a Zoom admin consents, with
	// state, and the redirect URL Zoom then sends the code to; "" when the
	// app needs no authorization (Server-to-Server).
	AuthorizeURL(state string) (authorize, redirect string)
	// Authorize exchanges the code and keeps the app's grant durably.
	Authorize(ctx context.Context, code string) error
}

// Account is what the processor knows of one configured account.
type Account struct {
	Name     string
	Check    AccountCheck // zero if never checked
	Status   AccountStatus
	InFlight []string // ids of its requests not yet final, oldest first
}

// CodeMissingScope is Zoom's error code for a token without a scope the
// call needs (4711), given to a section that fails for a scope the
// account's check found missing.
const CodeMissingScope = 4711

// zoom returns the configured account called name, nil if none.
func (p *Processor) zoom(name string) Zoom {
	z, _ := p.account(name)
	return z
}

// account returns the configured account called name.
func (p *Processor) account(name string) (Zoom, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	z, ok := p.accounts[name]
	return z, ok
}

// SetAccounts replaces the configured accounts, as a reload of the accounts
// file does. Requests in flight keep the adapter they started with until
// their run ends; a request of an account no longer configured fails when
// it next runs, and those parked or queued are failed now with the reason.
func (p *Processor) SetAccounts(ctx context.Context, accounts map[string]Zoom) error {
	p.mu.Lock()
	old := p.accounts
	p.accounts = maps.Clone(accounts)
	for name := range p.checks {
		if _, ok := accounts[name]; !ok {
			delete(p.checks, name)
		}
	}
	p.mu.Unlock()
	var errs []error
	for name := range old {
		if _, ok := accounts[name]; ok {
			continue
		}
		ids, err := p.inFlight(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, id := range ids {
			if err := p.orphan(ctx, id, name); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("dsar.SetAccounts: %w", errs[0])
	}
	return nil
}

// orphan fails a request whose account was removed from the configuration.
func (p *Processor) orphan(ctx context.Context, id, account string) error {
	reason := fmt.Sprintf("account %q was removed from the accounts file; restore it and resume the request to go on from its checkpoints", account)
	p.mu.Lock()
	ru := p.running[id]
	disarm(p.timers, id)
	p.mu.Unlock()
	if ru != nil {
		ru.cancel()
		<-ru.done
	}
	r, err := p.cfg.Store.Request(ctx, id)
	if err != nil || r.State.Final() {
		return err
	}
	_, err = p.setState(ctx, id, StateFailed, reason)
	return err
}

// CheckAccounts checks every Steerable account and keeps the results;
// dsard calls it on start and on reload. It returns the accounts whose
// check found a problem, by name.
func (p *Processor) CheckAccounts(ctx context.Context) map[string]AccountCheck {
	p.mu.Lock()
	names := slices.Sorted(maps.Keys(p.accounts))
	p.mu.Unlock()
	bad := map[string]AccountCheck{}
	for _, name := range names {
		c, err := p.CheckAccount(ctx, name)
		if err == nil && c.Problem != "" {
			bad[name] = c
		}
	}
	return bad
}

// CheckAccount checks one account now and keeps the result: requests on an
// account whose check found a problem are refused, and sections whose
// scopes are missing fail before any call.
func (p *Processor) CheckAccount(ctx context.Context, name string) (AccountCheck, error) {
	z, ok := p.account(name)
	if !ok {
		return AccountCheck{}, unknownAccount("dsar.CheckAccount", name)
	}
	s, ok := z.(Steerable)
	if !ok {
		return AccountCheck{}, &Error{Code: EPRECONDITION, Op: "dsar.CheckAccount", Message: fmt.Sprintf("account %q cannot be checked", name)}
	}
	c := s.Check(ctx)
	if c.At.IsZero() {
		c.At = p.clock.Now()
	}
	p.mu.Lock()
	p.checks[name] = c
	p.mu.Unlock()
	if c.Problem != "" {
		p.log.Error("zoom account check failed", "account", name, "problem", c.Problem)
	} else if len(c.Sections) > 0 {
		p.log.Warn("zoom account lacks scopes", "account", name, "missing", strings.Join(c.Missing, " "))
	} else {
		p.log.Info("zoom account check passed", "account", name)
	}
	return c, nil
}

func unknownAccount(op, name string) error {
	return &Error{Code: ENOTFOUND, Op: op, Message: fmt.Sprintf("account %q is not configured", name)}
}

// lastCheck returns an account's last check, zero if it had none.
func (p *Processor) lastCheck(name string) AccountCheck {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.checks[name]
}

// Accounts returns the configured accounts, sorted by name, with their
// last check, the state of their buckets and their requests in flight.
func (p *Processor) Accounts(ctx context.Context) ([]Account, error) {
	p.mu.Lock()
	names := slices.Sorted(maps.Keys(p.accounts))
	p.mu.Unlock()
	out := make([]Account, 0, len(names))
	for _, name := range names {
		a, err := p.Account(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Account returns one account as Accounts does.
func (p *Processor) Account(ctx context.Context, name string) (Account, error) {
	z, ok := p.account(name)
	if !ok {
		return Account{}, unknownAccount("dsar.Account", name)
	}
	a := Account{Name: name, Check: p.lastCheck(name)}
	if s, ok := z.(Steerable); ok {
		a.Status = s.Status()
	}
	ids, err := p.inFlight(ctx, name)
	if err != nil {
		return Account{}, err
	}
	a.InFlight = ids
	return a, nil
}

// inFlight lists the ids of an account's requests that are not final.
func (p *Processor) inFlight(ctx context.Context, account string) ([]string, error) {
	var ids []string
	f := RequestFilter{Account: account, States: resumable, Limit: 1000, SkipEmail: true}
	for {
		reqs, next, err := p.cfg.Store.ListRequests(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, r := range reqs {
			ids = append(ids, r.ID)
		}
		if next == "" {
			return ids, nil
		}
		f.PageToken = next
	}
}

// ResetQuota forgets an account's Daily-limit parks (an operator's,
// audited), so that the next call in each bucket asks Zoom, and wakes the
// account's parked requests to make it. It returns the buckets unparked.
func (p *Processor) ResetQuota(ctx context.Context, name string) ([]string, error) {
	buckets, err := p.unpark(ctx, name)
	if err != nil {
		return nil, err
	}
	ids, err := p.inFlight(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		r, err := p.cfg.Store.Request(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.State == StateWaitingQuota {
			r.WaitingUntil = time.Time{} // due now, whatever the stored time says
			p.schedule(r)
		}
	}
	return buckets, nil
}

// unpark forgets an account's Daily-limit parks and records it in the
// audit log.
func (p *Processor) unpark(ctx context.Context, name string) ([]string, error) {
	const op = "dsar.ResetQuota"
	z, ok := p.account(name)
	if !ok {
		return nil, unknownAccount(op, name)
	}
	s, ok := z.(Steerable)
	if !ok {
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("account %q cannot be steered", name)}
	}
	buckets := s.ResetQuota()
	detail := fmt.Sprintf("account %s: no bucket was parked", name)
	if len(buckets) > 0 {
		detail = fmt.Sprintf("account %s: unparked %s", name, strings.Join(buckets, ", "))
	}
	if err := p.Record(ctx, "", ActionResetQuota, detail); err != nil {
		return nil, err
	}
	return buckets, nil
}

// authTTL is how long an authorization started with StartAuthorization
// may be completed: Zoom's code itself lives five minutes.
const authTTL = 15 * time.Minute

// pendingAuth is an authorization started and not yet completed.
type pendingAuth struct {
	state   string
	expires time.Time
}

// StartAuthorization begins the authorization of an account's OAuth app
// by a Zoom admin: it returns the URL to open, the redirect URL Zoom will
// send the code to, and the state that must come back with the code
// (CompleteAuthorization), which binds the code to this start.
func (p *Processor) StartAuthorization(ctx context.Context, name string) (authorize, redirect, state string, err error) {
	const op = "dsar.StartAuthorization"
	a, err := p.authorizer(op, name)
	if err != nil {
		return "", "", "", err
	}
	if state, err = NewID("", p.clock.Now()); err != nil {
		return "", "", "", err
	}
	authorize, redirect = a.AuthorizeURL(state)
	if authorize == "" {
		return "", "", "", &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("account %q has a Server-to-Server app: there is nothing to authorize", name)}
	}
	p.mu.Lock()
	p.auths[name] = pendingAuth{state: state, expires: p.clock.Now().Add(authTTL)}
	p.mu.Unlock()
	return authorize, redirect, state, nil
}

// CompleteAuthorization exchanges the code Zoom sent with state for the
// app's grant (audited), then checks the account.
func (p *Processor) CompleteAuthorization(ctx context.Context, name, code, state string) (AccountCheck, error) {
	const op = "dsar.CompleteAuthorization"
	a, err := p.authorizer(op, name)
	if err != nil {
		return AccountCheck{}, err
	}
	p.mu.Lock()
	pa, ok := p.auths[name]
	if ok && pa.state == state && p.clock.Now().Before(pa.expires) {
		delete(p.auths, name) // a state serves once
	} else {
		ok = false
	}
	p.mu.Unlock()
	if !ok {
		return AccountCheck{}, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("no authorization of account %q with this state is under way (it serves once, for %s): start again", name, authTTL)}
	}
	if err := a.Authorize(ctx, code); err != nil {
		return AccountCheck{}, &Error{Code: EPRECONDITION, Op: op, Message: "Zoom refused the code: " + err.Error(), Err: err}
	}
	if err := p.Record(ctx, "", ActionAuthorize, "account "+name+": the OAuth app was authorized"); err != nil {
		return AccountCheck{}, err
	}
	return p.CheckAccount(ctx, name)
}

func (p *Processor) authorizer(op, name string) (Authorizer, error) {
	z, ok := p.account(name)
	if !ok {
		return nil, unknownAccount(op, name)
	}
	a, ok := z.(Authorizer)
	if !ok {
		return nil, &Error{Code: EPRECONDITION, Op: op, Message: fmt.Sprintf("account %q cannot be authorized", name)}
	}
	return a, nil
}
