package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
)

// authorizeWait is how long authorize waits for Zoom's redirect: the
// state dsard gave lives 15 minutes.
const authorizeWait = 15 * time.Minute

// authorize runs the authorization of an account's OAuth app: dsard gives
// Zoom's authorize URL, a Zoom admin opens it and consents, and Zoom sends
// the browser to the app's redirect URL with a code. When that URL is on
// this machine's loopback, dsarctl listens there and receives the code;
// otherwise (or with -code) the operator pastes it. dsard exchanges the
// code and keeps the app's tokens.
func authorize(e *env, c dsarv1.AccessRequestServiceClient, name, code string) (*dsarv1.Account, error) {
	start, err := c.StartAccountAuthorization(e.ctx, &dsarv1.StartAccountAuthorizationRequest{Name: name})
	if err != nil {
		return nil, rpcError("accounts authorize", err)
	}
	state := start.GetState()
	redirect, err := url.Parse(start.GetRedirectUrl())
	if err != nil {
		return nil, fmt.Errorf("accounts authorize: dsard sent a redirect URL that does not parse: %w", err)
	}
	var lis net.Listener
	if code == "" && loopback(redirect) {
		if lis, err = net.Listen("tcp", redirect.Host); err != nil {
			return nil, fmt.Errorf("accounts authorize: listening at the redirect URL %s: %w; pass -code instead", redirect, err)
		}
		defer lis.Close()
	}
	fmt.Fprintf(e.stdout, "Open this address in a browser where a Zoom admin of the account is signed in, and allow the app:\n\n  %s\n\n", start.GetAuthorizeUrl())
	switch {
	case lis != nil:
		fmt.Fprintf(e.stdout, "Waiting for Zoom's redirect to %s ...\n", redirect)
		code, err = receiveCode(e.ctx, lis, redirect.Path, state)
	case code == "" || code == "-":
		fmt.Fprintf(e.stdout, "Zoom then opens %s?code=...: paste the code here: ", redirect)
		code, err = bufio.NewReader(e.stdin).ReadString('\n')
		code = strings.TrimSpace(code)
	}
	if err != nil {
		return nil, fmt.Errorf("accounts authorize: %w", err)
	}
	resp, err := c.CompleteAccountAuthorization(e.ctx, &dsarv1.CompleteAccountAuthorizationRequest{Name: name, Code: code, State: state})
	if err != nil {
		return nil, rpcError("accounts authorize", err)
	}
	fmt.Fprintf(e.stdout, "Authorized; dsard keeps the app's tokens.\n\n")
	return resp.GetAccount(), nil
}

// loopback reports whether u is an http URL of this machine, where
// dsarctl can receive Zoom's redirect itself.
func loopback(u *url.URL) bool {
	if u.Scheme != "http" || u.Port() == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// receiveCode serves the redirect URL's path on lis until Zoom's redirect
// brings a code with the expected state, or an error.
func receiveCode(ctx context.Context, lis net.Listener, path, state string) (string, error) {
	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+cmp.Or(path, "/"), func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			http.Error(w, "This is not the answer to dsarctl's authorization (its state differs). Nothing was done.", http.StatusBadRequest)
			return // not ours: keep waiting
		case q.Get("error") != "":
			res.err = fmt.Errorf("the redirect carries Zoom's error %s: %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("the redirect from Zoom has no code")
		default:
			res.code = q.Get("code")
		}
		if res.err != nil {
			http.Error(w, "The authorization failed: "+res.err.Error()+". See dsarctl.", http.StatusBadRequest)
		} else {
			fmt.Fprintln(w, "dsarctl received Zoom's authorization. You may close this page.")
		}
		select {
		case got <- res:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(lis)
	defer func() {
		// Shutdown, not Close: the handler has sent the code before its
		// page to the browser is written, and Close could cut that off.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	t := time.NewTimer(authorizeWait)
	defer t.Stop()
	select {
	case r := <-got:
		return r.code, r.err
	case <-t.C:
		return "", fmt.Errorf("no redirect from Zoom within %s; run it again", authorizeWait)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
