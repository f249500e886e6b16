// Package dsar is the domain of zoom-dsar: access requests, their sections
// and states, and the processor that runs them to completion through
// crashes, restarts and Zoom's rate limits.
//
// dsar imports nothing of the project, nor grpc, bbolt or oauth2: it
// declares the small interfaces it needs (Store, Zoom, Assembler,
// MediaStore, Clock) and the adapters (store, zoomclient, dsar/bundle,
// dsar/rpc) satisfy them. TestImports guards the direction.
package dsar

import "time"

// State is the state of an access request.
//
//	QUEUED -> RUNNING <-> WAITING_QUOTA, WAITING_ZOOM -> ASSEMBLING -> COMPLETED
//
// and FAILED or CANCELLED from any non-final state.
type State string

const (
	StateQueued       State = "QUEUED"
	StateRunning      State = "RUNNING"
	StateWaitingQuota State = "WAITING_QUOTA"
	// StateWaitingZoom: Zoom kept failing; the request goes on by itself
	// when the account's breaker lets a call through (WaitingUntil).
	StateWaitingZoom State = "WAITING_ZOOM"
	StateAssembling  State = "ASSEMBLING"
	StateCompleted   State = "COMPLETED"
	StateFailed      State = "FAILED"
	StateCancelled   State = "CANCELLED"
)

// States is every request state, in the order of the diagram: the one list
// of them, which validation, the store's counts and dsard's metrics use.
var States = []State{StateQueued, StateRunning, StateWaitingQuota, StateWaitingZoom, StateAssembling,
	StateCompleted, StateFailed, StateCancelled}

// Waiting reports whether a request in state s is parked until its
// WaitingUntil, for Zoom's daily limit or an outage, and goes on by itself.
func (s State) Waiting() bool { return s == StateWaitingQuota || s == StateWaitingZoom }

// Final reports whether no further work happens in state s without an
// operator (resume on a FAILED request).
func (s State) Final() bool {
	return s == StateCompleted || s == StateFailed || s == StateCancelled
}

// SectionState is the state of one section of a request.
type SectionState string

const (
	SectionPending       SectionState = "PENDING"
	SectionRunning       SectionState = "RUNNING"
	SectionComplete      SectionState = "COMPLETE"
	SectionNotApplicable SectionState = "NOT_APPLICABLE"
	SectionWaitingQuota  SectionState = "WAITING_QUOTA"
	SectionWaitingZoom   SectionState = "WAITING_ZOOM"
	SectionFailed        SectionState = "FAILED"
)

// SectionStates is every section state: the one list of them.
var SectionStates = []SectionState{SectionPending, SectionRunning, SectionComplete,
	SectionNotApplicable, SectionWaitingQuota, SectionWaitingZoom, SectionFailed}

// Waiting reports whether a section in state s waits for its WaitingUntil.
func (s SectionState) Waiting() bool { return s == SectionWaitingQuota || s == SectionWaitingZoom }

// Done reports whether the section needs no more calls.
func (s SectionState) Done() bool {
	return s == SectionComplete || s == SectionNotApplicable
}

// Section names, in the order of DESIGN.md.
const (
	SectionProfile          = "profile"
	SectionSettings         = "settings"
	SectionMeetings         = "meetings"
	SectionWebinars         = "webinars"
	SectionCloudRecordings  = "cloud_recordings"
	SectionMeetingsAttended = "meetings_attended"
	SectionMeetingSummaries = "meeting_summaries"
	SectionGroups           = "groups"
	SectionTeamChat         = "team_chat"
	SectionPhoneProfile     = "phone_profile"
	SectionPhoneSettings    = "phone_settings"
	SectionPhoneCallHistory = "phone_call_history"
	SectionPhoneVoicemails  = "phone_voicemails"
	SectionPhoneRecordings  = "phone_recordings"
	SectionPhoneSMS         = "phone_sms"
)

// Sections lists every section of an access request, in report order.
var Sections = []string{
	SectionProfile, SectionSettings, SectionMeetings, SectionWebinars,
	SectionCloudRecordings, SectionMeetingsAttended, SectionMeetingSummaries,
	SectionGroups, SectionTeamChat, SectionPhoneProfile, SectionPhoneSettings,
	SectionPhoneCallHistory, SectionPhoneVoicemails, SectionPhoneRecordings,
	SectionPhoneSMS,
}

// ChatPolicy says which Team Chat messages of other people an access
// request copies (GDPR Art. 15(4): the copy must not adversely affect the
// rights of others). Zoom cannot list a conversation by sender, so the
// adapter drops what the policy leaves out before a page is stored.
type ChatPolicy string

const (
	// ChatOwn keeps the subject's own messages only.
	ChatOwn ChatPolicy = "own"
	// ChatConversations, the default, also keeps the other party's
	// messages in 1:1 conversations, written to the subject, and in
	// channels the message each of the subject's replies answers.
	ChatConversations ChatPolicy = "conversations"
	// ChatChannels keeps every message of the subject's conversations and
	// channels.
	ChatChannels ChatPolicy = "channels"
)

// Valid reports whether p is a known policy; "" means ChatConversations.
func (p ChatPolicy) Valid() bool {
	switch p {
	case "", ChatOwn, ChatConversations, ChatChannels:
		return true
	}
	return false
}

// Words says in a sentence what a bundle holds under p, for the manifest
// and the report.
func (p ChatPolicy) Words() string {
	switch p {
	case ChatOwn:
		return "Team Chat: only your own messages are copied; other people's messages are left out to protect their rights (GDPR Art. 15(4))."
	case ChatChannels:
		return "Team Chat: every message of your conversations and channels is copied, other people's included."
	}
	return "Team Chat: your own messages and, in one-to-one conversations, the other person's messages to you are copied; in channels only your messages and each message you replied to, since the rest is other people's data (GDPR Art. 15(4))."
}

// Clock is the time source of the processor. Tests pass the emulator's
// clock so that moving it past midnight UTC wakes a parked request.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once the clock has advanced by d.
	// stop cancels the call and reports whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock is the real time.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

func (SystemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
