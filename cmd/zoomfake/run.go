package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/flagenv"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// config is zoomfake's command line.
type config struct {
	listen    string
	dataset   string
	plan      string
	phone     bool
	seed      int64
	startTime string
	frozen    bool
	faults    string
	slowDelay time.Duration
	rateMode  string
	noLimits  bool
	rate      string
	phoneRate string
	daily     string
	phoneDay  string
	app       string
	redirect  string
	scopes    string
}

func newFlagSet(c *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("zoomfake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:9090", "address to listen on")
	fs.StringVar(&c.dataset, "dataset", "tiny", "dataset: tiny, reference, large, mixed, or a JSON file")
	fs.StringVar(&c.plan, "plan", "business", "plan of the primary account: free, pro, business")
	fs.BoolVar(&c.phone, "phone", true, "Zoom Phone enabled on the primary account (paid plans only)")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the data, credentials and faults")
	fs.StringVar(&c.startTime, "start-time", "", "RFC 3339 time the emulator clock starts at; default now")
	fs.BoolVar(&c.frozen, "frozen-clock", false, "move the clock only through POST /_zoomfake/clock")
	fs.StringVar(&c.faults, "faults", "", "fault rates, e.g. 503=0.05,reset=0.01 (500 502 503 504 reset truncate garble slow revoke)")
	fs.DurationVar(&c.slowDelay, "slow-delay", 3*time.Second, "delay of the slow fault")
	fs.StringVar(&c.rateMode, "rate-mode", "bucket", "per-second limit: bucket (token bucket) or window (fixed one-second window)")
	fs.BoolVar(&c.noLimits, "no-limits", false, "turn rate limiting off")
	fs.StringVar(&c.rate, "limit", "", "per-second limits, e.g. Light=2/s,Medium=1/s,Resource-intensive=5/m")
	fs.StringVar(&c.phoneRate, "phone-limit", "", "per-second limits of the Phone API, same syntax")
	fs.StringVar(&c.daily, "daily", "", "daily caps, e.g. Light=100,Heavy=50")
	fs.StringVar(&c.phoneDay, "phone-daily", "", "daily caps of the Phone API")
	fs.StringVar(&c.app, "app", "s2s", "app of the primary account: s2s (Server-to-Server OAuth) or oauth (account-level OAuth, needs -redirect-url)")
	fs.StringVar(&c.redirect, "redirect-url", "", "the OAuth app's allow-listed redirect URL, e.g. http://127.0.0.1:8765/callback")
	fs.StringVar(&c.scopes, "scopes", "", "scopes granted to the primary account's app, comma-separated; default every scope the emulated endpoints need")
	return fs
}

func usage(fs *flag.FlagSet, w io.Writer) func() {
	return func() {
		acct := zoomtest.Account{ID: "ACCOUNT_ID", ClientID: "CLIENT_ID", ClientSecret: "CLIENT_SECRET"}
		if d, err := zoomtest.Generate("tiny", zoomtest.GenerateOptions{Seed: 1}); err == nil {
			acct = d.Accounts[0].Account // credentials depend on -seed and -dataset only
		}
		fmt.Fprintf(w, `Usage: zoomfake [flags]

zoomfake serves an emulation of Zoom's REST API v2 (users, meetings,
webinars, cloud recordings, reports, Zoom Phone), its OAuth endpoints
(Server-to-Server and account-level OAuth apps), rate limits, pagination
and injectable faults.
On start it prints the address and the primary account's credentials.

With the defaults (-seed 1 -dataset tiny):

  TOKEN=$(curl -s -u %[1]s:%[2]s \
    -d grant_type=account_credentials -d account_id=%[3]s \
    http://127.0.0.1:9090/oauth/token | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:9090/v2/users/jane.doe@example.com

Apps and scopes: the primary account's app is Server-to-Server (-app s2s)
unless -app oauth -redirect-url URL makes it an account-level OAuth app:

  open 'http://127.0.0.1:9090/oauth/authorize?response_type=code&client_id=%[1]s&redirect_uri=URL&state=S'
      (consent is granted at once: a 302 to URL?code=CODE&state=S)
  curl -u %[1]s:%[2]s -d grant_type=authorization_code -d code=CODE \
    -d redirect_uri=URL http://127.0.0.1:9090/oauth/token    (access and refresh token)
  curl -u %[1]s:%[2]s -d grant_type=refresh_token -d refresh_token=RT \
    http://127.0.0.1:9090/oauth/token    (new tokens; RT stops working)
  curl -u %[1]s:%[2]s -d token=T http://127.0.0.1:9090/oauth/revoke

-scopes user:read:user:admin,phone:read:admin grants only those scopes to
the app, of either type; a call needing another scope answers 400 code 4711
and the token answer's "scope" lists the granted ones. With -dataset FILE,
each account's "scopes", "app" and "redirect_url" fields set the same.

Control endpoints:
  GET  /_zoomfake/log                       request log, JSON lines (?since=N)
  POST /_zoomfake/clock?advance=DURATION    move the clock (Go duration, e.g. 15m)
  POST /_zoomfake/clock?set=RFC3339         move the clock forward to a time
  POST /_zoomfake/faults                    replace fault settings (JSON)
  GET  /_zoomfake/accounts                  every account and its credentials
  GET  /_zoomfake/min_calls?user=EMAIL      the fewest calls that fetch all of a user's data
  POST /_zoomfake/consent?granted=false     the admin declines at /oauth/authorize (true: grants)
  POST /_zoomfake/deauthorize?account=ID    uninstall the account's OAuth app: its tokens stop working

Flags:
`, acct.ClientID, acct.ClientSecret, acct.ID)
		fs.PrintDefaults()
	}
}

// run is zoomfake: it serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := newFlagSet(&c, stderr)
	fs.Usage = usage(fs, stderr)
	if err := env(getenv).Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	opts, err := c.options()
	if err != nil {
		return err
	}
	e, err := zoomtest.New(opts...)
	if err != nil {
		return err
	}
	defer e.Close()
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	acct := e.Account()
	fmt.Fprintf(stdout, "zoomfake listening on http://%s account_id=%s client_id=%s client_secret=%s\n", ln.Addr(), acct.ID, acct.ClientID, acct.ClientSecret)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// env is the rule of zoomfake's environment fallbacks: every flag falls
// back to ZOOMFAKE_<NAME>, -start-time to ZOOMFAKE_START_TIME.
func env(getenv func(string) string) flagenv.Env {
	return flagenv.Env{Prefix: "ZOOMFAKE_", Getenv: getenv}
}

func (c *config) options() ([]zoomtest.Option, error) {
	opts := []zoomtest.Option{zoomtest.WithPlan(zoomtest.Plan(c.plan)), zoomtest.WithSeed(c.seed)}
	switch c.app {
	case "s2s":
		if c.redirect != "" {
			return nil, errors.New("-redirect-url: only an OAuth app (-app oauth) has one")
		}
	case "oauth":
		opts = append(opts, zoomtest.WithOAuthApp(c.redirect)) // New checks the URL
	default:
		return nil, fmt.Errorf("-app: %q: want s2s or oauth", c.app)
	}
	if c.scopes != "" {
		var scopes []string
		for _, s := range strings.Split(c.scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				scopes = append(scopes, s)
			}
		}
		opts = append(opts, zoomtest.WithScopes(scopes...))
	}
	if slices.Contains(zoomtest.DatasetNames(), c.dataset) {
		opts = append(opts, zoomtest.WithDataset(c.dataset))
	} else if _, err := os.Stat(c.dataset); err == nil || strings.HasSuffix(c.dataset, ".json") {
		opts = append(opts, zoomtest.WithDatasetFile(c.dataset))
	} else {
		opts = append(opts, zoomtest.WithDataset(c.dataset)) // New names the choices
	}
	if !c.phone {
		opts = append(opts, zoomtest.WithPhoneEnabled(false))
	}
	if c.startTime != "" {
		t, err := time.Parse(time.RFC3339, c.startTime)
		if err != nil {
			return nil, fmt.Errorf("-start-time: %w", err)
		}
		opts = append(opts, zoomtest.WithStartTime(t))
	}
	if c.frozen {
		opts = append(opts, zoomtest.WithFrozenClock())
	}
	faults := zoomtest.Faults{SlowDelay: c.slowDelay}
	if c.faults != "" {
		faults.Rates = map[zoomtest.Fault]float64{}
		for _, kv := range strings.Split(c.faults, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			p, err := strconv.ParseFloat(v, 64)
			if !ok || err != nil {
				return nil, fmt.Errorf("-faults: %q: want fault=rate", kv)
			}
			faults.Rates[zoomtest.Fault(k)] = p
		}
	}
	opts = append(opts, zoomtest.WithFaults(faults))
	l := zoomtest.Limits{Mode: zoomtest.RateMode(c.rateMode), Off: c.noLimits}
	var err error
	if l.Rate, err = parseRates(c.rate); err != nil {
		return nil, fmt.Errorf("-limit: %w", err)
	}
	if l.PhoneRate, err = parseRates(c.phoneRate); err != nil {
		return nil, fmt.Errorf("-phone-limit: %w", err)
	}
	if l.Daily, err = parseCaps(c.daily); err != nil {
		return nil, fmt.Errorf("-daily: %w", err)
	}
	if l.PhoneDaily, err = parseCaps(c.phoneDay); err != nil {
		return nil, fmt.Errorf("-phone-daily: %w", err)
	}
	return append(opts, zoomtest.WithLimits(l)), nil
}

// parseRates reads Category=N/s or N/m pairs.
func parseRates(s string) (map[string]zoomtest.Rate, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]zoomtest.Rate{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, unit, ok2 := strings.Cut(v, "/")
		per := map[string]time.Duration{"s": time.Second, "m": time.Minute}[unit]
		count, err := strconv.Atoi(n)
		if !ok || !ok2 || per == 0 || err != nil {
			return nil, fmt.Errorf("%q: want Category=N/s or N/m", kv)
		}
		out[k] = zoomtest.Rate{N: count, Per: per}
	}
	return out, nil
}

// parseCaps reads Category=N pairs.
func parseCaps(s string) (map[string]int, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("%q: want Category=N", kv)
		}
		out[k] = n
	}
	return out, nil
}
