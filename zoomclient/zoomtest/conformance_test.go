package zoomtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// loadSpecs loads the trimmed specs and points their servers at srv.
func loadSpecs(t *testing.T, srv *zoomtest.Server) map[string]*openapi3.T {
	t.Helper()
	docs := map[string]*openapi3.T{}
	for _, f := range specFiles {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(filepath.Join("testdata", "openapi", f.name))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		doc.Servers = openapi3.Servers{{URL: srv.APIURL}}
		for _, p := range f.paths {
			docs["GET "+p] = doc
		}
	}
	return docs
}

var rateLabel = regexp.MustCompile("Rate Limit Label[^`]*`([A-Z_ ]+)`")

// TestConformance calls every emulated operation and validates the
// request (path, parameter names and values) and the 200 response body
// against Zoom's published specs.
func TestConformance(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithDataset("tiny"), zoomtest.WithStartTime(start), zoomtest.WithFrozenClock(),
		zoomtest.WithLimits(zoomtest.Limits{Off: true}))
	docs := loadSpecs(t, srv)
	tok := token(t, srv, srv.Account())
	jane := srv.Dataset().User(zoomtest.JaneEmail)
	const j = zoomtest.JaneEmail
	var rec zoomtest.Recording
	for _, r := range jane.Recordings {
		if !r.Trashed() {
			rec = r
		}
	}
	month := "from=2026-02-14&to=2026-03-14"
	calls := "from=" + jane.Phone.CallLogs[0].StartTime.Format("2006-01-02") + "&to=" + jane.Phone.CallLogs[0].StartTime.AddDate(0, 0, 20).Format("2006-01-02")
	vm, prec := jane.Phone.Voicemails[0], jane.Phone.Recordings[0]
	var tprec zoomtest.PhoneRecording
	for _, r := range jane.Phone.Recordings {
		if r.Transcript > 0 {
			tprec = r
		}
	}
	sms := jane.SMS[len(jane.SMS)-1]
	smsWindow := "from=" + sms.Last().AddDate(0, 0, -20).Format("2006-01-02") + "&to=" + sms.Last().Format("2006-01-02")
	var sum zoomtest.MeetingSummary
	for _, s := range jane.Summaries {
		if !strings.Contains(s.MeetingUUID, "/") {
			sum = s
		}
	}
	sumWindow := "from=" + sum.MeetingStart.AddDate(0, 0, -10).Format("2006-01-02T15:04:05Z") + "&to=" + sum.MeetingStart.AddDate(0, 0, 10).Format("2006-01-02T15:04:05Z")
	tests := []struct {
		op   string // as in the spec
		path string
	}{
		{"GET /users", "/users?page_size=1"},
		{"GET /users/{userId}", "/users/" + j},
		{"GET /users/{userId}", "/users/pending.invitee@example.com"},
		{"GET /users/{userId}/settings", "/users/" + j + "/settings"},
		{"GET /users/{userId}/assistants", "/users/" + j + "/assistants"},
		{"GET /users/{userId}/schedulers", "/users/" + j + "/schedulers"},
		{"GET /groups", "/groups?page_size=10"},
		{"GET /users/{userId}/meetings", "/users/" + j + "/meetings?type=previous_meetings&page_size=5"},
		{"GET /users/{userId}/meetings", "/users/" + j + "/meetings?type=scheduled&page_size=300"},
		{"GET /users/{userId}/webinars", "/users/" + j + "/webinars?type=scheduled&page_size=30"},
		{"GET /users/{userId}/recordings", "/users/" + j + "/recordings?page_size=30&from=" + rec.StartTime.Format("2006-01-02") + "&to=" + rec.StartTime.AddDate(0, 0, 3).Format("2006-01-02")},
		{"GET /users/{userId}/recordings", "/users/" + j + "/recordings?trash=true&trash_type=meeting_recordings"},
		{"GET /meetings/{meetingId}/recordings", "/meetings/" + strconv.FormatInt(rec.MeetingID, 10) + "/recordings"},
		{"GET /report/users/{userId}/meetings", "/report/users/" + j + "/meetings?type=past&page_size=30&" + month},
		{"GET /phone/users/{userId}", "/phone/users/" + j},
		{"GET /phone/users/{userId}/settings", "/phone/users/" + j + "/settings"},
		{"GET /phone/users/{userId}/call_history", "/phone/users/" + j + "/call_history?page_size=300&" + calls},
		{"GET /phone/users/{userId}/call_logs", "/phone/users/" + j + "/call_logs?page_size=300&type=all&" + calls},
		{"GET /phone/users/{userId}/voice_mails", "/phone/users/" + j + "/voice_mails?status=all&from=" + vm.DateTime.Format("2006-01-02") + "&to=" + vm.DateTime.Format("2006-01-02")},
		{"GET /phone/users/{userId}/recordings", "/phone/users/" + j + "/recordings?from=" + prec.DateTime.Format("2006-01-02") + "&to=" + prec.DateTime.Format("2006-01-02")},
		{"GET /phone/recording/download/{fileId}", "/phone/recording/download/" + prec.ID},
		{"GET /phone/voice_mails/download/{fileId}", "/phone/voice_mails/download/" + vm.ID},
		{"GET /report/users/{userId}/meetings", "/report/users/" + j + "/meetings?type=pastJoined&page_size=300&" + month},
		{"GET /phone/users/{userId}/sms/sessions", "/phone/users/" + j + "/sms/sessions?page_size=100&session_type=user&" + smsWindow},
		{"GET /phone/sms/sessions/{sessionId}", "/phone/sms/sessions/" + sms.ID + "?page_size=100&" + smsWindow},
		{"GET /phone/sms/sessions/{sessionId}/sync", "/phone/sms/sessions/" + sms.ID + "/sync?sync_type=FSync&count=250"},
		{"GET /phone/voice_mails/{voicemailId}", "/phone/voice_mails/" + vm.ID},
		{"GET /phone/recording_transcript/download/{recordingId}", "/phone/recording_transcript/download/" + tprec.ID},
		{"GET /meetings/meeting_summaries", "/meetings/meeting_summaries?page_size=300&" + sumWindow},
		{"GET /meetings/{meetingId}/meeting_summary", "/meetings/" + sum.MeetingUUID + "/meeting_summary"},
		{"GET /im/groups", "/im/groups"},
	}
	tests = append(tests, chatConformance(jane)...)
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			seen[tt.op] = true
			doc := docs[tt.op]
			if doc == nil {
				t.Fatalf("no spec for %s", tt.op)
			}
			// Zoom's examples and defaults break their own enums in places
			// and its OAuth flows carry an "extensions" member; neither
			// matters for validating traffic.
			router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation(),
				openapi3.AllowExtraSiblingFields("extensions"))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.APIURL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("route: %v", err)
			}
			if got := route.Method + " " + route.Path; got != tt.op {
				t.Fatalf("routed to %s", got)
			}
			checkParamNames(t, route, req.URL.Query())
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Errorf("request: %v", err)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			// A download that Zoom documents as a 302 is checked as one.
			redirect := resp.StatusCode == http.StatusFound && route.Operation.Responses.Status(http.StatusFound) != nil
			if err != nil || (resp.StatusCode != 200 && !redirect) {
				t.Fatalf("%d %s %v", resp.StatusCode, body, err)
			}
			if strings.Contains(resp.Header.Get("Content-Type"), "json") && !bytes.Contains(body, []byte(`:`)) {
				t.Errorf("empty JSON body %q", body)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
				Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
			out.SetBodyBytes(body)
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("response: %.2000v", err)
			}
			// total_records is given exactly where the spec declares it:
			// the estimate (dsar) counts on it.
			if strings.Contains(resp.Header.Get("Content-Type"), "json") {
				declared := false
				if r := route.Operation.Responses.Status(http.StatusOK); r != nil && r.Value != nil {
					if mt := r.Value.Content.Get("application/json"); mt != nil {
						declared = declares(mt.Schema, "total_records")
					}
				}
				if got := bytes.Contains(body, []byte(`"total_records":`)); got != declared {
					t.Errorf("total_records in the answer: %v, declared by the spec: %v", got, declared)
				}
			}
			// The validator does look at bodies: a wrong type fails.
			// (Each list declares one of these; the SMS and summary lists
			// do not declare total_records, /groups not page_size.)
			tried, caught := 0, 0
			for _, f := range []string{"total_records", "page_size"} {
				if bad := bytes.Replace(body, []byte(`"`+f+`":`), []byte(`"`+f+`":"x","_":`), 1); !bytes.Equal(bad, body) {
					tried++
					out.SetBodyBytes(bad)
					if openapi3filter.ValidateResponse(context.Background(), out) != nil {
						caught++
					}
				}
			}
			if tried > 0 && caught == 0 {
				t.Error("a string total_records or page_size passed validation")
			}
		})
	}
	for _, o := range zoomtest.Operations() {
		if !seen[o.Method+" "+o.Path] {
			t.Errorf("%s %s not exercised", o.Method, o.Path)
		}
	}
}

// noRedirect shows a documented 302 as it is.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// checkParamNames fails on a query parameter the operation does not
// declare.
func checkParamNames(t *testing.T, route *routers.Route, q url.Values) {
	t.Helper()
	declared := map[string]bool{}
	for _, p := range route.Operation.Parameters {
		declared[p.Value.Name] = true
	}
	for _, p := range route.PathItem.Parameters {
		declared[p.Value.Name] = true
	}
	for name := range q {
		if !declared[name] {
			t.Errorf("query parameter %q is not declared by %s %s", name, route.Method, route.Path)
		}
	}
}

// TestOperationTable checks the emulator's categories and scopes against
// each operation's Rate Limit Label and scopes in the specs.
func TestOperationTable(t *testing.T) {
	srv := zoomtest.NewServer(t)
	docs := loadSpecs(t, srv)
	// Operations whose spec has no label; the emulator's choice is
	// explained in ops.go.
	unlabelled := map[string]string{"GET /users/{userId}/schedulers": "Medium", "GET /report/users/{userId}/meetings": "Heavy",
		"GET /im/groups": "Medium"} // the 2023 spec writes `Medium`, which rateLabel does not read
	cat := map[string]string{"LIGHT": "Light", "MEDIUM": "Medium", "HEAVY": "Heavy", "RESOURCE_INTENSIVE": "Resource-intensive", "RESOURCE INTENSIVE": "Resource-intensive"}
	for _, o := range zoomtest.Operations() {
		key := o.Method + " " + o.Path
		op := docs[key].Paths.Find(o.Path).GetOperation(o.Method)
		want := unlabelled[key]
		if m := rateLabel.FindStringSubmatch(op.Description); m != nil {
			want = cat[m[1]]
		}
		if want == "" || o.Category != want {
			t.Errorf("%s: category %q, spec says %q", key, o.Category, want)
		}
		if o.Phone != strings.HasPrefix(o.Path, "/phone/") {
			t.Errorf("%s: phone bucket %v", key, o.Phone)
		}
		scopes := specScopes(op)
		if len(scopes) == 0 {
			t.Errorf("%s: the spec names no scopes", key)
			continue
		}
		found := scopes[o.Scope]
		for _, m := range o.Macro {
			found = found || scopes[m]
		}
		if !found {
			t.Errorf("%s: neither %s nor %v is among the spec's scopes %v", key, o.Scope, o.Macro, scopes)
		}
	}
}

// specScopes collects the scopes an operation names: security
// requirements and x-macro-scopes / x-granular-scopes.
func specScopes(op *openapi3.Operation) map[string]bool {
	out := map[string]bool{}
	if op.Security != nil {
		for _, req := range *op.Security {
			for _, ss := range req {
				for _, s := range ss {
					out[s] = true
				}
			}
		}
	}
	if ext, ok := op.Extensions["x-extensions"].(map[string]any); ok {
		for _, k := range []string{"x-macro-scopes", "x-granular-scopes"} {
			list, _ := ext[k].([]any)
			for _, s := range list {
				out[fmt.Sprint(s)] = true
			}
		}
	}
	return out
}

// TestDocumentedErrorsInSpec checks that the status and code the emulator
// sends for each documented error case are the ones the spec documents
// for that operation.
func TestDocumentedErrorsInSpec(t *testing.T) {
	srv := zoomtest.NewServer(t)
	docs := loadSpecs(t, srv)
	tests := []struct {
		op     string
		status int
		code   int
	}{
		{"GET /users/{userId}", 404, 1001},
		{"GET /users/{userId}/settings", 404, 1001},
		{"GET /users/{userId}/assistants", 404, 1001},
		{"GET /users/{userId}/schedulers", 404, 1001},
		{"GET /groups", 400, 200},
		{"GET /users/{userId}/meetings", 404, 1001},
		{"GET /users/{userId}/webinars", 404, 1001},
		{"GET /users/{userId}/recordings", 404, 1001},
		{"GET /meetings/{meetingId}/recordings", 404, 3301},
		{"GET /report/users/{userId}/meetings", 400, 200},
		{"GET /report/users/{userId}/meetings", 400, 300},
		{"GET /report/users/{userId}/meetings", 404, 1001},
		{"GET /phone/users/{userId}", 404, 1001},
		{"GET /phone/users/{userId}/settings", 404, 1001},
		{"GET /phone/users/{userId}/call_history", 404, 300},
		{"GET /phone/users/{userId}/call_history", 400, 301},
		{"GET /phone/users/{userId}/call_logs", 400, 400},
		{"GET /phone/users/{userId}/call_logs", 404, 1001},
		{"GET /phone/users/{userId}/voice_mails", 400, 400},
		{"GET /phone/users/{userId}/voice_mails", 404, 1001},
		{"GET /phone/users/{userId}/recordings", 404, 1001},
		{"GET /phone/recording/download/{fileId}", 400, 404},
		{"GET /phone/voice_mails/download/{fileId}", 400, 404},
		{"GET /phone/users/{userId}/sms/sessions", 400, 400},
		{"GET /phone/users/{userId}/sms/sessions", 404, 1001},
		{"GET /phone/sms/sessions/{sessionId}", 400, 400},
		{"GET /phone/sms/sessions/{sessionId}", 404, 7013},
		{"GET /phone/sms/sessions/{sessionId}/sync", 400, 300},
		{"GET /phone/sms/sessions/{sessionId}/sync", 404, 12004},
		{"GET /phone/voice_mails/{voicemailId}", 400, 300},
		{"GET /phone/recording_transcript/download/{recordingId}", 400, 404},
		{"GET /meetings/meeting_summaries", 400, 200},
		{"GET /meetings/{meetingId}/meeting_summary", 400, 200},
		{"GET /meetings/{meetingId}/meeting_summary", 404, 3001},
	}
	tests = append(tests, chatDocumentedErrors...)
	for _, tt := range tests {
		method, path, _ := strings.Cut(tt.op, " ")
		op := docs[tt.op].Paths.Find(path).GetOperation(method)
		r := op.Responses.Status(tt.status)
		if r == nil || r.Value == nil || r.Value.Description == nil {
			t.Errorf("%s: spec documents no %d", tt.op, tt.status)
			continue
		}
		if !strings.Contains(*r.Value.Description, fmt.Sprintf("`%d`", tt.code)) {
			t.Errorf("%s: spec's %d does not name code %d", tt.op, tt.status, tt.code)
		}
	}
}

// declares reports whether a schema, or one of its allOf parts, has the
// top-level property name.
func declares(s *openapi3.SchemaRef, name string) bool {
	if s == nil || s.Value == nil {
		return false
	}
	if s.Value.Properties[name] != nil {
		return true
	}
	for _, p := range s.Value.AllOf {
		if declares(p, name) {
			return true
		}
	}
	return false
}
