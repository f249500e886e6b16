package zoomtest

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// index holds the dataset in the form the handlers serve it: lookups by id
// and email, and every list as time-ordered, pre-encoded records.
type index struct {
	accounts map[string]*accountIndex // by account id
	clients  map[string]*accountIndex // by client id
	files    map[string]fileRef       // cloud recording files by id
	phone    map[string]fileRef       // phone recordings by id
	voice    map[string]fileRef       // voicemails by id
}

type accountIndex struct {
	a       *AccountData
	byID    map[string]*userIndex
	byEmail map[string]*userIndex // lower-case
	groups  []item
	recs    map[string]*recordingRef // meeting id or uuid -> latest recording
	x       *accountExtraIndex       // issue 14's sections (index_extra.go)
}

type recordingRef struct {
	raw     []byte
	trashed bool
}

type fileRef struct {
	account string
	id      string
	size    int64
	ext     string
	mod     time.Time
}

// item is one pre-encoded record and the time lists are filtered by.
type item struct {
	t   time.Time
	raw []byte
	tag string // a value some lists filter on (voicemail status)
}

type userIndex struct {
	a          *AccountData
	u          *User
	profile    []byte // nil for pending users, whose created_at moves
	settings   []byte
	assistants []byte
	schedulers []byte

	scheduled  []item // not yet held, by start time
	previous   []item // held, by start time
	webinars   []item
	report     []item // held with two participants or more
	recordings []item // not in the trash
	trash      []item

	phoneUser     []byte
	phoneSettings []byte
	callHistory   []item
	callLogs      []item
	voicemails    []item
	phoneRecs     []item
}

func buildIndex(d *Dataset) *index {
	ix := &index{accounts: map[string]*accountIndex{}, clients: map[string]*accountIndex{},
		files: map[string]fileRef{}, phone: map[string]fileRef{}, voice: map[string]fileRef{}}
	for _, a := range d.Accounts {
		ai := &accountIndex{a: a, byID: map[string]*userIndex{}, byEmail: map[string]*userIndex{}, recs: map[string]*recordingRef{}}
		for _, g := range a.Groups {
			ai.groups = append(ai.groups, item{raw: mustJSON(g)})
		}
		for _, u := range a.Users {
			sortUser(u)
			ui := indexUser(ai, u)
			ai.byID[u.ID] = ui
			ai.byEmail[strings.ToLower(u.Email)] = ui
			for _, r := range u.Recordings {
				for _, f := range r.Files {
					ix.files[f.ID] = fileRef{account: a.ID, id: f.ID, size: f.FileSize, ext: f.FileExtension, mod: f.RecordingEnd}
				}
			}
			if p := u.Phone; p != nil {
				for _, r := range p.Recordings {
					ix.phone[r.ID] = fileRef{account: a.ID, id: r.ID, size: r.FileSize, ext: "MP3", mod: r.DateTime}
				}
				for _, v := range p.Voicemails {
					ix.voice[v.ID] = fileRef{account: a.ID, id: v.ID, size: v.FileSize, ext: "MP3", mod: v.DateTime}
				}
			}
		}
		ai.x = indexExtras(ix, ai)
		ix.accounts[a.ID] = ai
		ix.clients[a.ClientID] = ai
	}
	return ix
}

// indexUser encodes u's records; it also files u's recordings under
// ai.recs.
func indexUser(ai *accountIndex, u *User) *userIndex {
	a := ai.a
	ui := &userIndex{a: a, u: u}
	if u.Status != "pending" {
		ui.profile = viewUser(a, u, time.Time{})
	}
	ui.settings = viewSettings(u)
	ui.assistants = viewDelegates("assistants", u.Assistants, false)
	ui.schedulers = viewDelegates("schedulers", u.Schedulers, true)
	for _, m := range u.Meetings {
		it := item{t: m.StartTime, raw: viewMeeting(u, m)}
		if m.Past() {
			ui.previous = append(ui.previous, it)
			if m.ParticipantsCount >= 2 {
				ui.report = append(ui.report, item{t: m.StartTime, raw: viewReportMeeting(u, m)})
			}
		} else {
			ui.scheduled = append(ui.scheduled, it)
		}
	}
	for _, w := range u.Webinars {
		ui.webinars = append(ui.webinars, item{t: w.StartTime, raw: viewWebinar(u, w)})
	}
	for _, r := range u.Recordings {
		it := item{t: r.StartTime, raw: viewRecording(a, u, r)}
		ref := &recordingRef{raw: withParticipantAudio(it.raw, r), trashed: r.Trashed()}
		ai.recs[r.UUID] = ref
		ai.recs[strconv.FormatInt(r.MeetingID, 10)] = ref // sorted by time: the latest wins
		if r.Trashed() {
			ui.trash = append(ui.trash, it)
		} else {
			ui.recordings = append(ui.recordings, it)
		}
	}
	if p := u.Phone; p != nil {
		ui.phoneUser = viewPhoneUser(a, u)
		ui.phoneSettings = viewPhoneSettings(u)
		for _, c := range p.CallLogs {
			ui.callHistory = append(ui.callHistory, item{t: c.StartTime, raw: viewCallHistory(u, c)})
			ui.callLogs = append(ui.callLogs, item{t: c.StartTime, raw: viewCallLog(u, c)})
		}
		for _, v := range p.Voicemails {
			ui.voicemails = append(ui.voicemails, item{t: v.DateTime, raw: viewVoicemail(u, v), tag: v.Status})
		}
		for _, r := range p.Recordings {
			ui.phoneRecs = append(ui.phoneRecs, item{t: r.DateTime, raw: viewPhoneRecording(u, r)})
		}
	}
	return ui
}

// between returns the items with from <= t < to; zero bounds are open.
func between(items []item, from, to time.Time) []item {
	lo, hi := 0, len(items)
	if !from.IsZero() {
		lo = sort.Search(len(items), func(i int) bool { return !items[i].t.Before(from) })
	}
	if !to.IsZero() {
		hi = sort.Search(len(items), func(i int) bool { return !items[i].t.Before(to) })
	}
	if hi < lo {
		hi = lo
	}
	return items[lo:hi]
}

func (ai *accountIndex) user(idOrEmail string) *userIndex {
	if u := ai.byID[idOrEmail]; u != nil {
		return u
	}
	return ai.byEmail[strings.ToLower(idOrEmail)]
}
