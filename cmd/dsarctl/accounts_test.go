package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	dsarv1 "github.com/zoomdsar/zoom-dsar/proto/dsar/v1"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestEndToEndAccounts runs the real dsard with a good account and three
// broken ones (a wrong api_url, a wrong secret, an app without scopes):
// each broken one is reported at start and by `accounts check`, and takes
// no request. On the good one a request parked by the daily limit is not
// resumed by `resume` (no call) but by `accounts reset-quota` (one call).
// SIGHUP then reloads the accounts file: the mended secret checks OK, and
// the removed account's request fails with the reason.
func TestEndToEndAccounts(t *testing.T) {
	t.Parallel()
	bin := buildDsard(t)
	zoom := zoomtest.NewServer(t, zoomtest.WithDataset("tiny"), zoomtest.WithLimits(zoomtest.Limits{Daily: map[string]int{zoomtest.Heavy: 1}}))
	bare := zoomtest.NewServer(t, zoomtest.WithDataset("tiny"), zoomtest.WithScopes("user:read:list_users:admin")) // none a section needs
	a, b := zoom.Account(), bare.Account()
	entry := func(name string, acct zoomtest.Account, srv *zoomtest.Server, apiURL string) map[string]string {
		return map[string]string{"name": name, "plan": string(acct.Plan), "account_id": acct.ID, "client_id": acct.ClientID,
			"client_secret_env": "SECRET_" + strings.ToUpper(name), "api_url": apiURL, "token_url": srv.TokenURL}
	}
	good := entry("good", a, zoom, zoom.APIURL)
	wrongURL := entry("wrongurl", a, zoom, zoom.URL)
	wrongSecret := entry("wrongsecret", a, zoom, zoom.APIURL)
	delete(wrongSecret, "client_secret_env")
	noScopes := entry("noscopes", b, bare, bare.APIURL)
	bad := map[string]string{ // account: words of its problem
		"wrongurl":    "check the account's api_url",
		"wrongsecret": "token request refused",
		"noscopes":    "user:read:user:admin; grant it to the app",
	}

	secret := filepath.Join(t.TempDir(), "secret.txt")
	writeSecret := func(s string) {
		if err := os.WriteFile(secret, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeSecret("wrong")
	wrongSecret["client_secret_file"] = secret
	d := startDsardWith(t, bin, []map[string]string{good, wrongURL, wrongSecret, noScopes},
		"SECRET_GOOD="+a.ClientSecret, "SECRET_WRONGURL="+a.ClientSecret, "SECRET_NOSCOPES="+b.ClientSecret)

	failedAtStart := map[string]string{}
	for _, line := range strings.Split(d.logs.String(), "\n") {
		var m struct{ Msg, Account, Problem string }
		if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "zoom account check failed" {
			failedAtStart[m.Account] = m.Problem
		}
	}
	for name, words := range bad {
		if !strings.Contains(failedAtStart[name], words) {
			t.Errorf("at start, %s: logged %q, want %q", name, failedAtStart[name], words)
		}
		out, err := ctl(t, d, "operator", "accounts", "check", name)
		if err == nil || !strings.Contains(out, "FAILED at") || !strings.Contains(out, words) {
			t.Errorf("accounts check %s: %v\n%s\nwant FAILED with %q", name, err, out, words)
		}
		if _, err := ctl(t, d, "platform", "create", "-account", name, zoomtest.JaneEmail); err == nil ||
			!strings.Contains(err.Error(), "not possible now") || !strings.Contains(err.Error(), words) {
			t.Errorf("create on %s: %v; want it refused with %q", name, err, words)
		}
	}
	if _, ok := failedAtStart["good"]; ok {
		t.Errorf("the good account's check failed: %s", failedAtStart["good"])
	}
	if strings.Contains(d.logs.String(), a.ClientSecret) || strings.Contains(d.logs.String(), zoomtest.JaneEmail) {
		t.Error("the logs hold a secret or the subject's email")
	}

	heavy := func() int {
		n := 0
		for _, le := range zoom.Log() {
			if le.Category == zoomtest.Heavy {
				n++
			}
		}
		return n
	}
	id := strings.TrimSpace(mustCtl(t, d, "platform", "create", "-account", "good", zoomtest.JaneEmail))
	d.waitLog(t, "request parked until quota reset")
	before := heavy()
	if out := mustCtl(t, d, "operator", "resume", id); !strings.Contains(out, "WAITING_QUOTA until") || !strings.Contains(out, "-probe") {
		t.Errorf("resume of a parked request: %q; want when it goes on and -probe", out)
	}
	out := mustCtl(t, d, "operator", "accounts")
	if n := strings.Count(out, "\naccount "); n != 3 || !strings.HasPrefix(out, "account ") {
		t.Errorf("accounts lists %d accounts, want 4:\n%s", n+1, out)
	}
	if !strings.Contains(out, "in flight  "+id) || !strings.Contains(out, "Heavy") {
		t.Errorf("accounts does not show the request in flight and the parked Heavy bucket:\n%s", out)
	}
	if n := heavy(); n != before {
		t.Errorf("resume made %d Heavy calls while parked", n-before)
	}
	mustCtl(t, d, "operator", "accounts", "reset-quota", "good")
	d.waitLog(t, "request parked until quota reset")
	if n := heavy() - before; n != 1 {
		t.Errorf("reset-quota: %d Heavy calls, want the one that asks Zoom", n)
	}
	if out := mustCtl(t, d, "auditor", "audit"); !strings.Contains(out, "ResetAccountQuota") {
		t.Errorf("the audit log has no ResetAccountQuota:\n%s", out)
	}

	// Reload: the secret mended, the good account removed.
	writeSecret(a.ClientSecret)
	d.writeAccounts(t, []map[string]string{wrongURL, wrongSecret, noScopes})
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, "zoom accounts reloaded")
	d.waitLog(t, "zoom account check passed")
	if out, err := ctl(t, d, "operator", "accounts", "check", "wrongsecret"); err != nil || !strings.Contains(out, "OK at") {
		t.Errorf("accounts check of the mended secret: %v\n%s", err, out)
	}
	got := getRequest(t, d, "operator", id)
	if got.GetState() != dsarv1.RequestState_REQUEST_STATE_FAILED || !strings.Contains(got.GetReason(), `account "good" was removed from the accounts file`) {
		t.Errorf("the removed account's request: %s (%s); want FAILED with the reason", got.GetState(), got.GetReason())
	}
	if out := mustCtl(t, d, "operator", "accounts"); strings.Contains(out, "good") {
		t.Errorf("accounts still lists the removed account:\n%s", out)
	}
}

// TestEndToEndOAuth authorizes an account-level OAuth app end to end with
// the real dsard: its check fails until `accounts authorize` has received
// Zoom's redirect on the loopback redirect URL (the test plays the admin's
// browser), then a request completes; once the app is uninstalled, the
// check says to authorize it again.
func TestEndToEndOAuth(t *testing.T) {
	t.Parallel()
	bin := buildDsard(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://" + lis.Addr().String() + "/zoom/callback"
	lis.Close() // dsarctl listens there during authorize
	zoom := zoomtest.NewServer(t, zoomtest.WithDataset("tiny"), zoomtest.WithOAuthApp(redirect))
	a := zoom.Account()
	d := startDsardWith(t, bin, []map[string]string{{
		"name": "acme", "plan": string(a.Plan), "app": "oauth", "redirect_url": redirect,
		"client_id": a.ClientID, "client_secret_env": "ACME_SECRET",
		"api_url": zoom.APIURL, "token_url": zoom.TokenURL, "authorize_url": zoom.AuthorizeURL,
	}}, "ACME_SECRET="+a.ClientSecret)
	const fix = "dsarctl accounts authorize acme"
	if out, err := ctl(t, d, "operator", "accounts", "check", "acme"); err == nil || !strings.Contains(out, fix) {
		t.Fatalf("check before authorization: %v\n%s\nwant FAILED naming %q", err, out, fix)
	}

	// dsarctl prints the authorize URL and waits for the redirect; the
	// test opens the URL as the admin's browser would, following Zoom's
	// redirect to dsarctl.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		env := map[string]string{"DSAR_SERVER": d.addr, "DSAR_TOKEN": e2eTokens["operator"]}
		err := run(t.Context(), []string{"accounts", "authorize", "acme"}, func(k string) string { return env[k] },
			strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	var out strings.Builder
	opened := false
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u := strings.TrimSpace(line); strings.HasPrefix(u, zoom.AuthorizeURL) && !opened {
			opened = true
			go func() {
				resp, err := http.Get(u)
				if err != nil {
					t.Errorf("the browser: %v", err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), "dsarctl received Zoom's authorization") {
					t.Errorf("the browser got %d %s", resp.StatusCode, body)
				}
			}()
		}
	}
	if err := <-done; err != nil || !opened {
		t.Fatalf("accounts authorize: %v (URL printed: %v)\n%s", err, opened, out.String())
	}
	if !strings.Contains(out.String(), "check      OK at") {
		t.Errorf("authorize does not show the account checked OK:\n%s", out.String())
	}
	id := strings.TrimSpace(mustCtl(t, d, "platform", "create", "-account", "acme", zoomtest.JaneEmail))
	if _, err := ctl(t, d, "platform", "watch", id); err != nil {
		t.Fatalf("watch: %v", err)
	}
	if got := mustCtl(t, d, "auditor", "audit"); !strings.Contains(got, "CompleteAccountAuthorization") {
		t.Errorf("the audit log has no CompleteAccountAuthorization:\n%s", got)
	}
	if strings.Contains(d.logs.String(), a.ClientSecret) {
		t.Error("the logs hold the client secret")
	}

	// The admin uninstalls the app: the next token is refused.
	zoom.Deauthorize(a.ID)
	d.cmd.Process.Signal(syscall.SIGHUP) // a reload checks every account again
	d.waitLog(t, "zoom accounts reloaded")
	if out, err := ctl(t, d, "operator", "accounts", "check", "acme"); err == nil || !strings.Contains(out, "authorize the app again: "+fix) {
		t.Errorf("check after the app was uninstalled: %v\n%s", err, out)
	}
}
