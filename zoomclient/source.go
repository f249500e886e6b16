package zoomclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// Source is a Client as the processor sees Zoom (dsar.Zoom): sections and
// parts instead of endpoints, and failures sorted by what to do about them.
type Source struct{ c *Client }

var _ dsar.Zoom = (*Source)(nil)

// NewSource adapts c to dsar.Zoom.
func NewSource(c *Client) *Source { return &Source{c: c} }

// parts maps a section's parts to Zoom endpoints.
var parts = map[string]Endpoint{
	dsar.SectionProfile + "/" + dsar.PartUser:                         EndpointUser,
	dsar.SectionProfile + "/" + dsar.PartAssistants:                   EndpointAssistants,
	dsar.SectionProfile + "/" + dsar.PartSchedulers:                   EndpointSchedulers,
	dsar.SectionSettings + "/" + dsar.SectionSettings:                 EndpointUserSettings,
	dsar.SectionMeetings + "/" + dsar.PartScheduled:                   EndpointMeetingsScheduled,
	dsar.SectionMeetings + "/" + dsar.PartUpcoming:                    EndpointMeetingsUpcoming,
	dsar.SectionMeetings + "/" + dsar.PartPrevious:                    EndpointMeetingsPrevious,
	dsar.SectionWebinars + "/" + dsar.SectionWebinars:                 EndpointWebinars,
	dsar.SectionCloudRecordings + "/" + dsar.PartRecordings:           EndpointRecordings,
	dsar.SectionCloudRecordings + "/" + dsar.PartTrash:                EndpointRecordingsTrash,
	dsar.SectionPhoneProfile + "/" + dsar.SectionPhoneProfile:         EndpointPhoneUser,
	dsar.SectionPhoneSettings + "/" + dsar.SectionPhoneSettings:       EndpointPhoneSettings,
	dsar.SectionPhoneCallHistory + "/" + dsar.SectionPhoneCallHistory: EndpointCallHistory,
	dsar.SectionPhoneVoicemails + "/" + dsar.SectionPhoneVoicemails:   EndpointVoicemails,
	dsar.SectionPhoneRecordings + "/" + dsar.SectionPhoneRecordings:   EndpointPhoneRecordings,
	dsar.SectionCloudRecordings + "/" + dsar.PartParticipantAudio:     EndpointMeetingRecordings,
	dsar.SectionMeetingsAttended + "/" + dsar.SectionMeetingsAttended: EndpointMeetingsAttended,
	dsar.SectionMeetingSummaries + "/" + dsar.PartSummaries:           EndpointSummaries,
	dsar.SectionMeetingSummaries + "/" + dsar.PartSummary:             EndpointSummary,
	dsar.SectionGroups + "/" + dsar.PartGroups:                        EndpointGroup,
	dsar.SectionGroups + "/" + dsar.PartIMGroups:                      EndpointIMGroup,
	dsar.SectionPhoneVoicemails + "/" + dsar.PartTranscriptions:       EndpointVoicemail,
	dsar.SectionPhoneSMS + "/" + dsar.PartSessions:                    EndpointSMSSessions,
	dsar.SectionPhoneSMS + "/" + dsar.PartMessages:                    EndpointSMSSync,
	dsar.SectionTeamChat + "/" + dsar.PartSessions:                    EndpointChatSessions,
	dsar.SectionTeamChat + "/" + dsar.PartChannels:                    EndpointChatChannels,
	dsar.SectionTeamChat + "/" + dsar.PartMessages:                    EndpointChatMessages,
}

// items says how Items reads, from a record of the list field of a part
// ("section/part", after "<-" the part it is read from), the item of the
// part it is fetched for.
var items = map[string]struct {
	list, id, label string
	key             func(rec map[string]json.RawMessage) string
}{
	dsar.SectionCloudRecordings + "/" + dsar.PartParticipantAudio + "<-" + dsar.SectionCloudRecordings + "/" + dsar.PartRecordings: {
		"meetings", "uuid", "topic", field("uuid")},
	dsar.SectionMeetingSummaries + "/" + dsar.PartSummary + "<-" + dsar.SectionMeetingSummaries + "/" + dsar.PartSummaries: {
		"summaries", "meeting_uuid", "meeting_topic", field("meeting_uuid")},
	dsar.SectionPhoneVoicemails + "/" + dsar.PartTranscriptions + "<-" + dsar.SectionPhoneVoicemails + "/" + dsar.SectionPhoneVoicemails: {
		"voice_mails", "id", "caller_name", field("id")},
	dsar.SectionPhoneSMS + "/" + dsar.PartMessages + "<-" + dsar.SectionPhoneSMS + "/" + dsar.PartSessions: {
		"sms_sessions", "session_id", "", field("session_id")},
	dsar.SectionTeamChat + "/" + dsar.PartMessages + "<-" + dsar.SectionTeamChat + "/" + dsar.PartSessions: {
		"sessions", "", "name", chatConversation},
	dsar.SectionTeamChat + "/" + dsar.PartMessages + "<-" + dsar.SectionTeamChat + "/" + dsar.PartChannels: {
		"channels", "id", "name", func(rec map[string]json.RawMessage) string { return query("to_channel", idString(rec["id"])) }},
}

// kinds says, for the items of a part ("section/part<-from") that differ
// in cost, the Kind of an item (dsar.Item): a Team Chat session's type
// (a group chat is a channel, its messages many more than a 1:1
// conversation's); a channel that the sessions did not name had no
// message in their dates.
var kinds = map[string]func(rec map[string]json.RawMessage) string{
	dsar.SectionTeamChat + "/" + dsar.PartMessages + "<-" + dsar.SectionTeamChat + "/" + dsar.PartSessions: field("type"),
	dsar.SectionTeamChat + "/" + dsar.PartMessages + "<-" + dsar.SectionTeamChat + "/" + dsar.PartChannels: func(map[string]json.RawMessage) string {
		return "channel"
	},
}

func field(name string) func(map[string]json.RawMessage) string {
	return func(rec map[string]json.RawMessage) string { return idString(rec[name]) }
}

func query(name, value string) string {
	if value == "" {
		return ""
	}
	return url.Values{name: {value}}.Encode()
}

// chatConversation is the item of a Team Chat session: the peer of a 1:1
// conversation (by email, or user id when Zoom gives no email), the
// channel of a group chat.
func chatConversation(rec map[string]json.RawMessage) string {
	if id := idString(rec["channel_id"]); id != "" {
		return query("to_channel", id)
	}
	if e := idString(rec["peer_contact_email"]); e != "" {
		return query("to_contact", e)
	}
	return query("to_contact", idString(rec["peer_contact_user_id"]))
}

// Items reads the items of an item part (dsar.ItemsFrom) from a stored
// page of the part it follows: a meeting's uuid for its participant audio,
// an SMS session's id, a chat conversation as the query that selects it
// ("to_contact=..." or "to_channel=..."), a group id from the profile.
func (s *Source) Items(section, part, from string, page []byte) ([]dsar.Item, error) {
	if section == dsar.SectionGroups {
		var u struct {
			Groups   []string `json:"group_ids"`
			IMGroups []string `json:"im_group_ids"`
		}
		if err := json.Unmarshal(page, &u); err != nil {
			return nil, fmt.Errorf("zoomclient: profile: %w", err)
		}
		ids := u.Groups
		if part == dsar.PartIMGroups {
			ids = u.IMGroups
		}
		out := make([]dsar.Item, 0, len(ids))
		for _, id := range ids {
			out = append(out, dsar.Item{Key: id})
		}
		return out, nil
	}
	rule, ok := items[section+"/"+part+"<-"+from]
	if !ok {
		return nil, &dsar.Error{Code: dsar.EINTERNAL, Op: "zoomclient.Items", Message: fmt.Sprintf("no items of %s/%s in %s", section, part, from)}
	}
	_, recs, err := listRecords(page, rule.list)
	if err != nil {
		return nil, fmt.Errorf("zoomclient: %s page: %w", from, err)
	}
	kind := kinds[section+"/"+part+"<-"+from]
	out := make([]dsar.Item, 0, len(recs))
	for _, rec := range recs {
		key := rule.key(rec)
		if key == "" {
			return nil, fmt.Errorf("zoomclient: %s page: a record names no item for %s", from, part)
		}
		it := dsar.Item{Record: idString(rec[rule.id]), Key: key, Label: idString(rec[rule.label])}
		if kind != nil {
			it.Kind = kind(rec)
		}
		out = append(out, it)
	}
	return out, nil
}

func endpoint(section, part string) (Endpoint, error) {
	ep, ok := parts[section+"/"+part]
	if !ok {
		return Endpoint{}, &dsar.Error{Code: dsar.EINTERNAL, Op: "zoomclient.Source", Message: fmt.Sprintf("no endpoint for part %s/%s", section, part)}
	}
	return ep, nil
}

// Source reads Zoom's list totals, for estimates.
var _ dsar.Totaled = (*Source)(nil)

// Total reads total_records and page_size from a stored page of a part's
// list, where Zoom gives them (the Meetings API's and Phone's lists, Team
// Chat's channels; not the SMS, summary or chat session and message
// lists). Without page_size the page holds what the endpoint asks for,
// or Zoom's default of 30.
func (s *Source) Total(section, part string, page []byte) (records, perPage int64, ok bool) {
	ep, err := endpoint(section, part)
	if err != nil || ep.List == "" {
		return 0, 0, false
	}
	var env struct {
		Total    *int64 `json:"total_records"`
		PageSize int64  `json:"page_size"`
	}
	if json.Unmarshal(page, &env) != nil || env.Total == nil || *env.Total < 0 {
		return 0, 0, false
	}
	size := env.PageSize
	if size <= 0 {
		size = int64(ep.PageSize)
	}
	if size <= 0 {
		size = 30
	}
	return *env.Total, size, true
}

// Source tells the budget of each part's calls, for estimates.
var _ dsar.Budgeted = (*Source)(nil)

// Budget returns the budget of the bucket a part's calls draw on.
func (s *Source) Budget(section, part string) dsar.Budget {
	ep, err := endpoint(section, part)
	if err != nil {
		return dsar.Budget{Bucket: "unknown", Remaining: -1}
	}
	return s.c.limits.budget(ep.Bucket())
}

// LookupUser finds the user with an email address.
func (s *Source) LookupUser(ctx context.Context, email string) (dsar.Fetched, error) {
	body, u, calls, err := s.c.user(ctx, email)
	if err != nil {
		return dsar.Fetched{}, withCalls(sourceError(err), calls)
	}
	return dsar.Fetched{Body: body, IDs: []string{u.ID}, Calls: calls}, nil
}

// Shape returns the list field and the record id field of a part's pages.
func (s *Source) Shape(section, part string) (list, id string) {
	ep, err := endpoint(section, part)
	if err != nil {
		return "", ""
	}
	return ep.List, ep.ID
}

// Windows returns the part's date windows for a collection that started at
// start, newest first; nil for an endpoint without dates.
func (s *Source) Windows(section, part string, start time.Time) []dsar.Span {
	ep, err := endpoint(section, part)
	if err != nil || ep.Window.Months == 0 {
		return nil
	}
	var out []dsar.Span
	for _, c := range Windows(ep, start, s.c.horizon(ep)) {
		out = append(out, dsar.Span{From: c.From, To: c.To})
	}
	return out
}

// Served returns the part of window w that Zoom still served at at: w,
// or for an endpoint whose months are Zoom's limit, w from the first day
// Zoom served then; false when none of it was.
func (s *Source) Served(section, part string, w dsar.Span, at time.Time) (dsar.Span, bool) {
	ep, err := endpoint(section, part)
	if err != nil {
		return w, true
	}
	from, err := horizonStart(ep, at, Cursor{From: w.From, To: w.To})
	if err != nil {
		return dsar.Span{}, false
	}
	return dsar.Span{From: from, To: w.To}, true
}

// Fetch gets one page of a part; an object endpoint is one page holding
// one record, whose id is the object's ("" for an object without one,
// such as settings). The ids are computed here, once: the processor
// stores them with the page.
func (s *Source) Fetch(ctx context.Context, subject dsar.Subject, section, part string, w dsar.Cursor) (dsar.Fetched, error) {
	userID := subject.ID
	ep, err := endpoint(section, part)
	if err != nil {
		return dsar.Fetched{}, err
	}
	if ep.PickFrom != nil {
		body, calls, err := s.c.pick(ctx, *ep.PickFrom, w.Item)
		if err != nil {
			return dsar.Fetched{}, fetchError(err, calls, w.Item)
		}
		return dsar.Fetched{Body: body, IDs: []string{w.Item}, Calls: calls}, nil
	}
	if ep.List == "" {
		if ep.Path == EndpointUser.Path {
			body, u, calls, err := s.c.user(ctx, userID)
			if err != nil {
				return dsar.Fetched{}, fetchError(err, calls, w.Item)
			}
			return dsar.Fetched{Body: body, IDs: []string{u.ID}, Calls: calls}, nil
		}
		body, calls, err := s.c.object(ctx, ep, userID, w.Item)
		if err != nil {
			return dsar.Fetched{}, fetchError(err, calls, w.Item)
		}
		// An item's object is that item's record.
		return dsar.Fetched{Body: body, IDs: []string{w.Item}, Calls: calls}, nil
	}
	p, calls, err := s.c.itemPage(ctx, ep, userID, w.Item, Cursor{From: w.From, To: w.To, PageToken: w.PageToken})
	if err != nil {
		return dsar.Fetched{}, fetchError(err, calls, w.Item)
	}
	f := dsar.Fetched{Body: p.Body, IDs: p.IDs, NextPageToken: p.Next.PageToken, Calls: calls}
	if ep.Path == EndpointChatMessages.Path {
		if f.Body, f.IDs, f.Refs, err = s.c.keepChat(p.Body, subject.Email, w.Item, w.Refs); err != nil {
			return dsar.Fetched{}, fmt.Errorf("zoomclient: %s: %w", ep.Name, err)
		}
	}
	return f, nil
}

// fetchError sorts a failed Fetch as sourceError does, with its calls; an
// item Zoom answers does not exist (deleted since it was listed) and a
// window past Zoom's horizon are ZoomExpired: nothing of them is left.
func fetchError(err error, calls int, item string) error {
	if errors.Is(err, ErrPastHorizon) {
		return &dsar.ZoomError{Kind: dsar.ZoomExpired, Message: "the window lies before the oldest day Zoom serves", Calls: calls, Err: err}
	}
	err = withCalls(sourceError(err), calls)
	var ze *dsar.ZoomError
	if item != "" && errors.As(err, &ze) && ze.Kind == dsar.ZoomNotFound {
		ze.Kind = dsar.ZoomExpired
	}
	return err
}

// withCalls records on a classified failure the HTTP calls it took.
func withCalls(err error, calls int) error {
	var ze *dsar.ZoomError
	if errors.As(err, &ze) {
		ze.Calls = calls
	}
	return err
}

// sourceError sorts a failure by what the processor should do about it.
// Only a documented answer of the endpoint is ZoomNotFound or
// ZoomNotApplicable (classify); anything else Zoom answers fails.
func sourceError(err error) error {
	if q, ok := IsQuota(err); ok {
		return &dsar.ZoomError{Kind: dsar.ZoomQuota, Code: 429, Until: q.Reset,
			Message: "the daily rate limit of Zoom's " + string(q.Category) + " API is spent", Err: err}
	}
	var oe *OutageError
	if errors.As(err, &oe) {
		msg := "Zoom keeps failing"
		if oe.Last != nil {
			msg += " (" + oe.Last.Error() + ")"
		}
		return &dsar.ZoomError{Kind: dsar.ZoomOutage, Until: oe.Until, Err: err,
			Message: msg + "; the account's " + oe.Bucket.String() + " calls pause until it answers again"}
	}
	var e *Error
	if !errors.As(err, &e) {
		return err // cancellation, or a bug: not Zoom's answer
	}
	ze := &dsar.ZoomError{Code: e.Code, Message: e.Message, Err: err}
	if ze.Code == 0 {
		ze.Code = e.Status
	}
	switch e.Kind {
	case NotApplicable:
		ze.Kind = dsar.ZoomNotApplicable
	case NotFound:
		ze.Kind = dsar.ZoomNotFound
	case PageTokenExpired:
		ze.Kind = dsar.ZoomPageTokenExpired
	case Invalid, Unauthorized, MissingScope:
		ze.Kind = dsar.ZoomRejected
	default:
		ze.Kind = dsar.ZoomUnavailable
	}
	return ze
}

// Files lists the files of a stored page: the recording_files of each
// meeting of a cloud recordings page, the voicemail of each voice_mails
// record, the recording of each phone recordings record. Entries without a
// download_url (still processing) are left out.
//
// Names are stable and safe as paths: "<meeting uuid>/<file id>.<ext>" for
// cloud recordings (a file without an id, such as CC or TIMELINE, is named
// by its file type, numbered if its meeting has several) and "<id>.mp3"
// for Phone files, whose listings name no format (Zoom serves MP3). Ids are
// sanitized: a uuid's "/" and "+" become "_" and "-", "=" is dropped, and
// anything but letters, digits, "-" and "_" becomes "_".
//
// The participant audio of a meeting's recordings is named like its
// recording files; a phone recording's transcript "<id>-transcript.json";
// an SMS attachment and a Team Chat file "<file id>.<ext>", the extension
// taken from the file's name.
func (s *Source) Files(section, part string, page []byte) ([]dsar.MediaFile, error) {
	switch section + "/" + part {
	case dsar.SectionCloudRecordings + "/" + dsar.PartRecordings, dsar.SectionCloudRecordings + "/" + dsar.PartTrash:
		return recordingFiles(page)
	case dsar.SectionCloudRecordings + "/" + dsar.PartParticipantAudio:
		return participantAudio(page)
	case dsar.SectionPhoneVoicemails + "/" + dsar.SectionPhoneVoicemails:
		return phoneFiles(page, "voice_mails")
	case dsar.SectionPhoneRecordings + "/" + dsar.SectionPhoneRecordings:
		return phoneFiles(page, "recordings")
	case dsar.SectionPhoneSMS + "/" + dsar.PartMessages:
		return attachedFiles(page, "sms_histories", "message_id", "attachments", "id", "name", "size")
	case dsar.SectionTeamChat + "/" + dsar.PartMessages:
		return attachedFiles(page, "messages", "id", "files", "file_id", "file_name", "file_size")
	}
	return nil, nil
}

// participantAudio lists the participant_audio_files of one meeting's
// recordings (GET /meetings/{meetingId}/recordings), named as recordingFiles
// names a meeting's files.
func participantAudio(page []byte) ([]dsar.MediaFile, error) {
	var m struct {
		UUID  string `json:"uuid"`
		Files []struct {
			ID        string `json:"id"`
			Extension string `json:"file_extension"`
			Size      int64  `json:"file_size"`
			URL       string `json:"download_url"`
		} `json:"participant_audio_files"`
	}
	if err := json.Unmarshal(page, &m); err != nil {
		return nil, fmt.Errorf("zoomclient: meeting recordings: %w", err)
	}
	var out []dsar.MediaFile
	for _, f := range m.Files {
		if f.URL == "" {
			continue
		}
		if m.UUID == "" || f.ID == "" {
			return nil, errors.New("zoomclient: meeting recordings: participant audio without meeting uuid or file id")
		}
		name := safeName(m.UUID) + "/" + safeName(f.ID)
		if ext := safeExt(f.Extension); ext != "" {
			name += "." + ext
		}
		out = append(out, dsar.MediaFile{Record: m.UUID, Name: name, URL: f.URL, Size: max(f.Size, 0)})
	}
	return out, nil
}

// attachedFiles lists the files attached to the records of a list page:
// field holds a record's files, each with its id, name and size fields.
func attachedFiles(page []byte, list, recID, field, id, name, size string) ([]dsar.MediaFile, error) {
	_, recs, err := listRecords(page, list)
	if err != nil {
		return nil, fmt.Errorf("zoomclient: %s page: %w", list, err)
	}
	var out []dsar.MediaFile
	for _, rec := range recs {
		var files []map[string]json.RawMessage
		if raw, ok := rec[field]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &files); err != nil {
				return nil, fmt.Errorf("zoomclient: %s page: %s: %w", list, field, err)
			}
		}
		for _, f := range files {
			u, fid := idString(f["download_url"]), idString(f[id])
			if u == "" {
				continue
			}
			if fid == "" {
				return nil, fmt.Errorf("zoomclient: %s page: a file without %s", list, id)
			}
			n := safeName(fid)
			if ext := safeExt(strings.TrimPrefix(path.Ext(idString(f[name])), ".")); ext != "" {
				n += "." + ext
			}
			var sz int64
			_ = json.Unmarshal(f[size], &sz) // a size Zoom does not give is unknown
			out = append(out, dsar.MediaFile{Record: idString(rec[recID]), Name: n, URL: u, Size: max(sz, 0)})
		}
	}
	return out, nil
}

func recordingFiles(page []byte) ([]dsar.MediaFile, error) {
	var p struct {
		Meetings []struct {
			UUID  string `json:"uuid"`
			Files []struct {
				ID        string `json:"id"`
				Type      string `json:"file_type"`
				Extension string `json:"file_extension"`
				Size      int64  `json:"file_size"`
				URL       string `json:"download_url"`
			} `json:"recording_files"`
		} `json:"meetings"`
	}
	if err := json.Unmarshal(page, &p); err != nil {
		return nil, fmt.Errorf("zoomclient: recordings page: %w", err)
	}
	var out []dsar.MediaFile
	for _, m := range p.Meetings {
		if m.UUID == "" {
			return nil, errors.New("zoomclient: recordings page: a meeting without uuid")
		}
		dir := safeName(m.UUID)
		used := map[string]bool{}
		for _, f := range m.Files {
			if f.URL == "" {
				continue
			}
			base := safeName(f.ID)
			if f.ID == "" {
				base = strings.ToLower(safeName(f.Type))
			}
			name := base
			for i := 2; used[name]; i++ {
				name = base + "-" + strconv.Itoa(i)
			}
			used[name] = true
			if ext := safeExt(f.Extension); ext != "" {
				name += "." + ext
			}
			out = append(out, dsar.MediaFile{Record: m.UUID, Name: dir + "/" + name, URL: f.URL, Size: max(f.Size, 0)})
		}
	}
	return out, nil
}

func phoneFiles(page []byte, field string) ([]dsar.MediaFile, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(page, &p); err != nil {
		return nil, fmt.Errorf("zoomclient: %s page: %w", field, err)
	}
	var recs []struct {
		ID         string `json:"id"`
		URL        string `json:"download_url"`
		Transcript string `json:"transcript_download_url"`
	}
	if raw, ok := p[field]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &recs); err != nil {
			return nil, fmt.Errorf("zoomclient: %s page: %w", field, err)
		}
	}
	var out []dsar.MediaFile
	for _, r := range recs {
		if r.URL == "" {
			continue
		}
		if r.ID == "" {
			return nil, fmt.Errorf("zoomclient: %s page: a record without id", field)
		}
		out = append(out, dsar.MediaFile{Record: r.ID, Name: safeName(r.ID) + ".mp3", URL: r.URL})
		if r.Transcript != "" {
			out = append(out, dsar.MediaFile{Record: r.ID, Name: safeName(r.ID) + "-transcript.json", URL: r.Transcript})
		}
	}
	return out, nil
}

// safeName maps a Zoom id to a path component: base64's "/" and "+" as in
// its URL alphabet, padding dropped, anything else unusual as "_". Never
// empty, never "." or "..".
func safeName(id string) string {
	var b strings.Builder
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('_')
		case c == '+':
			b.WriteByte('-')
		case c == '=':
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// safeExt is a file extension in lower case, letters and digits only.
func safeExt(ext string) string {
	var b strings.Builder
	for _, c := range []byte(strings.ToLower(ext)) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteByte(c)
		}
	}
	if b.Len() > 16 {
		return ""
	}
	return b.String()
}

// Download writes a file to w from offset on (see Client.Download). When
// the size is unknown and the file is already whole (Zoom answers 416 to a
// range from its end), nothing is written and the download is done. A file
// Zoom no longer has (a documented answer of EndpointDownload) is a
// ZoomNotFound.
func (s *Source) Download(ctx context.Context, url string, offset int64, w io.Writer, size int64) (int64, int, error) {
	r := &request{ep: EndpointDownload}
	n, err := s.c.download(ctx, r, url, offset, w, size)
	if err == nil {
		return n, r.calls, nil
	}
	var e *Error
	if errors.As(err, &e) {
		switch {
		case e.Status == http.StatusRequestedRangeNotSatisfiable && offset > 0 && size <= 0 && n == 0:
			return 0, r.calls, nil
		case e.Kind == NotFound:
			return n, r.calls, &dsar.ZoomError{Kind: dsar.ZoomNotFound, Code: e.Code, Message: "the file no longer exists (" + e.Message + ")", Err: err}
		}
	}
	return n, r.calls, sourceError(err)
}
