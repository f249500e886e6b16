package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var startLine = regexp.MustCompile(`^zoomfake listening on (http://\S+) account_id=(\S+) client_id=(\S+) client_secret=(\S+)$`)

// start runs zoomfake in-process and returns its base URL and credentials.
func start(t *testing.T, args ...string) (base, account, id, secret string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no start line: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := startLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		t.Fatalf("start line %q", line)
	}
	return m[1], m[2], m[3], m[4]
}

func do(t *testing.T, method, u, tok string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, u, body)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestRun(t *testing.T) {
	base, account, id, secret := start(t, "-start-time", "2026-03-15T23:59:00Z", "-frozen-clock", "-daily", "Light=1")

	form := url.Values{"grant_type": {"account_credentials"}, "account_id": {account}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/oauth/token?"+form.Encode(), nil)
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}

	user := base + "/v2/users/jane.doe@example.com"
	if status, h, b := do(t, "GET", user, tok.AccessToken, nil); status != 200 || h.Get("Date") != "Sun, 15 Mar 2026 23:59:00 GMT" {
		t.Fatalf("user: %d Date %q %s", status, h.Get("Date"), b)
	}
	// The daily cap of one Light call is used up until midnight.
	if status, h, _ := do(t, "GET", user, tok.AccessToken, nil); status != 429 || h.Get("Retry-After") != "2026-03-16T00:00:00Z" {
		t.Fatalf("second call: %d Retry-After %q", status, h.Get("Retry-After"))
	}
	if status, _, b := do(t, "POST", base+"/_zoomfake/clock?advance=1m", "", nil); status != 200 || !bytes.Contains(b, []byte("2026-03-16T00:00:00")) {
		t.Fatalf("clock: %d %s", status, b)
	}
	if status, _, _ := do(t, "GET", user, tok.AccessToken, nil); status != 200 {
		t.Fatalf("after midnight: %d", status)
	}

	if status, _, b := do(t, "POST", base+"/_zoomfake/faults", "", strings.NewReader(`{"script":{"*":["503"]}}`)); status != 200 {
		t.Fatalf("faults: %d %s", status, b)
	}
	if status, _, _ := do(t, "GET", base+"/v2/users/jane.doe@example.com/settings", tok.AccessToken, nil); status != 503 {
		t.Errorf("scripted fault: %d, want 503", status)
	}
	if status, _, _ := do(t, "POST", base+"/_zoomfake/faults", "", strings.NewReader(`{"rates":{"418":1}}`)); status != 400 {
		t.Errorf("bad faults: %d, want 400", status)
	}
	if status, _, _ := do(t, "POST", base+"/_zoomfake/clock?advance=soon", "", nil); status != 400 {
		t.Errorf("bad duration: %d, want 400", status)
	}

	status, _, b := do(t, "GET", base+"/_zoomfake/log", "", nil)
	if status != 200 {
		t.Fatalf("log: %d", status)
	}
	var statuses []int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e struct {
			Path   string `json:"path"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if strings.HasPrefix(e.Path, "/v2/") {
			statuses = append(statuses, e.Status)
		}
	}
	if want := []int{200, 429, 200, 503}; !equal(statuses, want) {
		t.Errorf("logged API statuses %v, want %v", statuses, want)
	}
}

// TestRunOAuth authorizes zoomfake's OAuth app with -scopes, exchanges the
// code and uninstalls the app through the control endpoint.
func TestRunOAuth(t *testing.T) {
	const cb = "http://127.0.0.1:8765/callback"
	base, _, id, secret := start(t, "-app", "oauth", "-redirect-url", cb, "-scopes", "user:read:user:admin, user:read:settings:admin")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {cb}, "state": {"s"}}
	resp, err := hc.Get(base + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {cb}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.RefreshToken == "" || tok.Scope != "user:read:user:admin user:read:settings:admin" {
		t.Fatalf("token: %d %+v %v", resp.StatusCode, tok, err)
	}
	user := base + "/v2/users/jane.doe@example.com"
	if status, _, b := do(t, "GET", user, tok.AccessToken, nil); status != 200 {
		t.Fatalf("user: %d %s", status, b)
	}
	if status, _, _ := do(t, "GET", user+"/recordings", tok.AccessToken, nil); status != 400 {
		t.Errorf("a scope not granted: %d, want 400", status)
	}
	var accts []struct {
		ID string `json:"id"`
	}
	_, _, b := do(t, "GET", base+"/_zoomfake/accounts", "", nil)
	if err := json.Unmarshal(b, &accts); err != nil || len(accts) == 0 {
		t.Fatalf("accounts: %s %v", b, err)
	}
	if status, _, b := do(t, "POST", base+"/_zoomfake/deauthorize?account="+accts[0].ID, "", nil); status != 200 {
		t.Fatalf("deauthorize: %d %s", status, b)
	}
	if status, _, _ := do(t, "GET", user, tok.AccessToken, nil); status != 401 {
		t.Errorf("after deauthorize: %d, want 401", status)
	}
	if status, _, b := do(t, "POST", base+"/_zoomfake/consent?granted=false", "", nil); status != 200 {
		t.Fatalf("consent: %d %s", status, b)
	}
	resp, err = hc.Get(base + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "access_denied" {
		t.Errorf("authorize after consent=false: %q, want error=access_denied", resp.Header.Get("Location"))
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		wantOut string // in stderr
	}{
		{"help", []string{"-h"}, nil, "", "curl -H \"Authorization: Bearer $TOKEN\""},
		{"bad plan", []string{"-plan", "gold"}, nil, "unknown plan", ""},
		{"bad dataset", []string{"-dataset", "huge"}, nil, "unknown dataset", ""},
		{"missing file", []string{"-dataset", "/nonexistent/data.json"}, nil, "no such file", ""},
		{"bad start", []string{"-start-time", "yesterday"}, nil, "-start-time", ""},
		{"bad fault", []string{"-faults", "503"}, nil, "-faults", ""},
		{"unknown fault", []string{"-faults", "boom=0.1"}, nil, "unknown fault", ""},
		{"bad limit", []string{"-limit", "Light=2"}, nil, "-limit", ""},
		{"bad category", []string{"-daily", "Tiny=2"}, nil, "unknown category", ""},
		{"bad env", nil, map[string]string{"ZOOMFAKE_SEED": "x"}, "ZOOMFAKE_SEED", ""},
		{"bad listen from env", nil, map[string]string{"ZOOMFAKE_LISTEN": "256.0.0.1:1"}, "listen", ""},
		{"help names the variables", []string{"-h"}, nil, "", "(env ZOOMFAKE_FROZEN_CLOCK)"},
		{"bad bool in env", nil, map[string]string{"ZOOMFAKE_PHONE": "maybe"}, "ZOOMFAKE_PHONE", ""},
		{"bad duration in env", nil, map[string]string{"ZOOMFAKE_SLOW_DELAY": "3"}, "ZOOMFAKE_SLOW_DELAY", ""},
		{"env beats default", nil, map[string]string{"ZOOMFAKE_PLAN": "gold"}, "unknown plan", ""},
		{"flag beats env", []string{"-seed", "2", "-plan", "gold"}, map[string]string{"ZOOMFAKE_SEED": "x"}, "unknown plan", ""},
		{"unknown flag", []string{"-secret", "x"}, nil, "not defined: -secret", ""},
		{"help tells how to grant scopes", []string{"-h"}, nil, "", "-scopes user:read:user:admin,phone:read:admin grants only those scopes"},
		{"help tells how to make an OAuth app", []string{"-h"}, nil, "", "-app oauth -redirect-url URL"},
		{"bad app", []string{"-app", "jwt"}, nil, "-app", ""},
		{"OAuth app without a redirect", []string{"-app", "oauth"}, nil, "redirect URL", ""},
		{"redirect of an S2S app", []string{"-redirect-url", "http://127.0.0.1/cb"}, nil, "-redirect-url", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := run(ctx, tt.args, func(k string) string { return tt.env[k] }, io.Discard, &stderr)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			// main prints an error once; run prints nothing of it.
			if tt.wantErr != "" && stderr.Len() != 0 {
				t.Errorf("run printed %q", stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantOut) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantOut, stderr.String())
			}
		})
	}
}
