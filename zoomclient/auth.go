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
)

// tokenCache holds the account's Server-to-Server OAuth access token,
// shared by every call, and renews it before it expires by the client's
// clock. Zoom's S2S grant has no refresh token: renewal is a new grant.
type tokenCache struct {
	cc    clientcredentials.Config
	hc    *http.Client
	clock Clock

	// sem serialises fetches so that concurrent callers share one; a
	// channel rather than a mutex so that waiting honours the context.
	sem    chan struct{}
	tok    string
	expiry time.Time // client clock
	ttl    time.Duration
	// scopes are those the last token answer's "scope" listed; nil if it
	// had none.
	scopes []string
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
	now := a.clock.Now()
	if a.tok != "" && now.Before(a.expiry.Add(-renewBefore(a.ttl))) {
		return a.tok, nil
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	t, err := a.cc.Token(context.WithValue(fctx, oauth2.HTTPClient, a.hc))
	if err != nil {
		return "", tokenError(err)
	}
	ttl := time.Hour // Zoom's documented lifetime, if expires_in is absent
	if v, ok := t.Extra("expires_in").(float64); ok && v > 0 {
		ttl = time.Duration(v) * time.Second
	} else if !t.Expiry.IsZero() {
		ttl = time.Until(t.Expiry)
	}
	// Count the lifetime from when the request was sent.
	a.tok, a.ttl = t.AccessToken, ttl
	a.scopes = nil
	if sc, ok := t.Extra("scope").(string); ok {
		a.scopes = strings.Fields(sc)
	}
	a.expiry = now.Add(ttl - time.Since(start))
	return a.tok, nil
}

// GrantedScopes returns the scopes the account's token carries, as the
// token answer's "scope" lists them, getting a token if none is held; nil
// if the answer listed none.
func (c *Client) GrantedScopes(ctx context.Context) ([]string, error) {
	if _, err := c.auth.token(ctx, c.cfg.CallTimeout); err != nil {
		return nil, err
	}
	c.auth.sem <- struct{}{}
	defer func() { <-c.auth.sem }()
	return slices.Clone(c.auth.scopes), nil
}

// renewBefore is how long before expiry a token is replaced: a tenth of
// its lifetime, at most five minutes.
func renewBefore(ttl time.Duration) time.Duration { return min(ttl/10, 5*time.Minute) }

// invalidate drops tok if it is still the cached token, after Zoom refused
// it; a token already replaced by a concurrent caller stays.
func (a *tokenCache) invalidate(tok string) {
	a.sem <- struct{}{}
	if a.tok == tok {
		a.tok = ""
	}
	<-a.sem
}

// tokenError classifies a failed token request. Refusals (bad credentials,
// a deactivated app) are Unauthorized and name Zoom's reason; server
// errors and network failures are Unavailable. The text never holds the
// client secret: the request carries it in a header, and only Zoom's
// error fields are quoted.
func tokenError(err error) error {
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
	kind := z.Error
	if kind == "" {
		kind = re.ErrorCode
	}
	msg := fmt.Sprintf("token request refused (%s: %s): check the account id, client id and secret and that the app is activated",
		kind, redact(reason, ""))
	return &Error{Kind: Unauthorized, Status: status, Code: z.Code, Message: msg}
}

// SetCredentials replaces the app's client id and secret, as a reload of
// dsard's accounts file does: the token held is dropped, so that the next
// call gets one with them.
func (c *Client) SetCredentials(clientID, secret string) {
	c.auth.sem <- struct{}{}
	c.auth.cc.ClientID, c.auth.cc.ClientSecret = clientID, secret
	c.auth.tok = ""
	<-c.auth.sem
}
