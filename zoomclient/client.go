// Package zoomclient is zoom-dsar's client of Zoom's REST API v2: the only
// package that knows how to talk to Zoom.
//
// One Client serves one Zoom account and is shared by every request on it:
// it owns the account's OAuth token (of a Server-to-Server app, or of an
// account-level OAuth app with its rotating refresh token), one throttle per
// rate-limit bucket (category of the general or Phone API) at a share of the
// plan's published limits, the daily-quota blocks and a retry budget. Every
// call is throttled, retried on transient failures with full-jitter backoff,
// and either returns a complete, well-formed answer or a typed error
// (*Error, *QuotaError) whose text holds no secret and no personal data.
package zoomclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Default endpoints of Zoom's API and token service.
const (
	DefaultAPIURL       = "https://api.zoom.us/v2"
	DefaultTokenURL     = "https://zoom.us/oauth/token"
	DefaultAuthorizeURL = "https://zoom.us/oauth/authorize"
)

// Clock is the client's time source. Token expiry, daily-quota resets and
// the recovery of a lowered rate are read from it; tests pass the
// emulator's clock.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Event describes one HTTP attempt, for metrics. Endpoint is the endpoint
// name (never a path with personal data).
type Event struct {
	Endpoint  string
	Bucket    Bucket
	Attempt   int           // 1 for the first try
	Status    int           // HTTP status; 0 if no answer
	Code      int           // Zoom error code; 0 if none
	RateLimit string        // X-RateLimit-Type of a 429: "QPS" or "Daily-limit"
	Wait      time.Duration // time spent in the throttle before the attempt
	Latency   time.Duration // time of the HTTP exchange
	Err       error         // transport or decode failure, if any
}

// Config configures a Client for one Zoom account.
type Config struct {
	AccountID, ClientID, ClientSecret string

	// App is the kind of the account's app: AppS2S (the default) or
	// AppOAuth. An OAuth app needs Grants, and no AccountID.
	App AppType
	// Grants keeps an OAuth app's tokens durably.
	Grants Grants
	// Name is the account's name in dsard's accounts file: the key of its
	// grant in Grants and the NAME of "dsarctl accounts authorize NAME" in
	// errors. Default AccountID.
	Name         string
	AuthorizeURL string // default DefaultAuthorizeURL
	// RedirectURL is the OAuth app's allow-listed redirect URL, where
	// Zoom sends the admin's browser with the code (Source.Authorize).
	RedirectURL string

	Plan     string // "free", "pro" or "business" (the default): selects the published limits
	APIURL   string // default DefaultAPIURL; a regional host or the emulator
	TokenURL string // default DefaultTokenURL

	// Share is the fraction of the plan's limits the client uses, in
	// (0, 1]; default 0.8. Zoom's limits are shared by all apps of the
	// account, so leave room for the others.
	Share float64
	// Limits overrides published per-second limits (requests per second)
	// by bucket, e.g. for an account with a negotiated limit or a test
	// emulator with shrunk limits. Share applies to these too.
	Limits map[Bucket]float64

	RecordingsHorizon int // months of cloud recordings to fetch; default 12
	// ChatPolicy says which other people's Team Chat messages a request
	// copies; default dsar.ChatConversations.
	ChatPolicy dsar.ChatPolicy

	MaxAttempts int           // HTTP attempts per call; default 5
	RetryBase   time.Duration // backoff base; default 100ms
	RetryCap    time.Duration // backoff cap; default 20s
	// RetryRatio is the account's retry budget: retries of transient
	// failures may add at most this fraction to the calls made (plus a
	// reserve of RetryReserve). Defaults 0.2 and 10.
	RetryRatio   float64
	RetryReserve float64
	CallTimeout  time.Duration // per HTTP attempt of an API call; default 30s

	HTTPClient *http.Client // default: a client of its own
	Clock      Clock        // default: the system clock
	Logger     *slog.Logger // default: discard
	Observe    func(Event)  // optional; called after every HTTP attempt; must not block
}

// Client calls Zoom for one account. It is safe for concurrent use.
type Client struct {
	cfg    Config
	api    string
	hc     *http.Client
	clock  Clock
	log    *slog.Logger
	auth   *tokenCache
	limits *throttles
	budget *retryBudget
	files  *breaker // for files outside the API, which no bucket throttles

	pickMu sync.Mutex        // held while a list for picks is fetched
	picks  map[string]picked // by endpoint name (pick)
}

// New returns a client for the account in cfg. It makes no call.
func New(cfg Config) (*Client, error) {
	setDefault(&cfg.App, AppS2S)
	setDefault(&cfg.Name, cfg.AccountID)
	switch cfg.App {
	case AppS2S:
		if cfg.AccountID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
			return nil, errors.New("zoomclient: account id, client id and client secret are required")
		}
	case AppOAuth:
		if cfg.Name == "" || cfg.ClientID == "" || cfg.ClientSecret == "" || cfg.Grants == nil {
			return nil, errors.New("zoomclient: an OAuth app needs the account's name (or id), client id and secret, and a grant store")
		}
	default:
		return nil, fmt.Errorf("zoomclient: unknown app type %q (want s2s or oauth)", cfg.App)
	}
	if cfg.Plan == "" {
		cfg.Plan = "business"
	}
	if _, ok := publishedLimits[cfg.Plan]; !ok {
		return nil, fmt.Errorf("zoomclient: unknown plan %q (want free, pro or business)", cfg.Plan)
	}
	if !cfg.ChatPolicy.Valid() {
		return nil, fmt.Errorf("zoomclient: unknown chat policy %q (want own, conversations or channels)", cfg.ChatPolicy)
	}
	if cfg.Share == 0 {
		cfg.Share = DefaultShare
	}
	if cfg.Share < 0 || cfg.Share > 1 {
		return nil, fmt.Errorf("zoomclient: share %v outside (0, 1]", cfg.Share)
	}
	for b, r := range cfg.Limits {
		if r <= 0 {
			return nil, fmt.Errorf("zoomclient: limit of %s must be positive", b)
		}
	}
	setDefault(&cfg.APIURL, DefaultAPIURL)
	setDefault(&cfg.TokenURL, DefaultTokenURL)
	setDefault(&cfg.AuthorizeURL, DefaultAuthorizeURL)
	for _, u := range []string{cfg.APIURL, cfg.TokenURL, cfg.AuthorizeURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, errors.New("zoomclient: API, token and authorize URLs must be absolute http(s) URLs")
		}
	}
	if cfg.RecordingsHorizon == 0 {
		cfg.RecordingsHorizon = EndpointRecordings.Window.Months
	}
	if cfg.RecordingsHorizon < 0 {
		return nil, errors.New("zoomclient: negative recordings horizon")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	setDefault(&cfg.RetryBase, 100*time.Millisecond)
	setDefault(&cfg.RetryCap, 20*time.Second)
	setDefault(&cfg.RetryRatio, 0.2)
	setDefault(&cfg.RetryReserve, 10)
	setDefault(&cfg.CallTimeout, 30*time.Second)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		cfg:    cfg,
		api:    strings.TrimSuffix(cfg.APIURL, "/"),
		hc:     cfg.HTTPClient,
		clock:  cfg.Clock,
		log:    cfg.Logger,
		budget: newRetryBudget(cfg.RetryRatio, cfg.RetryReserve),
		files:  &breaker{},
	}
	c.limits = newThrottles(cfg.Plan, cfg.Share, cfg.Limits, cfg.Clock)
	c.auth = &tokenCache{
		s2s: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.TokenURL,
			EndpointParams: url.Values{
				"grant_type": {"account_credentials"},
				"account_id": {cfg.AccountID},
			},
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		hc:    cfg.HTTPClient,
		clock: cfg.Clock,
		sem:   make(chan struct{}, 1),
	}
	if cfg.App == AppOAuth {
		c.auth.oauth = &oauthApp{
			conf: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
				Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthorizeURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}},
			grants: cfg.Grants,
			name:   cfg.Name,
		}
	}
	return c, nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Rate returns the rate (requests per second) the client currently allows
// in bucket b: Share × the plan's limit, lowered for a while after
// per-second 429s.
func (c *Client) Rate(b Bucket) float64 { return c.limits.get(b).rate() }

// request is one logical API call.
type request struct {
	ep     Endpoint
	userID string // redacted from Zoom's messages
	item   string // replaces {item} in the path; redacted from Zoom's messages
	query  url.Values
	// check validates a 2xx body; an error makes the answer a transient
	// failure (garbled or truncated JSON) to be retried.
	check func([]byte) error
	calls int // HTTP attempts made so far, retries included
}

func (c *Client) newError(r *request, kind Kind, msg string) *Error {
	return &Error{Op: r.ep.Name, Path: r.ep.Path, Kind: kind, Message: msg}
}

// get performs r under the retry policy (do) and returns the body of a
// 2xx answer that passed r.check.
func (c *Client) get(ctx context.Context, r *request) ([]byte, error) {
	u := c.api + r.ep.path(r.userID, r.item)
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	res, err := c.do(ctx, r, c.limits.get(r.ep.Bucket()), func(ctx context.Context, tok string) result {
		r.calls++
		return c.attempt(ctx, u, tok, r)
	})
	if err != nil {
		return nil, err
	}
	return res.body, nil
}

func (c *Client) observe(r *request, attempt int, wait time.Duration, res result) {
	if res.err != nil {
		c.log.Debug("zoom call", "endpoint", r.ep.Name, "attempt", attempt, "err", res.err)
	} else {
		c.log.Debug("zoom call", "endpoint", r.ep.Name, "attempt", attempt, "status", res.status,
			"code", res.code, "rate_limit", res.rateLimit, "wait", wait, "latency", res.latency)
	}
	if c.cfg.Observe != nil {
		c.cfg.Observe(Event{Endpoint: r.ep.Name, Bucket: r.ep.Bucket(), Attempt: attempt, Status: res.status,
			Code: res.code, RateLimit: res.rateLimit, Wait: wait, Latency: res.latency, Err: res.err})
	}
}

// result is the outcome of one HTTP attempt.
type result struct {
	status    int
	code      int // Zoom's code on errors
	message   string
	body      []byte // 2xx API answers only
	header    http.Header
	rateLimit string
	tracking  string
	latency   time.Duration // set by do
	err       error         // transport, read or check failure: retried
	werr      error         // the caller's writer failed: not retried
}

// attempt makes one HTTP request under the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, u, tok string, r *request) result {
	actx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return result{err: errors.New("building request")}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return result{err: transportError(err)}
	}
	defer resp.Body.Close()
	res := result{
		status:    resp.StatusCode,
		header:    resp.Header,
		rateLimit: resp.Header.Get("X-RateLimit-Type"),
		tracking:  resp.Header.Get("X-Zm-Trackingid"),
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		res.err = fmt.Errorf("reading the answer: %w", transportError(err))
		return res
	}
	if resp.StatusCode/100 != 2 {
		res.code, res.message = parseZoomError(body, resp.StatusCode, r.userID)
		if r.item != "" {
			res.message = strings.ReplaceAll(res.message, r.item, "{item}")
		}
		return res
	}
	if r.check != nil {
		if err := r.check(body); err != nil {
			res.err = fmt.Errorf("malformed answer (%d bytes): %w", len(body), err)
			if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' {
				// Not even the start of Zoom's JSON: a web page, as a host
				// that is not the API sends.
				res.err = fmt.Errorf("the answer is not JSON (%d bytes): if this persists, check the account's api_url, which must end in /v2: %w", len(body), err)
			}
			return res
		}
	}
	res.body = body
	return res
}

// maxBody bounds an API answer; Zoom's largest pages are a few megabytes.
const maxBody = 64 << 20

// transportError strips the URL (which may hold an email) from a
// transport error and keeps its cause.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
