package daemon

import (
	"bytes"
	"errors"
	"flag"
	"github.com/zoomdsar/zoom-dsar/dsar"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want func(Config) bool
	}{
		{"defaults", []string{"-data-dir", "d"}, nil, func(c Config) bool {
			return c.Listen == DefaultListen && c.DataDir == "d" && c.LogLevel == "info"
		}},
		{"env fallback", nil, map[string]string{"DSAR_DATA_DIR": "e", "DSAR_LISTEN": "localhost:9", "DSAR_METRICS_LISTEN": "127.0.0.1:9090",
			"DSAR_TOKENS": "tok", "DSAR_LOG_LEVEL": "debug", "DSAR_SHUTDOWN_GRACE": "3s", "DSAR_CHECK_TIMEOUT": "-1s"}, func(c Config) bool {
			return c.DataDir == "e" && c.Listen == "localhost:9" && c.MetricsListen == "127.0.0.1:9090" &&
				c.TokensFile == "tok" && c.LogLevel == "debug" && c.ShutdownGrace.Seconds() == 3 && c.CheckTimeout.Seconds() == -1
		}},
		{"flag over env", []string{"-data-dir", "f"}, map[string]string{"DSAR_DATA_DIR": "e"}, func(c Config) bool { return c.DataDir == "f" }},
		{"IPv6 loopback", []string{"-data-dir", "d", "-listen", "[::1]:7443"}, nil, func(c Config) bool { return c.Listen == "[::1]:7443" }},
		{"any address with TLS", []string{"-data-dir", "d", "-listen", ":7443", "-tls-cert", "c", "-tls-key", "k"}, nil,
			func(c Config) bool { return c.TLSCert == "c" }},
		{"remote metrics allowed", []string{"-data-dir", "d", "-metrics-listen", ":9090", "-metrics-remote"}, nil,
			func(c Config) bool { return c.MetricsListen == ":9090" && c.MetricsRemote }},
		{"stream caps", []string{"-data-dir", "d", "-max-streams", "10", "-max-watches", "3"}, nil,
			func(c Config) bool { return c.MaxStreams == 10 && c.MaxWatches == 3 }},
		{"retention default", []string{"-data-dir", "d"}, nil,
			func(c Config) bool { return c.RetainBundles == dsar.DefaultBundleRetention && c.RetainDownloads == 0 }},
		{"retention", []string{"-data-dir", "d", "-retain-bundles", "48h"}, map[string]string{"DSAR_RETAIN_DOWNLOADS": "3"},
			func(c Config) bool { return c.RetainBundles == 48*time.Hour && c.RetainDownloads == 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseFlags(tc.args, envMap(tc.env), io.Discard)
			if err != nil {
				t.Fatalf("ParseFlags: %v", err)
			}
			if !tc.want(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestParseFlagsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no data dir", nil, nil, "-data-dir"},
		{"all interfaces without TLS", []string{"-data-dir", "d", "-listen", ":7443"}, nil, "without TLS"},
		{"public address without TLS", []string{"-data-dir", "d", "-listen", "0.0.0.0:7443"}, nil, "without TLS"},
		{"host name without TLS", []string{"-data-dir", "d", "-listen", "dsar.example.com:7443"}, nil, "without TLS"},
		{"cert without key", []string{"-data-dir", "d", "-tls-cert", "c"}, nil, "go together"},
		{"client CA without TLS", []string{"-data-dir", "d", "-client-ca", "ca"}, nil, "needs TLS"},
		{"bad log level", []string{"-data-dir", "d", "-log-level", "loud"}, nil, "log-level"},
		{"bad listen", []string{"-data-dir", "d", "-listen", "7443"}, nil, "host:port"},
		{"metrics on all interfaces", []string{"-data-dir", "d", "-metrics-listen", ":9090"}, nil, "served without authentication"},
		{"metrics on a public address", []string{"-data-dir", "d", "-metrics-listen", "192.0.2.1:9090"}, nil, "-metrics-remote"},
		{"negative watch cap", []string{"-data-dir", "d", "-max-watches", "-1"}, nil, "-max-watches"},
		{"stream cap past uint32", []string{"-data-dir", "d", "-max-streams", "4294967296"}, nil, "-max-streams"},
		{"negative retention", []string{"-data-dir", "d", "-retain-bundles", "-1h"}, nil, "-retain-bundles"},
		{"negative download limit", []string{"-data-dir", "d", "-retain-downloads", "-1"}, nil, "-retain-downloads"},
		{"stray argument", []string{"-data-dir", "d", "extra"}, nil, "unexpected argument"},
		{"unknown flag", []string{"-token", "secret"}, nil, "flag provided but not defined"},
		{"bad check timeout in env", []string{"-data-dir", "d"}, map[string]string{"DSAR_CHECK_TIMEOUT": "10"}, "DSAR_CHECK_TIMEOUT"},
		{"bad shutdown grace in env", []string{"-data-dir", "d"}, map[string]string{"DSAR_SHUTDOWN_GRACE": "soon"}, "DSAR_SHUTDOWN_GRACE"},
		{"bad init in env", []string{"-data-dir", "d"}, map[string]string{"DSAR_INIT": "yes"}, "DSAR_INIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var usage bytes.Buffer
			_, err := ParseFlags(tc.args, envMap(tc.env), &usage)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			// dsard's main prints the error; nothing else may, or it shows twice.
			if usage.Len() != 0 {
				t.Errorf("ParseFlags printed %q", usage.String())
			}
		})
	}
}

// TestHelp: dsard -h lists every flag with its DSAR_* variable.
func TestHelp(t *testing.T) {
	var usage bytes.Buffer
	_, err := ParseFlags([]string{"-h"}, envMap(map[string]string{"DSAR_DATA_DIR": "/srv/dsar"}), &usage)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("ParseFlags -h: %v, want flag.ErrHelp", err)
	}
	var c Config
	c.flagSet(io.Discard).VisitAll(func(f *flag.Flag) {
		if v := env(nil).Var(f.Name); !strings.Contains(usage.String(), "(env "+v+")") {
			t.Errorf("-h does not name %s", v)
		}
	})
	if strings.Contains(usage.String(), "/srv/dsar") {
		t.Errorf("-h shows a variable's value:\n%s", usage.String())
	}
}

func TestAccounts(t *testing.T) {
	dir := t.TempDir()
	const secret = "s3cr3t-value"
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(body string) string {
		p := filepath.Join(dir, "accounts.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := envMap(map[string]string{"ZOOM_SECRET": secret})
	good := write(`[
		{"name": "acme", "plan": "business", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET", "chat_policy": "own",
		 "controller_info_file": "acme-art15.json"},
		{"name": "beta", "plan": "free", "account_id": "b", "client_id": "d", "client_secret_file": "secret",
		 "api_url": "http://127.0.0.1:1/v2", "token_url": "http://127.0.0.1:1/oauth/token"}]`)
	accts, err := accounts(Config{AccountsFile: good, Getenv: env})
	if err != nil {
		t.Fatalf("accounts: %v", err)
	}
	if len(accts) != 2 || accts[0].ClientSecret != secret || accts[1].ClientSecret != secret || accts[1].APIURL == "" ||
		accts[0].ChatPolicy != dsar.ChatOwn || accts[1].ChatPolicy != "" ||
		accts[0].ControllerInfoFile != filepath.Join(dir, "acme-art15.json") || accts[1].ControllerInfoFile != "" {
		t.Errorf("accounts %+v", accts)
	}

	for _, tc := range []struct {
		name, body, want string
	}{
		{"not an array", `{"name": "x"}`, "JSON array"},
		{"unknown field", `[{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret": "inline"}]`, "unknown field"},
		{"bad plan", `[{"name": "x", "plan": "enterprise", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET"}]`, "plan"},
		{"bad chat policy", `[{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET", "chat_policy": "all"}]`, "chat_policy"},
		{"no name", `[{"plan": "pro", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET"}]`, "no name"},
		{"bad name", `[{"name": "a b", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET"}]`, "a name is"},
		{"no account id", `[{"name": "x", "plan": "pro", "client_id": "c", "client_secret_env": "ZOOM_SECRET"}]`, "account_id"},
		{"no client id", `[{"name": "x", "plan": "pro", "account_id": "a", "client_secret_env": "ZOOM_SECRET"}]`, "client_id"},
		{"no secret", `[{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c"}]`, "client_secret_env or client_secret_file"},
		{"both secrets", `[{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET", "client_secret_file": "secret"}]`, "not both"},
		{"empty env", `[{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret_env": "UNSET"}]`, "UNSET"},
		{"missing file", `[{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret_file": "nope"}]`, "client_secret_file"},
		{"twice", `[{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET"},
			{"name": "x", "plan": "pro", "account_id": "a", "client_id": "c", "client_secret_env": "ZOOM_SECRET"}]`, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := accounts(Config{AccountsFile: write(tc.body), Getenv: env})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}
