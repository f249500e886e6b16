package zoomtest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

const redirectURL = "http://127.0.0.1:8765/callback"

// newOAuthServer starts an emulator whose primary account has an OAuth app.
func newOAuthServer(t *testing.T, opts ...zoomtest.Option) *zoomtest.Server {
	t.Helper()
	return zoomtest.NewServer(t, append([]zoomtest.Option{zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(),
		zoomtest.WithOAuthApp(redirectURL)}, opts...)...)
}

// authorize calls /oauth/authorize with q and returns the answer without
// following a redirect.
func authorize(t *testing.T, srv *zoomtest.Server, q url.Values) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.AuthorizeURL+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// code authorizes the primary account's app and returns the code.
func code(t *testing.T, srv *zoomtest.Server) string {
	t.Helper()
	r := authorize(t, srv, url.Values{"response_type": {"code"}, "client_id": {srv.Account().ClientID}, "redirect_uri": {redirectURL}})
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", r.status, r.header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// exchange trades a code for tokens and returns the answer.
func exchange(t *testing.T, srv *zoomtest.Server, code, redirect string) (int, map[string]any) {
	t.Helper()
	return post(t, srv.TokenURL, srv.Account(), url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}})
}

func refresh(t *testing.T, srv *zoomtest.Server, rt string) (int, map[string]any) {
	t.Helper()
	return post(t, srv.TokenURL, srv.Account(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// wantOAuthError checks a token endpoint error.
func wantOAuthError(t *testing.T, status int, body map[string]any, kind, reason string) {
	t.Helper()
	if status != http.StatusBadRequest || body["error"] != kind || !strings.HasPrefix(body["reason"].(string), reason) {
		t.Errorf("got %d %v, want 400 %s %q", status, body, kind, reason)
	}
}

func TestAuthorize(t *testing.T) {
	srv := newOAuthServer(t)
	acct := srv.Account()
	s2s := srv.Accounts()[1]
	tests := []struct {
		name      string
		q         url.Values
		denied    bool
		status    int
		errorCode int    // of a 400 page
		redirect  string // the error in the redirect; "" if a code
	}{
		{"granted", url.Values{"response_type": {"code"}, "client_id": {acct.ClientID}, "redirect_uri": {redirectURL}, "state": {"s1"}}, false, 302, 0, ""},
		{"denied", url.Values{"response_type": {"code"}, "client_id": {acct.ClientID}, "redirect_uri": {redirectURL}, "state": {"s1"}}, true, 302, 0, "access_denied"},
		{"wrong response type", url.Values{"response_type": {"token"}, "client_id": {acct.ClientID}, "redirect_uri": {redirectURL}, "state": {"s1"}}, false, 302, 0, "unsupported_response_type"},
		{"unknown client", url.Values{"response_type": {"code"}, "client_id": {"nobody"}, "redirect_uri": {redirectURL}}, false, 400, 4702, ""},
		{"server-to-server app", url.Values{"response_type": {"code"}, "client_id": {s2s.ClientID}, "redirect_uri": {redirectURL}}, false, 400, 4702, ""},
		{"redirect not allow-listed", url.Values{"response_type": {"code"}, "client_id": {acct.ClientID}, "redirect_uri": {redirectURL + "/x"}}, false, 400, 4700, ""},
		{"no redirect", url.Values{"response_type": {"code"}, "client_id": {acct.ClientID}}, false, 400, 4700, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.SetConsent(!tt.denied)
			r := authorize(t, srv, tt.q)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 400 {
				m := decode(t, r)
				if m["status"] != false || m["errorCode"] != float64(tt.errorCode) || m["errorMessage"] == "" {
					t.Errorf("body %s, want errorCode %d", r.body, tt.errorCode)
				}
				return
			}
			loc, err := url.Parse(r.header.Get("Location"))
			if err != nil || !strings.HasPrefix(loc.String(), redirectURL+"?") {
				t.Fatalf("Location %q, want the redirect URL", r.header.Get("Location"))
			}
			q := loc.Query()
			if q.Get("state") != "s1" || q.Get("error") != tt.redirect || (q.Get("code") != "") != (tt.redirect == "") {
				t.Errorf("redirected with %v, want state s1, error %q", q, tt.redirect)
			}
		})
	}
}

func TestCodeGrant(t *testing.T) {
	srv := newOAuthServer(t, zoomtest.WithScopes("user:read:user:admin"))
	t.Run("exchange", func(t *testing.T) {
		status, body := exchange(t, srv, code(t, srv), redirectURL)
		if status != 200 || body["token_type"] != "bearer" || body["expires_in"] != 3600.0 || body["access_token"] == "" ||
			body["refresh_token"] == "" || body["scope"] != "user:read:user:admin" {
			t.Fatalf("%d %v", status, body)
		}
		if r := get(t, srv, body["access_token"].(string), "/users/"+zoomtest.JaneEmail); r.status != 200 {
			t.Errorf("API call with the access token: %d %s", r.status, r.body)
		}
	})
	t.Run("code used twice", func(t *testing.T) {
		c := code(t, srv)
		if status, _ := exchange(t, srv, c, redirectURL); status != 200 {
			t.Fatalf("first use: %d", status)
		}
		status, body := exchange(t, srv, c, redirectURL)
		wantOAuthError(t, status, body, "invalid_request", "Invalid authorization code")
	})
	t.Run("wrong redirect", func(t *testing.T) {
		status, body := exchange(t, srv, code(t, srv), redirectURL+"/x")
		wantOAuthError(t, status, body, "invalid_request", "Redirect URI mismatch.")
	})
	t.Run("expired code", func(t *testing.T) {
		c := code(t, srv)
		srv.Clock().Advance(5 * time.Minute)
		status, body := exchange(t, srv, c, redirectURL)
		wantOAuthError(t, status, body, "invalid_request", "Invalid authorization code")
	})
	t.Run("unknown code", func(t *testing.T) {
		status, body := exchange(t, srv, "nope", redirectURL)
		wantOAuthError(t, status, body, "invalid_request", "Invalid authorization code")
	})
	t.Run("account credentials on an OAuth app", func(t *testing.T) {
		status, body := post(t, srv.TokenURL, srv.Account(), url.Values{"grant_type": {"account_credentials"}, "account_id": {srv.Account().ID}})
		wantOAuthError(t, status, body, "unsupported_grant_type", "unsupported grant type")
	})
	t.Run("code grant on a server-to-server app", func(t *testing.T) {
		status, body := post(t, srv.TokenURL, srv.Accounts()[1], url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {redirectURL}})
		wantOAuthError(t, status, body, "unsupported_grant_type", "unsupported grant type")
	})
}

func TestRefreshRotation(t *testing.T) {
	srv := newOAuthServer(t)
	_, body := exchange(t, srv, code(t, srv), redirectURL)
	rt1, at1 := body["refresh_token"].(string), body["access_token"].(string)
	status, body := refresh(t, srv, rt1)
	rt2, at2 := body["refresh_token"].(string), body["access_token"].(string)
	if status != 200 || rt2 == "" || rt2 == rt1 || at2 == at1 {
		t.Fatalf("refresh: %d %v, want new tokens", status, body)
	}
	status, body = refresh(t, srv, rt1)
	wantOAuthError(t, status, body, "invalid_grant", "Invalid Token!")
	if status, body := refresh(t, srv, rt2); status != 200 || body["refresh_token"] == rt2 {
		t.Errorf("refresh with the latest token: %d %v", status, body)
	}
	srv.Clock().Advance(time.Hour)
	r := get(t, srv, at2, "/users/"+zoomtest.JaneEmail)
	if code, msg := zoomErr(t, r); r.status != 401 || code != 124 || msg != "Access token is expired." {
		t.Errorf("after an hour: %d %d %q, want 401 124 expired", r.status, code, msg)
	}
}

func TestRevoke(t *testing.T) {
	srv := newOAuthServer(t)
	acct := srv.Account()
	for _, which := range []string{"access_token", "refresh_token"} {
		t.Run(which, func(t *testing.T) {
			_, body := exchange(t, srv, code(t, srv), redirectURL)
			status, ans := post(t, srv.RevokeURL, acct, url.Values{"token": {body[which].(string)}})
			if status != 200 || ans["status"] != "success" {
				t.Fatalf("revoke: %d %v", status, ans)
			}
			r := get(t, srv, body["access_token"].(string), "/users/"+zoomtest.JaneEmail)
			if code, _ := zoomErr(t, r); r.status != 401 || code != 124 {
				t.Errorf("access token after revocation: %d %d, want 401 124", r.status, code)
			}
			status, ans = refresh(t, srv, body["refresh_token"].(string))
			wantOAuthError(t, status, ans, "invalid_grant", "Invalid Token!")
		})
	}
	t.Run("no token", func(t *testing.T) {
		status, ans := post(t, srv.RevokeURL, acct, url.Values{})
		wantOAuthError(t, status, ans, "invalid_request", "Token cannot be empty.")
	})
	t.Run("wrong secret", func(t *testing.T) {
		bad := acct
		bad.ClientSecret = "nope"
		status, ans := post(t, srv.RevokeURL, bad, url.Values{"token": {"x"}})
		wantOAuthError(t, status, ans, "invalid_client", "Invalid client_id or client_secret")
	})
}

// TestDeauthorize uninstalls the app through the control endpoint, as a
// test driving zoomfake would: every token stops working until an admin
// authorizes the app again.
func TestDeauthorize(t *testing.T) {
	srv := newOAuthServer(t)
	_, body := exchange(t, srv, code(t, srv), redirectURL)
	resp, err := http.Post(srv.URL+"/_zoomfake/deauthorize?account="+srv.Account().ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("deauthorize: %d", resp.StatusCode)
	}
	r := get(t, srv, body["access_token"].(string), "/users/"+zoomtest.JaneEmail)
	if code, _ := zoomErr(t, r); r.status != 401 || code != 124 {
		t.Errorf("access token of an uninstalled app: %d %d, want 401 124", r.status, code)
	}
	status, ans := refresh(t, srv, body["refresh_token"].(string))
	wantOAuthError(t, status, ans, "invalid_grant", "Invalid Token!")
	if status, _ := exchange(t, srv, code(t, srv), redirectURL); status != 200 {
		t.Errorf("authorizing again: %d", status)
	}
	resp, err = http.Post(srv.URL+"/_zoomfake/deauthorize?account=nobody", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("deauthorize of an unknown account: %d, want 400", resp.StatusCode)
	}
}
