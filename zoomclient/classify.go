package zoomclient

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// answer is an error answer Zoom documents for an endpoint that is not a
// failure: the addressed user does not exist (NotFound), or the data
// cannot exist for this user or account (NotApplicable).
type answer struct {
	Status, Code int
	Kind         Kind
	Reason       string // for a person, before Zoom's message; "" for Zoom's alone
	Doc          string // where Zoom documents it, if not on the endpoint's own operation
}

// anyCode matches every code of a status.
const anyCode = -1

// answers is every Zoom error answer that is not a failure, by endpoint
// path template. Each row is the endpoint's own documented answer in the
// spec named (keys of zoom-api.md; the trimmed copies are in
// zoomtest/testdata/openapi) unless Doc says where it comes from. Any
// other answer fails the call: above all a 404 that lacks the documented
// code, which is what a wrong api_url gets, never "no user".
var answers = map[string][]answer{
	// USR, MTG: 404 code 1001 "User does not exist: $userId."
	EndpointUser.Path:         {userNotExist},
	EndpointUserSettings.Path: {userNotExist},
	EndpointAssistants.Path:   {userNotExist},
	EndpointSchedulers.Path:   {userNotExist},
	// MTG: 404 code 1001 "User {userId} not exist or not belong to this
	// account."; 400 code 3161 "Meeting hosting and scheduling capabilities
	// are not allowed for your user account."
	EndpointMeetingsScheduled.Path: {userNotExist, {Status: 400, Code: 3161, Kind: NotApplicable,
		Reason: "the user may not host or schedule meetings"}},
	// MTG: 404 code 1001. The webinars operation documents no answer for a
	// user without the Webinar add-on; MTG documents 400 code 200 for it on
	// the other webinar operations of a user.
	EndpointWebinars.Path: {userNotExist, {Status: 400, Code: 200, Kind: NotApplicable,
		Reason: "the user has no Webinar licence",
		Doc: "MTG GET /users/{userId}/webinar_templates: 400 code 200 \"Cannot use webinar API, you need to subscribe webinar plan\"; " +
			"GET /webinars/{webinarId}/livestream: 400 code 200 \"Webinar plan is missing\""}},
	// MTG: 404 code 1001 "User {userId} does not exist, or does not belong
	// to this account."
	EndpointRecordings.Path: {userNotExist},
	// PH26 (and PH24): 404 code 1001 "User does not exist: {userId}." is
	// the only answer documented for a user who exists (the lookup found
	// it) but holds no Phone licence; 403 code 2031 when Phone is off.
	EndpointPhoneUser.Path:       {phoneOff, noPhoneUser},
	EndpointPhoneSettings.Path:   {phoneOff, noPhoneUser},
	EndpointVoicemails.Path:      {phoneOff, noPhoneUser},
	EndpointPhoneRecordings.Path: {phoneOff, noPhoneUser},
	// PH26 (and PH24): call_history says 404 code 300 "User does not
	// exist: {userId}." where the others say 1001.
	EndpointCallHistory.Path: {phoneOff, {Status: 404, Code: 300, Kind: NotApplicable, Reason: noPhoneLicence}},
	// MTG: 400 code 200 "This is only available for paid
	// account:{accountId}." Its 404 code 1001 is not an answer: the lookup
	// found the user, so a report that does not know them must fail.
	EndpointMeetingsAttended.Path: {{Status: 400, Code: 200, Kind: NotApplicable, Reason: "usage reports need a Pro plan or higher"}},
	// The summary operations are in no spec of ours (summaries.json is
	// written from Zoom's reference): it names the prerequisites (a paid
	// plan, Meeting Summary with AI Companion on) but not their error; 400
	// code 200 as the Meetings API's paid-plan answers.
	EndpointSummaries.Path: {summariesOff},
	// A meeting listed with a summary whose summary is gone by the time it
	// is fetched: the emulator's reading, see zoomtest/summaries.go.
	EndpointSummary.Path: {summariesOff, {Status: 404, Code: 3001, Kind: NotFound,
		Doc: "the emulator's reading (zoomtest/summaries.go): the reference documents no error"}},
	// MTG: 404 code 3301 "There is no recording for this meeting.": the
	// meeting's recordings were deleted after the list named them.
	EndpointMeetingRecordings.Path: {{Status: 404, Code: 3301, Kind: NotFound}},
	// USR26 GET /groups: 400 code 200 "Only available for Paid account."
	EndpointGroups.Path: {paidOnly},
	// TC26 GET /im/groups (our trimmed copy is the 2023 Meetings spec's,
	// which lacks them): 400 code 200 "Only available for Paid account.";
	// 410 code 4137 "The IM Group APIs are no longer available."
	EndpointIMGroups.Path: {{Status: 400, Code: 200, Kind: NotApplicable, Reason: paidOnly.Reason, Doc: "TC26 GET /im/groups"},
		{Status: 410, Code: 4137, Kind: NotApplicable, Reason: "Zoom no longer serves IM (chat) groups", Doc: "TC26 GET /im/groups"}},
	// PH26: 404 code 1001 "User does not exist: {userId}" for a user
	// without a Phone licence, as on the other Phone lists.
	EndpointSMSSessions.Path: {phoneOff, noPhoneUser},
	// PH26: 404 code 12004 "Session does not exist: {0}.": deleted after
	// the list named it.
	EndpointSMSSync.Path: {phoneOff, {Status: 404, Code: 12004, Kind: NotFound}},
	// PH26: 400 code 300 "Voice mail does not exist: {voicemailId}.":
	// deleted after the list named it.
	EndpointVoicemail.Path: {phoneOff, {Status: 400, Code: 300, Kind: NotFound}},
	// TC26: 403 code 200 (sessions, channels) and 400 code 200 (messages)
	// "Unauthorized request. You do not have permission to access this
	// user's chat ..." is what a free plan or Team Chat turned off gets
	// (the emulator's reading: the spec names no other answer for either).
	EndpointChatSessions.Path: {chatDenied(403, "")},
	// TC26 names no error for the channels list; the emulator answers as
	// for the sessions.
	EndpointChatChannels.Path: {chatDenied(403, "TC26 GET /chat/users/{userId}/sessions: 403 code 200; the channels list documents none")},
	EndpointChatMessages.Path: {chatDenied(400, "")},
	// Download URLs are Zoom's own, not built from api_url. MTG documents
	// 404 code 3301 "There is no recording for this meeting" for a
	// meeting's recordings; PH26 400 code 404 "File does not exist." for
	// GET /phone/recording/download/{fileId}.
	EndpointDownload.Path: {
		{Status: 404, Code: anyCode, Kind: NotFound,
			Doc: "not documented for download URLs: a file deleted after it was listed (MTG 3301 is the nearest)"},
		{Status: 400, Code: 404, Kind: NotFound, Doc: "PH26 GET /phone/recording/download/{fileId}"},
	},
}

const noPhoneLicence = "the user has no Zoom Phone licence"

var (
	userNotExist = answer{Status: 404, Code: 1001, Kind: NotFound}
	noPhoneUser  = answer{Status: 404, Code: 1001, Kind: NotApplicable, Reason: noPhoneLicence}
	phoneOff     = answer{Status: 403, Code: 2031, Kind: NotApplicable,
		Doc: "PH26 GET /phone/settings: 403 code 2031 \"Zoom Phone has not been enabled for this account.\"; " +
			"PH26 info: \"You'll receive a 403 error message if you have not set up Zoom Phone\""}
)

var (
	summariesOff = answer{Status: 400, Code: 200, Kind: NotApplicable, Reason: "Meeting Summary with AI Companion is not enabled",
		Doc: "https://developers.zoom.us/docs/api/meetings/#tag/summaries (prerequisites); the code is the Meetings API's paid-plan answer"}
	paidOnly = answer{Status: 400, Code: 200, Kind: NotApplicable, Reason: "groups need a paid plan"}
)

func chatDenied(status int, doc string) answer {
	return answer{Status: status, Code: 200, Kind: NotApplicable, Reason: "Team Chat or its cloud storage is not available to this user", Doc: doc}
}

// documented returns the answer of ep that status and code are, if any.
func documented(ep Endpoint, status, code int) (answer, bool) {
	for _, a := range answers[ep.Path] {
		if a.Status == status && (a.Code == code || a.Code == anyCode) {
			return a, true
		}
	}
	return answer{}, false
}

// undocumented404 explains a 404 that is none of ep's documented answers:
// the route does not exist at api_url, which is for an operator to fix.
// message is Zoom's, already redacted.
func undocumented404(ep Endpoint, code int, message string) string {
	var codes []string
	for _, a := range answers[ep.Path] {
		if a.Status == http.StatusNotFound {
			codes = append(codes, strconv.Itoa(a.Code))
		}
	}
	what := "GET " + ep.Path
	if ep.Path == EndpointUser.Path {
		what = "the user lookup"
	}
	got := "a body that is not Zoom's {code, message}"
	if code != 0 {
		got = "code " + strconv.Itoa(code) + ": " + message
	}
	without := "a code it documents"
	if len(codes) > 0 {
		without = "code " + strings.Join(codes, " or ")
	}
	return "Zoom answered 404 without " + without + " for " + what +
		": check the account's api_url, which must end in /v2 (Zoom sent " + got + ")"
}

// parseZoomError reads Zoom's {"code","message"} body; for anything else
// (a gateway's HTML page) it returns the status text.
func parseZoomError(body []byte, status int, userID string) (int, string) {
	var z struct {
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	if json.Unmarshal(body, &z) != nil || (z.Code == "" && z.Message == "") {
		return 0, http.StatusText(status)
	}
	code, _ := strconv.Atoi(z.Code.String())
	return code, redact(z.Message, userID)
}

// classify turns a final non-2xx, non-retryable answer into an *Error.
// Only a documented answer of the endpoint (answers) is NotFound or
// NotApplicable.
func (c *Client) classify(r *request, res result) *Error {
	e := c.newError(r, Other, res.message)
	e.Status, e.Code, e.TrackingID = res.status, res.code, res.tracking
	msg := strings.ToLower(res.message)
	doc, isDoc := documented(r.ep, res.status, res.code)
	switch {
	case res.code == 4711 || res.code == 4700 || strings.Contains(msg, "does not contain scope"):
		e.Kind = MissingScope
		e.Scopes = parseScopes(res.message)
		if len(e.Scopes) > 0 {
			e.Message = "the app lacks scope " + strings.Join(e.Scopes, ", ") +
				": grant it to the Server-to-Server OAuth app in the Zoom App Marketplace (" + res.message + ")"
		}
	case isDoc:
		e.Kind = doc.Kind
		if doc.Reason != "" {
			e.Message = doc.Reason + " (" + res.message + ")"
		}
	case res.status == http.StatusBadRequest && r.query.Get("next_page_token") != "" &&
		(strings.Contains(msg, "page token") || strings.Contains(msg, "next_page_token")),
		res.status == http.StatusBadRequest && r.query.Get("sync_token") != "" && strings.Contains(msg, "sync token"):
		e.Kind = PageTokenExpired
	case res.status == http.StatusNotFound:
		e.Kind = Invalid
		e.Message = undocumented404(r.ep, res.code, res.message)
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		e.Kind = Unauthorized
	case res.status >= 400 && res.status < 500:
		e.Kind = Invalid
	}
	return e
}

// quota records a Daily-limit answer: the bucket named by
// X-RateLimit-Category, and the call's own bucket th, make no call until
// the reset, in the client's clock. A file host's answer (th nil) that
// names no category blocks nothing.
func (c *Client) quota(r *request, th *throttle, res result) error {
	b := r.ep.Bucket()
	cat := res.header.Get("X-RateLimit-Category")
	if cat != "" {
		b.Category = Category(cat)
	}
	reset := resetTime(res.header, c.clock.Now())
	q := &QuotaError{Op: r.ep.Name, Category: b.Category, Phone: b.Phone, Reset: reset}
	if cat != "" || th != nil {
		c.limits.block(b, q)
	}
	if th != nil && b != th.bucket {
		c.limits.block(th.bucket, q)
	}
	c.log.Warn("zoom daily limit reached", "endpoint", r.ep.Name, "bucket", b.String(), "reset", reset)
	return q
}

// resetTime computes when a Daily-limit ends in the client's clock: now +
// (Retry-After − Date), so that it is right whatever the skew between the
// two clocks. Retry-After may be an absolute time (Zoom sends RFC 3339,
// e.g. 2025-08-23T00:00:00Z) or seconds. Without a usable Retry-After the
// next 00:00 UTC of the client's clock is assumed, Zoom's documented reset.
func resetTime(h http.Header, now time.Time) time.Time {
	ra := strings.TrimSpace(h.Get("Retry-After"))
	if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
		return now.Add(time.Duration(secs) * time.Second)
	}
	at, ok := parseTime(ra)
	if !ok {
		return nextMidnightUTC(now)
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		// Date is truncated to the second, which errs towards a later reset.
		return now.Add(at.Sub(date))
	}
	return at
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := http.ParseTime(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func nextMidnightUTC(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
