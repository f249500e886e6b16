package zoomclient

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Kind classifies a failed Zoom call by what the caller should do about it.
type Kind int

const (
	Other            Kind = iota // anything not classified below
	NotFound                     // the addressed user or file does not exist: a documented answer of the endpoint (answers)
	NotApplicable                // the data cannot exist (Phone off, no licence, no add-on): a documented answer of the endpoint
	Invalid                      // Zoom rejected the request (400), or a 404 no documentation gives: check api_url
	Unauthorized                 // credentials rejected, token not accepted after renewal, or no permission
	MissingScope                 // the app lacks a scope; Error.Scopes names it
	PageTokenExpired             // next_page_token expired (15 min): redo the window
	Unavailable                  // Zoom kept failing: attempts or the account's retry budget exhausted
	RateLimited                  // per-second 429s persisted through every attempt
)

var kindNames = [...]string{"other", "not found", "not applicable", "invalid request", "unauthorized",
	"missing scope", "page token expired", "unavailable", "rate limited"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Error is a failed Zoom call. Its text holds no secret and no personal
// data: Op and Path name the endpoint and its template, never the email in
// the path, and Zoom's message is redacted of the addressed user and of
// anything that looks like an email address.
type Error struct {
	Op         string // endpoint name, e.g. "recordings"
	Path       string // endpoint template, e.g. "/users/{userId}/recordings"
	Status     int    // HTTP status, 0 if no answer
	Code       int    // Zoom's error code, 0 if none
	Message    string // Zoom's message (redacted) or our description
	Kind       Kind
	Scopes     []string // MissingScope: the scopes to grant
	TrackingID string   // Zoom's x-zm-trackingid, for Zoom support
	Attempts   int      // HTTP attempts made
	Err        error    // cause, if any (network error, decode error)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("zoomclient: ")
	b.WriteString(e.Op)
	if e.Path != "" {
		b.WriteString(" (" + e.Path + ")")
	}
	b.WriteString(": " + e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " code %d", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.TrackingID != "" {
		b.WriteString(" (tracking id " + e.TrackingID + ")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// QuotaError reports a Daily-limit 429: no call in the category is made
// before Reset, which is expressed in the client's clock.
type QuotaError struct {
	Op       string
	Category Category
	Phone    bool
	Reset    time.Time
}

func (e *QuotaError) Error() string {
	api := "general"
	if e.Phone {
		api = "phone"
	}
	return fmt.Sprintf("zoomclient: %s: daily rate limit of %s %s API reached; next call after %s",
		e.Op, api, e.Category, e.Reset.UTC().Format(time.RFC3339))
}

func kindOf(err error) (Kind, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, true
	}
	return 0, false
}

func isKind(err error, k Kind) bool {
	got, ok := kindOf(err)
	return ok && got == k
}

// IsNotFound reports whether err says the addressed user or object does not exist.
func IsNotFound(err error) bool { return isKind(err, NotFound) }

// IsNotApplicable reports whether err says the data cannot exist for this
// user or account (no Phone, no licence, no add-on, free plan): an answer,
// not a failure.
func IsNotApplicable(err error) bool { return isKind(err, NotApplicable) }

// IsPageTokenExpired reports whether the window must be fetched again from its start.
func IsPageTokenExpired(err error) bool { return isKind(err, PageTokenExpired) }

// IsUnauthorized reports whether credentials or permissions were refused,
// including a missing scope.
func IsUnauthorized(err error) bool {
	return isKind(err, Unauthorized) || isKind(err, MissingScope)
}

// IsQuota reports whether err is a Daily-limit and returns it.
func IsQuota(err error) (*QuotaError, bool) {
	var q *QuotaError
	ok := errors.As(err, &q)
	return q, ok
}

// Retryable reports whether the same call may succeed later without any
// change by an operator: Zoom unavailable, rate limited, or a daily quota
// (after its reset). It is false for answers (not found, not applicable)
// and for failures that need a person (credentials, scopes, bad requests).
func Retryable(err error) bool {
	if _, ok := IsQuota(err); ok {
		return true
	}
	k, ok := kindOf(err)
	return ok && (k == Unavailable || k == RateLimited)
}

var (
	emailRE  = regexp.MustCompile(`[^\s:,;"'<>()\[\]]+@[^\s:,;"'<>()\[\]]+`)
	scopesRE = regexp.MustCompile(`scopes?:\s*\[([^\]]*)\]`)
)

// redact removes the addressed user and anything like an email address
// from a message Zoom wrote.
func redact(msg, userID string) string {
	if userID != "" {
		msg = strings.ReplaceAll(msg, userID, "{userId}")
	}
	return emailRE.ReplaceAllString(msg, "[email]")
}

// parseScopes returns the scopes named in a 4700/4711 message such as
// "Invalid access token, does not contain scopes:[user:read:user:admin]."
func parseScopes(msg string) []string {
	m := scopesRE.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	var out []string
	for _, s := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, strings.Trim(s, `"'`))
	}
	return out
}
