package zoomtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Dataset is everything the emulator serves. Generate builds one by name;
// LoadDataset reads one from JSON. Field names follow Zoom's where a field
// is served as is; the API responses are built from these records.
type Dataset struct {
	Name     string         `json:"name"`
	Start    time.Time      `json:"start"` // the day the data is anchored to (UTC midnight)
	Accounts []*AccountData `json:"accounts"`
}

// AccountData is one account and its users. The first account of a Dataset
// is the primary one and holds JaneEmail.
type AccountData struct {
	Account
	AccountNumber int64   `json:"account_number"`
	Groups        []Group `json:"groups"`
	Users         []*User `json:"users"`
	AccountExtra
}

// Group is a user group (GET /groups).
type Group struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	TotalMembers int    `json:"total_members"`
}

// User is a Zoom user with everything Zoom holds about them.
type User struct {
	ID                string    `json:"id"`
	Email             string    `json:"email"` // as entered; lookups ignore case
	FirstName         string    `json:"first_name"`
	LastName          string    `json:"last_name"`
	DisplayName       string    `json:"display_name"`
	Type              int       `json:"type"`   // 1 Basic, 2 Licensed
	Status            string    `json:"status"` // active, inactive, pending
	RoleName          string    `json:"role_name"`
	RoleID            string    `json:"role_id"`
	PMI               int64     `json:"pmi"`
	Timezone          string    `json:"timezone"`
	Language          string    `json:"language"`
	Dept              string    `json:"dept"`
	JobTitle          string    `json:"job_title"`
	Company           string    `json:"company"`
	Location          string    `json:"location"`
	CreatedAt         time.Time `json:"created_at"`
	LastLoginTime     time.Time `json:"last_login_time,omitzero"`
	LastClientVersion string    `json:"last_client_version,omitempty"`
	Verified          int       `json:"verified"`
	GroupIDs          []string  `json:"group_ids"`
	LicenseType       string    `json:"license_type"` // "MEETING" or "ZOOM_WORKPLACE_BUNDLE"; "" for Basic

	WebinarAddon   bool        `json:"webinar_addon"`   // holds a Webinar licence
	CloudRecording bool        `json:"cloud_recording"` // cloud recording enabled in settings
	Phone          *PhoneUser  `json:"phone,omitempty"` // nil: no Zoom Phone licence
	Assistants     []Delegate  `json:"assistants"`
	Schedulers     []Delegate  `json:"schedulers"`
	Meetings       []Meeting   `json:"meetings"`   // scheduled and past, by start time
	Webinars       []Webinar   `json:"webinars"`   // by start time
	Recordings     []Recording `json:"recordings"` // cloud recordings, by start time
	UserExtra

	// Chat is the user's Team Chat; nil: none.
	Chat *Chat `json:"chat,omitempty"`
}

// Delegate is an assistant or scheduler of a user.
type Delegate struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	PMI   int64  `json:"pmi,omitempty"`
}

// Meeting is a meeting hosted by a user. Past meetings (EndTime set) appear
// under type=previous_meetings and in the meetings report.
type Meeting struct {
	UUID              string    `json:"uuid"`
	ID                int64     `json:"id"`
	Topic             string    `json:"topic"`
	Type              int       `json:"type"` // 2 scheduled, 3 recurring no fixed time, 8 recurring fixed time
	StartTime         time.Time `json:"start_time"`
	Duration          int       `json:"duration"` // minutes, as scheduled
	Timezone          string    `json:"timezone"`
	Agenda            string    `json:"agenda,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	EndTime           time.Time `json:"end_time,omitzero"` // zero: not held yet
	ParticipantsCount int       `json:"participants_count,omitempty"`
	HasRecording      bool      `json:"has_recording,omitempty"`
	HasChat           bool      `json:"has_chat,omitempty"`
	HasScreenShare    bool      `json:"has_screen_share,omitempty"`
}

// Past reports whether the meeting has been held.
func (m Meeting) Past() bool { return !m.EndTime.IsZero() }

// Webinar is a webinar hosted by a user.
type Webinar struct {
	UUID      string    `json:"uuid"`
	ID        int64     `json:"id"`
	Topic     string    `json:"topic"`
	Type      int       `json:"type"` // 5 webinar, 6 recurring no fixed time, 9 recurring fixed time
	StartTime time.Time `json:"start_time"`
	Duration  int       `json:"duration"`
	Timezone  string    `json:"timezone"`
	Agenda    string    `json:"agenda,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Recording is the cloud recording of one meeting instance.
type Recording struct {
	UUID        string          `json:"uuid"`
	MeetingID   int64           `json:"id"`
	Topic       string          `json:"topic"`
	Type        string          `json:"type"` // meeting type as a string, e.g. "2"
	StartTime   time.Time       `json:"start_time"`
	Duration    int             `json:"duration"`
	Passcode    string          `json:"recording_play_passcode"`
	DeletedTime time.Time       `json:"deleted_time,omitzero"` // set: in the trash
	Files       []RecordingFile `json:"recording_files"`
	// ParticipantAudio are the per-participant audio files; only
	// GET /meetings/{meetingId}/recordings lists them.
	ParticipantAudio []RecordingFile `json:"participant_audio_files,omitempty"`
}

// Trashed reports whether the recording is in the trash.
func (r Recording) Trashed() bool { return !r.DeletedTime.IsZero() }

// TotalSize is the sum of the file sizes.
func (r Recording) TotalSize() int64 {
	var n int64
	for _, f := range r.Files {
		n += f.FileSize
	}
	return n
}

// RecordingFile is one file of a cloud recording. Its bytes are generated
// on demand from ID and FileSize.
type RecordingFile struct {
	ID             string    `json:"id"`
	RecordingStart time.Time `json:"recording_start"`
	RecordingEnd   time.Time `json:"recording_end"`
	FileType       string    `json:"file_type"`      // MP4, M4A, CHAT, TRANSCRIPT, ...
	FileExtension  string    `json:"file_extension"` // MP4, M4A, TXT, VTT, ...
	FileSize       int64     `json:"file_size"`
	RecordingType  string    `json:"recording_type"`
}

// PhoneUser is a user's Zoom Phone profile and data.
type PhoneUser struct {
	ID              string           `json:"id"`
	ExtensionID     string           `json:"extension_id"`
	ExtensionNumber int64            `json:"extension_number"`
	Number          string           `json:"number"` // direct number, E.164
	SiteID          string           `json:"site_id"`
	CallLogs        []CallLog        `json:"call_logs"`  // by start time
	Voicemails      []Voicemail      `json:"voicemails"` // by date time
	Recordings      []PhoneRecording `json:"recordings"` // by date time
}

// CallLog is one call in a user's call history.
type CallLog struct {
	ID          string    `json:"id"`
	CallID      string    `json:"call_id"`
	Direction   string    `json:"direction"` // inbound, outbound
	PeerName    string    `json:"peer_name"`
	PeerNumber  string    `json:"peer_number"`
	External    bool      `json:"external"`
	StartTime   time.Time `json:"start_time"`
	AnswerTime  time.Time `json:"answer_time,omitzero"`
	EndTime     time.Time `json:"end_time"`
	Result      string    `json:"result"` // answered, voicemail, hang_up, ...
	RecordingID string    `json:"recording_id,omitempty"`
	VoicemailID string    `json:"voicemail_id,omitempty"`
}

// Voicemail is a voicemail left for a user.
type Voicemail struct {
	ID         string    `json:"id"`
	CallID     string    `json:"call_id"`
	CallLogID  string    `json:"call_log_id"`
	CallerName string    `json:"caller_name"`
	CallerNum  string    `json:"caller_number"`
	DateTime   time.Time `json:"date_time"`
	Duration   int       `json:"duration"` // seconds
	Status     string    `json:"status"`   // read, unread
	FileSize   int64     `json:"file_size"`
	Transcript string    `json:"transcript,omitempty"` // "": none available
}

// PhoneRecording is a recorded phone call.
type PhoneRecording struct {
	ID         string    `json:"id"`
	CallID     string    `json:"call_id"`
	CallLogID  string    `json:"call_log_id"`
	Direction  string    `json:"direction"`
	PeerName   string    `json:"peer_name"`
	PeerNumber string    `json:"peer_number"`
	DateTime   time.Time `json:"date_time"`
	Duration   int       `json:"duration"` // seconds
	FileSize   int64     `json:"file_size"`
	Transcript int64     `json:"transcript_size,omitempty"` // bytes of its transcript; 0: none
}

// LoadDataset reads a dataset written by WriteJSON (or by hand).
func LoadDataset(path string) (*Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	var d Dataset
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("load dataset %s: %w", path, err)
	}
	if d.Name == "" {
		d.Name = path
	}
	return &d, nil
}

// WriteJSON writes the dataset in the format LoadDataset reads.
func (d *Dataset) WriteJSON(path string) error {
	b, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write dataset: %w", err)
	}
	return nil
}

// User returns the user with the given id or email (any case) in any
// account, or nil.
func (d *Dataset) User(idOrEmail string) *User {
	for _, a := range d.Accounts {
		if u := a.User(idOrEmail); u != nil {
			return u
		}
	}
	return nil
}

// User returns the account's user with the given id or email (any case),
// or nil.
func (a *AccountData) User(idOrEmail string) *User {
	for _, u := range a.Users {
		if u.ID == idOrEmail || strings.EqualFold(u.Email, idOrEmail) {
			return u
		}
	}
	return nil
}

func (d *Dataset) primary() *AccountData {
	if len(d.Accounts) == 0 {
		return nil
	}
	return d.Accounts[0]
}

// validate checks what the emulator relies on.
func (d *Dataset) validate() error {
	if len(d.Accounts) == 0 {
		return errors.New("no accounts")
	}
	ids := map[string]bool{}
	clients := map[string]bool{}
	for i, a := range d.Accounts {
		if a == nil {
			return fmt.Errorf("account %d is null", i)
		}
		if a.ID == "" || a.ClientID == "" || a.ClientSecret == "" {
			return fmt.Errorf("account %d: id, client_id and client_secret are required", i)
		}
		if !a.Plan.valid() {
			return fmt.Errorf("account %s: unknown plan %q", a.ID, a.Plan)
		}
		if !a.App.valid() {
			return fmt.Errorf("account %s: unknown app type %q (want s2s or oauth)", a.ID, a.App)
		}
		if a.App == AppOAuth {
			if u, err := url.Parse(a.RedirectURL); err != nil || !u.IsAbs() || u.Host == "" {
				return fmt.Errorf("account %s: an OAuth app needs an absolute redirect URL", a.ID)
			}
		}
		if ids[a.ID] || clients[a.ClientID] {
			return fmt.Errorf("account %s: duplicate account or client id", a.ID)
		}
		ids[a.ID], clients[a.ClientID] = true, true
		users := map[string]bool{}
		for j, u := range a.Users {
			if u == nil || u.ID == "" || u.Email == "" {
				return fmt.Errorf("account %s: user %d needs an id and an email", a.ID, j)
			}
			k := strings.ToLower(u.Email)
			if users[u.ID] || users[k] {
				return fmt.Errorf("account %s: user %d: duplicate id or email", a.ID, j)
			}
			users[u.ID], users[k] = true, true
		}
	}
	return nil
}
