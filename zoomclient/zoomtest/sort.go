package zoomtest

import "slices"

// sortUser orders a user's records by time, as the index expects.
func sortUser(u *User) {
	slices.SortStableFunc(u.Meetings, func(a, b Meeting) int { return a.StartTime.Compare(b.StartTime) })
	slices.SortStableFunc(u.Webinars, func(a, b Webinar) int { return a.StartTime.Compare(b.StartTime) })
	slices.SortStableFunc(u.Recordings, func(a, b Recording) int { return a.StartTime.Compare(b.StartTime) })
	if p := u.Phone; p != nil {
		slices.SortStableFunc(p.CallLogs, func(a, b CallLog) int { return a.StartTime.Compare(b.StartTime) })
		slices.SortStableFunc(p.Voicemails, func(a, b Voicemail) int { return a.DateTime.Compare(b.DateTime) })
		slices.SortStableFunc(p.Recordings, func(a, b PhoneRecording) int { return a.DateTime.Compare(b.DateTime) })
	}
}
