package zoomtest_test

import (
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestDocumentedErrors checks each error case Zoom documents for the
// emulated endpoints, endpoint by endpoint.
func TestDocumentedErrors(t *testing.T) {
	const jane = zoomtest.JaneEmail
	const nobody = "nobody@example.com"
	type tc struct {
		name   string
		opts   []zoomtest.Option
		path   string
		status int
		code   int
		msg    string // substring
	}
	// start is 2026-03-15 (frozen); six months back is 2025-09-15.
	tests := []tc{
		{"user unknown", nil, "/users/" + nobody, 404, 1001, "User does not exist: " + nobody},
		{"settings unknown", nil, "/users/" + nobody + "/settings", 404, 1001, "User does not exist"},
		{"assistants unknown", nil, "/users/" + nobody + "/assistants", 404, 1001, "User does not exist"},
		{"schedulers unknown", nil, "/users/" + nobody + "/schedulers", 404, 1001, "User does not exist"},
		{"meetings unknown", nil, "/users/" + nobody + "/meetings", 404, 1001, "not exist or not belong to this account"},
		{"meetings bad type", nil, "/users/" + jane + "/meetings?type=sometimes", 400, 300, "type"},
		{"webinars unknown", nil, "/users/" + nobody + "/webinars", 404, 1001, "not exist or not belong to this account"},
		{"webinars without add-on", nil, "/users/john.smith@example.com/webinars", 400, 200, "Webinar plan is missing"},
		{"recordings unknown", nil, "/users/" + nobody + "/recordings", 404, 1001, "does not exist, or does not belong to this account"},
		{"recordings over a month", nil, "/users/" + jane + "/recordings?from=2026-01-01&to=2026-02-02", 400, 300, "one month"},
		{"recordings to before from", nil, "/users/" + jane + "/recordings?from=2026-02-01&to=2026-01-02", 400, 300, "one month"},
		{"recordings bad date", nil, "/users/" + jane + "/recordings?from=yesterday&to=2026-01-02", 400, 300, "from"},
		{"meeting without recording", nil, "/meetings/123/recordings", 404, 3301, "There is no recording for this meeting."},
		{"report free plan", []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}, "/report/users/" + jane + "/meetings?from=2026-02-01&to=2026-02-28", 400, 200, "only available for paid account"},
		{"report unknown", nil, "/report/users/" + nobody + "/meetings?from=2026-02-01&to=2026-02-28", 404, 1001, "not exist or not belong"},
		{"report without from", nil, "/report/users/" + jane + "/meetings?to=2026-02-28", 400, 300, "from"},
		{"report over a month", nil, "/report/users/" + jane + "/meetings?from=2026-01-01&to=2026-02-15", 400, 300, "one month"},
		{"report older than six months", nil, "/report/users/" + jane + "/meetings?from=2025-08-01&to=2025-08-31", 400, 300, "six months"},
		{"groups free plan", []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}, "/groups", 400, 200, "Only available for Paid account."},
		{"phone not enabled", []zoomtest.Option{zoomtest.WithPhoneEnabled(false)}, "/phone/users/" + jane, 403, 2031, "Zoom Phone has not been enabled for this account."},
		{"phone not enabled, call history", []zoomtest.Option{zoomtest.WithPhoneEnabled(false)}, "/phone/users/" + jane + "/call_history", 403, 2031, "not been enabled"},
		{"phone user unknown", nil, "/phone/users/" + nobody, 404, 1001, "User does not exist: " + nobody},
		{"phone user without licence", nil, "/phone/users/john.smith@example.com", 404, 1001, "User does not exist"},
		{"phone settings without licence", nil, "/phone/users/john.smith@example.com/settings", 404, 1001, "User does not exist"},
		{"call history unknown", nil, "/phone/users/" + nobody + "/call_history", 404, 300, "User does not exist"},
		{"call history without licence", nil, "/phone/users/john.smith@example.com/call_history", 404, 300, "User does not exist"},
		{"call history from without to", nil, "/phone/users/" + jane + "/call_history?from=2026-02-01", 400, 301, "Invalid request param: to"},
		{"call history over a month", nil, "/phone/users/" + jane + "/call_history?from=2026-01-01&to=2026-02-15", 400, 301, "Invalid request param: from"},
		{"call history older than six months", nil, "/phone/users/" + jane + "/call_history?from=2025-08-01&to=2025-08-31", 400, 301, "Invalid request param"},
		{"call logs unknown", nil, "/phone/users/" + nobody + "/call_logs", 404, 1001, "User does not exist"},
		{"voicemails unknown", nil, "/phone/users/" + nobody + "/voice_mails", 404, 1001, "User does not exist"},
		{"voicemails over a month", nil, "/phone/users/" + jane + "/voice_mails?from=2026-01-01&to=2026-02-15", 400, 300, "from"},
		{"phone recordings unknown", nil, "/phone/users/" + nobody + "/recordings", 404, 1001, "User does not exist"},
		{"phone recordings bad time", nil, "/phone/users/" + jane + "/recordings?from=2026-02-01T10:00&to=2026-02-15", 400, 300, "from"},
		{"phone recording file unknown", nil, "/phone/recording/download/nope", 400, 404, "File does not exist."},
		{"voicemail file unknown", nil, "/phone/voice_mails/download/nope", 400, 404, "File does not exist."},
		{"attended free plan", []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}, "/report/users/" + jane + "/meetings?type=pastJoined&from=2026-02-01&to=2026-02-28", 400, 200, "only available for paid account"},
		{"attended over a month", nil, "/report/users/" + jane + "/meetings?type=pastJoined&from=2026-01-01&to=2026-02-15", 400, 300, "one month"},
		{"sms phone not enabled", []zoomtest.Option{zoomtest.WithPhoneEnabled(false)}, "/phone/users/" + jane + "/sms/sessions", 403, 2031, "not been enabled"},
		{"sms without licence", nil, "/phone/users/john.smith@example.com/sms/sessions", 404, 1001, "User does not exist"},
		{"sms bad session type", nil, "/phone/users/" + jane + "/sms/sessions?session_type=group", 400, 400, "SMS session type is invalid."},
		{"sms over a month", nil, "/phone/users/" + jane + "/sms/sessions?from=2026-01-01&to=2026-02-15", 400, 400, "from"},
		{"sms session unknown", nil, "/phone/sms/sessions/nope", 404, 7013, "Error retrieving SMS history."},
		{"sms sync unknown", nil, "/phone/sms/sessions/nope/sync?count=10", 404, 12004, "Session does not exist"},
		{"voicemail unknown", nil, "/phone/voice_mails/nope", 400, 300, "Voice mail does not exist: nope."},
		{"voicemail phone not enabled", []zoomtest.Option{zoomtest.WithPhoneEnabled(false)}, "/phone/voice_mails/nope", 403, 2031, "not been enabled"},
		{"recording transcript unknown", nil, "/phone/recording_transcript/download/nope", 400, 404, "File does not exist."},
		{"summaries free plan", []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}, "/meetings/meeting_summaries", 400, 200, "not enabled"},
		{"summaries over a month", nil, "/meetings/meeting_summaries?from=2026-01-01T00:00:00Z&to=2026-02-15T00:00:00Z", 400, 300, "one month"},
		{"summary free plan", []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}, "/meetings/abc/meeting_summary", 400, 200, "not enabled"},
		{"summary unknown", nil, "/meetings/abc/meeting_summary", 404, 3001, "Meeting does not exist"},
		{"im groups free plan", []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}, "/im/groups", 400, 200, "Only available for Paid account."},
		{"unknown path", nil, "/nothing/here", 404, 404, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]zoomtest.Option{zoomtest.WithStartTime(start), zoomtest.WithFrozenClock()}, tt.opts...)
			srv := zoomtest.NewServer(t, opts...)
			r := get(t, srv, token(t, srv, srv.Account()), tt.path)
			code, msg := zoomErr(t, r)
			if r.status != tt.status || code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %d {%d %q}, want %d {%d ..%q..}", r.status, code, msg, tt.status, tt.code, tt.msg)
			}
			log := srv.Log()
			if last := log[len(log)-1]; last.Code != tt.code || last.Status != tt.status {
				t.Errorf("log entry %+v, want status %d code %d", last, tt.status, tt.code)
			}
		})
	}
}

// TestUsers checks the lookups and special users every dataset has.
func TestUsers(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	jane := srv.Dataset().User(zoomtest.JaneEmail)
	tests := []struct {
		name, path, field, want string
	}{
		{"by email", "/users/jane.doe@example.com", "id", jane.ID},
		{"by email, other case", "/users/Jane.Doe@EXAMPLE.com", "id", jane.ID},
		{"by id", "/users/" + jane.ID, "email", zoomtest.JaneEmail},
		{"escaped email", "/users/jane.doe%40example.com", "id", jane.ID},
		{"mixed-case email kept", "/users/john.smith@example.com", "email", "John.Smith@Example.COM"},
		{"pending user", "/users/pending.invitee@example.com", "status", "pending"},
		{"pending created_at is now", "/users/pending.invitee@example.com", "created_at", "2026-03-15T12:00:00Z"},
		{"inactive user", "/users/former.employee@example.com", "status", "inactive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, srv, tok, tt.path)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := decode(t, r)[tt.field]; got != tt.want {
				t.Errorf("%s = %v, want %q", tt.field, got, tt.want)
			}
		})
	}
	r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail+"/assistants")
	if as, _ := decode(t, r)["assistants"].([]any); len(as) != len(jane.Assistants) || len(as) == 0 {
		t.Errorf("assistants %s, want %d", r.body, len(jane.Assistants))
	}
	r = get(t, srv, tok, "/phone/users/"+zoomtest.JaneEmail)
	if got := decode(t, r)["extension_number"]; got != float64(jane.Phone.ExtensionNumber) {
		t.Errorf("phone extension %v, want %d", got, jane.Phone.ExtensionNumber)
	}
}
