package zoomtest

import "strings"

import "fmt"

type imGroupView struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	TotalMembers    int    `json:"total_members"`
	Type            string `json:"type"`
	SearchByAccount bool   `json:"search_by_account"`
	SearchByDomain  bool   `json:"search_by_domain"`
}

type participantAudioView struct {
	ID             string `json:"id"`
	RecordingStart string `json:"recording_start"`
	RecordingEnd   string `json:"recording_end"`
	FileName       string `json:"file_name"`
	FileType       string `json:"file_type"`
	FileExtension  string `json:"file_extension"`
	FileSize       int64  `json:"file_size"`
	PlayURL        string `json:"play_url"`
	DownloadURL    string `json:"download_url"`
	Status         string `json:"status"`
}

type smsOwner struct {
	ID   string `json:"id,omitempty"`
	Type string `json:"type,omitempty"`
}

type smsParty struct {
	DisplayName string    `json:"display_name"`
	Owner       *smsOwner `json:"owner,omitempty"`
	PhoneNumber string    `json:"phone_number"`
	IsOwner     *bool     `json:"is_session_owner,omitempty"`
}

func smsParties(u *User, s SMSSession) (own, peer smsParty) {
	own = smsParty{DisplayName: u.DisplayName, Owner: &smsOwner{ID: u.ID, Type: "user"}}
	if u.Phone != nil {
		// Zoom writes the number without its "+" here.
		own.PhoneNumber = strings.TrimPrefix(u.Phone.Number, "+")
	}
	peer = smsParty{DisplayName: s.PeerName, PhoneNumber: s.PeerNumber}
	return own, peer
}

// viewSMSSession is one entry of GET /phone/users/{userId}/sms/sessions.
func viewSMSSession(u *User, s SMSSession) []byte {
	own, peer := smsParties(u, s)
	yes, no := true, false
	own.IsOwner, peer.IsOwner = &yes, &no
	return mustJSON(struct {
		LastAccess   string     `json:"last_access_time"`
		Participants []smsParty `json:"participants"`
		SessionID    string     `json:"session_id"`
		SessionType  string     `json:"session_type"`
	}{zt(s.Last()), []smsParty{own, peer}, s.ID, "user"})
}

type smsAttachmentView struct {
	DownloadURL string `json:"download_url"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	Type        string `json:"type"`
}

// viewSMSMessage is one entry of sms_histories.
func viewSMSMessage(u *User, s SMSSession, m SMSMessage) []byte {
	own, peer := smsParties(u, s)
	from, to := peer, own
	if m.Direction == "Out" {
		from, to = own, peer
	}
	typ := 1
	atts := make([]smsAttachmentView, 0, len(m.Attachments))
	for _, a := range m.Attachments {
		typ = 2
		atts = append(atts, smsAttachmentView{DownloadURL: baseMark + "/rec/download/" + a.ID, ID: a.ID, Name: a.Name, Size: a.Size, Type: a.Type})
	}
	return mustJSON(struct {
		Attachments    []smsAttachmentView `json:"attachments"`
		DateTime       string              `json:"date_time"`
		Direction      string              `json:"direction"`
		Message        string              `json:"message"`
		MessageID      string              `json:"message_id"`
		DeliveryStatus string              `json:"delivery_status"`
		MessageType    int                 `json:"message_type"`
		Sender         smsParty            `json:"sender"`
		ToMembers      []smsParty          `json:"to_members"`
	}{atts, zt(m.DateTime), m.Direction, m.Text, m.ID, m.Status, typ, from, []smsParty{to}})
}

// viewVoicemailDetail is GET /phone/voice_mails/{voicemailId}: the list
// entry plus the transcription [PH26].
func viewVoicemailDetail(u *User, v Voicemail) []byte {
	tr := map[string]any{"status": 0}
	if v.Transcript != "" {
		tr = map[string]any{"status": 2, "content": v.Transcript, "engine": "otter"}
	}
	return mustJSON(map[string]any{"id": v.ID, "call_id": v.CallID, "call_log_id": v.CallLogID, "call_history_id": v.CallLogID,
		"caller_name": v.CallerName, "caller_number": v.CallerNum, "caller_number_type": 2,
		"callee_name": u.DisplayName, "callee_number": fmt.Sprint(u.Phone.ExtensionNumber), "callee_number_type": 1,
		"date_time": zt(v.DateTime), "duration": v.Duration, "status": v.Status,
		"download_url": baseMark + "/v2/phone/voice_mails/download/" + v.ID, "transcription": tr})
}

type summaryItemView struct {
	HostID       string `json:"meeting_host_id"`
	HostEmail    string `json:"meeting_host_email"`
	UUID         string `json:"meeting_uuid"`
	ID           int64  `json:"meeting_id"`
	Topic        string `json:"meeting_topic"`
	MeetingStart string `json:"meeting_start_time"`
	MeetingEnd   string `json:"meeting_end_time"`
	Start        string `json:"summary_start_time"`
	End          string `json:"summary_end_time"`
	Created      string `json:"summary_created_time"`
	Modified     string `json:"summary_last_modified_time"`
}

func summaryItem(u *User, s MeetingSummary) summaryItemView {
	return summaryItemView{HostID: u.ID, HostEmail: u.Email, UUID: s.MeetingUUID, ID: s.MeetingID, Topic: s.Topic,
		MeetingStart: zt(s.MeetingStart), MeetingEnd: zt(s.MeetingEnd), Start: zt(s.MeetingStart), End: zt(s.MeetingEnd),
		Created: zt(s.Created), Modified: zt(s.Modified)}
}

// viewSummaryItem is one entry of GET /meetings/meeting_summaries.
func viewSummaryItem(u *User, s MeetingSummary) []byte { return mustJSON(summaryItem(u, s)) }

// viewSummary is GET /meetings/{meetingId}/meeting_summary.
func viewSummary(u *User, s MeetingSummary) []byte {
	return mustJSON(struct {
		summaryItemView
		Title     string          `json:"summary_title"`
		Overview  string          `json:"summary_overview"`
		Details   []SummaryDetail `json:"summary_details"`
		NextSteps []string        `json:"next_steps"`
		Content   string          `json:"summary_content"`
	}{summaryItem(u, s), s.Topic + " summary", s.Overview, s.Details, s.NextSteps, "## " + s.Topic + "\n\n" + s.Overview + "\n"})
}
