package zoomtest

import (
	"net/http"
	"slices"
	"strings"
)

// op is one emulated API operation. category, scope and macro come from
// the operation in Zoom's specs: the "Rate Limit Label" in its
// description and its x-granular-scopes / x-macro-scopes (or
// security.openapi_oauth). The conformance test checks them against the
// trimmed specs in testdata/openapi.
type op struct {
	pattern  string // method and path as Zoom documents it, without /v2
	category string
	phone    bool     // counted in the Zoom Phone buckets
	scope    string   // the granular admin scope a 4711 names
	macro    []string // classic scopes that grant the operation too
	maxPage  int      // largest page_size; 0: maxPageSize
	handle   func(*Emulator, *call)
}

// ops lists every emulated operation.
//
// Granular scopes of the Meetings API are not in the 2023 spec; those
// marked "unverified" were seen in the wild (zoom-api.md §9).
var ops = []*op{
	// List users (users 2026-02): MEDIUM; dsard's account check asks for
	// one user to see that the API URL answers like Zoom.
	{pattern: "GET /users", category: Medium, scope: "user:read:list_users:admin", macro: []string{"user:read:admin"}, handle: (*Emulator).listUsers},
	{pattern: "GET /users/{userId}", category: Light, scope: "user:read:user:admin", macro: []string{"user:read:admin"}, handle: (*Emulator).getUser},
	{pattern: "GET /users/{userId}/settings", category: Medium, scope: "user:read:settings:admin", macro: []string{"user:read:admin"}, handle: (*Emulator).getUserSettings},
	{pattern: "GET /users/{userId}/assistants", category: Medium, scope: "user:read:list_assistants:admin", macro: []string{"user:read:admin"}, handle: (*Emulator).getAssistants},
	// No Rate Limit Label in either spec; MEDIUM like its sibling
	// /assistants (unverified).
	{pattern: "GET /users/{userId}/schedulers", category: Medium, scope: "user:read:list_schedulers:admin", macro: []string{"user:read:admin"}, handle: (*Emulator).getSchedulers},
	{pattern: "GET /groups", category: Medium, scope: "group:read:list_groups:admin", macro: []string{"group:read:admin"}, handle: (*Emulator).listGroups},
	// unverified granular scope
	{pattern: "GET /users/{userId}/meetings", category: Medium, scope: "meeting:read:list_meetings:admin", macro: []string{"meeting:read:admin"}, handle: (*Emulator).listMeetings},
	{pattern: "GET /users/{userId}/webinars", category: Medium, scope: "webinar:read:list_webinars:admin", macro: []string{"webinar:read:admin"}, handle: (*Emulator).listWebinars},
	// unverified granular scope
	{pattern: "GET /users/{userId}/recordings", category: Medium, scope: "cloud_recording:read:list_user_recordings:admin", macro: []string{"recording:read:admin"}, handle: (*Emulator).listRecordings},
	// unverified granular scope
	{pattern: "GET /meetings/{meetingId}/recordings", category: Light, scope: "cloud_recording:read:list_recording_files:admin", macro: []string{"recording:read:admin", "recording:read"}, handle: (*Emulator).getMeetingRecordings},
	// HEAVY per zoom-api.md §4 (the 2023 spec has no label on this
	// operation); granular scope unverified.
	{pattern: "GET /report/users/{userId}/meetings", category: Heavy, scope: "report:read:list_meetings:admin", macro: []string{"report:read:admin"}, handle: (*Emulator).reportMeetings},

	{pattern: "GET /phone/users/{userId}", category: Light, phone: true, scope: "phone:read:user:admin", macro: []string{"phone:read:admin"}, handle: (*Emulator).getPhoneUser},
	{pattern: "GET /phone/users/{userId}/settings", category: Light, phone: true, scope: "phone:read:user_setting:admin", macro: []string{"phone:read:admin"}, handle: (*Emulator).getPhoneSettings},
	{pattern: "GET /phone/users/{userId}/call_history", category: Medium, phone: true, scope: "phone:read:list_call_logs:admin", macro: []string{"phone:read:admin", "phone_call_log:read:admin"}, handle: (*Emulator).listCallHistory},
	{pattern: "GET /phone/users/{userId}/call_logs", category: Medium, phone: true, scope: "phone:read:list_call_logs:admin", macro: []string{"phone:read:admin", "phone_call_log:read:admin"}, handle: (*Emulator).listCallLogs},
	{pattern: "GET /phone/users/{userId}/voice_mails", category: Medium, phone: true, scope: "phone:read:list_voicemails:admin", macro: []string{"phone:read:admin", "phone_voicemail:read:admin"}, handle: (*Emulator).listVoicemails},
	{pattern: "GET /phone/users/{userId}/recordings", category: Medium, phone: true, scope: "phone:read:list_recordings:admin", macro: []string{"phone:read:admin", "phone_recording:read:admin"}, handle: (*Emulator).listPhoneRecordings},
	{pattern: "GET /phone/recording/download/{fileId}", category: Medium, phone: true, scope: "phone:read:call_recording:admin", macro: []string{"phone:read:admin", "phone_recording:read:admin"}, handle: (*Emulator).downloadPhoneRecording},
	{pattern: "GET /phone/voice_mails/download/{fileId}", category: Medium, phone: true, scope: "phone:read:voicemail:admin", macro: []string{"phone:read:admin", "phone_voicemail:read:admin"}, handle: (*Emulator).downloadVoicemail},
}

// Scopes returns every granular scope the emulated operations need: the
// default grant of an app.
func Scopes() []string { return allScopes() }

func allScopes() []string {
	var out []string
	for _, o := range ops {
		if !slices.Contains(out, o.scope) {
			out = append(out, o.scope)
		}
	}
	return out
}

func (o *op) granted(t *tokenInfo) bool {
	if t.scopes[o.scope] {
		return true
	}
	for _, m := range o.macro {
		if t.scopes[m] {
			return true
		}
	}
	return false
}

// routes registers the API under /v2, downloads, the token endpoint and
// the control endpoints.
func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, o := range ops {
		method, path, _ := strings.Cut(o.pattern, " ")
		mux.Handle(method+" /v2"+path, e.api(o))
	}
	mux.Handle("GET /rec/download/{fileId}", e.plain(e.downloadRedirect))
	mux.Handle("GET /rec/file/{fileId}", e.plain(e.downloadFile))
	mux.Handle("GET "+chatFilePath+"{fileId}", e.plain(e.downloadRedirect))
	mux.Handle("/oauth/token", e.plain(e.handleToken))
	mux.Handle("/oauth/authorize", e.plain(e.handleAuthorize))
	mux.Handle("/oauth/revoke", e.plain(e.handleRevoke))
	mux.Handle("/_zoomfake/", e.plain(e.control))
	mux.Handle("/", e.plain(func(w http.ResponseWriter, r *http.Request, le *LogEntry) {
		writeError(w, le, &zoomError{http.StatusNotFound, 404, "The requested resource does not exist."})
	}))
	return mux
}

// Operation describes one emulated API operation.
type Operation struct {
	Method, Path string // Path as in Zoom's specs, without /v2: "/users/{userId}"
	Category     string // rate-limit category
	Phone        bool   // counted in the Zoom Phone buckets
	Scope        string // the granular admin scope it needs
	Macro        []string
}

// Operations lists the emulated API operations, for conformance tests and
// for clients that want to check their own tables.
func Operations() []Operation {
	out := make([]Operation, 0, len(ops))
	for _, o := range ops {
		m, p, _ := strings.Cut(o.pattern, " ")
		out = append(out, Operation{Method: m, Path: p, Category: o.category, Phone: o.phone, Scope: o.scope, Macro: slices.Clone(o.macro)})
	}
	return out
}
