package zoomclient

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Scope is what an operation needs of a token: its granular scope, or one
// of the classic (macro) scopes that grant it too.
type Scope struct {
	Granular string
	Macro    []string
}

// grantedBy reports whether granted (a set) grants s.
func (s Scope) grantedBy(granted map[string]bool) bool {
	if granted[s.Granular] {
		return true
	}
	for _, m := range s.Macro {
		if granted[m] {
			return true
		}
	}
	return false
}

// scopes are the scopes of each endpoint, by Endpoint.Name, as the specs'
// x-granular-scopes and x-macro-scopes (or their descriptions) give them:
// users 2026-02, meetings 2023-10, phone 2026-07, team chat 2026-02. Those
// the specs lack are the ones Zoom's 4711 answers name (zoom-api.md §9).
var scopes = map[string]Scope{
	EndpointUser.Name:              {"user:read:user:admin", []string{"user:read:admin"}},
	EndpointUsers.Name:             {"user:read:list_users:admin", []string{"user:read:admin"}},
	EndpointUserSettings.Name:      {"user:read:settings:admin", []string{"user:read:admin"}},
	EndpointAssistants.Name:        {"user:read:list_assistants:admin", []string{"user:read:admin"}},
	EndpointSchedulers.Name:        {"user:read:list_schedulers:admin", []string{"user:read:admin"}},
	EndpointMeetingsScheduled.Name: {"meeting:read:list_meetings:admin", []string{"meeting:read:admin"}},
	EndpointMeetingsUpcoming.Name:  {"meeting:read:list_meetings:admin", []string{"meeting:read:admin"}},
	EndpointMeetingsPrevious.Name:  {"meeting:read:list_meetings:admin", []string{"meeting:read:admin"}},
	EndpointWebinars.Name:          {"webinar:read:list_webinars:admin", []string{"webinar:read:admin"}},
	EndpointRecordings.Name:        {"cloud_recording:read:list_user_recordings:admin", []string{"recording:read:admin"}},
	EndpointRecordingsTrash.Name:   {"cloud_recording:read:list_user_recordings:admin", []string{"recording:read:admin"}},
	EndpointMeetingRecordings.Name: {"cloud_recording:read:list_recording_files:admin", []string{"recording:read:admin", "recording:read"}},
	EndpointMeetingsAttended.Name:  {"report:read:list_meetings:admin", []string{"report:read:admin"}},
	EndpointSummaries.Name:         {"meeting:read:list_summaries:admin", []string{"meeting_summary:read:admin"}},
	EndpointSummary.Name:           {"meeting:read:summary:admin", []string{"meeting_summary:read:admin"}},
	EndpointGroups.Name:            {"group:read:list_groups:admin", []string{"group:read:admin"}},
	EndpointIMGroups.Name:          {"contact_group:read:list_groups:admin", []string{"imgroup:read:admin"}},
	EndpointChatSessions.Name:      {"team_chat:read:list_user_sessions:admin", []string{"chat_message:read:admin"}},
	EndpointChatChannels.Name:      {"team_chat:read:list_user_channels:admin", []string{"chat_channel:read:admin", "chat_channel:write:admin"}},
	EndpointChatMessages.Name:      {"team_chat:read:list_user_messages:admin", []string{"chat_message:read:admin", "chat_message:write:admin"}},
	EndpointPhoneUser.Name:         {"phone:read:user:admin", []string{"phone:read:admin"}},
	EndpointPhoneSettings.Name:     {"phone:read:user_setting:admin", []string{"phone:read:admin"}},
	EndpointCallHistory.Name:       {"phone:read:list_call_logs:admin", []string{"phone:read:admin", "phone_call_log:read:admin"}},
	EndpointVoicemails.Name:        {"phone:read:list_voicemails:admin", []string{"phone:read:admin", "phone_voicemail:read:admin"}},
	EndpointVoicemail.Name:         {"phone:read:voicemail:admin", []string{"phone:read:admin", "phone_voicemail:read:admin"}},
	EndpointPhoneRecordings.Name:   {"phone:read:list_recordings:admin", []string{"phone:read:admin", "phone_recording:read:admin"}},
	EndpointSMSSessions.Name:       {"phone:read:list_sms_sessions:admin", []string{"phone:read:admin", "phone_sms:read:admin"}},
	EndpointSMSSync.Name:           {"phone:read:sms_session:admin", []string{"phone:read:admin", "phone_sms:read:admin"}},
}

// fileScopes are the scopes of the file operations a section downloads
// through (phoneDownloads), beside its parts' endpoints.
var fileScopes = map[string][]Scope{
	dsar.SectionPhoneVoicemails: {{"phone:read:voicemail:admin", []string{"phone:read:admin", "phone_voicemail:read:admin"}}},
	dsar.SectionPhoneRecordings: {
		{"phone:read:call_recording:admin", []string{"phone:read:admin", "phone_recording:read:admin"}},
		{"phone:read:recording_transcript:admin", []string{"phone:read:admin", "phone_recording:read:admin"}},
	},
}

// SectionScopes returns the scopes a section needs, each once, in the
// order of its parts.
func SectionScopes(section string) []Scope {
	var out []Scope
	add := func(s Scope) {
		if !slices.ContainsFunc(out, func(o Scope) bool { return o.Granular == s.Granular }) {
			out = append(out, s)
		}
	}
	for _, part := range dsar.PartsOf(section) {
		ep, ok := parts[section+"/"+part]
		if !ok {
			continue
		}
		if ep.PickFrom != nil {
			ep = *ep.PickFrom
		}
		add(scopes[ep.Name])
	}
	for _, s := range fileScopes[section] {
		add(s)
	}
	return out
}

// checkScopes compares the granted scopes with those every section needs.
// The user lookup's scope is the account's: without it no request can run.
func checkScopes(granted []string) (problem string, missing []string, sections map[string]string) {
	set := map[string]bool{}
	for _, g := range granted {
		set[g] = true
	}
	if s := scopes[EndpointUser.Name]; !s.grantedBy(set) {
		problem = fmt.Sprintf("the user lookup of every request needs %s; grant it to the app", s.Granular)
	}
	lacks := map[string]bool{}
	for _, sec := range dsar.Sections {
		var need []string
		for _, s := range SectionScopes(sec) {
			if !s.grantedBy(set) {
				need = append(need, s.Granular)
				lacks[s.Granular] = true
			}
		}
		if len(need) > 0 {
			if sections == nil {
				sections = map[string]string{}
			}
			sections[sec] = fmt.Sprintf("%s needs %s; grant %s to the app, then check the account again",
				sec, strings.Join(need, " and "), plural(len(need), "it", "them"))
		}
	}
	return problem, slices.Sorted(maps.Keys(lacks)), sections
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
