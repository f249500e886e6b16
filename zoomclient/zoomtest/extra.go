package zoomtest

import "time"

// This file holds the records of issue 14's sections: meetings a user
// joined, Phone SMS, AI Companion meeting summaries and IM groups. They sit
// in their own structs, embedded in AccountData and User, so that the
// JSON format stays flat and the older records are untouched.

// AccountExtra is what an account holds beyond users and groups.
type AccountExtra struct {
	IMGroups []Group `json:"im_groups,omitempty"` // GET /im/groups
	// AISummary is "Meeting Summary with AI Companion" enabled on the
	// account; off, the summary endpoints answer "not enabled".
	AISummary bool `json:"ai_summary,omitempty"`
}

// UserExtra is what a user holds beyond the original sections.
type UserExtra struct {
	IMGroupIDs []string         `json:"im_group_ids,omitempty"`
	Joined     []JoinedMeeting  `json:"joined,omitempty"`       // held by others, by start time
	SMS        []SMSSession     `json:"sms_sessions,omitempty"` // by last message time
	Summaries  []MeetingSummary `json:"summaries,omitempty"`    // of meetings the user hosted, by meeting start
}

// JoinedMeeting is a meeting someone else hosted that the user joined; it
// appears in the user's report under type=pastJoined.
type JoinedMeeting struct {
	Meeting
	HostName  string `json:"host_name"`
	HostEmail string `json:"host_email"`
}

// SMSSession is one SMS thread of a Phone user with one peer.
type SMSSession struct {
	ID         string       `json:"session_id"`
	PeerName   string       `json:"peer_name"`
	PeerNumber string       `json:"peer_number"`
	Messages   []SMSMessage `json:"messages"` // by time
}

// Last is the time of the session's last message.
func (s SMSSession) Last() time.Time {
	if len(s.Messages) == 0 {
		return time.Time{}
	}
	return s.Messages[len(s.Messages)-1].DateTime
}

// SMSMessage is one message of a session.
type SMSMessage struct {
	ID          string          `json:"message_id"`
	DateTime    time.Time       `json:"date_time"`
	Direction   string          `json:"direction"` // In, Out
	Text        string          `json:"message"`
	Status      string          `json:"delivery_status"`
	Attachments []SMSAttachment `json:"attachments,omitempty"`
}

// SMSAttachment is an MMS media file; the emulator's file host serves its
// bytes.
type SMSAttachment struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"` // PNG, JPG, GIF, AUDIO, VIDEO, OTHER
	Size int64  `json:"size"`
}

// MeetingSummary is the AI Companion summary of one meeting instance.
type MeetingSummary struct {
	MeetingUUID  string          `json:"meeting_uuid"`
	MeetingID    int64           `json:"meeting_id"`
	Topic        string          `json:"meeting_topic"`
	MeetingStart time.Time       `json:"meeting_start_time"`
	MeetingEnd   time.Time       `json:"meeting_end_time"`
	Created      time.Time       `json:"summary_created_time"`
	Modified     time.Time       `json:"summary_last_modified_time"`
	Overview     string          `json:"summary_overview"`
	Details      []SummaryDetail `json:"summary_details"`
	NextSteps    []string        `json:"next_steps"`
}

// SummaryDetail is one labelled paragraph of a summary.
type SummaryDetail struct {
	Label   string `json:"label"`
	Summary string `json:"summary"`
}
