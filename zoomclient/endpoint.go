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

// Window says whether an endpoint is fetched in one-month date windows and
// how far back by default. Zero means not windowed.
type Window struct {
	Months int
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
}

// Bucket returns the rate limit the endpoint counts against.
func (ep Endpoint) Bucket() Bucket { return Bucket{ep.Category, ep.Phone} }

// path returns the request path with userID escaped into the template.
func (ep Endpoint) path(userID string) string {
	return strings.ReplaceAll(ep.Path, "{userId}", url.PathEscape(userID))
}

// The endpoints of DESIGN.md's sections. Categories are the "Rate Limit
// Label" of each operation in Zoom's OpenAPI documents (2023-10 meetings,
// 2026-02 users, 2026-07 phone).
var (
	EndpointUser         = Endpoint{Name: "user", Path: "/users/{userId}", Category: Light}
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
		List: "call_logs", ID: "id", PageSize: 300, Window: Window{Months: 6}}
	EndpointVoicemails = Endpoint{Name: "voicemails", Path: "/phone/users/{userId}/voice_mails", Category: Medium, Phone: true,
		List: "voice_mails", ID: "id", PageSize: 300, Window: Window{Months: 6}}
	EndpointPhoneRecordings = Endpoint{Name: "phone_recordings", Path: "/phone/users/{userId}/recordings", Category: Medium, Phone: true,
		List: "recordings", ID: "id", PageSize: 300, Window: Window{Months: 6}}
)

func meetings(typ string) Endpoint {
	return Endpoint{Name: "meetings_" + typ, Path: "/users/{userId}/meetings", Category: Medium,
		List: "meetings", ID: "uuid", PageSize: 300, Query: url.Values{"type": {typ}}}
}
