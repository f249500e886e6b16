package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/dsar/rpc"
	"github.com/zoomdsar/zoom-dsar/store"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
)

// Run is dsard: it parses args (without the program name), starts the
// server and serves until ctx ends, then shuts down gracefully. Logs go to
// stderr as JSON. `dsard check ...` runs Check instead.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "check" {
		return Check(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := ParseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg.Logs = stderr
	d, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	// SIGHUP reloads the accounts file.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			_ = d.Reload(ctx) // logged; the accounts stay as they were
		case <-d.done:
			return d.err
		}
	}
}

// Daemon is a running dsard.
type Daemon struct {
	log     *slog.Logger
	addr    net.Addr
	metrics net.Addr
	pub     ed25519.PublicKey
	proc    *dsar.Processor
	zoom    *zoomAccounts
	done    chan struct{}
	err     error
}

// Addr returns the address the gRPC server listens on.
func (d *Daemon) Addr() net.Addr { return d.addr }

// MetricsAddr returns the address of the metrics listener, or nil.
func (d *Daemon) MetricsAddr() net.Addr { return d.metrics }

// PublicKey returns the key that verifies bundle signatures.
func (d *Daemon) PublicKey() ed25519.PublicKey { return d.pub }

// Wait blocks until the daemon has shut down, after its context ended.
func (d *Daemon) Wait() error {
	<-d.done
	return d.err
}

// Start opens the store, starts the processor and serves gRPC (and
// metrics) until ctx ends; then it shuts down (see Wait). It returns once
// the server is SERVING: the store is open and interrupted requests are
// scheduled.
func Start(ctx context.Context, cfg Config) (d *Daemon, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	level, _ := parseLevel(cfg.LogLevel)
	logs := cfg.Logs
	if logs == nil {
		logs = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: level}))

	// undo releases what Start has opened if it fails half-way.
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()

	auth, tlsConf, err := security(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if !cfg.Init {
		if err := lostStore(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	var m *metrics // set before anything lists requests
	lateCheck := make(chan error, 1)
	master, err := masterKey(cfg, log)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(filepath.Join(cfg.DataDir, storeName), store.Options{
		MasterKey:    master.key,
		CheckTimeout: cfg.CheckTimeout,
		OnLateCheck:  func(err error) { lateCheck <- err },
		OnSkip: func(id string, err error) {
			if m.skip(id) {
				log.Error("skipped a request whose record does not decode", "request", id, "err", err)
			}
		},
	})
	if err != nil {
		if master.created && errors.Is(err, store.ErrMasterKey) {
			// The store was sealed under a key that is not here: the new
			// one is of no use, and must not pass for a backup.
			_ = os.Remove(master.path)
			return nil, fmt.Errorf("open store: %w; %s was missing: restore it from a backup, or give -master-key", err, master.path)
		}
		return nil, fmt.Errorf("open store: %w", err)
	}
	undo = append(undo, func() { db.Close() })
	// The default key is created after the store, so that a first start
	// cut short never leaves a key without a store (see lostStore).
	key, err := signingKey(cfg, log)
	if err != nil {
		return nil, err
	}

	m = newMetrics(db)
	// One transport for every account, closed on shutdown, so that no
	// idle connection outlives the daemon.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	undo = append(undo, tr.CloseIdleConnections)
	zoom := &zoomAccounts{cfg: cfg, tr: tr, log: log, m: m, grants: db}
	zooms, err := zoom.load()
	if err != nil {
		return nil, err
	}
	if len(zooms) == 0 {
		log.Warn("no Zoom accounts configured: the API can be explored, but CreateAccessRequest answers NOT_FOUND until -accounts names some")
	} else {
		log.Info("zoom accounts", "accounts", zoom.names())
	}

	due := newDueRequests(db, zoom.names, time.Now, log)
	m.reg.MustRegister(breakers{statuses: zoom.statuses}, due)

	st := timedStore{Store: db, m: m}
	// Media files are sealed under their request's data key, which the
	// store keeps wrapped by the master key and destroys on purge.
	media := &bundle.MediaDir{Dir: filepath.Join(cfg.DataDir, "media"),
		Key: func(id string) ([]byte, error) { return db.DataKey(context.Background(), id) }}
	proc, err := dsar.NewProcessor(dsar.Config{
		Store:     st,
		Accounts:  zooms,
		Assembler: &bundle.Assembler{Store: db, Dir: filepath.Join(cfg.DataDir, "bundles"), Media: media, Key: key, Controller: zoom.controller},
		Media:     media,
		Logger:    log,
		Shard:     cfg.Shard,
		GiveUp:    cfg.GiveUp,
		AtRisk:    due.flagged,
		Retention: dsar.Retention{Bundles: cfg.RetainBundles, Downloads: cfg.RetainDownloads},
	})
	if err != nil {
		return nil, err
	}
	auth.Audit, auth.Logger = proc, log // refused calls are audited
	auth.OnFailure = m.authFailed
	pub := key.Public().(ed25519.PublicKey)
	svc, err := rpc.NewService(rpc.ServiceConfig{
		Processor:  proc,
		Bundles:    bundle.Files{},
		SigningKey: pub,
		Logger:     log,
		Windows: func(account, section, part string, start time.Time) []dsar.Span {
			if c := zoom.get(account); c != nil {
				return zoomclient.NewSource(c).Windows(section, part, start)
			}
			return nil
		},
		Served: func(n int) { m.bundleBytes.Add(float64(n)) },
	})
	if err != nil {
		return nil, err
	}
	health := rpc.NewHealth()
	srv, err := rpc.NewServer(rpc.ServerConfig{Service: svc, Auth: auth, Health: health, Logger: log, TLS: tlsConf,
		MaxStreams: uint32(cfg.MaxStreams), MaxWatches: cfg.MaxWatches,
		Unary: []grpc.UnaryServerInterceptor{m.grpc.UnaryServerInterceptor()}, Stream: []grpc.StreamServerInterceptor{m.grpc.StreamServerInterceptor()}})
	if err != nil {
		return nil, err
	}
	m.grpc.InitializeMetrics(srv) // every method's series from zero
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	undo = append(undo, func() { lis.Close() })

	var mlis net.Listener
	if cfg.MetricsListen != "" {
		if mlis, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("metrics listen: %w", err)
		}
		undo = append(undo, func() { mlis.Close() })
	}

	d = &Daemon{log: log, addr: lis.Addr(), pub: pub, done: make(chan struct{}), proc: proc, zoom: zoom}
	var wg sync.WaitGroup
	ctx, stop := context.WithCancel(ctx)
	var serveErr error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() { serveErr = err })
		stop()
	}
	wg.Go(func() {
		// A shutdown right after start may stop the server before Serve.
		if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			fail(fmt.Errorf("serve gRPC: %w", err))
		}
	})
	// A check of the store that outlived -check-timeout ends here: a
	// damaged store stops dsard.
	wg.Go(func() {
		select {
		case err := <-lateCheck:
			if err != nil {
				fail(fmt.Errorf("store: %w", err))
				return
			}
			log.Info("store check finished: consistent")
		case <-ctx.Done():
		}
	})
	var hs *http.Server
	if mlis != nil {
		d.metrics = mlis.Addr()
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
		probes(mux, health.Serving)
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		wg.Go(func() {
			if err := hs.Serve(mlis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fail(fmt.Errorf("serve metrics: %w", err))
			}
		})
	}

	// The processor outlives the signal: on shutdown Close lets pages being
	// committed finish.
	if err := proc.Start(context.WithoutCancel(ctx)); err != nil {
		stop()
		srv.Stop()
		if hs != nil {
			hs.Close()
		}
		wg.Wait()
		proc.Close()
		return nil, fmt.Errorf("resume requests: %w", err)
	}
	// Each account is checked before dsard says it serves: a request on
	// one that fails its check is refused, not failed after its calls.
	proc.CheckAccounts(ctx)
	health.SetServing()
	// Requests already past their due date are logged now, not at the
	// first scrape.
	if _, _, err := due.scan(ctx); err != nil {
		log.Error("requests past their due date not listed", "err", err)
	}
	attrs := []any{"addr", d.addr.String(), "tls", tlsConf != nil, "fingerprint", bundle.Fingerprint(pub)}
	if d.metrics != nil {
		attrs = append(attrs, "metrics", d.metrics.String())
	}
	log.Info("serving", attrs...)

	go func() {
		defer close(d.done)
		<-ctx.Done()
		log.Info("shutting down")
		health.Shutdown()
		svc.Close()
		graceful(srv, cfg.ShutdownGrace, log)
		if hs != nil {
			_ = hs.Close()
		}
		wg.Wait()
		perr := proc.Close()
		derr := db.Close()
		tr.CloseIdleConnections()
		d.err = errors.Join(serveErr, perr, derr)
		log.Info("stopped")
	}()
	return d, nil
}

// probes serves the liveness and readiness probes on mux: /healthz
// answers 200 while the process serves HTTP at all; /readyz 200 only
// while ready (the gRPC health: the store open, interrupted requests
// resumed, not shutting down), 503 otherwise.
func probes(mux *http.ServeMux, ready func() bool) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
}

// graceful stops accepting calls and waits up to grace for those in
// flight, then cuts them off.
func graceful(srv *grpc.Server, grace time.Duration, log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		log.Warn("calls still in flight after the shutdown grace; cutting them off", "grace", grace.String())
		srv.Stop()
		<-done
	}
}

// accounts returns the configured accounts with their secrets.
func accounts(cfg Config) ([]Account, error) {
	var accts []Account
	if cfg.AccountsFile != "" {
		a, err := LoadAccounts(cfg.AccountsFile)
		if err != nil {
			return nil, err
		}
		accts = a
	}
	accts = append(accts, cfg.Accounts...)
	seen := map[string]bool{}
	for i := range accts {
		if err := accts[i].validate(cfg.Getenv); err != nil {
			return nil, err
		}
		if seen[accts[i].Name] {
			return nil, fmt.Errorf("account %q is configured twice", accts[i].Name)
		}
		seen[accts[i].Name] = true
	}
	return accts, nil
}

// loadTokens reads the tokens file at path. dsard opens it and rpc parses
// it, so that the gRPC adapter opens no file by path; the errors name the
// file, and ParseTokens' name the line.
func loadTokens(path string) (*rpc.Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load tokens: %w", err)
	}
	defer f.Close()
	t, err := rpc.ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("load tokens %s: %w", path, err)
	}
	return t, nil
}

// security returns the authentication of callers and the server's TLS
// configuration (nil for plaintext).
func security(cfg Config, log *slog.Logger) (*rpc.Auth, *tls.Config, error) {
	auth := &rpc.Auth{}
	if cfg.TokensFile != "" {
		t, err := loadTokens(cfg.TokensFile)
		if err != nil {
			return nil, nil, err
		}
		auth.Tokens = t
	}
	var tc *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("TLS certificate: %w", err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.ClientCA != "" {
		pem, err := os.ReadFile(cfg.ClientCA)
		if err != nil {
			return nil, nil, fmt.Errorf("client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("client CA %s holds no PEM certificate", cfg.ClientCA)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
		auth.ClientCerts = true
	}
	if (auth.Tokens == nil || auth.Tokens.Len() == 0) && !auth.ClientCerts {
		log.Warn("no -tokens and no -client-ca: every call except health and reflection is refused")
	}
	return auth, tc, nil
}

// masterKeyFile is the master key read for the store, and whether it was
// created now.
type masterKeyFile struct {
	key     []byte
	path    string
	created bool
}

// masterKey loads the configured master key of the store, or loads or
// creates the default one in the data directory. It comes before the store
// (which needs it): a first start cut short may leave a key without a
// store, which the next start uses.
func masterKey(cfg Config, log *slog.Logger) (masterKeyFile, error) {
	if cfg.MasterKey != "" {
		k, err := store.LoadMasterKey(cfg.MasterKey)
		return masterKeyFile{key: k, path: cfg.MasterKey}, err
	}
	name := filepath.Join(cfg.DataDir, masterKeyName)
	k, created, err := store.LoadOrCreateMasterKey(name)
	if err != nil {
		return masterKeyFile{}, err
	}
	if created {
		log.Warn("created the store's master key: back it up apart from the data directory; without it the data of unfinished requests is lost", "path", name)
	}
	return masterKeyFile{key: k, path: name, created: created}, nil
}

// signingKey loads the configured key, or loads or creates the default one
// in the data directory.
func signingKey(cfg Config, log *slog.Logger) (ed25519.PrivateKey, error) {
	if cfg.SigningKey != "" {
		k, err := bundle.LoadKey(cfg.SigningKey)
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		return k, nil
	}
	name := filepath.Join(cfg.DataDir, "signing.key")
	k, created, err := bundle.LoadOrCreateKey(name)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if created {
		log.Info("created a signing key", "path", name, "public_key", name+".pub",
			"fingerprint", bundle.Fingerprint(k.Public().(ed25519.PublicKey)))
	}
	return k, nil
}
