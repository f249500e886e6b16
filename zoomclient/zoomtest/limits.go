package zoomtest

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Rate-limit categories, as Zoom names them in X-RateLimit-Category.
const (
	Light             = "Light"
	Medium            = "Medium"
	Heavy             = "Heavy"
	ResourceIntensive = "Resource-intensive"
)

var categories = []string{Light, Medium, Heavy, ResourceIntensive}

// RateMode selects how the per-second limit is enforced.
type RateMode string

const (
	// TokenBucket refills continuously and allows a burst of one window's
	// worth of requests. The default.
	TokenBucket RateMode = "bucket"
	// FixedWindow counts requests per aligned window (one second, or one
	// minute for Resource-intensive) of emulator time.
	FixedWindow RateMode = "window"
)

// Rate is N requests per Per.
type Rate struct {
	N   int           `json:"n"`
	Per time.Duration `json:"per"`
}

func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.N, r.Per) }

// Limits overrides the per-plan rate limits of zoom-api.md §4. Zero values
// keep the published figure, so a test sets only what it shrinks.
type Limits struct {
	Mode RateMode `json:"mode,omitempty"`
	Off  bool     `json:"off,omitempty"` // no rate limiting at all

	// Rate and PhoneRate override the per-second (per-minute for
	// Resource-intensive) limits by category, for the general and the
	// Zoom Phone API.
	Rate      map[string]Rate `json:"rate,omitempty"`
	PhoneRate map[string]Rate `json:"phone_rate,omitempty"`

	// Daily and PhoneDaily override daily caps by category. Where the plan
	// shares one cap between Heavy and Resource-intensive, setting either
	// sets the shared cap. A category without a published cap gets one of
	// its own.
	Daily      map[string]int `json:"daily,omitempty"`
	PhoneDaily map[string]int `json:"phone_daily,omitempty"`
}

func (l Limits) validate() error {
	switch l.Mode {
	case "", TokenBucket, FixedWindow:
	default:
		return fmt.Errorf("unknown rate mode %q", l.Mode)
	}
	for _, m := range []map[string]Rate{l.Rate, l.PhoneRate} {
		for c, r := range m {
			if !knownCategory(c) {
				return fmt.Errorf("unknown category %q", c)
			}
			if r.N <= 0 || r.Per <= 0 {
				return fmt.Errorf("category %s: rate %v must be positive", c, r)
			}
		}
	}
	for _, m := range []map[string]int{l.Daily, l.PhoneDaily} {
		for c, n := range m {
			if !knownCategory(c) {
				return fmt.Errorf("unknown category %q", c)
			}
			if n <= 0 {
				return errors.New("daily caps must be positive")
			}
		}
	}
	return nil
}

func knownCategory(c string) bool {
	for _, k := range categories {
		if k == c {
			return true
		}
	}
	return false
}

type planLimits struct {
	rate   map[string]Rate
	daily  map[string]int // by category; a shared cap appears under sharedKey
	shared bool           // Heavy and Resource-intensive share daily[sharedKey]
}

const sharedKey = "Heavy+Resource-intensive"

func perSec(n int) Rate { return Rate{N: n, Per: time.Second} }
func perMin(n int) Rate { return Rate{N: n, Per: time.Minute} }

// publishedLimits returns zoom-api.md §4's tables for a plan.
func publishedLimits(p Plan, phone bool) planLimits {
	if phone {
		// Zoom publishes Phone limits for Pro and Business+ only; a free
		// account has no Phone, so it gets the Pro figures.
		if p == Business {
			return planLimits{rate: map[string]Rate{Light: perSec(40), Medium: perSec(20), Heavy: perSec(10), ResourceIntensive: perMin(10)},
				daily: map[string]int{sharedKey: 30000}, shared: true}
		}
		return planLimits{rate: map[string]Rate{Light: perSec(20), Medium: perSec(10), Heavy: perSec(5), ResourceIntensive: perMin(5)},
			daily: map[string]int{sharedKey: 15000}, shared: true}
	}
	switch p {
	case Free:
		return planLimits{rate: map[string]Rate{Light: perSec(4), Medium: perSec(2), Heavy: perSec(1), ResourceIntensive: perMin(10)},
			daily: map[string]int{Light: 6000, Medium: 2000, Heavy: 1000, ResourceIntensive: 30000}}
	case Pro:
		return planLimits{rate: map[string]Rate{Light: perSec(30), Medium: perSec(20), Heavy: perSec(10), ResourceIntensive: perMin(10)},
			daily: map[string]int{sharedKey: 30000}, shared: true}
	default:
		return planLimits{rate: map[string]Rate{Light: perSec(80), Medium: perSec(60), Heavy: perSec(40), ResourceIntensive: perMin(20)},
			daily: map[string]int{sharedKey: 60000}, shared: true}
	}
}

// effective applies the overrides in l to the published figures.
func (l Limits) effective(p Plan, phone bool) planLimits {
	pl := publishedLimits(p, phone)
	rates, daily := l.Rate, l.Daily
	if phone {
		rates, daily = l.PhoneRate, l.PhoneDaily
	}
	for c, r := range rates {
		pl.rate[c] = r
	}
	for c, n := range daily {
		if pl.shared && (c == Heavy || c == ResourceIntensive) {
			if c == ResourceIntensive && daily[Heavy] != 0 {
				continue // Heavy wins when both are set
			}
			pl.daily[sharedKey] = n
			continue
		}
		pl.daily[c] = n
	}
	return pl
}

// dailyKey is the counter a category's requests count against, or "".
func (pl planLimits) dailyKey(cat string) string {
	if pl.shared && (cat == Heavy || cat == ResourceIntensive) {
		return sharedKey
	}
	if _, ok := pl.daily[cat]; ok {
		return cat
	}
	return ""
}

// limiter holds per-account, per-bucket state.
type limiter struct {
	mu      sync.Mutex
	limits  Limits
	buckets map[bucketKey]*bucket
	days    map[bucketKey]*dayCount
	plans   map[planKey]planLimits
}

type bucketKey struct {
	account string
	phone   bool
	name    string // category, or a daily counter name
}

type planKey struct {
	plan  Plan
	phone bool
}

type bucket struct {
	tokens float64
	last   time.Time
	window int64 // FixedWindow: index of the current window
	count  int
}

type dayCount struct {
	day   int64 // days since the Unix epoch, UTC
	count int
}

func newLimiter(l Limits) *limiter {
	return &limiter{limits: l, buckets: map[bucketKey]*bucket{}, days: map[bucketKey]*dayCount{}, plans: map[planKey]planLimits{}}
}

// verdict is the outcome of one admission.
type verdict struct {
	ok        bool
	kind      string // "QPS" or "Daily-limit" when !ok
	limit     int    // the daily cap that applies, 0 if none
	remaining int    // requests left today under that cap
	reset     time.Time
}

// admit decides whether a request in category cat may proceed at now, and
// counts it if so.
func (l *limiter) admit(acct string, plan Plan, phone bool, cat string, now time.Time) verdict {
	if l.limits.Off || cat == "" {
		return verdict{ok: true}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	pk := planKey{plan, phone}
	pl, ok := l.plans[pk]
	if !ok {
		pl = l.limits.effective(plan, phone)
		l.plans[pk] = pl
	}
	v := verdict{ok: true}
	today := now.Unix()
	if today < 0 {
		today -= 86399
	}
	today /= 86400
	var dc *dayCount
	if dk := pl.dailyKey(cat); dk != "" {
		v.limit = pl.daily[dk]
		k := bucketKey{acct, phone, "daily:" + dk}
		dc = l.days[k]
		if dc == nil {
			dc = &dayCount{day: today}
			l.days[k] = dc
		}
		if dc.day != today {
			dc.day, dc.count = today, 0
		}
		if dc.count >= v.limit {
			return verdict{kind: "Daily-limit", limit: v.limit, reset: time.Unix((today+1)*86400, 0).UTC()}
		}
	}
	r := pl.rate[cat]
	k := bucketKey{acct, phone, cat}
	b := l.buckets[k]
	if b == nil {
		b = &bucket{tokens: float64(r.N), last: now, window: -1}
		l.buckets[k] = b
	}
	if l.limits.Mode == FixedWindow {
		w := now.UnixNano() / int64(r.Per)
		if w != b.window {
			b.window, b.count = w, 0
		}
		if b.count >= r.N {
			return verdict{kind: "QPS"}
		}
		b.count++
	} else {
		if el := now.Sub(b.last); el > 0 {
			b.tokens = math.Min(float64(r.N), b.tokens+el.Seconds()*float64(r.N)/r.Per.Seconds())
			b.last = now
		}
		if b.tokens < 1 {
			return verdict{kind: "QPS"}
		}
		b.tokens--
	}
	if dc != nil {
		dc.count++
		v.remaining = v.limit - dc.count
	}
	return v
}
