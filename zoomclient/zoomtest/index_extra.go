package zoomtest

import (
	"bytes"
	"strconv"
	"time"
)

// accountExtraIndex is issue 14's records of one account in the form the
// handlers serve them.
type accountExtraIndex struct {
	imGroups    []byte                // GET /im/groups, the whole answer
	attended    map[string][]item     // user id -> report rows for type=pastJoined, by start time
	smsSessions map[string][]item     // user id -> sessions, by last message time
	sms         map[string]*smsIndex  // session id -> its messages
	voicemails  map[string][]byte     // voicemail id -> GET /phone/voice_mails/{voicemailId}
	transcripts map[string]string     // phone recording id -> file id of its transcript
	summaries   []item                // every summary of the account, by meeting start
	summary     map[string]*summaryIx // meeting uuid -> the summary
}

type smsIndex struct {
	messages []item // by time
}

type summaryIx struct {
	raw []byte
}

func indexExtras(ix *index, ai *accountIndex) *accountExtraIndex {
	a := ai.a
	x := &accountExtraIndex{attended: map[string][]item{}, smsSessions: map[string][]item{}, sms: map[string]*smsIndex{},
		voicemails: map[string][]byte{}, transcripts: map[string]string{}, summary: map[string]*summaryIx{}}
	groups := make([]imGroupView, 0, len(a.IMGroups))
	for _, g := range a.IMGroups {
		groups = append(groups, imGroupView{ID: g.ID, Name: g.Name, TotalMembers: g.TotalMembers, Type: "normal", SearchByDomain: false, SearchByAccount: true})
	}
	x.imGroups = mustJSON(struct {
		TotalRecords int           `json:"total_records"`
		Groups       []imGroupView `json:"groups"`
	}{len(groups), groups})
	for _, u := range a.Users {
		var rows []item
		for _, m := range u.Meetings {
			if m.Past() && m.ParticipantsCount >= 2 {
				rows = append(rows, item{t: m.StartTime, raw: viewReportMeeting(u, m)})
			}
		}
		for _, j := range u.Joined {
			rows = append(rows, item{t: j.StartTime, raw: viewReportMeeting(&User{DisplayName: j.HostName, Email: j.HostEmail}, j.Meeting)})
		}
		sortByTime(rows, itemTime)
		x.attended[u.ID] = rows
		for _, s := range u.SMS {
			x.smsSessions[u.ID] = append(x.smsSessions[u.ID], item{t: s.Last(), raw: viewSMSSession(u, s)})
			si := &smsIndex{}
			for _, m := range s.Messages {
				si.messages = append(si.messages, item{t: m.DateTime, raw: viewSMSMessage(u, s, m), tag: m.Status})
				for _, at := range m.Attachments {
					ix.files[at.ID] = fileRef{account: a.ID, id: at.ID, size: at.Size, ext: at.Type, mod: m.DateTime}
				}
			}
			x.sms[s.ID] = si
		}
		sortByTime(x.smsSessions[u.ID], itemTime)
		if p := u.Phone; p != nil {
			for _, v := range p.Voicemails {
				x.voicemails[v.ID] = viewVoicemailDetail(u, v)
			}
			for _, r := range p.Recordings {
				if r.Transcript > 0 {
					id := r.ID + "-transcript"
					x.transcripts[r.ID] = id
					ix.files[id] = fileRef{account: a.ID, id: id, size: r.Transcript, ext: "JSON", mod: r.DateTime.Add(time.Duration(r.Duration) * time.Second)}
				}
			}
		}
		for _, r := range u.Recordings {
			for _, f := range r.ParticipantAudio {
				ix.files[f.ID] = fileRef{account: a.ID, id: f.ID, size: f.FileSize, ext: f.FileExtension, mod: f.RecordingEnd}
			}
		}
		for _, s := range u.Summaries {
			x.summaries = append(x.summaries, item{t: s.MeetingStart, raw: viewSummaryItem(u, s)})
			x.summary[s.MeetingUUID] = &summaryIx{raw: viewSummary(u, s)}
		}
	}
	sortByTime(x.summaries, itemTime)
	return x
}

// withParticipantAudio adds participant_audio_files to a recording's
// encoded view, for GET /meetings/{meetingId}/recordings only: the list
// of a user's recordings does not carry them [MTG].
func withParticipantAudio(raw []byte, r Recording) []byte {
	if len(r.ParticipantAudio) == 0 {
		return raw
	}
	files := make([]participantAudioView, 0, len(r.ParticipantAudio))
	for i, f := range r.ParticipantAudio {
		files = append(files, participantAudioView{ID: f.ID, RecordingStart: zt(f.RecordingStart), RecordingEnd: zt(f.RecordingEnd),
			FileName: "participant_" + strconv.Itoa(i+1) + ".m4a", FileType: f.FileType, FileExtension: f.FileExtension, FileSize: f.FileSize,
			PlayURL: "https://example.zoom.us/rec/play/" + f.ID, DownloadURL: baseMark + "/rec/download/" + f.ID, Status: "completed"})
	}
	var b bytes.Buffer
	b.Write(raw[:len(raw)-1])
	b.WriteString(`,"participant_audio_files":`)
	b.Write(mustJSON(files))
	b.WriteByte('}')
	return b.Bytes()
}

func itemTime(i item) time.Time { return i.t }
