// Package zoomtest is an emulator of the parts of Zoom's REST API v2 that
// zoom-dsar uses, in the manner of net/http/httptest: NewServer gives a test
// a running API with accounts, credentials, a generated dataset, Zoom's
// errors, pagination, rate limits and injectable faults, plus a clock the
// test moves and a log of every request it served.
//
// Behaviour follows shared/zoom-api.md and Zoom's published OpenAPI
// specifications. Where Zoom does not document a behaviour the code says so
// in a comment and names the nearest documented behaviour it copies.
package zoomtest

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Plan is a Zoom account plan; it selects rate limits and what is allowed.
type Plan string

// Plans the emulator knows.
const (
	Free     Plan = "free"
	Pro      Plan = "pro"
	Business Plan = "business"
)

func (p Plan) valid() bool { return p == Free || p == Pro || p == Business }

// Account is a Zoom account with one app installed: a Server-to-Server
// OAuth app (the default) or an account-level OAuth app, which an admin
// authorizes at /oauth/authorize and which lives on rotating refresh
// tokens.
type Account struct {
	ID           string   `json:"id"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Plan         Plan     `json:"plan"`
	PhoneEnabled bool     `json:"phone_enabled"`
	Scopes       []string `json:"scopes"` // granted to the app; nil means every scope the emulator knows
	App          AppType  `json:"app,omitempty"`
	// RedirectURL is the OAuth app's allow-listed redirect URL: the only
	// redirect_uri /oauth/authorize and the code grant accept.
	RedirectURL string `json:"redirect_url,omitempty"`
}

// AppType is the kind of an account's app.
type AppType string

// App types. The empty AppType is AppS2S.
const (
	AppS2S   AppType = "s2s"   // Server-to-Server OAuth: grant_type=account_credentials
	AppOAuth AppType = "oauth" // account-level OAuth: authorization_code and refresh_token grants
)

func (t AppType) valid() bool { return t == "" || t == AppS2S || t == AppOAuth }

// Option configures an Emulator.
type Option func(*config)

type config struct {
	dataset     string
	datasetFile string
	plan        Plan
	planSet     bool
	phone       *bool
	seed        int64
	limits      Limits
	faults      Faults
	scopes      []string
	scopesSet   bool
	oauthURL    *string // WithOAuthApp: the redirect URL
	start       time.Time
	frozen      bool
	chat        chatConfig
}

// WithDataset selects a generated dataset: "tiny" (the default),
// "reference" or "large".
func WithDataset(name string) Option { return func(c *config) { c.dataset = name } }

// WithDatasetFile loads the dataset from a JSON file (the format of
// Dataset, as written by Dataset.WriteJSON).
func WithDatasetFile(path string) Option { return func(c *config) { c.datasetFile = path } }

// WithPlan sets the plan of the primary account, the one that holds
// jane.doe@example.com. The default is Business.
func WithPlan(p Plan) Option { return func(c *config) { c.plan, c.planSet = p, true } }

// WithPhoneEnabled sets whether Zoom Phone is enabled on the primary
// account. The default is enabled on paid plans.
func WithPhoneEnabled(on bool) Option { return func(c *config) { c.phone = &on } }

// WithSeed sets the seed of generated data, credentials and faults.
func WithSeed(seed int64) Option { return func(c *config) { c.seed = seed } }

// WithLimits overrides rate limits; tests shrink them to reach a limit in a
// few calls.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithFaults sets the injected faults (see Faults).
func WithFaults(f Faults) Option { return func(c *config) { c.faults = f } }

// WithScopes sets the scopes granted to the primary account's app. The
// default is every scope the emulated endpoints need.
func WithScopes(scopes ...string) Option {
	return func(c *config) { c.scopes = append([]string(nil), scopes...); c.scopesSet = true }
}

// WithOAuthApp makes the primary account's app an account-level OAuth app
// whose allow-listed redirect URL is redirectURL. Its admin's consent at
// /oauth/authorize is granted unless SetConsent(false) says otherwise.
func WithOAuthApp(redirectURL string) Option { return func(c *config) { c.oauthURL = &redirectURL } }

// WithStartTime sets where the emulator clock starts; the default is
// time.Now(). Generated data is anchored to the start day, so a fixed start
// time gives identical data.
func WithStartTime(t time.Time) Option { return func(c *config) { c.start = t } }

// WithFrozenClock stops real time from moving the emulator clock: it moves
// only by Clock.Advance and Clock.Set, so rate-limit windows, token expiry
// and timers are exactly where a test puts them.
func WithFrozenClock() Option { return func(c *config) { c.frozen = true } }

// Server is an Emulator listening on a loopback port.
type Server struct {
	*Emulator
	URL          string // http://127.0.0.1:port
	APIURL       string // URL + "/v2"
	TokenURL     string // URL + "/oauth/token"
	AuthorizeURL string // URL + "/oauth/authorize"
	RevokeURL    string // URL + "/oauth/revoke"
}

// TB is what NewServer needs of a test: *testing.T, *testing.B and
// testing.TB have it. It is an interface so that the emulator's package,
// which cmd/zoomfake and `dsard demo` import, does not import testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewServer starts an emulator on a loopback port and closes it when the
// test ends. Bad options fail the test.
func NewServer(t TB, opts ...Option) *Server {
	t.Helper()
	e, err := New(opts...)
	if err != nil {
		t.Fatalf("zoomtest.NewServer: %v", err)
	}
	hs := httptest.NewServer(e)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		e.Close()
	})
	return &Server{Emulator: e, URL: hs.URL, APIURL: hs.URL + "/v2", TokenURL: hs.URL + "/oauth/token",
		AuthorizeURL: hs.URL + "/oauth/authorize", RevokeURL: hs.URL + "/oauth/revoke"}
}

// Emulator is the Zoom API emulator as an http.Handler. It serves the API
// under /v2, the OAuth endpoints /oauth/authorize, /oauth/token and
// /oauth/revoke, file downloads, and its control endpoints under
// /_zoomfake/.
type Emulator struct {
	cfg     config
	clock   *Clock
	data    *Dataset
	index   *index
	chat    *chatIndex
	auth    *auth
	limiter *limiter
	faults  *faultInjector
	log     *requestLog
	mux     *http.ServeMux
	pageKey []byte

	mu          sync.Mutex
	rateLimited map[string]int
}

// New returns an emulator configured by opts.
func New(opts ...Option) (*Emulator, error) {
	cfg := config{dataset: "tiny", plan: Business, seed: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.plan.valid() {
		return nil, fmt.Errorf("zoomtest: unknown plan %q", cfg.plan)
	}
	if cfg.start.IsZero() {
		cfg.start = time.Now()
	}
	if err := cfg.limits.validate(); err != nil {
		return nil, fmt.Errorf("zoomtest: limits: %w", err)
	}
	if err := cfg.faults.Validate(); err != nil {
		return nil, fmt.Errorf("zoomtest: faults: %w", err)
	}
	e := &Emulator{cfg: cfg, clock: newClock(cfg.start, cfg.frozen), rateLimited: map[string]int{}, log: newRequestLog()}
	var err error
	if cfg.datasetFile != "" {
		e.data, err = LoadDataset(cfg.datasetFile)
	} else {
		e.data, err = Generate(cfg.dataset, GenerateOptions{Seed: cfg.seed, Start: cfg.start, Plan: cfg.plan, PhoneEnabled: cfg.phone})
	}
	if err != nil {
		return nil, fmt.Errorf("zoomtest: %w", err)
	}
	if cfg.datasetFile != "" {
		if a := e.data.primary(); a != nil {
			if cfg.planSet || a.Plan == "" {
				a.Plan = cfg.plan
			}
			if cfg.phone != nil {
				a.PhoneEnabled = *cfg.phone
			}
		}
	}
	if a := e.data.primary(); a != nil {
		if cfg.scopesSet {
			a.Scopes = cfg.scopes
		}
		if cfg.oauthURL != nil {
			a.App, a.RedirectURL = AppOAuth, *cfg.oauthURL
		}
	}
	if err := e.data.validate(); err != nil {
		return nil, fmt.Errorf("zoomtest: dataset: %w", err)
	}
	e.index = buildIndex(e.data)
	e.chat = buildChatIndex(e.data, e.index)
	k := sha256.Sum256([]byte(fmt.Sprintf("zoomfake page key %d", cfg.seed)))
	e.pageKey = k[:]
	e.auth = newAuth(e)
	e.limiter = newLimiter(cfg.limits)
	e.faults = newFaultInjector(cfg.seed, cfg.faults)
	e.mux = e.routes()
	return e, nil
}

// Close stops the emulator's timers. A closed emulator still serves.
func (e *Emulator) Close() { e.clock.stopAll() }

// Account returns the primary account, the one that holds
// jane.doe@example.com.
func (e *Emulator) Account() Account { return e.data.Accounts[0].Account }

// Accounts returns every account, the primary first.
func (e *Emulator) Accounts() []Account {
	out := make([]Account, len(e.data.Accounts))
	for i := range e.data.Accounts {
		out[i] = e.data.Accounts[i].Account
	}
	return out
}

// Clock returns the emulator clock. Moving it moves token expiry, page-token
// expiry, rate-limit windows and the daily reset.
func (e *Emulator) Clock() *Clock { return e.clock }

// Log returns a copy of the request log, in order of arrival. It first
// waits for the requests that arrived before the call to finish, so a
// request in flight (a slow fault, a download being read) delays it.
func (e *Emulator) Log() []LogEntry { return e.log.entries() }

// SetFaults replaces the injected faults. Rates are clamped to [0, 1];
// use Faults.Validate first to reject bad input instead.
func (e *Emulator) SetFaults(f Faults) { e.faults.set(f) }

// RateLimited returns the number of 429 responses by X-RateLimit-Type
// ("QPS", "Daily-limit").
func (e *Emulator) RateLimited() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.rateLimited))
	for k, v := range e.rateLimited {
		out[k] = v
	}
	return out
}

// RevokeTokens makes every access token issued so far for the account
// invalid (401 code 124), as deactivating the app would.
func (e *Emulator) RevokeTokens(accountID string) { e.auth.revokeAll(accountID) }

// Deauthorize uninstalls the account's OAuth app, as an admin removing it
// from the Marketplace would: its access tokens answer 401 code 124 and its
// refresh tokens "Invalid Token!", until an admin authorizes it again.
func (e *Emulator) Deauthorize(accountID string) { e.auth.deauthorize(accountID) }

// SetConsent sets whether the admin grants consent at /oauth/authorize
// (the default) or denies it.
func (e *Emulator) SetConsent(granted bool) { e.auth.setConsent(granted) }

// Dataset returns the emulator's data. It is shared, not copied: treat it as
// read-only.
func (e *Emulator) Dataset() *Dataset { return e.data }

// JaneEmail is the well-known subject present in every dataset.
const JaneEmail = "jane.doe@example.com"
