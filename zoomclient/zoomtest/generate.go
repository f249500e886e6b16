package zoomtest

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// GenerateOptions parameterises Generate.
type GenerateOptions struct {
	Seed         int64
	Start        time.Time // the data is anchored to this day (UTC); zero: today
	Plan         Plan      // plan of the primary account; "": Business
	PhoneEnabled *bool     // Phone on the primary account; nil: on for paid plans
}

// sizes of a generated dataset, for jane.doe@example.com and for everyone
// else.
type datasetSize struct {
	pastMeetings, scheduled, webinars, recordings, trashed int
	calls, voicemails, phoneRecordings                     int
	fillerUsers                                            int
	fillerMeetings, fillerRecordings, fillerCalls          int
}

var datasetSizes = map[string]datasetSize{
	"tiny":      {pastMeetings: 10, scheduled: 3, webinars: 2, recordings: 6, trashed: 2, calls: 12, voicemails: 4, phoneRecordings: 3, fillerUsers: 4, fillerMeetings: 3, fillerRecordings: 2, fillerCalls: 4},
	"reference": {pastMeetings: 1200, scheduled: 12, webinars: 8, recordings: 200, trashed: 8, calls: 3000, voicemails: 100, phoneRecordings: 150, fillerUsers: 40, fillerMeetings: 20, fillerRecordings: 5, fillerCalls: 30},
	"large":     {pastMeetings: 12000, scheduled: 40, webinars: 30, recordings: 2000, trashed: 50, calls: 30000, voicemails: 1000, phoneRecordings: 1500, fillerUsers: 300, fillerMeetings: 40, fillerRecordings: 10, fillerCalls: 60},
	// mixed is tiny with filler users of widely different sizes
	// (fillerPages).
	"mixed": {pastMeetings: 10, scheduled: 3, webinars: 2, recordings: 6, trashed: 2, calls: 12, voicemails: 4, phoneRecordings: 3, fillerUsers: len(fillerPages["mixed"]), fillerMeetings: 3, fillerRecordings: 2, fillerCalls: 4},
}

// DatasetNames lists the names Generate accepts.
func DatasetNames() []string { return []string{"tiny", "reference", "large", "mixed"} }

// Generate builds a named dataset: "tiny", "reference", "large" or
// "mixed". The same name, seed, plan and start day give the same data,
// byte for byte. "mixed" is "tiny" whose filler users differ widely in
// size (fillerPages), for requests of mixed sizes.
//
// Every dataset has several accounts. The primary one holds
// jane.doe@example.com (Phone licence, webinar add-on, meetings, cloud
// recordings, some in the trash, calls, voicemails, phone recordings), a user
// whose email has mixed case, a user without a Phone licence or webinar
// add-on, a pending user and an inactive one. The others are a free, a pro
// and a business account, all without Phone.
func Generate(name string, o GenerateOptions) (*Dataset, error) {
	size, ok := datasetSizes[name]
	if !ok {
		return nil, fmt.Errorf("unknown dataset %q (want one of %s)", name, strings.Join(DatasetNames(), ", "))
	}
	if o.Plan == "" {
		o.Plan = Business
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	day := utcDay(o.Start)
	h := fnv.New64a()
	h.Write([]byte(name))
	g := &gen{r: rand.New(rand.NewPCG(uint64(o.Seed), h.Sum64())), day: day}
	phone := o.Plan != Free
	if o.PhoneEnabled != nil {
		phone = *o.PhoneEnabled
	}
	d := &Dataset{Name: name, Start: day}
	primary := g.account(o.Plan, phone)
	d.Accounts = append(d.Accounts, primary)
	g.primaryUsers(primary, size)
	for _, p := range []Plan{Free, Pro, Business} {
		a := g.account(p, false)
		for i := range 3 {
			u := g.user(a, fmt.Sprintf("member%d.%s@example.org", i+1, p), "Member", i+1)
			g.fill(a, u, 2, 1, 0)
			a.Users = append(a.Users, u)
		}
		d.Accounts = append(d.Accounts, a)
	}
	generateExtras(d, name, o.Seed)
	generateChat(d, name, o.Seed)
	generateFillerMeetings(d, name, o.Seed)
	return d, nil
}

type gen struct {
	r   *rand.Rand
	day time.Time
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) token(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[g.r.IntN(len(idAlphabet))]
	}
	return string(b)
}

// id looks like Zoom's 22-character ids.
func (g *gen) id() string { return g.token(22) }

func (g *gen) uuid() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

func (g *gen) meetingID() int64 { return 81000000000 + g.r.Int64N(8999999999) }

// past returns a time within the days before the anchor day, on a whole
// second.
func (g *gen) past(days int) time.Time {
	return g.day.Add(-time.Duration(g.r.Int64N(int64(days)*86400)+1) * time.Second)
}

func (g *gen) account(p Plan, phone bool) *AccountData {
	a := &AccountData{
		Account:       Account{ID: g.id(), ClientID: g.id(), ClientSecret: g.token(32), Plan: p, PhoneEnabled: phone},
		AccountNumber: 100000000 + g.r.Int64N(899999999),
	}
	a.Groups = []Group{{ID: g.id(), Name: "Engineering"}, {ID: g.id(), Name: "Sales"}}
	return a
}

var firstNames = []string{"Alex", "Sam", "Robin", "Kim", "Noor", "Lee", "Ana", "Mika", "Jo", "Ravi", "Ola", "Tess"}
var lastNames = []string{"Berg", "Costa", "Diaz", "Evans", "Fujita", "Garcia", "Haddad", "Ivanova", "Jensen", "Khan", "Lopez", "Moreau"}

func (g *gen) user(a *AccountData, email, role string, n int) *User {
	first, last := firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
	u := &User{
		ID: g.id(), Email: email, FirstName: first, LastName: last, DisplayName: first + " " + last,
		Type: 2, Status: "active", RoleName: role, RoleID: "2", PMI: 5000000000 + g.r.Int64N(999999999),
		Timezone: "Europe/Berlin", Language: "en-US", Dept: "Engineering", JobTitle: "Engineer", Company: "Example Corp", Location: "Berlin",
		CreatedAt: g.past(900), LastClientVersion: "6.2.5.44245(mac)", Verified: 1, LicenseType: "ZOOM_WORKPLACE_BUNDLE",
		CloudRecording: a.Plan != Free, Assistants: []Delegate{}, Schedulers: []Delegate{},
		Meetings: []Meeting{}, Webinars: []Webinar{}, Recordings: []Recording{},
	}
	if role == "Admin" {
		u.RoleID = "1"
	}
	u.LastLoginTime = g.past(20)
	if len(a.Groups) > 0 {
		u.GroupIDs = []string{a.Groups[n%len(a.Groups)].ID}
		a.Groups[n%len(a.Groups)].TotalMembers++
	} else {
		u.GroupIDs = []string{}
	}
	return u
}

func (g *gen) primaryUsers(a *AccountData, s datasetSize) {
	jane := g.user(a, JaneEmail, "Admin", 0)
	jane.FirstName, jane.LastName, jane.DisplayName = "Jane", "Doe", "Jane Doe"
	jane.WebinarAddon = true
	a.Users = append(a.Users, jane)

	mixed := g.user(a, "John.Smith@Example.COM", "Member", 1) // mixed case, no Phone, no webinars
	pending := g.user(a, "pending.invitee@example.com", "Member", 2)
	pending.Status, pending.Type, pending.LicenseType = "pending", 1, ""
	pending.LastLoginTime, pending.LastClientVersion, pending.Verified = time.Time{}, "", 0
	inactive := g.user(a, "former.employee@example.com", "Member", 3)
	inactive.Status = "inactive"
	basic := g.user(a, "basic.user@example.com", "Member", 4)
	basic.Type, basic.LicenseType, basic.CloudRecording = 1, "", false
	a.Users = append(a.Users, mixed, pending, inactive, basic)

	for _, d := range []*User{mixed, inactive} {
		jane.Assistants = append(jane.Assistants, Delegate{ID: d.ID, Email: d.Email})
	}
	jane.Schedulers = append(jane.Schedulers, Delegate{ID: mixed.ID, Email: mixed.Email, PMI: mixed.PMI})

	if a.PhoneEnabled {
		jane.Phone = g.phone(a, jane, s.calls, s.voicemails, s.phoneRecordings)
	}
	g.fillJane(a, jane, s)
	g.fill(a, mixed, s.fillerMeetings, s.fillerRecordings, 0)
	g.fill(a, inactive, 2, 0, 0)
	for i := range s.fillerUsers {
		u := g.user(a, fillerEmail(i), "Member", i+5)
		var calls int
		if a.PhoneEnabled && i%2 == 0 {
			calls = s.fillerCalls
		}
		g.fill(a, u, s.fillerMeetings, s.fillerRecordings, calls)
		a.Users = append(a.Users, u)
	}
}

// fillerEmail is the address of the i-th filler user, from 0.
func fillerEmail(i int) string { return fmt.Sprintf("user%03d@example.com", i+1) }

var topics = []string{"Weekly sync", "Design review", "1:1", "Customer call", "Planning", "Retro", "All hands", "Interview", "Demo"}

func (g *gen) meeting(u *User, start time.Time, past bool) Meeting {
	m := Meeting{
		UUID: g.uuid(), ID: g.meetingID(), Topic: topics[g.r.IntN(len(topics))], Type: []int{2, 2, 2, 8}[g.r.IntN(4)],
		StartTime: start, Duration: []int{15, 30, 30, 45, 60, 90}[g.r.IntN(6)], Timezone: u.Timezone,
		CreatedAt: start.Add(-time.Duration(1+g.r.IntN(14*24)) * time.Hour),
	}
	if past {
		m.EndTime = start.Add(time.Duration(m.Duration+g.r.IntN(20)-10) * time.Minute)
		if !m.EndTime.After(start) {
			m.EndTime = start.Add(5 * time.Minute)
		}
		m.ParticipantsCount = 1 + g.r.IntN(12) // one in twelve has a single participant and is not in the report
		m.HasChat = g.r.IntN(3) == 0
		m.HasScreenShare = g.r.IntN(2) == 0
	}
	return m
}

// fill gives u a few meetings, cloud recordings and calls.
func (g *gen) fill(a *AccountData, u *User, meetings, recordings, calls int) {
	for range meetings {
		u.Meetings = append(u.Meetings, g.meeting(u, g.past(365), true))
	}
	if u.CloudRecording {
		for range recordings {
			u.Recordings = append(u.Recordings, g.recording(u, g.meeting(u, g.past(365), true)))
		}
	}
	if calls > 0 {
		u.Phone = g.phone(a, u, calls, 1, 1)
	}
	sortUser(u)
}

func (g *gen) fillJane(a *AccountData, u *User, s datasetSize) {
	for range s.pastMeetings {
		u.Meetings = append(u.Meetings, g.meeting(u, g.past(365), true))
	}
	for i := range s.scheduled {
		u.Meetings = append(u.Meetings, g.meeting(u, g.day.Add(time.Duration(24*(i+1)+9+g.r.IntN(8))*time.Hour), false))
	}
	for i := range s.webinars {
		start := g.day.Add(time.Duration(24*(7*i+3)+15) * time.Hour)
		u.Webinars = append(u.Webinars, Webinar{
			UUID: g.uuid(), ID: g.meetingID(), Topic: "Product webinar " + fmt.Sprint(i+1), Type: 5,
			StartTime: start, Duration: 60, Timezone: u.Timezone, CreatedAt: start.Add(-30 * 24 * time.Hour),
		})
	}
	// Cloud recordings: spread evenly over the 12 months, each the
	// recording of one of jane's past meetings where there are enough.
	for i := range s.recordings + s.trashed {
		start := g.day.Add(-time.Duration((i*365*86400)/(s.recordings+s.trashed)+1+g.r.IntN(3600)) * time.Second)
		m := g.meeting(u, start, true)
		m.HasRecording = true
		u.Meetings = append(u.Meetings, m)
		r := g.recording(u, m)
		if i%((s.recordings+s.trashed)/max(s.trashed, 1)) == 0 && s.trashed > 0 && countTrashed(u) < s.trashed {
			r.DeletedTime = g.past(20)
		}
		u.Recordings = append(u.Recordings, r)
	}
	// The loop above took len(recordings) meetings on top of pastMeetings;
	// drop as many plain past meetings so the count stays as documented.
	extra := len(u.Recordings)
	kept := u.Meetings[:0]
	for i, m := range u.Meetings {
		if extra > 0 && i < s.pastMeetings && m.Past() && !m.HasRecording {
			extra--
			continue
		}
		kept = append(kept, m)
	}
	u.Meetings = kept
	sortUser(u)
}

func countTrashed(u *User) int {
	n := 0
	for _, r := range u.Recordings {
		if r.Trashed() {
			n++
		}
	}
	return n
}

func (g *gen) recording(u *User, m Meeting) Recording {
	r := Recording{UUID: m.UUID, MeetingID: m.ID, Topic: m.Topic, Type: fmt.Sprint(m.Type), StartTime: m.StartTime,
		Duration: int(m.EndTime.Sub(m.StartTime).Minutes()), Passcode: g.token(12)}
	start, end := m.StartTime.Add(time.Duration(g.r.IntN(60))*time.Second), m.EndTime
	mins := int64(max(r.Duration, 1))
	add := func(ft, ext, rt string, size int64) {
		r.Files = append(r.Files, RecordingFile{ID: strings.ToLower(g.token(8)) + "-" + strings.ToLower(g.token(4)) + "-" + strings.ToLower(g.token(12)),
			RecordingStart: start, RecordingEnd: end, FileType: ft, FileExtension: ext, FileSize: size, RecordingType: rt})
	}
	// Sizes keep the shape of real recordings (video much larger than
	// audio, text tiny) at about 1/800 of the real bytes (video ≈ 200 MB
	// an hour, zoom-api.md §7), so that a demo's bundle stays small.
	add("MP4", "MP4", "shared_screen_with_speaker_view", 4*1024*mins+g.r.Int64N(4096))
	add("M4A", "M4A", "audio_only", 512*mins+g.r.Int64N(1024))
	if g.r.IntN(2) == 0 {
		add("TRANSCRIPT", "VTT", "audio_transcript", 600*mins+g.r.Int64N(512))
	}
	if m.HasChat {
		add("CHAT", "TXT", "chat_file", 200+g.r.Int64N(2000))
	}
	return r
}

// phoneBytesPerSecond sizes voicemails and call recordings: about 1/80 of
// a 64 kbit/s MP3, like the recordings' scale.
const phoneBytesPerSecond = 100

func (g *gen) phone(a *AccountData, u *User, calls, voicemails, recordings int) *PhoneUser {
	p := &PhoneUser{ID: g.id(), ExtensionID: g.id(), ExtensionNumber: 1000 + g.r.Int64N(8999),
		Number: fmt.Sprintf("+1415555%04d", g.r.IntN(10000)), SiteID: g.id()}
	const days = 178 // inside "the last six months" whatever the month lengths
	for i := range calls {
		start := g.day.Add(-time.Duration((i*days*86400)/max(calls, 1)+1+g.r.IntN(600)) * time.Second)
		c := CallLog{ID: g.id(), CallID: fmt.Sprint(7000000000000000000 + g.r.Int64N(999999999999999999)),
			Direction: []string{"inbound", "outbound"}[g.r.IntN(2)], PeerName: firstNames[g.r.IntN(len(firstNames))] + " " + lastNames[g.r.IntN(len(lastNames))],
			PeerNumber: fmt.Sprintf("+1212555%04d", g.r.IntN(10000)), External: g.r.IntN(3) > 0, StartTime: start, Result: "answered"}
		talk := time.Duration(10+g.r.IntN(1800)) * time.Second
		switch g.r.IntN(10) {
		case 0:
			c.Result, talk = "hang_up", 0
		case 1:
			c.Result, talk = "canceled", 0
		}
		if c.Result == "answered" {
			c.AnswerTime = start.Add(time.Duration(2+g.r.IntN(15)) * time.Second)
			c.EndTime = c.AnswerTime.Add(talk)
		} else {
			c.EndTime = start.Add(time.Duration(5+g.r.IntN(20)) * time.Second)
		}
		p.CallLogs = append(p.CallLogs, c)
	}
	// Voicemails and recordings belong to calls spread over the window.
	for i := range min(voicemails, len(p.CallLogs)) {
		c := &p.CallLogs[(i*len(p.CallLogs))/max(voicemails, 1)]
		c.Direction, c.Result, c.AnswerTime = "inbound", "voicemail", time.Time{}
		v := Voicemail{ID: g.id(), CallID: c.CallID, CallLogID: c.ID, CallerName: c.PeerName, CallerNum: c.PeerNumber,
			DateTime: c.StartTime.Add(20 * time.Second), Duration: 5 + g.r.IntN(90), Status: []string{"read", "unread"}[g.r.IntN(2)]}
		v.FileSize = int64(v.Duration) * phoneBytesPerSecond
		c.EndTime = v.DateTime.Add(time.Duration(v.Duration) * time.Second)
		c.VoicemailID = v.ID
		p.Voicemails = append(p.Voicemails, v)
	}
	n := 0
	for i := range p.CallLogs {
		if n == recordings {
			break
		}
		c := &p.CallLogs[(i*7919)%len(p.CallLogs)]
		if c.Result != "answered" || c.RecordingID != "" {
			continue
		}
		d := int(c.EndTime.Sub(c.AnswerTime).Seconds())
		rec := PhoneRecording{ID: g.id(), CallID: c.CallID, CallLogID: c.ID, Direction: c.Direction, PeerName: c.PeerName,
			PeerNumber: c.PeerNumber, DateTime: c.AnswerTime, Duration: d, FileSize: int64(d)*phoneBytesPerSecond + 512}
		c.RecordingID = rec.ID
		p.Recordings = append(p.Recordings, rec)
		n++
	}
	return p
}
