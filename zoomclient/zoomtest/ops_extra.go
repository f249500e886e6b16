package zoomtest

// extraOps are the operations of issue 14's sections. Categories and
// scopes are those of the specs in testdata/openapi (phone.json,
// meetings.json); the two summary operations are in none of our copies
// and follow Zoom's published reference, cited in summaries.go.
var extraOps = []*op{
	{pattern: "GET /phone/users/{userId}/sms/sessions", category: Medium, phone: true, maxPage: 100, scope: "phone:read:list_sms_sessions:admin", macro: []string{"phone:read:admin", "phone_sms:read:admin"}, handle: (*Emulator).listSMSSessions},
	{pattern: "GET /phone/sms/sessions/{sessionId}", category: Medium, phone: true, maxPage: 100, scope: "phone:read:sms_session:admin", macro: []string{"phone:read:admin", "phone_sms:read:admin"}, handle: (*Emulator).getSMSSession},
	{pattern: "GET /phone/sms/sessions/{sessionId}/sync", category: Medium, phone: true, scope: "phone:read:sms_session:admin", macro: []string{"phone:read:admin", "phone_sms:read:admin"}, handle: (*Emulator).syncSMSSession},
	{pattern: "GET /phone/voice_mails/{voicemailId}", category: Light, phone: true, scope: "phone:read:voicemail:admin", macro: []string{"phone:read:admin", "phone_voicemail:read:admin"}, handle: (*Emulator).getVoicemail},
	{pattern: "GET /phone/recording_transcript/download/{recordingId}", category: Light, phone: true, scope: "phone:read:recording_transcript:admin", macro: []string{"phone:read:admin", "phone_recording:read:admin"}, handle: (*Emulator).downloadRecordingTranscript},
	{pattern: "GET /meetings/meeting_summaries", category: Medium, scope: "meeting:read:list_summaries:admin", macro: []string{"meeting_summary:read:admin"}, handle: (*Emulator).listSummaries},
	{pattern: "GET /meetings/{meetingId}/meeting_summary", category: Light, scope: "meeting:read:summary:admin", macro: []string{"meeting_summary:read:admin"}, handle: (*Emulator).getSummary},
	// The 2023 Meetings spec names only imgroup:read:admin; the granular
	// scope is the 2026 Team Chat spec's.
	{pattern: "GET /im/groups", category: Medium, scope: "contact_group:read:list_groups:admin", macro: []string{"imgroup:read:admin"}, handle: (*Emulator).listIMGroups},
}

func init() { ops = append(ops, extraOps...) }

// pageMax is the largest page_size the operation serves.
func (o *op) pageMax() int {
	if o.maxPage > 0 {
		return o.maxPage
	}
	return maxPageSize
}
