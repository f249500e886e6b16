package zoomtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// baseMark stands for the emulator's base URL (scheme and host of the
// request) in precomputed JSON; it is replaced when a page is written.
const baseMark = "{{zoomfake-base}}"

func zt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain structs of strings, numbers and slices get here.
		panic(fmt.Sprintf("zoomtest: marshal %T: %v", v, err))
	}
	return b
}

type licenseInfo struct {
	LicenseType   string `json:"license_type"`
	LicenseOption int    `json:"license_option"`
}

// userView is GET /users/{userId}.
type userView struct {
	ID                 string        `json:"id"`
	CreatedAt          string        `json:"created_at"`
	Dept               string        `json:"dept"`
	Email              string        `json:"email"`
	FirstName          string        `json:"first_name"`
	LastName           string        `json:"last_name"`
	DisplayName        string        `json:"display_name"`
	LastClientVersion  string        `json:"last_client_version,omitempty"`
	LastLoginTime      string        `json:"last_login_time,omitempty"`
	PMI                int64         `json:"pmi"`
	RoleName           string        `json:"role_name"`
	RoleID             string        `json:"role_id"`
	Timezone           string        `json:"timezone"`
	Type               int           `json:"type"`
	UsePMI             bool          `json:"use_pmi"`
	AccountID          string        `json:"account_id"`
	AccountNumber      int64         `json:"account_number"`
	Company            string        `json:"company"`
	UserCreatedAt      string        `json:"user_created_at"`
	GroupIDs           []string      `json:"group_ids"`
	IMGroupIDs         []string      `json:"im_group_ids"`
	JobTitle           string        `json:"job_title"`
	Language           string        `json:"language"`
	Location           string        `json:"location"`
	LoginTypes         []int         `json:"login_types"`
	PersonalMeetingURL string        `json:"personal_meeting_url"`
	PicURL             string        `json:"pic_url,omitempty"`
	Status             string        `json:"status"`
	Verified           int           `json:"verified"`
	Cluster            string        `json:"cluster"`
	LicenseInfoList    []licenseInfo `json:"license_info_list,omitempty"`
}

func viewUser(a *AccountData, u *User, now time.Time) []byte {
	created := u.CreatedAt
	if u.Status == "pending" {
		// USR: a pending user's created_at is the time of the call.
		created = now
	}
	v := userView{
		ID: u.ID, CreatedAt: zt(created), Dept: u.Dept, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		DisplayName: u.DisplayName, LastClientVersion: u.LastClientVersion, LastLoginTime: zt(u.LastLoginTime),
		PMI: u.PMI, RoleName: u.RoleName, RoleID: u.RoleID, Timezone: u.Timezone, Type: u.Type, AccountID: a.ID,
		AccountNumber: a.AccountNumber, Company: u.Company, UserCreatedAt: zt(u.CreatedAt), GroupIDs: nonNil(u.GroupIDs),
		IMGroupIDs: nonNil(u.IMGroupIDs), JobTitle: u.JobTitle, Language: u.Language, Location: u.Location, LoginTypes: []int{100},
		PersonalMeetingURL: fmt.Sprintf("https://example.zoom.us/j/%d", u.PMI), Status: u.Status, Verified: u.Verified, Cluster: "us05",
	}
	if u.LicenseType != "" {
		v.LicenseInfoList = []licenseInfo{{LicenseType: u.LicenseType, LicenseOption: 2}}
	}
	return mustJSON(v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// viewSettings is a small but well-formed GET /users/{userId}/settings.
func viewSettings(u *User) []byte {
	type m = map[string]any
	return mustJSON(m{
		"schedule_meeting":   m{"host_video": true, "participants_video": false, "join_before_host": false, "use_pmi_for_scheduled_meetings": false},
		"in_meeting":         m{"chat": true, "private_chat": true, "auto_saving_chat": false, "file_transfer": true, "breakout_room": true, "waiting_room": true},
		"email_notification": m{"jbh_reminder": true, "cancel_meeting_reminder": true, "alternative_host_reminder": true},
		"recording": m{"local_recording": true, "cloud_recording": u.CloudRecording, "auto_recording": "none",
			"record_speaker_view": true, "record_audio_file": true, "save_chat_text": true, "show_timestamp": true},
		"telephony":  m{"third_party_audio": false, "audio_conference_info": "", "show_international_numbers_link": true},
		"feature":    m{"meeting_capacity": 300, "large_meeting": false, "webinar": u.WebinarAddon, "zoom_phone": u.Phone != nil, "cn_meeting": false, "in_meeting": false},
		"tsp":        m{"call_out": false, "show_international_numbers_link": false},
		"profile":    m{"recording_storage_location": m{"allowed_values": []string{"US"}, "value": "US"}},
		"whiteboard": m{"out_meeting_advanced_whiteboard": true},
	})
}

type meetingView struct {
	UUID      string `json:"uuid"`
	ID        int64  `json:"id"`
	HostID    string `json:"host_id"`
	Topic     string `json:"topic"`
	Type      int    `json:"type"`
	StartTime string `json:"start_time"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
	Agenda    string `json:"agenda,omitempty"`
	CreatedAt string `json:"created_at"`
	JoinURL   string `json:"join_url"`
}

func viewMeeting(u *User, m Meeting) []byte {
	return mustJSON(meetingView{UUID: m.UUID, ID: m.ID, HostID: u.ID, Topic: m.Topic, Type: m.Type, StartTime: zt(m.StartTime),
		Duration: m.Duration, Timezone: m.Timezone, Agenda: m.Agenda, CreatedAt: zt(m.CreatedAt), JoinURL: fmt.Sprintf("https://example.zoom.us/j/%d", m.ID)})
}

func viewWebinar(u *User, w Webinar) []byte {
	return mustJSON(struct {
		meetingView
		IsSimulive bool `json:"is_simulive"`
	}{meetingView{UUID: w.UUID, ID: w.ID, HostID: u.ID, Topic: w.Topic, Type: w.Type, StartTime: zt(w.StartTime),
		Duration: w.Duration, Timezone: w.Timezone, Agenda: w.Agenda, CreatedAt: zt(w.CreatedAt), JoinURL: fmt.Sprintf("https://example.zoom.us/w/%d", w.ID)}, false})
}

type reportMeetingView struct {
	UUID              string `json:"uuid"`
	ID                int64  `json:"id"`
	Type              int    `json:"type"`
	Topic             string `json:"topic"`
	UserName          string `json:"user_name"`
	UserEmail         string `json:"user_email"`
	StartTime         string `json:"start_time"`
	EndTime           string `json:"end_time"`
	Duration          int    `json:"duration"`
	TotalMinutes      int    `json:"total_minutes"`
	ParticipantsCount int    `json:"participants_count"`
	Source            string `json:"source"`
	HasScreenShare    bool   `json:"has_screen_share"`
	HasRecording      bool   `json:"has_recording"`
	HasChat           bool   `json:"has_chat"`
}

func viewReportMeeting(u *User, m Meeting) []byte {
	d := int(m.EndTime.Sub(m.StartTime).Minutes())
	return mustJSON(reportMeetingView{UUID: m.UUID, ID: m.ID, Type: m.Type, Topic: m.Topic, UserName: u.DisplayName, UserEmail: u.Email,
		StartTime: zt(m.StartTime), EndTime: zt(m.EndTime), Duration: d, TotalMinutes: d * m.ParticipantsCount,
		ParticipantsCount: m.ParticipantsCount, Source: "Zoom", HasScreenShare: m.HasScreenShare, HasRecording: m.HasRecording, HasChat: m.HasChat})
}

type recordingFileView struct {
	ID             string `json:"id"`
	MeetingID      string `json:"meeting_id"`
	RecordingStart string `json:"recording_start"`
	RecordingEnd   string `json:"recording_end"`
	FileType       string `json:"file_type"`
	FileExtension  string `json:"file_extension"`
	FileSize       int64  `json:"file_size"`
	PlayURL        string `json:"play_url"`
	DownloadURL    string `json:"download_url"`
	Status         string `json:"status"`
	RecordingType  string `json:"recording_type"`
	DeletedTime    string `json:"deleted_time,omitempty"`
}

type recordingView struct {
	UUID           string              `json:"uuid"`
	ID             int64               `json:"id"`
	AccountID      string              `json:"account_id"`
	HostID         string              `json:"host_id"`
	Topic          string              `json:"topic"`
	Type           string              `json:"type"`
	StartTime      string              `json:"start_time"`
	Duration       int                 `json:"duration"`
	TotalSize      int64               `json:"total_size"`
	RecordingCount int                 `json:"recording_count"`
	Passcode       string              `json:"recording_play_passcode"`
	Files          []recordingFileView `json:"recording_files"`
}

func viewRecording(a *AccountData, u *User, r Recording) []byte {
	v := recordingView{UUID: r.UUID, ID: r.MeetingID, AccountID: a.ID, HostID: u.ID, Topic: r.Topic, Type: r.Type,
		StartTime: zt(r.StartTime), Duration: r.Duration, TotalSize: r.TotalSize(), RecordingCount: len(r.Files), Passcode: r.Passcode,
		Files: []recordingFileView{}}
	for _, f := range r.Files {
		v.Files = append(v.Files, recordingFileView{ID: f.ID, MeetingID: r.UUID, RecordingStart: zt(f.RecordingStart), RecordingEnd: zt(f.RecordingEnd),
			FileType: f.FileType, FileExtension: f.FileExtension, FileSize: f.FileSize,
			PlayURL:     "https://example.zoom.us/rec/play/" + f.ID,
			DownloadURL: baseMark + "/rec/download/" + f.ID, Status: "completed", RecordingType: f.RecordingType, DeletedTime: zt(r.DeletedTime)})
	}
	return mustJSON(v)
}

// phone

func viewPhoneUser(a *AccountData, u *User) []byte {
	p := u.Phone
	type m = map[string]any
	return mustJSON(m{
		"id": p.ID, "phone_user_id": p.ID, "email": u.Email, "extension_id": p.ExtensionID, "extension_number": p.ExtensionNumber,
		"status": "activate", "site_id": p.SiteID, "site_admin": false, "department": u.Dept, "cost_center": "",
		"calling_plans":     []m{{"type": 200, "billing_account_id": "", "billing_account_name": ""}},
		"phone_numbers":     []m{{"id": p.ID[:12], "number": p.Number}},
		"emergency_address": m{"address_line1": "1 Example Street", "city": "Berlin", "country": "DE", "zip": "10115", "state_code": "BE", "id": p.SiteID[:10]},
		"policy":            m{"voicemail": m{"enable": true, "allow_download": true, "allow_delete": true, "allow_transcription": true, "allow_videomail": false}, "international_calling": false, "elevate_to_meeting": true, "delegation": false},
	})
}

func viewPhoneSettings(u *User) []byte {
	p := u.Phone
	type m = map[string]any
	return mustJSON(m{
		"area_code": "415", "audio_prompt_language": "en-US", "company_number": p.Number, "extension_number": p.ExtensionNumber,
		"country":         m{"code": "US", "country_code": "1", "name": "United States"},
		"delegation":      m{"assistants": []m{}, "privacy": false, "privileges": []int{1, 2}, "locked": false},
		"outbound_caller": m{"number": p.Number}, "outbound_caller_ids": []m{{"is_default": true, "name": u.DisplayName, "number": p.Number}},
		"status": "Active", "voice_mail": []m{}, "intercom": m{"audio_intercoms": []m{}},
	})
}

func phoneNumberType(external bool) int {
	if external {
		return 2
	}
	return 1
}

type callHistoryView struct {
	ID              string `json:"id"`
	CallPathID      string `json:"call_path_id"`
	CallID          string `json:"call_id"`
	ConnectType     string `json:"connect_type"`
	CallType        string `json:"call_type"`
	Direction       string `json:"direction"`
	HideCallerID    bool   `json:"hide_caller_id"`
	EndToEnd        bool   `json:"end_to_end"`
	CallerName      string `json:"caller_name"`
	CallerEmail     string `json:"caller_email,omitempty"`
	CallerExtNumber string `json:"caller_ext_number,omitempty"`
	CallerDID       string `json:"caller_did_number"`
	CallerExtType   string `json:"caller_ext_type"`
	CallerNumType   string `json:"caller_number_type"`
	CalleeName      string `json:"callee_name"`
	CalleeEmail     string `json:"callee_email,omitempty"`
	CalleeExtNumber string `json:"callee_ext_number,omitempty"`
	CalleeDID       string `json:"callee_did_number"`
	CalleeExtType   string `json:"callee_ext_type"`
	CalleeNumType   string `json:"callee_number_type"`
	StartTime       string `json:"start_time"`
	AnswerTime      string `json:"answer_time,omitempty"`
	EndTime         string `json:"end_time"`
	Event           string `json:"event"`
	Result          string `json:"result"`
	RecordingID     string `json:"recording_id,omitempty"`
	RecordingType   string `json:"recording_type,omitempty"`
	VoicemailID     string `json:"voicemail_id,omitempty"`
	TalkTime        int    `json:"talk_time"`
	HoldTime        int    `json:"hold_time"`
	WaitTime        int    `json:"wait_time"`
}

func viewCallHistory(u *User, c CallLog) []byte {
	p := u.Phone
	v := callHistoryView{ID: c.ID, CallPathID: c.ID, CallID: c.CallID, ConnectType: "internal", CallType: "general",
		Direction: c.Direction, StartTime: zt(c.StartTime), AnswerTime: zt(c.AnswerTime), EndTime: zt(c.EndTime),
		Event: "outgoing", Result: c.Result, RecordingID: c.RecordingID, VoicemailID: c.VoicemailID,
		TalkTime: talkTime(c), WaitTime: waitTime(c)}
	if c.External {
		v.ConnectType = "external"
	}
	if c.RecordingID != "" {
		v.RecordingType = "automatic"
	}
	own := [5]string{u.DisplayName, u.Email, strconv.FormatInt(p.ExtensionNumber, 10), p.Number, "user"}
	peer := [5]string{c.PeerName, "", "", c.PeerNumber, "external_contact"}
	caller, callee := own, peer
	if c.Direction == "inbound" {
		v.Event = "incoming"
		caller, callee = peer, own
	}
	v.CallerName, v.CallerEmail, v.CallerExtNumber, v.CallerDID, v.CallerExtType = caller[0], caller[1], caller[2], caller[3], caller[4]
	v.CalleeName, v.CalleeEmail, v.CalleeExtNumber, v.CalleeDID, v.CalleeExtType = callee[0], callee[1], callee[2], callee[3], callee[4]
	v.CallerNumType, v.CalleeNumType = numberType(caller[4]), numberType(callee[4])
	return mustJSON(v)
}

func numberType(extType string) string {
	if extType == "user" {
		return "zoom_pstn"
	}
	return "external_pstn"
}

func talkTime(c CallLog) int {
	if c.AnswerTime.IsZero() {
		return 0
	}
	return int(c.EndTime.Sub(c.AnswerTime).Seconds())
}

func waitTime(c CallLog) int {
	if c.AnswerTime.IsZero() {
		return int(c.EndTime.Sub(c.StartTime).Seconds())
	}
	return int(c.AnswerTime.Sub(c.StartTime).Seconds())
}

type callLogView struct {
	ID            string `json:"id"`
	CallID        string `json:"call_id"`
	Direction     string `json:"direction"`
	DateTime      string `json:"date_time"`
	Duration      int    `json:"duration"`
	Result        string `json:"result"`
	Path          string `json:"path"`
	UserID        string `json:"user_id"`
	HasRecording  bool   `json:"has_recording"`
	HasVoicemail  bool   `json:"has_voicemail"`
	RecordingType string `json:"recording_type,omitempty"`
	HoldTime      int    `json:"hold_time"`
	WaitingTime   int    `json:"waiting_time"`
	CallerName    string `json:"caller_name"`
	CallerNumber  string `json:"caller_number"`
	CallerNumType int    `json:"caller_number_type"`
	CalleeName    string `json:"callee_name"`
	CalleeNumber  string `json:"callee_number"`
	CalleeNumType int    `json:"callee_number_type"`
}

// viewCallLog is the deprecated call_logs shape.
func viewCallLog(u *User, c CallLog) []byte {
	ext := strconv.FormatInt(u.Phone.ExtensionNumber, 10)
	v := callLogView{ID: c.ID, CallID: c.CallID, Direction: c.Direction, DateTime: zt(c.StartTime),
		Duration: int(c.EndTime.Sub(c.StartTime).Seconds()), Result: callLogResult(c), Path: "pstn", UserID: u.ID,
		HasRecording: c.RecordingID != "", HasVoicemail: c.VoicemailID != "", WaitingTime: waitTime(c),
		CallerName: c.PeerName, CallerNumber: c.PeerNumber, CallerNumType: 2, CalleeName: u.DisplayName, CalleeNumber: ext, CalleeNumType: 1}
	if c.Direction == "outbound" {
		v.CallerName, v.CallerNumber, v.CallerNumType = u.DisplayName, ext, 1
		v.CalleeName, v.CalleeNumber, v.CalleeNumType = c.PeerName, c.PeerNumber, phoneNumberType(c.External)
	}
	if c.RecordingID != "" {
		v.RecordingType = "Automatic"
	}
	return mustJSON(v)
}

func callLogResult(c CallLog) string {
	switch c.Result {
	case "answered":
		return "Call connected"
	case "voicemail":
		return "Voicemail"
	default:
		return "No Answer"
	}
}

func viewVoicemail(u *User, v Voicemail) []byte {
	return mustJSON(map[string]any{"id": v.ID, "call_id": v.CallID, "call_log_id": v.CallLogID, "call_history_id": v.CallLogID,
		"caller_name": v.CallerName, "caller_number": v.CallerNum, "caller_number_type": 2,
		"callee_name": u.DisplayName, "callee_number": fmt.Sprint(u.Phone.ExtensionNumber), "callee_number_type": 1,
		"date_time": zt(v.DateTime), "duration": v.Duration, "status": v.Status,
		"download_url": baseMark + "/v2/phone/voice_mails/download/" + v.ID})
}

func viewPhoneRecording(u *User, r PhoneRecording) []byte {
	p := u.Phone
	v := map[string]any{"id": r.ID, "call_id": r.CallID, "call_log_id": r.CallLogID, "call_history_id": r.CallLogID,
		"direction": r.Direction, "date_time": zt(r.DateTime), "duration": r.Duration,
		"download_url": baseMark + "/v2/phone/recording/download/" + r.ID,
		"caller_name":  r.PeerName, "caller_number": r.PeerNumber, "caller_number_type": 2,
		"callee_name": u.DisplayName, "callee_number": fmt.Sprint(p.ExtensionNumber), "callee_number_type": 1}
	if r.Transcript > 0 {
		v["transcript_download_url"] = baseMark + "/v2/phone/recording_transcript/download/" + r.ID
	}
	if r.Direction == "outbound" {
		v["caller_name"], v["caller_number"], v["caller_number_type"] = u.DisplayName, fmt.Sprint(p.ExtensionNumber), 1
		v["callee_name"], v["callee_number"], v["callee_number_type"] = r.PeerName, r.PeerNumber, 2
	}
	return mustJSON(v)
}

func viewDelegates(field string, ds []Delegate, withPMI bool) []byte {
	items := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		it := map[string]any{"id": d.ID, "email": d.Email}
		if withPMI {
			it["pmi"] = d.PMI
		} else {
			it["can_manage_host_private_event"] = false
		}
		items = append(items, it)
	}
	return mustJSON(map[string]any{field: items})
}
