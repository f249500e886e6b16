package zoomclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// AppType is the kind of Zoom app a Client authenticates as.
type AppType string

// App types. The empty AppType is AppS2S.
const (
	// AppS2S is a Server-to-Server OAuth app: account_credentials grants,
	// no refresh token.
	AppS2S AppType = "s2s"
	// AppOAuth is an account-level OAuth app: an admin authorizes it once
	// (Client.AuthorizeURL, Client.Authorize), and it lives on a refresh
	// token that Zoom replaces on every refresh, kept in Config.Grants.
	AppOAuth AppType = "oauth"
)

// Grants keeps an OAuth app's tokens durably (dsard: bbolt).
type Grants interface {
	// LoadGrant returns the account's grant, or an error of code
	// dsar.ENOTFOUND if none is stored.
	LoadGrant(ctx context.Context, account string) (dsar.Grant, error)
	// SaveGrant replaces the account's grant and returns once it is
	// durable.
	SaveGrant(ctx context.Context, account string, g dsar.Grant) error
}

// testHookRefresh, when a test sets it, is called at the named points of
// a refresh: "answered" (Zoom has answered, nothing is saved yet) and
// "saved" (the new grant is durable, memory still holds the old one).
// The crash test kills the process there.
var testHookRefresh func(point string)

// tokenCache holds the account's access token, shared by every call, and
// renews it before it expires by the client's clock: for a
// Server-to-Server app with a new account_credentials grant, for an OAuth
// app with its refresh token (oauthApp).
type tokenCache struct {
	s2s   clientcredentials.Config
	oauth *oauthApp // nil for a Server-to-Server app
	hc    *http.Client
	clock Clock

	// sem serialises fetches so that concurrent callers share one; a
	// channel rather than a mutex so that waiting honours the context.
	sem    chan struct{}
	tok    string
	expiry time.Time // client clock
	ttl    time.Duration
	scopes []string // granted, as the last token answer named them
}

// oauthApp is the state of an OAuth app's grant, guarded by the cache's
// sem.
//
// Zoom rotates the refresh token on every refresh and refuses the used one
// from then on, so the new grant is saved in Grants before it replaces the
// old one in memory, and before anything else is done with it. One window
// cannot be closed: if the process dies after Zoom answered a refresh and
// before the new grant is saved, the new refresh token is lost and the one
// stored is already refused. The next start then fails with an
// Unauthorized error asking for the app to be authorized again (see
// TestCrashAtRotation); the save comes first to keep that window to the
// time of one bbolt commit.
type oauthApp struct {
	conf    oauth2.Config
	grants  Grants
	name    string      // the account's name in Grants and in remedies
	loaded  bool        // the stored grant has been read
	refresh string      // the latest refresh token
	unsaved *dsar.Grant // a grant Zoom issued whose save failed; saved before it is used
	refused *Error      // Zoom refused the grant, or none is stored: no call to Zoom until a new grant
}

// token returns a valid access token, fetching one if none is cached or
// the cached one is close to expiry.
func (a *tokenCache) token(ctx context.Context, timeout time.Duration) (string, error) {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-a.sem }()
	if a.valid() {
		return a.tok, nil
	}
	fctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, a.hc), timeout)
	defer cancel()
	if a.oauth != nil {
		return a.renewOAuth(fctx)
	}
	now, start := a.clock.Now(), time.Now()
	t, err := a.s2s.Token(fctx)
	if err != nil {
		return "", tokenError(err, "check the account id, client id and secret and that the app is activated")
	}
	a.use(grantOf(t, now, start))
	return a.tok, nil
}

// valid reports whether the cached token is good for a while yet.
func (a *tokenCache) valid() bool {
	return a.tok != "" && a.clock.Now().Before(a.expiry.Add(-renewBefore(a.ttl)))
}

// grantOf reads a token answer to a request sent at start, at now by the
// client clock: its lifetime counts from when the request was sent.
func grantOf(t *oauth2.Token, now, start time.Time) dsar.Grant {
	ttl := time.Hour // Zoom's documented lifetime, if expires_in is absent
	if v, ok := t.Extra("expires_in").(float64); ok && v > 0 {
		ttl = time.Duration(v) * time.Second
	} else if !t.Expiry.IsZero() {
		ttl = time.Until(t.Expiry)
	}
	scope, _ := t.Extra("scope").(string)
	return dsar.Grant{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken,
		Expiry: now.Add(ttl - time.Since(start)), Scopes: strings.Fields(scope)}
}

// use makes g's access token the cached one, and its refresh token the
// one to use next. The caller holds sem.
func (a *tokenCache) use(g dsar.Grant) {
	a.tok, a.expiry, a.scopes = g.AccessToken, g.Expiry, g.Scopes
	// For renewBefore: the lifetime of a fresh token, what is left of
	// one read back from Grants.
	a.ttl = max(g.Expiry.Sub(a.clock.Now()), 0)
	if a.oauth != nil {
		a.oauth.refresh = g.RefreshToken
	}
}

// renewOAuth returns the OAuth app's access token: the stored one after a
// start if it is still good, else a refreshed one. The caller holds sem.
func (a *tokenCache) renewOAuth(ctx context.Context) (string, error) {
	o := a.oauth
	switch {
	case o.unsaved != nil:
		if err := o.save(ctx, *o.unsaved); err != nil {
			return "", err
		}
		a.use(*o.unsaved)
		o.unsaved = nil
	case !o.loaded || o.refused != nil:
		// Read the store at the first call, and while refused: a grant
		// another client on the store obtained since ends the refusal.
		g, err := o.grants.LoadGrant(ctx, o.name)
		switch {
		case err == nil && (o.refused == nil || g.RefreshToken != o.refresh):
			o.loaded, o.refused = true, nil
			a.use(g)
		case o.refused != nil:
			return "", o.refused
		case dsar.ErrorCode(err) == dsar.ENOTFOUND:
			o.refused = &Error{Kind: Unauthorized, Message: "the OAuth app of account " + o.name +
				" is not authorized: authorize the app: dsarctl accounts authorize " + o.name}
			return "", o.refused
		default:
			return "", &Error{Kind: Other, Message: "reading the stored OAuth grant", Err: err}
		}
	}
	if a.valid() {
		return a.tok, nil
	}
	now, start := a.clock.Now(), time.Now()
	t, err := o.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: o.refresh}).Token()
	if err != nil {
		e := tokenError(err, "the app was uninstalled, its refresh token revoked, or the newest one lost by a crash during a refresh; authorize the app again: dsarctl accounts authorize "+o.name, o.refresh)
		if e.Kind == Unauthorized {
			o.refused = e
		}
		return "", e
	}
	if testHookRefresh != nil {
		testHookRefresh("answered")
	}
	g := grantOf(t, now, start)
	if err := o.save(ctx, g); err != nil {
		o.unsaved = &g
		return "", err
	}
	if testHookRefresh != nil {
		testHookRefresh("saved")
	}
	a.use(g)
	return a.tok, nil
}

// save stores g durably. A caller that gives up does not stop it: a
// rotated refresh token not saved is lost.
func (o *oauthApp) save(ctx context.Context, g dsar.Grant) *Error {
	if err := o.grants.SaveGrant(context.WithoutCancel(ctx), o.name, g); err != nil {
		return &Error{Kind: Other, Message: "storing the OAuth grant failed; it is kept in memory and stored again on the next call", Err: err}
	}
	return nil
}

// renewBefore is how long before expiry a token is replaced: a tenth of
// its lifetime, at most five minutes.
func renewBefore(ttl time.Duration) time.Duration { return min(ttl/10, 5*time.Minute) }

// invalidate drops tok if it is still the cached token, after Zoom refused
// it; a token already replaced by a concurrent caller stays. An OAuth app
// keeps its refresh token, and refreshes on the next call.
func (a *tokenCache) invalidate(tok string) {
	a.sem <- struct{}{}
	if a.tok == tok {
		a.tok = ""
	}
	<-a.sem
}

// AuthorizeURL returns Zoom's page where an admin authorizes the account's
// OAuth app, which then sends the admin's browser to redirectURI with a
// code and state. It is "" for a Server-to-Server app.
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	if c.auth.oauth == nil {
		return ""
	}
	conf := c.auth.oauth.conf
	conf.RedirectURL = redirectURI
	return conf.AuthCodeURL(state)
}

// Authorize exchanges the code Zoom sent to redirectURI for the app's
// tokens and saves them in Grants. It replaces any grant held before and
// ends a refusal: calls go to Zoom again.
func (c *Client) Authorize(ctx context.Context, code, redirectURI string) error {
	const op = "authorize"
	o := c.auth.oauth
	switch {
	case o == nil:
		return &Error{Op: op, Kind: Invalid, Message: "the account's app is Server-to-Server: there is nothing to authorize"}
	case code == "" || redirectURI == "":
		return &Error{Op: op, Kind: Invalid, Message: "the code and the redirect URI are required"}
	}
	a := c.auth
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-a.sem }()
	conf := o.conf
	conf.RedirectURL = redirectURI
	fctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, a.hc), c.cfg.CallTimeout)
	defer cancel()
	now, start := a.clock.Now(), time.Now()
	t, err := conf.Exchange(fctx, code)
	if err != nil {
		e := tokenError(err, "a code is single-use and lives five minutes, and the redirect URI must be the app's; start again: dsarctl accounts authorize "+o.name, code)
		e.Op = op
		return e
	}
	g := grantOf(t, now, start)
	o.refused, o.loaded = nil, true
	if err := o.save(fctx, g); err != nil {
		o.unsaved = &g
		err.Op = op
		return err
	}
	o.unsaved = nil
	a.use(g)
	return nil
}

// GrantedScopes returns the scopes Zoom granted the account's app, as its
// last token answer named them; it gets a token if none is cached.
func (c *Client) GrantedScopes(ctx context.Context) ([]string, error) {
	if _, err := c.auth.token(ctx, c.cfg.CallTimeout); err != nil {
		if e, ok := errors.AsType[*Error](err); ok && e.Op == "" {
			e.Op = "token"
		}
		return nil, err
	}
	select {
	case c.auth.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.auth.sem }()
	return slices.Clone(c.auth.scopes), nil
}

// tokenError classifies a failed token request. Refusals (bad credentials,
// a deactivated app, a used refresh token) are Unauthorized, name Zoom's
// reason and then what to do, remedy; server errors and network failures
// are Unavailable. The text holds no secret: the client secret travels in
// a header, only Zoom's error fields are quoted, and any of secrets (the
// code or refresh token sent) Zoom quotes back is cut out.
func tokenError(err error, remedy string, secrets ...string) *Error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return &Error{Kind: Unavailable, Message: "token request failed", Err: transportError(err)}
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	if status >= 500 || status == http.StatusTooManyRequests {
		return &Error{Kind: Unavailable, Status: status, Message: "token service unavailable"}
	}
	var z struct {
		Reason string `json:"reason"`
		Error  string `json:"error"`
		Code   int    `json:"code"`
	}
	_ = json.Unmarshal(re.Body, &z)
	reason := z.Reason
	if reason == "" {
		reason = re.ErrorDescription
	}
	for _, s := range secrets {
		if s != "" {
			reason = strings.ReplaceAll(reason, s, "[redacted]")
		}
	}
	kind := z.Error
	if kind == "" {
		kind = re.ErrorCode
	}
	msg := fmt.Sprintf("token request refused (%s: %s): %s", kind, redact(reason, ""), remedy)
	return &Error{Kind: Unauthorized, Status: status, Code: z.Code, Message: msg}
}

// SetCredentials replaces the app's client id and secret, as a reload of
// dsard's accounts file does: the token held is dropped, so that the next
// call gets one with them.
func (c *Client) SetCredentials(clientID, secret string) {
	c.auth.sem <- struct{}{}
	c.auth.s2s.ClientID, c.auth.s2s.ClientSecret = clientID, secret
	if o := c.auth.oauth; o != nil {
		o.conf.ClientID, o.conf.ClientSecret = clientID, secret
	}
	c.auth.tok = ""
	<-c.auth.sem
}
