package bundle

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// column is one column of a report table: the first of Fields that a
// record has, rendered by kind. A field may name a nested one with dots
// ("sender.display_name").
type column struct {
	Header string
	Fields []string
	Kind   string // "", "minutes", "seconds", "bytes", "licence", "groups"
}

func col(header, kind string, fields ...string) column {
	return column{Header: header, Fields: fields, Kind: kind}
}

var (
	meetingCols = []column{
		col("Topic", "", "topic"), col("Start", "", "start_time"), col("Duration", "minutes", "duration"),
		col("Time zone", "", "timezone"), col("Meeting ID", "", "id"),
	}
	from = col("From", "", "caller_name", "caller_did_number", "caller_number", "caller_ext_number")
	to   = col("To", "", "callee_name", "callee_did_number", "callee_number", "callee_ext_number")

	// reportColumns maps "section/part" or "section" to its table's columns.
	reportColumns = map[string][]column{
		dsar.SectionMeetings: meetingCols,
		dsar.SectionWebinars: meetingCols,
		dsar.SectionCloudRecordings: {
			col("Topic", "", "topic"), col("Start", "", "start_time"), col("Duration", "minutes", "duration"),
			col("Number of files", "", "recording_count"), col("Size", "bytes", "total_size"), col("Meeting ID", "", "id"),
		},
		dsar.SectionPhoneCallHistory: {
			col("Start", "", "start_time", "date_time"), col("Direction", "", "direction"), from, to,
			col("Result", "", "result", "call_result"), col("Duration", "seconds", "duration", "talk_time"),
		},
		dsar.SectionPhoneVoicemails: {
			col("Received", "", "date_time"), from, col("Duration", "seconds", "duration"), col("Status", "", "status"),
		},
		dsar.SectionPhoneRecordings: {
			col("Date", "", "date_time", "start_time"), col("Direction", "", "direction"), from, to,
			col("Duration", "seconds", "duration"),
		},
		dsar.SectionMeetingsAttended: {
			col("Topic", "", "topic"), col("Start", "", "start_time"), col("Duration", "minutes", "duration"),
			col("Participants", "", "participants_count"), col("Meeting ID", "", "id"),
		},
		"meeting_summaries/summaries": {
			col("Meeting", "", "meeting_topic"), col("Meeting start", "", "meeting_start_time"),
			col("Summary created", "", "summary_created_time"), col("Meeting ID", "", "meeting_id"),
		},
		"meeting_summaries/summary": {
			col("Meeting", "", "meeting_topic"), col("Title", "", "summary_title"), col("Overview", "", "summary_overview"),
			col("Next steps", "", "next_steps"),
		},
		dsar.SectionGroups: {col("Name", "", "name"), col("Type", "", "type"), col("Members", "", "total_members"), col("ID", "", "id")},
		"phone_sms/sessions": {
			col("Type", "", "session_type"), col("Last message", "", "last_access_time"), col("With", "", "participants"),
		},
		"phone_sms/messages": {
			col("Date", "", "date_time"), col("Direction", "", "direction"), col("From", "", "sender.display_name", "sender.phone_number"),
			col("Message", "", "message"), col("Attachments", "", "attachments"),
		},
		"phone_voicemails/transcriptions": {
			col("Received", "", "date_time"), from, col("Transcription", "", "transcription.content"),
		},
		"cloud_recordings/participant_audio": {
			col("Topic", "", "topic"), col("Start", "", "start_time"), col("Participant audio files", "", "participant_audio_files"),
		},
		"team_chat/sessions": {col("With", "", "name"), col("Type", "", "type"), col("Last message", "", "last_message_sent_time")},
		"team_chat/channels": {col("Name", "", "name"), col("Type", "", "type"), col("ID", "", "id")},
		"team_chat/messages": {
			col("Date", "", "date_time"), col("From", "", "sender_display_name", "sender"), col("Message", "", "message"),
			col("Files", "", "files", "file_name"), col("Status", "", "status"),
		},
		"profile/assistants": {col("Email", "", "email"), col("ID", "", "id")},
		"profile/schedulers": {col("Email", "", "email"), col("ID", "", "id"), col("Personal meeting ID", "", "pmi")},
	}

	// profileFields are the user fields a person asks about first.
	profileFields = []column{
		col("Name", "", "display_name"), col("First name", "", "first_name"), col("Last name", "", "last_name"),
		col("Email", "", "email"), col("Status", "", "status"), col("Role", "", "role_name"),
		col("Licence", "licence", "type"), col("Last login", "", "last_login_time"),
		col("Last client version", "", "last_client_version"), col("Groups", "groups", "group_ids"),
		col("Chat groups", "groups", "im_group_ids"), col("Department", "", "dept"), col("Job title", "", "job_title"),
		col("Company", "", "company"), col("Location", "", "location"), col("Time zone", "", "timezone"),
		col("Language", "", "language"), col("Personal meeting ID", "", "pmi"),
		col("Created", "", "user_created_at", "created_at"),
	}
)

// itemColumns names, for the parts fetched item by item whose rows need
// it, the first column: the item a row belongs to (Section.Labels).
var itemColumns = map[string]string{
	dsar.SectionTeamChat + "/" + dsar.PartMessages: "Conversation",
}

// maxFallbackCols bounds the columns of a table for an unknown part.
const maxFallbackCols = 8

// columnsFor returns the columns of a list part's table; an unknown part
// gets the first record's scalar fields in name order, so only then is the
// record decoded.
func columnsFor(section, part string, rec []byte) ([]column, error) {
	if c, ok := reportColumns[section+"/"+part]; ok {
		return c, nil
	}
	if c, ok := reportColumns[section]; ok {
		return c, nil
	}
	first, err := decodeObject(rec)
	if err != nil {
		return nil, err
	}
	var keys []string
	for k, v := range first {
		switch v.(type) {
		case map[string]any, []any:
		default:
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > maxFallbackCols {
		keys = keys[:maxFallbackCols]
	}
	cols := make([]column, len(keys))
	for i, k := range keys {
		cols[i] = col(k, "", k)
	}
	return cols, nil
}

// rawCell renders the column's value from a record's JSON without decoding
// all of it, times in loc.
func (c column) rawCell(rec *fieldIndex, loc *time.Location) string {
	for _, f := range c.Fields {
		v := rec.path(f)
		if len(v) == 0 || string(v) == "null" || string(v) == `""` {
			continue
		}
		var s string
		switch v[0] {
		case '"':
			var ok bool
			if s, ok = unquote(v); !ok {
				continue
			}
			s = displayTime(s, loc)
		case 't':
			s = "yes"
		case 'f':
			s = "no"
		case '{', '[':
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			var x any
			if d.Decode(&x) != nil {
				continue
			}
			s = formatValue(x, loc)
		default:
			s = string(v)
		}
		return c.format(s)
	}
	return ""
}

func (c column) format(s string) string {
	switch c.Kind {
	case "minutes":
		return clock(s, 60)
	case "seconds":
		return clock(s, 1)
	case "bytes":
		return humanBytes(s)
	case "licence":
		return licenceWords(s)
	}
	return s
}

// clock writes a duration of n units of unit seconds as h:mm:ss; s
// unchanged when it is no number.
func clock(s string, unit int64) string {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n > math.MaxInt64/float64(unit)/2 {
		return s
	}
	d := int64(math.Round(n * float64(unit)))
	b := strconv.AppendInt(make([]byte, 0, 10), d/3600, 10)
	for _, v := range []int64{d / 60 % 60, d % 60} {
		b = append(b, ':', byte('0'+v/10), byte('0'+v%10))
	}
	return string(b)
}

// unquote returns the text of a JSON string a scan found valid: the bytes
// between the quotes when there is no escape in them, which is most.
func unquote(v []byte) (string, bool) {
	if in := v[1 : len(v)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in), true
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err == nil
}

func humanBytes(s string) string {
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	units := []string{"bytes", "KB", "MB", "GB", "TB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	if i == 0 {
		return s + " bytes"
	}
	return strconv.FormatFloat(n, 'f', 1, 64) + " " + units[i]
}
