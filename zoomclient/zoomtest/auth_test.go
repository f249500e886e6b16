package zoomtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

var start = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func TestToken(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	acct := srv.Account()
	tests := []struct {
		name       string
		query      url.Values // in the URL
		form       url.Values // in the body
		id, secret string
		status     int
		oauthError string
	}{
		{"form body", nil, url.Values{"grant_type": {"account_credentials"}, "account_id": {acct.ID}}, acct.ClientID, acct.ClientSecret, 200, ""},
		{"query string", url.Values{"grant_type": {"account_credentials"}, "account_id": {acct.ID}}, nil, acct.ClientID, acct.ClientSecret, 200, ""},
		{"wrong secret", nil, url.Values{"grant_type": {"account_credentials"}, "account_id": {acct.ID}}, acct.ClientID, "nope", 400, "invalid_client"},
		{"unknown client", nil, url.Values{"grant_type": {"account_credentials"}, "account_id": {acct.ID}}, "nobody", acct.ClientSecret, 400, "invalid_client"},
		{"no basic auth", nil, url.Values{"grant_type": {"account_credentials"}, "account_id": {acct.ID}}, "", "", 400, "invalid_client"},
		{"wrong grant", nil, url.Values{"grant_type": {"client_credentials"}, "account_id": {acct.ID}}, acct.ClientID, acct.ClientSecret, 400, "unsupported_grant_type"},
		{"other account", nil, url.Values{"grant_type": {"account_credentials"}, "account_id": {srv.Accounts()[1].ID}}, acct.ClientID, acct.ClientSecret, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := srv.TokenURL
			if tt.query != nil {
				u += "?" + tt.query.Encode()
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.id != "" {
				req.SetBasicAuth(tt.id, tt.secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			var body map[string]any
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatal(err)
			}
			if tt.status != 200 {
				if body["error"] != tt.oauthError || body["reason"] == "" || body["reason"] == nil {
					t.Errorf("body %s, want error %q and a reason", b, tt.oauthError)
				}
				return
			}
			if body["token_type"] != "bearer" || body["expires_in"] != 3600.0 || body["access_token"] == "" || body["api_url"] != srv.URL {
				t.Errorf("body %s", b)
			}
			if s, _ := body["scope"].(string); !strings.Contains(s, "phone:read:list_call_logs:admin") {
				t.Errorf("scope %q lacks the call history scope", s)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	good := token(t, srv, srv.Account())
	if r := get(t, srv, good, "/users/"+zoomtest.JaneEmail); r.status != 200 {
		t.Fatalf("good token: %d %s", r.status, r.body)
	}
	tests := []struct {
		name    string
		tok     string
		path    string
		message string
	}{
		{"missing", "", "/users/" + zoomtest.JaneEmail, "Invalid access token."},
		{"garbage", "xyz", "/users/" + zoomtest.JaneEmail, "Invalid access token."},
		{"in query", "", "/users/" + zoomtest.JaneEmail + "?access_token=" + good, "Invalid access token, this access token is not supported as query parameter string."},
		{"in query and header", good, "/users/" + zoomtest.JaneEmail + "?access_token=" + good, "Invalid access token, this access token is not supported as query parameter string."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, srv, tt.tok, tt.path)
			code, msg := zoomErr(t, r)
			if r.status != 401 || code != 124 || msg != tt.message {
				t.Errorf("got %d %d %q, want 401 124 %q", r.status, code, msg, tt.message)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
		tok := token(t, srv, srv.Account())
		srv.Clock().Advance(59 * time.Minute)
		if r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail); r.status != 200 {
			t.Fatalf("after 59m: %d", r.status)
		}
		srv.Clock().Advance(time.Minute)
		r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail)
		if code, _ := zoomErr(t, r); r.status != 401 || code != 124 {
			t.Errorf("after 60m: %d %d, want 401 124", r.status, code)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
		tok := token(t, srv, srv.Account())
		srv.RevokeTokens(srv.Account().ID)
		r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail)
		if code, _ := zoomErr(t, r); r.status != 401 || code != 124 {
			t.Errorf("revoked: %d %d, want 401 124", r.status, code)
		}
		if r := get(t, srv, token(t, srv, srv.Account()), "/users/"+zoomtest.JaneEmail); r.status != 200 {
			t.Errorf("new token after revocation: %d", r.status)
		}
	})
	t.Run("token of another account", func(t *testing.T) {
		other := srv.Accounts()[1]
		r := get(t, srv, token(t, srv, other), "/users/"+zoomtest.JaneEmail)
		if code, _ := zoomErr(t, r); r.status != 404 || code != 1001 {
			t.Errorf("jane from another account: %d %d, want 404 1001", r.status, code)
		}
	})
}

func TestScopes(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithScopes("user:read:user:admin", "phone:read:admin"))
	tok := token(t, srv, srv.Account())
	tests := []struct {
		path  string
		scope string // "" if granted
	}{
		{"/users/" + zoomtest.JaneEmail, ""},
		{"/users/" + zoomtest.JaneEmail + "/settings", "user:read:settings:admin"},
		{"/users/" + zoomtest.JaneEmail + "/recordings", "cloud_recording:read:list_user_recordings:admin"},
		{"/phone/users/" + zoomtest.JaneEmail + "/call_history", ""}, // through the classic phone:read:admin
	}
	for _, tt := range tests {
		r := get(t, srv, tok, tt.path)
		if tt.scope == "" {
			if r.status != 200 {
				t.Errorf("%s: %d %s", tt.path, r.status, r.body)
			}
			continue
		}
		code, msg := zoomErr(t, r)
		want := "Invalid access token, does not contain scopes:[" + tt.scope + "]."
		if r.status != 400 || code != 4711 || msg != want {
			t.Errorf("%s: %d %d %q, want 400 4711 %q", tt.path, r.status, code, msg, want)
		}
	}
}
