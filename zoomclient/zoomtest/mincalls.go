package zoomtest

import "time"

// Horizons of MinCalls: how far back each windowed list is fetched.
const (
	RecordingsMonths = 12 // cloud recordings (the client's default)
	SixMonths        = 6  // Phone lists, the meetings report, summaries: Zoom keeps or serves six months
)

// MinCalls returns, for the user (id or email), the fewest requests that
// fetch everything the dataset holds about them, by operation: Zoom's
// largest page size everywhere, one call per window Zoom requires (see
// MinWindows), each item fetched once, an empty window or list still one
// call. Keys are the operation patterns of Operations, with the query
// that selects a list where one path serves several ("?type=...",
// "?trash=true"); downloads under their own paths, cloud recording files
// as "GET /rec/download/{fileId}" and Team Chat's files as
// "GET /file/chat/{fileId}". It is the denominator of the performance
// criterion of the coverage issues ("the emulator can tell the minimum
// from its data"). now is when the request started; an unknown user gives
// nil.
func (d *Dataset) MinCalls(user string, now time.Time) map[string]int {
	var a *AccountData
	var u *User
	for _, acc := range d.Accounts {
		if u = acc.User(user); u != nil {
			a = acc
			break
		}
	}
	if u == nil {
		return nil
	}
	out := map[string]int{}
	pages := func(n, size int) int { return max(1, (n+size-1)/size) }
	windowed := func(key string, months, size int, times []time.Time) {
		for _, w := range MinWindows(now, months) {
			n := 0
			for _, t := range times {
				if !t.Before(w[0]) && t.Before(w[1].Add(day)) {
					n++
				}
			}
			out[key] += pages(n, size)
		}
	}
	sixAgo := utcDay(now).AddDate(0, -SixMonths, 0)

	out["GET /users/{userId}"] = 1
	out["GET /users/{userId}/settings"] = 1
	out["GET /users/{userId}/assistants"] = 1
	out["GET /users/{userId}/schedulers"] = 1
	var scheduled, upcoming, previous, attended []time.Time
	for _, m := range u.Meetings {
		switch {
		case m.Past():
			previous = append(previous, m.StartTime)
			if m.ParticipantsCount >= 2 {
				attended = append(attended, m.StartTime)
			}
		default:
			scheduled = append(scheduled, m.StartTime)
			if !m.StartTime.Before(now.Add(-2 * time.Hour)) {
				upcoming = append(upcoming, m.StartTime)
			}
		}
	}
	for _, j := range u.Joined {
		attended = append(attended, j.StartTime)
	}
	out["GET /users/{userId}/meetings?type=scheduled"] = pages(len(scheduled), maxPageSize)
	out["GET /users/{userId}/meetings?type=upcoming"] = pages(len(upcoming), maxPageSize)
	out["GET /users/{userId}/meetings?type=previous_meetings"] = pages(len(previous), maxPageSize)
	if u.WebinarAddon {
		out["GET /users/{userId}/webinars"] = pages(len(u.Webinars), maxPageSize)
	}
	var recs []time.Time
	trash, files := 0, 0
	meetingRecs := 0
	recFrom := utcDay(now).AddDate(0, -RecordingsMonths, 0)
	for _, r := range u.Recordings {
		if !u.CloudRecording {
			break
		}
		if r.Trashed() {
			trash++
		} else {
			recs = append(recs, r.StartTime)
			if !r.StartTime.Before(recFrom) {
				meetingRecs++
			}
		}
		if r.Trashed() || !r.StartTime.Before(recFrom) {
			files += len(r.Files) + len(r.ParticipantAudio)
		}
	}
	windowed("GET /users/{userId}/recordings", RecordingsMonths, maxPageSize, recs)
	out["GET /users/{userId}/recordings?trash=true"] = pages(trash, maxPageSize)
	// participant_audio_files are only in the one-meeting answer, which
	// a client asks for each recording it keeps.
	out["GET /meetings/{meetingId}/recordings"] = meetingRecs
	if a.Plan != Free {
		windowed("GET /report/users/{userId}/meetings?type=pastJoined", SixMonths, maxPageSize, attended)
		out["GET /groups"] = pages(len(a.Groups), maxPageSize)
		out["GET /im/groups"] = 1
	}
	if a.AISummary {
		var all []time.Time
		mine := 0
		for _, v := range a.Users {
			for _, s := range v.Summaries {
				all = append(all, s.MeetingStart)
				if v == u && !s.MeetingStart.Before(sixAgo) {
					mine++
				}
			}
		}
		windowed("GET /meetings/meeting_summaries", SixMonths, maxPageSize, all)
		out["GET /meetings/{meetingId}/meeting_summary"] = mine
	}
	if p := u.Phone; p != nil && a.PhoneEnabled {
		out["GET /phone/users/{userId}"] = 1
		out["GET /phone/users/{userId}/settings"] = 1
		var calls, vms, precs, sessions []time.Time
		for _, c := range p.CallLogs {
			calls = append(calls, c.StartTime)
		}
		for _, v := range p.Voicemails {
			vms = append(vms, v.DateTime)
			if !v.DateTime.Before(sixAgo) {
				out["GET /phone/voice_mails/{voicemailId}"]++
				out["GET /phone/voice_mails/download/{fileId}"]++
			}
		}
		for _, r := range p.Recordings {
			precs = append(precs, r.DateTime)
			if !r.DateTime.Before(sixAgo) {
				out["GET /phone/recording/download/{fileId}"]++
				if r.Transcript > 0 {
					out["GET /phone/recording_transcript/download/{recordingId}"]++
				}
			}
		}
		for _, s := range u.SMS {
			sessions = append(sessions, s.Last())
			if !s.Last().Before(sixAgo) {
				out["GET /phone/sms/sessions/{sessionId}/sync"] += pages(len(s.Messages), maxSyncCount)
				for _, m := range s.Messages {
					files += len(m.Attachments)
				}
			}
		}
		windowed("GET /phone/users/{userId}/call_history", SixMonths, maxPageSize, calls)
		windowed("GET /phone/users/{userId}/voice_mails", SixMonths, maxPageSize, vms)
		windowed("GET /phone/users/{userId}/recordings", SixMonths, maxPageSize, precs)
		windowed("GET /phone/users/{userId}/sms/sessions", SixMonths, 100, sessions)
	}
	out["GET /rec/download/{fileId}"] = files
	c := chatMinCalls(u, now)
	out["GET /chat/users/{userId}/sessions"] = c.Sessions
	out["GET /chat/users/{userId}/channels"] = c.Channels
	out["GET /chat/users/{userId}/messages"] = c.Messages
	out["GET "+chatFilePath+"{fileId}"] = c.Files
	return out
}

// MinWindows returns the fewest date windows (from, to; UTC days,
// inclusive) that cover the months before now under Zoom's "one month per
// call" as the emulator applies it: each spans at most one month, the
// newest ends today, the oldest starts months back. Newest first.
func MinWindows(now time.Time, months int) [][2]time.Time {
	today := utcDay(now)
	oldest := today.AddDate(0, -months, 0)
	var out [][2]time.Time
	for to := today; !to.Before(oldest); {
		from := to.AddDate(0, -1, 0)
		for !withinMonth(from, to.Add(day)) {
			from = from.Add(day)
		}
		from = maxTime(from, oldest)
		out = append(out, [2]time.Time{from, to})
		to = from.Add(-day)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// MinCalls is Dataset.MinCalls for the emulator's data at its clock.
func (e *Emulator) MinCalls(user string) map[string]int { return e.data.MinCalls(user, e.clock.Now()) }
