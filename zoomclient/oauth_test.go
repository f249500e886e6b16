package zoomclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// account is the name of the OAuth account in the grant store and in
// remedies.
const account = "acme"

var oauthScopes = []string{"user:read:user:admin", "user:read:settings:admin"}

// callback is the loopback redirect an admin's browser is sent to: it
// keeps the query Zoom sent.
type callback struct {
	URL string
	got chan url.Values
}

func newCallback(t *testing.T) *callback {
	cb := &callback{got: make(chan url.Values, 1)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.got <- r.URL.Query()
	}))
	t.Cleanup(hs.Close)
	cb.URL = hs.URL + "/callback"
	return cb
}

// newOAuthServer starts an emulator whose primary account has an OAuth
// app redirecting to a loopback callback.
func newOAuthServer(t *testing.T, opts ...zoomtest.Option) (*zoomtest.Server, *callback) {
	cb := newCallback(t)
	return newServer(t, append([]zoomtest.Option{zoomtest.WithOAuthApp(cb.URL), zoomtest.WithScopes(oauthScopes...)}, opts...)...), cb
}

// openStore opens a temp-dir store, closed at the end of the test.
func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newOAuthClient returns a client of the primary account's OAuth app.
func newOAuthClient(t *testing.T, srv *zoomtest.Server, grants Grants) *Client {
	return newClient(t, srv, func(c *Config) {
		c.AccountID, c.App, c.Name, c.Grants, c.AuthorizeURL = "", AppOAuth, account, grants, srv.AuthorizeURL
	})
}

// authorizeCode follows the client's authorize URL as a browser would,
// to the callback, and returns the code Zoom sent there.
func authorizeCode(t *testing.T, c *Client, cb *callback) string {
	t.Helper()
	resp, err := http.Get(c.AuthorizeURL(cb.URL, "st4te"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	q := <-cb.got
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("callback got %v, want a code and the state", q)
	}
	return q.Get("code")
}

// refreshWith asks the emulator for a refresh with rt and returns its
// status.
func refreshWith(t *testing.T, srv *zoomtest.Server, rt string) int {
	t.Helper()
	return postApp(t, srv, srv.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// postApp posts form to an OAuth endpoint with the primary account's app
// credentials and returns the status.
func postApp(t *testing.T, srv *zoomtest.Server, u string, form url.Values) int {
	t.Helper()
	a := srv.Account()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(a.ClientID, a.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// wantReauthorize checks that err is a permanent Unauthorized error that
// names the remedy and holds none of the secrets.
func wantReauthorize(t *testing.T, err error, secrets ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != Unauthorized || !strings.Contains(err.Error(), "dsarctl accounts authorize "+account) {
		t.Fatalf("error %v, want Unauthorized naming dsarctl accounts authorize %s", err, account)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds a token", err)
		}
	}
}

// TestOAuthFlow: the admin authorizes the app through the loopback
// redirect, calls work, the access token expires by the emulator clock,
// the refresh rotates the refresh token, and Zoom refuses the old one. A
// restart within the hour makes no refresh.
func TestOAuthFlow(t *testing.T) {
	srv, cb := newOAuthServer(t)
	path := filepath.Join(t.TempDir(), "dsar.db")
	db := openStore(t, path)
	c := newOAuthClient(t, srv, db)
	ctx := t.Context()

	if err := c.Authorize(ctx, authorizeCode(t, c, cb), cb.URL); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	g1, err := db.LoadGrant(ctx, account)
	if err != nil || g1.RefreshToken == "" || g1.AccessToken == "" {
		t.Fatalf("stored grant %v, %v", g1, err)
	}
	if got, err := c.GrantedScopes(ctx); err != nil || !slices.Equal(got, oauthScopes) || !slices.Equal(g1.Scopes, oauthScopes) {
		t.Errorf("GrantedScopes = %v, %v; stored %v; want %v", got, err, g1.Scopes, oauthScopes)
	}
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Fatalf("User: %v", err)
	}
	if n := count(srv, isToken); n != 1 {
		t.Fatalf("%d token requests after the code exchange and a call, want 1", n)
	}

	// A restart within the hour uses the stored access token.
	c2 := newOAuthClient(t, srv, db)
	if _, _, err := c2.User(ctx, jane); err != nil {
		t.Fatalf("User after a restart: %v", err)
	}
	if n := count(srv, isToken); n != 1 {
		t.Errorf("a restart within the hour made %d token requests, want none", n-1)
	}

	srv.Clock().Advance(time.Hour)
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Fatalf("User after an hour: %v", err)
	}
	g2, err := db.LoadGrant(ctx, account)
	if err != nil || g2.RefreshToken == g1.RefreshToken || g2.AccessToken == g1.AccessToken {
		t.Fatalf("the refresh stored %v, %v: want new tokens", g2, err)
	}
	if n := count(srv, isToken); n != 2 {
		t.Errorf("%d token requests, want 2: the exchange and one refresh", n)
	}
	if status := refreshWith(t, srv, g1.RefreshToken); status != http.StatusBadRequest {
		t.Errorf("refresh with the used token: %d, want 400", status)
	}
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Errorf("User with the rotated grant: %v", err)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	srv, cb := newOAuthServer(t, zoomtest.WithFrozenClock())
	db := openStore(t, filepath.Join(t.TempDir(), "dsar.db"))
	c := newOAuthClient(t, srv, db)
	ctx := t.Context()

	used := authorizeCode(t, c, cb)
	if err := c.Authorize(ctx, used, cb.URL); err != nil {
		t.Fatal(err)
	}
	expired := authorizeCode(t, c, cb)
	srv.Clock().Advance(5 * time.Minute)
	tests := []struct {
		name, code, redirect, reason string
	}{
		{"code used twice", used, cb.URL, "Invalid authorization code [redacted]"},
		{"expired code", expired, cb.URL, "Invalid authorization code [redacted]"},
		{"wrong redirect", authorizeCode(t, c, cb), cb.URL + "/other", "Redirect URI mismatch."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Authorize(ctx, tt.code, tt.redirect)
			wantReauthorize(t, err, tt.code)
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q lacks Zoom's reason %q", err, tt.reason)
			}
		})
	}
	if err := c.Authorize(ctx, "", cb.URL); !isKind(err, Invalid) {
		t.Errorf("Authorize without a code: %v, want invalid", err)
	}
	s2s := newClient(t, srv, nil)
	if err := s2s.Authorize(ctx, "x", cb.URL); !isKind(err, Invalid) || s2s.AuthorizeURL(cb.URL, "s") != "" {
		t.Errorf("Authorize of a Server-to-Server app: %v, want invalid and no URL", err)
	}
}

// TestOAuthNotAuthorized: an account whose app was never authorized
// fails at once, asking for authorization, and asks Zoom nothing; once
// another client on the store has authorized it, it works.
func TestOAuthNotAuthorized(t *testing.T) {
	srv, cb := newOAuthServer(t)
	db := openStore(t, filepath.Join(t.TempDir(), "dsar.db"))
	c := newOAuthClient(t, srv, db)
	for range 3 {
		_, _, err := c.User(t.Context(), jane)
		wantReauthorize(t, err)
	}
	if _, err := c.GrantedScopes(t.Context()); err == nil {
		t.Error("GrantedScopes of an app never authorized: no error")
	}
	if n := len(srv.Log()); n != 0 {
		t.Errorf("%d requests to Zoom, want none", n)
	}
	other := newOAuthClient(t, srv, db)
	if err := other.Authorize(t.Context(), authorizeCode(t, other, cb), cb.URL); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.User(t.Context(), jane); err != nil {
		t.Errorf("User after another client authorized the app: %v", err)
	}
}

// TestOAuthRevoked: once the app is uninstalled, or its token revoked,
// calls fail with a permanent Unauthorized error naming the remedy, after
// one refused refresh: no retry storm. Authorizing again heals it.
func TestOAuthRevoked(t *testing.T) {
	for _, how := range []string{"deauthorize", "revoke"} {
		t.Run(how, func(t *testing.T) {
			srv, cb := newOAuthServer(t)
			db := openStore(t, filepath.Join(t.TempDir(), "dsar.db"))
			c := newOAuthClient(t, srv, db)
			ctx := t.Context()
			if err := c.Authorize(ctx, authorizeCode(t, c, cb), cb.URL); err != nil {
				t.Fatal(err)
			}
			g, _ := db.LoadGrant(ctx, account)
			if how == "deauthorize" {
				srv.Deauthorize(srv.Account().ID)
			} else {
				if status := postApp(t, srv, srv.RevokeURL, url.Values{"token": {g.AccessToken}}); status != 200 {
					t.Fatalf("revoke: %d", status)
				}
			}
			before := count(srv, isToken)
			for range 5 {
				_, _, err := c.User(ctx, jane)
				wantReauthorize(t, err, g.AccessToken, g.RefreshToken)
			}
			if n := count(srv, isToken) - before; n != 1 {
				t.Errorf("%d token requests for 5 calls after %s, want 1", n, how)
			}
			if n := count(srv, isAPI); n != 1 {
				t.Errorf("%d API requests, want the one refused", n)
			}
			if err := c.Authorize(ctx, authorizeCode(t, c, cb), cb.URL); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.User(ctx, jane); err != nil {
				t.Errorf("User after authorizing again: %v", err)
			}
			if n := count(srv, isToken) - before; n != 2 {
				t.Errorf("%d token requests after %s, want 2: the refused refresh and the new exchange", n, how)
			}
		})
	}
}

func TestGrantedScopesS2S(t *testing.T) {
	srv := newServer(t, zoomtest.WithScopes(oauthScopes...))
	c := newClient(t, srv, nil)
	for range 2 {
		if got, err := c.GrantedScopes(t.Context()); err != nil || !slices.Equal(got, oauthScopes) {
			t.Errorf("GrantedScopes = %v, %v; want %v", got, err, oauthScopes)
		}
	}
	if n := count(srv, isToken); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	bad := newClient(t, srv, func(c *Config) { c.ClientSecret = "nope" })
	if _, err := bad.GrantedScopes(t.Context()); !isKind(err, Unauthorized) {
		t.Errorf("GrantedScopes with a wrong secret: %v, want unauthorized", err)
	}
}

// grantsFunc is a Grants whose save can be made to fail.
type grantsFunc struct {
	Grants
	SaveGrantFn func(ctx context.Context, account string, g dsar.Grant) error
}

func (f *grantsFunc) SaveGrant(ctx context.Context, account string, g dsar.Grant) error {
	return f.SaveGrantFn(ctx, account, g)
}

// TestSaveFailure: when the rotated grant cannot be stored, the call
// fails and the grant is kept in memory, stored on the next call without
// a second refresh; nothing uses it before it is stored.
func TestSaveFailure(t *testing.T) {
	srv, cb := newOAuthServer(t)
	db := openStore(t, filepath.Join(t.TempDir(), "dsar.db"))
	failing := false
	grants := &grantsFunc{Grants: db, SaveGrantFn: func(ctx context.Context, account string, g dsar.Grant) error {
		if failing {
			return errors.New("disk full")
		}
		return db.SaveGrant(ctx, account, g)
	}}
	c := newOAuthClient(t, srv, grants)
	ctx := t.Context()
	if err := c.Authorize(ctx, authorizeCode(t, c, cb), cb.URL); err != nil {
		t.Fatal(err)
	}
	srv.Clock().Advance(time.Hour)
	failing = true
	if _, _, err := c.User(ctx, jane); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("User with a failing store: %v, want the store's error", err)
	}
	if n := count(srv, isAPI); n != 0 {
		t.Errorf("%d API calls with a grant not stored, want 0", n)
	}
	failing = false
	if _, _, err := c.User(ctx, jane); err != nil {
		t.Fatalf("User once the store works: %v", err)
	}
	if n := count(srv, isToken); n != 2 {
		t.Errorf("%d token requests, want 2: the exchange and one refresh", n)
	}
	c2 := newOAuthClient(t, srv, db)
	if _, _, err := c2.User(ctx, jane); err != nil || count(srv, isToken) != 2 {
		t.Errorf("a restart after the late save: %v, %d token requests", err, count(srv, isToken))
	}
}

const crashEnv = "ZOOMCLIENT_CRASH_POINT"

// TestCrashAtRotation kills a process (this test binary again) at the two
// points of a refresh, with SIGKILL, and starts a new client on the same
// store against the same emulator:
//
//   - "saved": the new grant is durable and memory still holds the old
//     one: the new client goes on without authorization and without a
//     refresh;
//   - "answered": Zoom has rotated the refresh token and the new one was
//     not saved. That cannot be helped (see oauthApp): the new client
//     gets a permanent Unauthorized error asking to authorize again.
func TestCrashAtRotation(t *testing.T) {
	if point := os.Getenv(crashEnv); point != "" {
		crashChild(t, point)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, point := range []string{"saved", "answered"} {
		t.Run(point, func(t *testing.T) {
			srv, cb := newOAuthServer(t, zoomtest.WithFrozenClock())
			path := filepath.Join(t.TempDir(), "dsar.db")
			db, err := store.Open(path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := newOAuthClient(t, srv, db)
			if err := c.Authorize(t.Context(), authorizeCode(t, c, cb), cb.URL); err != nil {
				t.Fatal(err)
			}
			old, _ := db.LoadGrant(t.Context(), account)
			db.Close()
			srv.Clock().Advance(time.Hour)

			a := srv.Account()
			cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestCrashAtRotation$")
			cmd.Env = append(os.Environ(), crashEnv+"="+point, "CRASH_DB="+path, "CRASH_URL="+srv.URL,
				"CRASH_NOW="+srv.Clock().Now().Format(time.RFC3339Nano), "CRASH_CLIENT="+a.ClientID+":"+a.ClientSecret)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the child was not killed at %s: %v\n%s", point, err, out)
			}
			if n := count(srv, isToken); n != 2 {
				t.Fatalf("%d token requests, want the exchange and the child's refresh", n)
			}
			if refreshWith(t, srv, old.RefreshToken) != http.StatusBadRequest {
				t.Fatal("Zoom still takes the refresh token used by the child")
			}

			db = openStore(t, path)
			c = newOAuthClient(t, srv, db)
			_, _, err = c.User(t.Context(), jane)
			if point == "saved" {
				if err != nil {
					t.Fatalf("User after a kill with the grant saved: %v", err)
				}
				if n := count(srv, isToken); n != 3 { // the refusal of old above
					t.Errorf("%d token requests, want no refresh after the restart", n-3)
				}
				return
			}
			wantReauthorize(t, err, old.RefreshToken)
		})
	}
}

// crashChild is the killed process: a client on the store at CRASH_DB
// whose refresh kills it at point.
func crashChild(t *testing.T, point string) {
	now, err := time.Parse(time.RFC3339Nano, os.Getenv("CRASH_NOW"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(os.Getenv("CRASH_DB"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, secret, _ := strings.Cut(os.Getenv("CRASH_CLIENT"), ":")
	base := os.Getenv("CRASH_URL")
	c, err := New(Config{App: AppOAuth, Name: account, ClientID: id, ClientSecret: secret, Grants: db,
		APIURL: base + "/v2", TokenURL: base + "/oauth/token", AuthorizeURL: base + "/oauth/authorize",
		Clock: fixedClock{now}})
	if err != nil {
		t.Fatal(err)
	}
	testHookRefresh = func(p string) {
		if p == point {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	_, _, err = c.User(t.Context(), jane)
	t.Fatalf("the refresh went past %s: %v", point, err)
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func TestNewApp(t *testing.T) {
	var grants Grants = &grantsFunc{}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"server-to-server", Config{AccountID: "a", ClientID: "c", ClientSecret: "s"}, ""},
		{"server-to-server without account id", Config{App: AppS2S, ClientID: "c", ClientSecret: "s"}, "account id"},
		{"oauth", Config{App: AppOAuth, Name: account, ClientID: "c", ClientSecret: "s", Grants: grants}, ""},
		{"oauth named by account id", Config{App: AppOAuth, AccountID: "a", ClientID: "c", ClientSecret: "s", Grants: grants}, ""},
		{"oauth without a store", Config{App: AppOAuth, Name: account, ClientID: "c", ClientSecret: "s"}, "grant store"},
		{"oauth without a name", Config{App: AppOAuth, ClientID: "c", ClientSecret: "s", Grants: grants}, "name"},
		{"unknown app", Config{App: "jwt", AccountID: "a", ClientID: "c", ClientSecret: "s"}, "unknown app type"},
		{"bad authorize URL", Config{App: AppOAuth, Name: account, ClientID: "c", ClientSecret: "s", Grants: grants, AuthorizeURL: "zoom.us"}, "authorize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("New: %v, want %q", err, tt.wantErr)
			}
		})
	}
	c, err := New(Config{App: AppOAuth, Name: account, ClientID: "cid", ClientSecret: "s", Grants: grants})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(c.AuthorizeURL("http://127.0.0.1:8765/cb", "st"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "zoom.us" || u.Path != "/oauth/authorize" || q.Get("response_type") != "code" ||
		q.Get("client_id") != "cid" || q.Get("redirect_uri") != "http://127.0.0.1:8765/cb" || q.Get("state") != "st" {
		t.Errorf("AuthorizeURL = %v", u)
	}
}
