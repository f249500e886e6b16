package zoomtest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// extraSize sizes issue 14's sections for jane.doe@example.com.
type extraSize struct {
	joined    int // meetings others hosted that jane joined, last six months
	sms       int // SMS sessions, last six months
	summaries int // AI Companion summaries of jane's meetings, last six months
	groups    int // user groups jane belongs to besides her first one
	imGroups  int // IM groups of each account
}

var extraSizes = map[string]extraSize{
	"tiny":      {joined: 4, sms: 4, summaries: 3, groups: 2, imGroups: 2},
	"reference": {joined: 40, sms: 150, summaries: 100, groups: 3, imGroups: 3},
	"large":     {joined: 400, sms: 1500, summaries: 1000, groups: 5, imGroups: 5},
}

// sixMonthDays keeps generated records inside "the last six months"
// whatever the month lengths, like the phone data.
const sixMonthDays = 178

// generateExtras adds issue 14's records to a generated dataset. It draws
// from its own random source, so the records generated before it are
// exactly what they were without it.
func generateExtras(d *Dataset, name string, seed int64) {
	s := extraSizes[name]
	h := fnv.New64a()
	h.Write([]byte("extras " + name))
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), h.Sum64())), day: d.Start}
	for _, a := range d.Accounts {
		a.AISummary = a.Plan != Free
		for i := range s.imGroups {
			a.IMGroups = append(a.IMGroups, Group{ID: g.id(), Name: imGroupNames[i%len(imGroupNames)]})
		}
		for _, u := range a.Users {
			if len(a.IMGroups) > 0 && u.Status != "pending" {
				u.IMGroupIDs = []string{a.IMGroups[0].ID}
				a.IMGroups[0].TotalMembers++
			}
			g.transcripts(u)
		}
	}
	a := d.Accounts[0]
	jane := a.User(JaneEmail)
	if jane == nil {
		return
	}
	for i := 1; i < len(a.IMGroups); i++ {
		jane.IMGroupIDs = append(jane.IMGroupIDs, a.IMGroups[i].ID)
		a.IMGroups[i].TotalMembers++
	}
	for i := range s.groups {
		a.Groups = append(a.Groups, Group{ID: g.id(), Name: groupNames[i%len(groupNames)], TotalMembers: 1})
		jane.GroupIDs = append(jane.GroupIDs, a.Groups[len(a.Groups)-1].ID)
	}
	var others []*User
	for _, u := range a.Users {
		if u != jane && u.Status == "active" {
			others = append(others, u)
		}
	}
	for i := range s.joined {
		if len(others) == 0 {
			break
		}
		host := others[i%len(others)]
		m := g.meeting(host, g.past(sixMonthDays), true)
		m.ParticipantsCount = max(m.ParticipantsCount, 2)
		jane.Joined = append(jane.Joined, JoinedMeeting{Meeting: m, HostName: host.DisplayName, HostEmail: host.Email})
	}
	sortByTime(jane.Joined, func(m JoinedMeeting) time.Time { return m.StartTime })
	g.participantAudio(jane)
	if jane.Phone != nil {
		for i := range s.sms {
			last := g.day.Add(-time.Duration((i*sixMonthDays*86400)/max(s.sms, 1)+1+g.r.IntN(600)) * time.Second)
			jane.SMS = append(jane.SMS, g.smsSession(last, 2+g.r.IntN(11)))
		}
		sortByTime(jane.SMS, SMSSession.Last)
	}
	g.summaries(jane, s.summaries)
	for _, u := range others {
		if u.Phone != nil && len(u.SMS) == 0 {
			u.SMS = []SMSSession{g.smsSession(g.past(sixMonthDays), 3)}
		}
		if len(u.Summaries) == 0 && len(u.Meetings) > 0 {
			g.summaries(u, 1) // so that the account-wide list is not only jane's
		}
	}
}

var imGroupNames = []string{"Everyone", "Project Atlas", "Support rota", "Book club", "Hiring panel"}
var groupNames = []string{"Leadership", "Berlin office", "Security champions", "Mentors", "On-call"}

func sortByTime[T any](s []T, t func(T) time.Time) {
	slices.SortStableFunc(s, func(a, b T) int { return t(a).Compare(t(b)) })
}

var smsTexts = []string{"Running 5 minutes late", "Can you call me back?", "Thanks, see you tomorrow", "Sent the contract over",
	"Is 3pm still fine?", "Got it", "The parcel arrived", "Please confirm the address", "Happy birthday!", "On my way"}

func (g *gen) smsSession(last time.Time, n int) SMSSession {
	s := SMSSession{ID: strings.ToLower(g.token(32)), PeerName: firstNames[g.r.IntN(len(firstNames))] + " " + lastNames[g.r.IntN(len(lastNames))],
		PeerNumber: fmt.Sprintf("1212555%04d", g.r.IntN(10000))}
	// A thread spans at most a few days before its last message.
	for i := range n {
		t := last.Add(-time.Duration((n-1-i)*(1+g.r.IntN(7200))) * time.Second)
		m := SMSMessage{ID: g.token(24), DateTime: t, Direction: []string{"In", "Out"}[g.r.IntN(2)], Text: smsTexts[g.r.IntN(len(smsTexts))]}
		m.Status = "received"
		if m.Direction == "Out" {
			m.Status = "delivered"
		}
		if g.r.IntN(6) == 0 {
			id := g.token(22)
			m.Attachments = []SMSAttachment{{ID: id, Name: id + ".jpg", Type: "JPG", Size: 2000 + g.r.Int64N(20000)}}
		}
		s.Messages = append(s.Messages, m)
	}
	sortByTime(s.Messages, func(m SMSMessage) time.Time { return m.DateTime })
	return s
}

// transcripts gives three in four voicemails a transcription and every
// other call recording a transcript.
func (g *gen) transcripts(u *User) {
	if u.Phone == nil {
		return
	}
	for i := range u.Phone.Voicemails {
		if i%4 != 3 {
			u.Phone.Voicemails[i].Transcript = "Hi, this is " + u.Phone.Voicemails[i].CallerName + ". " + smsTexts[g.r.IntN(len(smsTexts))] + "."
		}
	}
	for i := range u.Phone.Recordings {
		if i%2 == 0 {
			u.Phone.Recordings[i].Transcript = 200 + int64(u.Phone.Recordings[i].Duration)*20
		}
	}
}

// participantAudio gives every fourth cloud recording one audio file per
// participant (the "Record a separate audio file of each participant"
// setting).
func (g *gen) participantAudio(u *User) {
	for i := range u.Recordings {
		r := &u.Recordings[i]
		if i%4 != 0 || len(r.Files) == 0 {
			continue
		}
		for range 2 + g.r.IntN(2) {
			f := r.Files[0]
			f.ID = strings.ToLower(g.token(8)) + "-" + strings.ToLower(g.token(4)) + "-" + strings.ToLower(g.token(12))
			f.FileType, f.FileExtension, f.RecordingType = "M4A", "M4A", "audio_only"
			f.FileSize = 512*int64(max(r.Duration, 1)) + g.r.Int64N(1024)
			r.ParticipantAudio = append(r.ParticipantAudio, f)
		}
	}
}

var summaryLines = []string{"The team agreed on the release date.", "Budget questions were deferred to next week.",
	"Two candidates move to the final round.", "The customer asked for a pilot.", "Open bugs were triaged."}

// summaries gives n of u's meetings held in the last six months an AI
// Companion summary, spread over them.
func (g *gen) summaries(u *User, n int) {
	var held []Meeting
	for _, m := range u.Meetings {
		if m.Past() && !m.StartTime.Before(g.day.AddDate(0, 0, -sixMonthDays)) {
			held = append(held, m)
		}
	}
	for i := range min(n, len(held)) {
		m := held[(i*len(held))/min(n, len(held))]
		s := MeetingSummary{MeetingUUID: m.UUID, MeetingID: m.ID, Topic: m.Topic, MeetingStart: m.StartTime, MeetingEnd: m.EndTime,
			Created: m.EndTime.Add(time.Duration(1+g.r.IntN(5)) * time.Minute), Overview: summaryLines[g.r.IntN(len(summaryLines))],
			Details:   []SummaryDetail{{Label: m.Topic, Summary: summaryLines[g.r.IntN(len(summaryLines))]}},
			NextSteps: []string{u.DisplayName + ": " + smsTexts[g.r.IntN(len(smsTexts))]}}
		s.Modified = s.Created
		u.Summaries = append(u.Summaries, s)
	}
}
