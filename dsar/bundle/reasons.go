package bundle

import (
	"fmt"
	"strings"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Plain words for the data subject: section titles, states and the reasons
// Zoom gives for a section that does not apply.

var sectionTitles = map[string]string{
	dsar.SectionProfile:          "Profile",
	dsar.SectionSettings:         "Settings",
	dsar.SectionMeetings:         "Meetings",
	dsar.SectionWebinars:         "Webinars",
	dsar.SectionCloudRecordings:  "Cloud recordings",
	dsar.SectionMeetingsAttended: "Meetings you attended",
	dsar.SectionMeetingSummaries: "AI Companion meeting summaries",
	dsar.SectionGroups:           "Groups",
	dsar.SectionTeamChat:         "Team Chat",
	dsar.SectionPhoneSMS:         "Zoom Phone text messages (SMS)",
	dsar.SectionPhoneProfile:     "Zoom Phone profile",
	dsar.SectionPhoneSettings:    "Zoom Phone settings",
	dsar.SectionPhoneCallHistory: "Zoom Phone call history",
	dsar.SectionPhoneVoicemails:  "Zoom Phone voicemails",
	dsar.SectionPhoneRecordings:  "Zoom Phone call recordings",
}

var partTitles = map[string]string{
	"user":              "Account details",
	"assistants":        "Assistants",
	"schedulers":        "People who can schedule for you",
	"scheduled":         "Scheduled meetings",
	"upcoming":          "Upcoming meetings",
	"previous_meetings": "Previous meetings",
	"recordings":        "Recordings",
	"trash":             "Recordings in the trash",
	"participant_audio": "Each participant's audio",
	"summaries":         "Meetings with a summary",
	"summary":           "Summaries",
	"groups":            "Groups",
	"im_groups":         "Chat (IM) groups",
	"sessions":          "Conversations",
	"channels":          "Channels",
	"messages":          "Messages",
	"transcriptions":    "Transcriptions",
	"phone_voicemails":  "Voicemails",
}

func title(names map[string]string, name string) string {
	if t, ok := names[name]; ok {
		return t
	}
	t := strings.ReplaceAll(name, "_", " ")
	if t == "" {
		return t
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

func stateWords(state dsar.SectionState) string {
	switch state {
	case dsar.SectionComplete:
		return "Collected"
	case dsar.SectionNotApplicable:
		return "Not applicable"
	case dsar.SectionFailed:
		return "Could not be collected"
	case "":
		return "Not collected"
	}
	return strings.ToLower(strings.ReplaceAll(string(state), "_", " "))
}

// reasonWords explains in plain words why a section does not apply, from
// Zoom's error code and message; it falls back to Zoom's own message.
func reasonWords(section string, code int, msg string) string {
	phone := strings.HasPrefix(section, "phone_")
	lower := strings.ToLower(msg)
	switch {
	case code == 2031 || (phone && strings.Contains(lower, "not been enabled")):
		return "Zoom Phone is not enabled for this account."
	case phone && (code == 1001 || (code == 300 && strings.Contains(lower, "not exist"))):
		return "This person has no Zoom Phone licence, so Zoom Phone holds no data about them."
	case section == dsar.SectionWebinars && (strings.Contains(lower, "webinar") || strings.Contains(lower, "plan")):
		return "This account does not have the Zoom Webinars add-on."
	case section == dsar.SectionCloudRecordings && strings.Contains(lower, "cloud recording"):
		return "Cloud recording is not enabled, so there are no cloud recordings."
	case code == 200 && strings.Contains(lower, "paid"):
		return "This feature is only available on a paid Zoom plan, and this account does not have one."
	case code == 2001:
		return "The Zoom account does not exist."
	case code == 1001:
		return "Zoom has no user with this email address in this account."
	case msg != "" && code != 0:
		return fmt.Sprintf("Zoom answered: %q (code %d).", msg, code)
	case msg != "":
		return fmt.Sprintf("Zoom answered: %q.", msg)
	}
	return "Zoom reported that this does not apply to this person or account."
}

// licenceWords names a Zoom user type.
func licenceWords(v string) string {
	switch v {
	case "1":
		return "Basic (free)"
	case "2":
		return "Licensed"
	case "3":
		return "On-premises"
	case "4":
		return "Unassigned, without Meetings Basic"
	case "99":
		return "None"
	}
	return v
}

// settingWords spells out the abbreviations in Zoom's setting keys.
var settingWords = map[string]string{
	"jbh": "join before host", "pmi": "personal meeting ID", "id": "ID", "ids": "IDs", "url": "URL",
	"sms": "SMS", "e2ee": "end-to-end encryption", "api": "API", "tsp": "TSP", "sip": "SIP",
	"h323": "H.323", "ip": "IP", "qa": "Q&A", "cmr": "cloud recording", "pstn": "phone (PSTN)",
	"mms": "MMS", "ai": "AI", "cc": "closed captions", "dtmf": "DTMF", "uk": "UK", "us": "US",
	"e911": "E911", "vm": "voicemail", "im": "chat", "gcm": "GCM encryption", "lte": "LTE",
	"pwd": "passcode", "password": "passcode", "hd": "HD", "ptr": "participant",
}

// settingLabel writes a setting's key ("email_notification",
// "jbh_reminder", "a.b") in words: "Email notification", "Join before host
// reminder", "A: b".
func settingLabel(key string) string {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		words := strings.Split(p, "_")
		for j, w := range words {
			if s, ok := settingWords[strings.ToLower(w)]; ok {
				words[j] = s
			}
		}
		parts[i] = strings.Join(words, " ")
	}
	s := strings.Join(parts, ": ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
