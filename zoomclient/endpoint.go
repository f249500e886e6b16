package zoomclient

import (
	"net/url"
	"strings"
)

// Category is a Zoom rate-limit category, spelled as in the
// X-RateLimit-Category header.
type Category string

const (
	Light             Category = "Light"
	Medium            Category = "Medium"
	Heavy             Category = "Heavy"
	ResourceIntensive Category = "Resource-intensive"
)

// Bucket is one rate limit of an account: a category of the general API or
// of the Phone API, which Zoom counts separately.
type Bucket struct {
	Category Category
	Phone    bool
}

func (b Bucket) String() string {
	if b.Phone {
		return "phone/" + string(b.Category)
	}
	return string(b.Category)
}

// EveryBucket returns Config.Limits of perSecond for every bucket: for an
// emulator whose limits are off (the demo, tests not about rate limits),
// so that the client goes as fast as it answers.
func EveryBucket(perSecond float64) map[Bucket]float64 {
	m := map[Bucket]float64{}
	for _, c := range []Category{Light, Medium, Heavy, ResourceIntensive} {
		m[Bucket{Category: c}] = perSecond
		m[Bucket{Category: c, Phone: true}] = perSecond
	}
	return m
}

// Window says whether an endpoint is fetched in one-month date windows and
// how far back by default. Zero means not windowed. Limit says that Zoom
// serves no older data, and refuses a window that starts before Months
// back from today (the report's "The date range must fall within the past
// six months", Phone's six months): the client moves a window's start
// forward to that day when it fetches (Client.itemPage).
type Window struct {
	Months int
	Limit  bool
	// Whole asks for one window over the whole horizon, for an endpoint
	// that takes any range within it (Team Chat's six months).
	Whole bool
}

// Endpoint describes one Zoom GET operation: its path template, rate-limit
// bucket and, for lists, the JSON list field and the id field of a record.
// The exported values are read-only.
type Endpoint struct {
	Name     string     // short name for errors, logs and metrics, e.g. "recordings"
	Path     string     // template relative to the API URL; {userId} is replaced
	Category Category   // rate-limit category
	Phone    bool       // counted against the Phone API limits
	List     string     // JSON field of the record list; "" for object endpoints
	ID       string     // id field of a record in List
	Query    url.Values // fixed query parameters
	PageSize int        // page_size to ask for; 0 sends none
	Window   Window
	// DateTime sends a window's ends as UTC date-times
	// (yyyy-mm-ddT00:00:00Z, yyyy-mm-ddT23:59:59Z), as Team Chat takes
	// them, rather than dates.
	DateTime bool
	// ItemQuery: the item (dsar.Cursor.Item) is query parameters, such as
	// "to_channel=abc"; otherwise it replaces {item} in Path.
	ItemQuery bool
	// Mine names the field holding the id of the user a record belongs
	// to, on a list that holds other people's records too (the account's
	// meeting summaries): records of others are removed from the page
	// before it is returned, so they are never stored.
	Mine string
	// Sync: the list pages with Zoom's sync calls (count, sync_type and
	// sync_token, as an SMS session's) instead of page_size and
	// next_page_token.
	Sync bool
	// PickFrom: the record is picked by id (the item) from an account-wide
	// list, which the client fetches once an hour for every request
	// (Client.pick).
	PickFrom *Endpoint
}

// Bucket returns the rate limit the endpoint counts against.
func (ep Endpoint) Bucket() Bucket { return Bucket{ep.Category, ep.Phone} }

// path returns the request path with userID and item escaped into the
// template. An item that starts with "/" or holds "//" (a meeting UUID) is
// escaped twice, as Zoom requires of meeting UUIDs.
func (ep Endpoint) path(userID, item string) string {
	p := strings.ReplaceAll(ep.Path, "{userId}", url.PathEscape(userID))
	if strings.Contains(p, "{item}") {
		e := url.PathEscape(item)
		if strings.HasPrefix(item, "/") || strings.Contains(item, "//") {
			e = url.PathEscape(e)
		}
		p = strings.ReplaceAll(p, "{item}", e)
	}
	return p
}

// The endpoints of DESIGN.md's sections. Categories are the "Rate Limit
// Label" of each operation in Zoom's OpenAPI documents (2023-10 meetings,
// 2026-02 users, 2026-07 phone).
var (
	EndpointUser = Endpoint{Name: "user", Path: "/users/{userId}", Category: Light}
	// EndpointUsers lists the account's users; the account check asks it
	// for one, to see that the API URL answers like Zoom.
	EndpointUsers        = Endpoint{Name: "users", Path: "/users", Category: Medium, List: "users", ID: "id", PageSize: 1}
	EndpointUserSettings = Endpoint{Name: "user_settings", Path: "/users/{userId}/settings", Category: Medium}
	EndpointAssistants   = Endpoint{Name: "assistants", Path: "/users/{userId}/assistants", Category: Medium,
		List: "assistants", ID: "id"}
	EndpointSchedulers = Endpoint{Name: "schedulers", Path: "/users/{userId}/schedulers", Category: Medium,
		List: "schedulers", ID: "id"}
	EndpointMeetingsScheduled = meetings("scheduled")
	EndpointMeetingsUpcoming  = meetings("upcoming")
	EndpointMeetingsPrevious  = meetings("previous_meetings")
	EndpointWebinars          = Endpoint{Name: "webinars", Path: "/users/{userId}/webinars", Category: Medium,
		List: "webinars", ID: "uuid", PageSize: 300}
	EndpointRecordings = Endpoint{Name: "recordings", Path: "/users/{userId}/recordings", Category: Medium,
		List: "meetings", ID: "uuid", PageSize: 300, Window: Window{Months: 12}}
	// EndpointRecordingsTrash lists recordings in the trash; Zoom does not
	// date-filter the trash, so it has no window.
	EndpointRecordingsTrash = Endpoint{Name: "recordings_trash", Path: "/users/{userId}/recordings", Category: Medium,
		List: "meetings", ID: "uuid", PageSize: 300, Query: url.Values{"trash": {"true"}}}
	EndpointPhoneUser     = Endpoint{Name: "phone_user", Path: "/phone/users/{userId}", Category: Light, Phone: true}
	EndpointPhoneSettings = Endpoint{Name: "phone_settings", Path: "/phone/users/{userId}/settings", Category: Light, Phone: true}
	EndpointCallHistory   = Endpoint{Name: "call_history", Path: "/phone/users/{userId}/call_history", Category: Medium, Phone: true,
		List: "call_logs", ID: "id", PageSize: 300, Window: Window{Months: 6, Limit: true}}
	EndpointVoicemails = Endpoint{Name: "voicemails", Path: "/phone/users/{userId}/voice_mails", Category: Medium, Phone: true,
		List: "voice_mails", ID: "id", PageSize: 300, Window: Window{Months: 6, Limit: true}}
	EndpointPhoneRecordings = Endpoint{Name: "phone_recordings", Path: "/phone/users/{userId}/recordings", Category: Medium, Phone: true,
		List: "recordings", ID: "id", PageSize: 300, Window: Window{Months: 6, Limit: true}}
)

// The endpoints of the sections added for issue 14 and Team Chat. Their
// categories, page sizes and windows are those of the specs in
// zoomtest/testdata/openapi; the summary operations are in none of our
// copies and follow Zoom's reference,
// https://developers.zoom.us/docs/api/meetings/#tag/summaries.
var (
	// EndpointMeetingsAttended is the report of meetings and webinars the
	// user joined, whoever hosted them: one month per call, the past six
	// months, Pro plan and up.
	EndpointMeetingsAttended = Endpoint{Name: "meetings_attended", Path: "/report/users/{userId}/meetings", Category: Heavy,
		List: "meetings", ID: "uuid", PageSize: 300, Query: url.Values{"type": {"pastJoined"}}, Window: Window{Months: 6, Limit: true}}
	// EndpointMeetingRecordings is one meeting's recordings, the only
	// answer that lists participant_audio_files.
	EndpointMeetingRecordings = Endpoint{Name: "meeting_recordings", Path: "/meetings/{item}/recordings", Category: Light}
	// EndpointSummaries lists the account's AI Companion summaries; only
	// the user's own (meeting_host_id) are kept.
	EndpointSummaries = Endpoint{Name: "meeting_summaries", Path: "/meetings/meeting_summaries", Category: Medium,
		List: "summaries", ID: "meeting_uuid", PageSize: 300, Window: Window{Months: 6, Limit: true}, Mine: "meeting_host_id"}
	EndpointSummary = Endpoint{Name: "meeting_summary", Path: "/meetings/{item}/meeting_summary", Category: Light}
	// EndpointGroups and EndpointIMGroups list the account's groups; the
	// user's are picked from them by the profile's group ids.
	EndpointGroups   = Endpoint{Name: "groups", Path: "/groups", Category: Medium, List: "groups", ID: "id", PageSize: 300}
	EndpointIMGroups = Endpoint{Name: "im_groups", Path: "/im/groups", Category: Medium, List: "groups", ID: "id"}
	EndpointGroup    = Endpoint{Name: "group", Path: EndpointGroups.Path, Category: Medium, PickFrom: &EndpointGroups}
	EndpointIMGroup  = Endpoint{Name: "im_group", Path: EndpointIMGroups.Path, Category: Medium, PickFrom: &EndpointIMGroups}
	// Team Chat (TC26): conversations and channels, then each
	// conversation's messages over the six months Zoom serves, 50 a page,
	// edited and deleted ones included.
	EndpointChatSessions = Endpoint{Name: "chat_sessions", Path: "/chat/users/{userId}/sessions", Category: Medium,
		List: "sessions", PageSize: 50, Window: Window{Months: 6, Limit: true, Whole: true}, DateTime: true}
	EndpointChatChannels = Endpoint{Name: "chat_channels", Path: "/chat/users/{userId}/channels", Category: Medium,
		List: "channels", ID: "id", PageSize: 50}
	EndpointChatMessages = Endpoint{Name: "chat_messages", Path: "/chat/users/{userId}/messages", Category: Medium,
		List: "messages", ID: "id", PageSize: 50, Query: url.Values{"include_deleted_and_edited_message": {"true"}},
		Window: Window{Months: 6, Limit: true, Whole: true}, DateTime: true, ItemQuery: true}
	EndpointSMSSessions = Endpoint{Name: "sms_sessions", Path: "/phone/users/{userId}/sms/sessions", Category: Medium, Phone: true,
		List: "sms_sessions", ID: "session_id", PageSize: 100, Window: Window{Months: 6, Limit: true}}
	// EndpointSMSSync pages through every message of a session, newest
	// first, 250 a call, without the one-month windows of GET
	// /phone/sms/sessions/{sessionId}.
	EndpointSMSSync = Endpoint{Name: "sms_sync", Path: "/phone/sms/sessions/{item}/sync", Category: Medium, Phone: true,
		List: "sms_histories", ID: "message_id", PageSize: 250, Sync: true}
	// EndpointVoicemail is one voicemail with its transcription, which the
	// list does not carry.
	EndpointVoicemail = Endpoint{Name: "voicemail", Path: "/phone/voice_mails/{item}", Category: Light, Phone: true}
)

func meetings(typ string) Endpoint {
	return Endpoint{Name: "meetings_" + typ, Path: "/users/{userId}/meetings", Category: Medium,
		List: "meetings", ID: "uuid", PageSize: 300, Query: url.Values{"type": {typ}}}
}
