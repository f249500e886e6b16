// Package daemon is dsard: its configuration, the wiring of store,
// processor and gRPC service, the metrics listener and graceful shutdown.
// It is a package so that `dsard demo` and end-to-end tests can run a
// dsard in-process; cmd/dsard only turns signals into a context.
package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"time"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/flagenv"
	"github.com/zoomdsar/zoom-dsar/dsar"
)

// DefaultListen is where dsard listens unless told otherwise.
const DefaultListen = "127.0.0.1:7443"

// Config is dsard's configuration. Every field that is a flag has a DSAR_*
// environment fallback; secrets are never flags, only files (or, for Zoom
// client secrets, environment variables named in the accounts file).
type Config struct {
	Listen        string // gRPC address
	DataDir       string // the store, bundles and the default signing key
	AccountsFile  string // JSON array of Account
	TLSCert       string // server certificate (PEM file)
	TLSKey        string // its private key (PEM file)
	ClientCA      string // CAs of accepted client certificates (PEM file)
	TokensFile    string // bearer tokens (rpc.ParseTokens)
	SigningKey    string // Ed25519 private key (PEM); default DataDir/signing.key, created if absent
	MasterKey     string // the store's master key (hex); default DataDir/master.key, created if absent
	MetricsListen string // Prometheus listener; empty: none
	// MetricsRemote allows a MetricsListen that is not loopback: the
	// metrics are served without authentication.
	MetricsRemote bool
	MaxStreams    uint   // concurrent calls per connection; 0: rpc.DefaultMaxStreams
	MaxWatches    int    // Watch streams open per caller; 0: rpc.DefaultMaxWatches
	LogLevel      string // debug, info, warn, error
	Shard         string // prefix of new request ids
	// ShutdownGrace bounds how long a shutdown waits for calls in flight
	// (downloads) before it cuts them off.
	ShutdownGrace time.Duration
	// Init allows starting with a missing or empty store although bundles
	// or the default signing key exist in DataDir: without it such a start
	// is refused, as the store was probably lost.
	Init bool
	// CheckTimeout bounds the consistency check of the store at start
	// (store.Options.CheckTimeout): after it dsard serves and the check
	// goes on; zero is store.DefaultCheckTimeout, negative no check.
	CheckTimeout time.Duration
	// GiveUp is how long before a request's due date a Zoom outage fails
	// it instead of parking it (dsar.Config.GiveUp).
	GiveUp time.Duration
	// RetainBundles is how long after completion a bundle is kept
	// (dsar.Retention.Bundles; zero: its default, which ParseFlags
	// refuses from the command line); RetainDownloads, when above zero, how many
	// whole downloads it is kept for at most.
	RetainBundles   time.Duration
	RetainDownloads int

	// The fields below are for programs that run dsard in-process.

	// Accounts are added to those of AccountsFile.
	Accounts []Account
	// Getenv reads the environment for client_secret_env; nil: none.
	Getenv func(string) string
	// Logs receives the JSON logs; nil: io.Discard.
	Logs io.Writer
}

// env is the rule of dsard's environment fallbacks: -data-dir falls back
// to DSAR_DATA_DIR, and so on for every flag.
func env(getenv func(string) string) flagenv.Env {
	return flagenv.Env{Prefix: "DSAR_", Getenv: getenv}
}

// flagSet declares dsard's flags on c.
func (c *Config) flagSet(out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dsard", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Listen, "listen", DefaultListen, "gRPC listen `address`; without TLS it must be a loopback address")
	fs.StringVar(&c.DataDir, "data-dir", "", "`directory` of the store, the bundles and the default signing key (required)")
	fs.StringVar(&c.AccountsFile, "accounts", "", "Zoom accounts `file` (JSON); without it dsard starts with no account")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.StringVar(&c.ClientCA, "client-ca", "", "`file` of CA certificates (PEM) that sign accepted client certificates")
	fs.StringVar(&c.TokensFile, "tokens", "", "bearer tokens `file`: lines of <role> <name> <sha256-hex-of-token>")
	fs.StringVar(&c.SigningKey, "signing-key", "", "Ed25519 signing key `file` (PEM PKCS #8); default <data-dir>/signing.key, created if absent")
	fs.StringVar(&c.MasterKey, "master-key", "", "master key `file` (32 bytes in hex) that seals the store's personal data; default <data-dir>/master.key,\n"+
		"created if absent. Back it up: without it the data of unfinished requests is lost")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "Prometheus metrics listen `address`; empty: no metrics. Served without authentication:\n"+
		"it must be a loopback address unless -metrics-remote")
	fs.BoolVar(&c.MetricsRemote, "metrics-remote", false, "allow a -metrics-listen address that is not loopback (put a firewall or proxy in front)")
	fs.UintVar(&c.MaxStreams, "max-streams", 0, "concurrent calls per client connection; 0: 256")
	fs.IntVar(&c.MaxWatches, "max-watches", 0, "Watch streams open at once per caller; 0: 64")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&c.Shard, "shard", "", "shard `name` prefixed to new request ids (a-z, 0-9)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 30*time.Second, "how long a shutdown waits for calls in flight")
	fs.DurationVar(&c.GiveUp, "give-up-before", dsar.DefaultGiveUp, "how long before a request's due date a Zoom outage fails it, so that a person can still act, instead of waiting for Zoom")
	fs.DurationVar(&c.RetainBundles, "retain-bundles", dsar.DefaultBundleRetention, "how long after completion a bundle is kept, above zero; then it is deleted and the request's email replaced by its hash")
	fs.IntVar(&c.RetainDownloads, "retain-downloads", 0, "delete a bundle once it was downloaded whole this many times; 0: no limit (the time limit still applies)")
	fs.DurationVar(&c.CheckTimeout, "check-timeout", 0, "how long start waits for the consistency check of dsar.db before serving while it goes on; 0: 10s, negative: no check")
	fs.BoolVar(&c.Init, "init", false, "start with a new store although bundles or a signing key exist in the data directory")
	return fs
}

// ParseFlags returns the configuration of args (without the program name),
// falling back to DSAR_* variables, and validates it.
func ParseFlags(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	var c Config
	fs := c.flagSet(usage)
	if err := env(getenv).Parse(fs, args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; dsard takes only flags", fs.Arg(0))
	}
	// Zero is Config's "unset", which Start makes the default; from the
	// command line it would keep bundles for the default 30 days while
	// the operator asked for something else (none, or for ever): refused.
	if c.RetainBundles == 0 {
		return c, fmt.Errorf("-retain-bundles (DSAR_RETAIN_BUNDLES) must be above zero: a bundle holds personal data and is kept for a set time; the default is %s", dsar.DefaultBundleRetention)
	}
	c.Getenv = getenv
	return c, c.Validate()
}

// Validate checks the configuration before anything is opened.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("no data directory: set -data-dir or DSAR_DATA_DIR")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("-tls-cert and -tls-key go together: set both or neither")
	}
	if c.ClientCA != "" && c.TLSCert == "" {
		return errors.New("-client-ca needs TLS: set -tls-cert and -tls-key too")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.GiveUp < 0 {
		return errors.New("-give-up-before must not be negative")
	}
	if c.RetainBundles < 0 {
		return errors.New("-retain-bundles must not be negative")
	}
	if c.RetainDownloads < 0 {
		return errors.New("-retain-downloads must not be negative")
	}
	if c.ShutdownGrace < 0 {
		return errors.New("-shutdown-grace must not be negative")
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("-listen %q: want host:port: %w", c.Listen, err)
	}
	if c.TLSCert == "" && !loopback(host) {
		return fmt.Errorf("refusing to listen on %s without TLS: bearer tokens would cross the network in clear; set -tls-cert and -tls-key, or listen on 127.0.0.1", c.Listen)
	}
	if c.MetricsListen != "" {
		host, _, err := net.SplitHostPort(c.MetricsListen)
		if err != nil {
			return fmt.Errorf("-metrics-listen %q: want host:port: %w", c.MetricsListen, err)
		}
		if !loopback(host) && !c.MetricsRemote {
			return fmt.Errorf("refusing to serve metrics on %s: they are served without authentication; listen on 127.0.0.1, or set -metrics-remote and protect the port", c.MetricsListen)
		}
	}
	if c.MaxStreams > math.MaxUint32 {
		return fmt.Errorf("-max-streams %d is more than %d", c.MaxStreams, uint32(math.MaxUint32))
	}
	if c.MaxWatches < 0 {
		return errors.New("-max-watches must not be negative")
	}
	return nil
}

// loopback reports whether host names only this machine. An empty host
// (all interfaces) and other names are not loopback.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("-log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}
