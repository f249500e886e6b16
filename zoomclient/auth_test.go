package zoomclient

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestTokenReuseAndRenewal: one token serves concurrent calls; it is
// renewed shortly before expiry by the clock, and once after a 401/124
// when Zoom revokes it early.
func TestTokenReuseAndRenewal(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv, nil)
	ctx := t.Context()

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, _, err := c.User(ctx, jane)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("User: %v", err)
		}
	}
	if n := count(srv, isToken); n != 1 {
		t.Fatalf("16 concurrent calls fetched %d tokens, want 1", n)
	}

	// 50 minutes on: the token still has 10 minutes and is reused.
	srv.Clock().Advance(50 * time.Minute)
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Fatal(err)
	}
	if n := count(srv, isToken); n != 1 {
		t.Fatalf("after 50 min: %d token requests, want 1", n)
	}
	// 56 minutes: less than five minutes left; renewed before Zoom refuses it.
	srv.Clock().Advance(6 * time.Minute)
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Fatal(err)
	}
	if n := count(srv, isToken); n != 2 {
		t.Fatalf("after 56 min: %d token requests, want 2", n)
	}
	if n := count(srv, func(e zoomtest.LogEntry) bool { return e.Status == 401 }); n != 0 {
		t.Fatalf("%d 401 answers before revocation, want 0", n)
	}

	// Revoked early: one 401 code 124, one renewal, and the call succeeds.
	srv.RevokeTokens(srv.Account().ID)
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := count(srv, isToken); n != 3 {
		t.Errorf("after revocation: %d token requests, want 3", n)
	}
	if n := count(srv, func(e zoomtest.LogEntry) bool { return e.Status == 401 && e.Code == 124 }); n != 1 {
		t.Errorf("%d 401/124 answers, want 1", n)
	}
}

// TestUnauthorized: refused credentials and a token refused again after
// renewal are Unauthorized errors that say why, without the secret.
func TestUnauthorized(t *testing.T) {
	tests := []struct {
		name   string
		faults zoomtest.Faults
		secret string // "" keeps the right one
		want   string // in the error text
	}{
		{name: "wrong secret", secret: "not-the-secret-0123456789", want: "token request refused"},
		{name: "refused after renewal", want: "refused after renewal",
			faults: zoomtest.Faults{Script: map[string][]zoomtest.Fault{
				"GET /users/{userId}": {zoomtest.FaultRevoke, zoomtest.FaultRevoke}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, zoomtest.WithFaults(tt.faults))
			secret := srv.Account().ClientSecret
			c := newClient(t, srv, func(cfg *Config) {
				if tt.secret != "" {
					cfg.ClientSecret = tt.secret
					secret = tt.secret
				}
			})
			_, _, err := c.User(t.Context(), jane)
			if !IsUnauthorized(err) || Retryable(err) {
				t.Fatalf("err = %v; want Unauthorized, not retryable", err)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if strings.Contains(msg, secret) || strings.Contains(strings.ToLower(msg), jane) {
				t.Errorf("error %q holds the secret or the email", msg)
			}
			if n := count(srv, isToken); n > 2 {
				t.Errorf("%d token requests, want at most 2", n)
			}
		})
	}
}

func TestMissingScope(t *testing.T) {
	srv := newServer(t, zoomtest.WithScopes("user:read:user:admin"))
	c := newClient(t, srv, nil)
	_, err := c.Get(t.Context(), EndpointUserSettings, jane)
	t.Log(err)
	var e *Error
	if !errors.As(err, &e) || e.Kind != MissingScope {
		t.Fatalf("err = %v, want MissingScope", err)
	}
	if len(e.Scopes) == 0 || !strings.Contains(err.Error(), e.Scopes[0]) || !strings.Contains(err.Error(), "grant") {
		t.Errorf("error %q does not name the scope to grant (scopes %q)", err, e.Scopes)
	}
	if !IsUnauthorized(err) || Retryable(err) {
		t.Errorf("MissingScope: IsUnauthorized %v Retryable %v", IsUnauthorized(err), Retryable(err))
	}
}

// TestNoSecretsInLogs: debug logs of successful, failing and retried calls
// hold neither the secret, nor the token, nor the subject's email.
func TestNoSecretsInLogs(t *testing.T) {
	srv := newServer(t, zoomtest.WithFaults(zoomtest.Faults{Script: map[string][]zoomtest.Fault{
		"GET /users/{userId}": {zoomtest.Fault503, zoomtest.FaultRevoke}}}))
	var buf bytes.Buffer
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := t.Context()
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.User(ctx, "nobody.here@example.com")
	if !IsNotFound(err) {
		t.Fatalf("err = %v, want not found", err)
	}
	if _, err := c.Get(ctx, EndpointPhoneSettings, "John.Smith@Example.COM"); err == nil {
		t.Fatal("phone settings of a user without Phone: no error")
	}
	logs := buf.String() + err.Error()
	if !strings.Contains(logs, `"endpoint":"user"`) {
		t.Fatalf("no call was logged: %s", logs)
	}
	for _, s := range []string{jane, "nobody.here", "john.smith", srv.Account().ClientSecret, c.auth.tok, "Bearer"} {
		if s != "" && containsFold(logs, s) {
			t.Errorf("logs hold %q:\n%s", s, logs)
		}
	}
}
