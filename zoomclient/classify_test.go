package zoomclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// canned is Zoom as a test needs it: every API call gets the same answer.
// Tokens come from the emulator, whose token endpoint is real.
type canned struct {
	status int
	ctype  string
	body   string
}

// cannedSource returns a Source whose API URL serves a, and the server.
func cannedSource(t *testing.T, a canned) (*Source, *httptest.Server) {
	t.Helper()
	zoom := newServer(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := a.body
		if a.status == http.StatusOK && body == "" {
			body = okBody()
		}
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		io.WriteString(w, body)
	}))
	t.Cleanup(api.Close)
	c := newClient(t, zoom, func(cfg *Config) { cfg.APIURL = api.URL + "/v2"; cfg.MaxAttempts = 2 })
	return NewSource(c), api
}

// okBody is a well-formed answer of every endpoint: a user with an id,
// and an empty last page of each list.
func okBody() string {
	m := map[string]any{"id": "u1", "next_page_token": ""}
	for _, ep := range allEndpoints() {
		if ep.PickFrom != nil {
			ep = *ep.PickFrom
		}
		if ep.List != "" {
			m[ep.List] = []any{}
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// allEndpoints returns the endpoints of every part, each once.
func allEndpoints() []Endpoint {
	var out []Endpoint
	for _, k := range sortedParts() {
		out = append(out, parts[k])
	}
	return out
}

func sortedParts() []string {
	var keys []string
	for k := range parts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type outcome string

const (
	found         outcome = "user found"
	noUser        outcome = "no user"
	gone          outcome = "gone (an item deleted since it was listed)"
	notApplicable outcome = "not applicable"
	failed        outcome = "failed"
)

// outcomeOf sorts what the Source returned as the processor does.
func outcomeOf(err error) outcome {
	var ze *dsar.ZoomError
	switch {
	case err == nil:
		return found
	case errors.As(err, &ze) && ze.Kind == dsar.ZoomNotFound:
		return noUser
	case errors.As(err, &ze) && ze.Kind == dsar.ZoomNotApplicable:
		return notApplicable
	case errors.As(err, &ze) && ze.Kind == dsar.ZoomExpired:
		return gone
	}
	return failed
}

// call makes the Source's call for a part (the lookup for "lookup") and
// returns the outcome and the error.
func call(t *testing.T, s *Source, part string) (outcome, error) {
	t.Helper()
	var err error
	if part == "lookup" {
		_, err = s.LookupUser(t.Context(), jane)
	} else {
		section, p, _ := strings.Cut(part, "/")
		var w dsar.Cursor
		if ws := s.Windows(section, p, t0); len(ws) > 0 {
			w.From, w.To = ws[0].From, ws[0].To
		}
		if dsar.ItemsFrom(section, p) != nil {
			w.Item = "item1"
			if ep := parts[part]; ep.ItemQuery {
				w.Item = "to_channel=item1"
			}
		}
		_, err = s.Fetch(t.Context(), dsar.Subject{ID: jane, Email: jane}, section, p, w)
	}
	return outcomeOf(err), err
}

// zoomJSON is an error body in Zoom's shape.
func zoomJSON(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg})
	return string(b)
}

// TestAnswers: every answer the client can meet, on every endpoint, gives
// user found, no user, not applicable or failed; only the documented
// codes of answers give the middle two. The code behind each is in the
// name of the case and in the answers table.
func TestAnswers(t *testing.T) {
	userPaths := []string{EndpointUser.Path, EndpointUserSettings.Path, EndpointAssistants.Path, EndpointSchedulers.Path,
		EndpointMeetingsScheduled.Path, EndpointWebinars.Path, EndpointRecordings.Path}
	phonePaths := []string{EndpointPhoneUser.Path, EndpointPhoneSettings.Path, EndpointCallHistory.Path,
		EndpointVoicemails.Path, EndpointPhoneRecordings.Path, EndpointSMSSessions.Path, EndpointSMSSync.Path, EndpointVoicemail.Path}
	// PH26's 404 code 1001 for a user without a Phone licence.
	phoneUserPaths := []string{EndpointPhoneUser.Path, EndpointPhoneSettings.Path,
		EndpointVoicemails.Path, EndpointPhoneRecordings.Path, EndpointSMSSessions.Path}
	// 400 code 200: a plan or add-on the account lacks (for Team Chat's
	// messages, chat off or not permitted).
	planPaths := []string{EndpointWebinars.Path, EndpointMeetingsAttended.Path, EndpointSummaries.Path,
		EndpointSummary.Path, EndpointGroups.Path, EndpointIMGroups.Path, EndpointChatMessages.Path}
	// on gives o on the listed paths and failed elsewhere.
	on := func(o outcome, paths ...string) func(Endpoint) outcome {
		return func(ep Endpoint) outcome {
			if slices.Contains(paths, ep.Path) {
				return o
			}
			return failed
		}
	}
	all := func(o outcome) func(Endpoint) outcome { return func(Endpoint) outcome { return o } }
	const wrongRoute = `{"code":404,"message":"The requested resource does not exist."}`
	tests := []struct {
		name   string
		answer canned
		want   func(Endpoint) outcome
		apiURL bool // a failure whose reason must point to api_url
	}{
		{"200 with the data", canned{200, "application/json", ""}, all(found), false},
		{"404 code 1001 user does not exist (USR, MTG, PH26)",
			canned{404, "application/json", zoomJSON(1001, "User does not exist: "+jane+".")},
			func(ep Endpoint) outcome {
				switch {
				case slices.Contains(userPaths, ep.Path):
					return noUser
				case slices.Contains(phoneUserPaths, ep.Path):
					return notApplicable // PH26: no Phone licence
				}
				// call_history documents 300; the report of meetings
				// attended a user the lookup found; an item's endpoint
				// another code.
				return failed
			}, true},
		{"404 code 300 user does not exist (PH26 call_history)",
			canned{404, "application/json", zoomJSON(300, "User does not exist: "+jane+".")},
			on(notApplicable, EndpointCallHistory.Path), true},
		{"404 code 404 wrong route (api_url without /v2)", canned{404, "application/json", wrongRoute}, all(failed), true},
		{"404 HTML", canned{404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>"}, all(failed), true},
		{"404 empty body", canned{404, "text/plain", ""}, all(failed), true},
		{"404 JSON without code", canned{404, "application/json", `{"error":"not found"}`}, all(failed), true},
		{"404 code 2001 account does not exist (PH26)", canned{404, "application/json", zoomJSON(2001, "Account does not exist.")}, all(failed), true},
		{"403 code 2031 Phone not enabled (PH26)",
			canned{403, "application/json", zoomJSON(2031, "Zoom Phone has not been enabled for this account.")},
			on(notApplicable, phonePaths...), false},
		{"400 code 3161 hosting not allowed (MTG meetings)",
			canned{400, "application/json", zoomJSON(3161, "Meeting hosting and scheduling capabilities are not allowed for your user account.")},
			on(notApplicable, EndpointMeetingsScheduled.Path), false},
		{"400 code 200 webinar plan missing (MTG webinar operations)",
			canned{400, "application/json", zoomJSON(200, "Webinar plan is missing.")},
			on(notApplicable, planPaths...), false},
		{"400 code 200 no permission", canned{400, "application/json", zoomJSON(200, "No permission.")},
			on(notApplicable, planPaths...), false},
		{"410 code 4137 IM groups gone (TC26)", canned{410, "application/json", zoomJSON(4137, "The IM Group APIs are no longer available.")},
			on(notApplicable, EndpointIMGroups.Path), false},
		{"404 code 3301 no recording for this meeting (MTG)", canned{404, "application/json", zoomJSON(3301, "There is no recording for this meeting.")},
			on(gone, EndpointMeetingRecordings.Path), true},
		{"404 code 3001 meeting does not exist (summary)", canned{404, "application/json", zoomJSON(3001, "Meeting does not exist.")},
			on(gone, EndpointSummary.Path), true},
		{"404 code 12004 SMS session does not exist (PH26)", canned{404, "application/json", zoomJSON(12004, "Session does not exist.")},
			on(gone, EndpointSMSSync.Path), true},
		{"400 code 1120 invitation expired (USR)", canned{400, "application/json", zoomJSON(1120, "A valid invitation to join the Zoom account was not found for this user.")}, all(failed), false},
		{"400 code 300 invalid user id (PH26), voice mail does not exist (PH26 voice_mails/{id})",
			canned{400, "application/json", zoomJSON(300, "Invalid user id.")}, on(gone, EndpointVoicemail.Path), false},
		{"400 code 4711 missing scope", canned{400, "application/json", zoomJSON(4711, "Invalid access token, does not contain scopes:[user:read:user:admin].")}, all(failed), false},
		{"401 code 124 token refused", canned{401, "application/json", zoomJSON(124, "Invalid access token.")}, all(failed), false},
		{"403 without code", canned{403, "text/html", "<html>Forbidden</html>"}, all(failed), false},
		{"200 HTML", canned{200, "text/html", "<html><body>Zoom</body></html>"}, all(failed), false},
		{"500", canned{500, "application/json", zoomJSON(500, "Internal server error.")}, all(failed), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := cannedSource(t, tt.answer)
			for _, part := range append([]string{"lookup"}, sortedParts()...) {
				ep := EndpointUser
				if part != "lookup" {
					ep = parts[part]
				}
				got, err := call(t, s, part)
				if want := tt.want(ep); got != want {
					t.Errorf("%s (%s): %s, want %s (err %v)", part, ep.Path, got, want, err)
				}
				if err == nil {
					continue
				}
				if containsFold(err.Error(), jane) {
					t.Errorf("%s: error names the subject: %v", part, err)
				}
				if got != failed || !tt.apiURL {
					continue
				}
				var ze *dsar.ZoomError
				if !errors.As(err, &ze) || ze.Kind != dsar.ZoomRejected {
					t.Errorf("%s: %v, want a ZoomRejected error (permanent until an operator acts)", part, err)
					continue
				}
				if !strings.Contains(ze.Message, "check the account's api_url, which must end in /v2") {
					t.Errorf("%s: reason %q does not point to api_url", part, ze.Message)
				}
			}
		})
	}
}

// TestWrongAPIURL: the emulator at its root, without /v2, answers what
// Zoom answers for a route that does not exist, and the lookup fails
// with a reason an operator can act on instead of finding no user.
func TestWrongAPIURL(t *testing.T) {
	srv := newServer(t)
	s := NewSource(newClient(t, srv, func(cfg *Config) { cfg.APIURL = srv.URL }))
	_, err := s.LookupUser(t.Context(), jane)
	var ze *dsar.ZoomError
	if !errors.As(err, &ze) || ze.Kind != dsar.ZoomRejected || ze.Code != 404 {
		t.Fatalf("lookup: %v, want ZoomRejected code 404", err)
	}
	want := "Zoom answered 404 without code 1001 for the user lookup: check the account's api_url, which must end in /v2" +
		" (Zoom sent code 404: The requested resource does not exist.)"
	if ze.Message != want {
		t.Errorf("reason %q\nwant   %q", ze.Message, want)
	}
	if n := count(srv, func(e zoomtest.LogEntry) bool { return strings.HasPrefix(e.Path, "/users/") }); n != 1 {
		t.Errorf("%d lookups, want 1: the answer is permanent, not retried", n)
	}
}

// TestWebPageAnswer: a host that answers 200 with a web page is retried as
// a damaged answer would be, a bounded number of times, and then pauses
// the account's calls (the account check refuses such an api_url before
// any request) with a reason that points to api_url.
func TestWebPageAnswer(t *testing.T) {
	s, _ := cannedSource(t, canned{200, "text/html", "<!doctype html><html><body>Sign in</body></html>"})
	_, err := s.LookupUser(t.Context(), jane)
	var ze *dsar.ZoomError
	if !errors.As(err, &ze) || ze.Kind != dsar.ZoomOutage || ze.Until.IsZero() {
		t.Fatalf("lookup: %v, want ZoomOutage with the next probe", err)
	}
	if !strings.Contains(ze.Message, "the answer is not JSON") || !strings.Contains(ze.Message, "check the account's api_url") {
		t.Errorf("reason %q does not point to api_url", ze.Message)
	}
}

// TestDocumentedAnswers checks each row of answers: Zoom documents it on
// the endpoint's own operation (trimmed specs in zoomtest/testdata) or the
// row names where else, and the client gives it the row's kind.
func TestDocumentedAnswers(t *testing.T) {
	ops := map[string]map[string]string{} // path → status → description
	for _, f := range []string{"users.json", "meetings.json", "phone.json", "team-chat.json", "summaries.json"} {
		b, err := os.ReadFile(filepath.Join("zoomtest", "testdata", "openapi", f))
		if err != nil {
			t.Fatal(err)
		}
		var spec struct {
			Paths map[string]struct {
				Get struct {
					Responses map[string]struct{ Description string }
				}
			}
		}
		if err := json.Unmarshal(b, &spec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for p, op := range spec.Paths {
			p = template(p)
			ops[p] = map[string]string{}
			for st, r := range op.Get.Responses {
				ops[p][st] = r.Description
			}
		}
	}
	byPath := map[string]Endpoint{EndpointDownload.Path: EndpointDownload}
	for _, ep := range allEndpoints() {
		byPath[ep.Path] = ep
	}
	rows := 0
	for path, as := range answers {
		ep, ok := byPath[path]
		if !ok {
			t.Errorf("answers has a row for %s, which no part uses", path)
			continue
		}
		for _, a := range as {
			rows++
			t.Run(fmt.Sprintf("%s %d code %d", path, a.Status, a.Code), func(t *testing.T) {
				if a.Kind != NotFound && a.Kind != NotApplicable {
					t.Errorf("kind %v: a row says no user or not applicable", a.Kind)
				}
				if a.Doc == "" {
					desc := ops[template(path)][fmt.Sprint(a.Status)]
					if !strings.Contains(desc, fmt.Sprintf("**Error Code:** `%d`", a.Code)) {
						t.Errorf("the spec of GET %s documents no %d with code %d; cite the source in Doc", path, a.Status, a.Code)
					}
				}
				code := a.Code
				if code == anyCode {
					code = 9999
				}
				s, api := cannedSource(t, canned{a.Status, "application/json", zoomJSON(code, "Answer of the row.")})
				var err error
				if ep.Path == EndpointDownload.Path {
					_, err = s.c.Download(t.Context(), api.URL+"/rec/download/f1", 0, &bytes.Buffer{}, 0)
				} else {
					err = getAny(t, s.c, ep)
				}
				e, ok := err.(*Error)
				if !ok || e.Kind != a.Kind {
					t.Fatalf("%v, want kind %v", err, a.Kind)
				}
				if a.Reason != "" && !strings.HasPrefix(e.Message, a.Reason+" (Answer of the row.)") {
					t.Errorf("message %q, want the row's reason and Zoom's message", e.Message)
				}
			})
		}
	}
	if rows == 0 {
		t.Fatal("no rows")
	}
}

// getAny calls ep as the Source does.
func getAny(t *testing.T, c *Client, ep Endpoint) error {
	switch {
	case ep.Path == EndpointUser.Path:
		_, _, err := c.User(t.Context(), jane)
		return err
	case ep.List == "":
		_, err := c.Get(t.Context(), ep, jane)
		return err
	}
	var cur Cursor
	if ws := c.Windows(ep); len(ws) > 0 {
		cur = ws[0]
	}
	item := ""
	if ep.ItemQuery {
		item = "to_channel=c1"
	}
	_, _, err := c.itemPage(t.Context(), ep, jane, item, cur)
	return err
}

// template names every parameter of a path alike ("/meetings/{}/recordings"),
// so that the client's {item} finds the spec's {meetingId}.
func template(path string) string {
	return regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "{}")
}
