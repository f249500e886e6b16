package zoomtest_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

var update = flag.Bool("update", false, "rebuild testdata/openapi from ../../../shared/zoom-openapi")

// specFiles maps each trimmed spec to its source in shared/zoom-openapi and
// the emulated paths it documents.
var specFiles = []struct {
	name, source string
	paths        []string
}{
	{"users.json", "users/ZoomUsersAPISpec.2026-02.json", []string{
		"/users", "/users/{userId}", "/users/{userId}/settings", "/users/{userId}/assistants", "/users/{userId}/schedulers", "/groups"}},
	{"meetings.json", "meetings/ZoomMeetingAPISpec.2023-10.json", []string{
		"/users/{userId}/meetings", "/users/{userId}/webinars", "/users/{userId}/recordings", "/meetings/{meetingId}/recordings", "/report/users/{userId}/meetings",
		"/im/groups"}},
	{"phone.json", "phone/ZoomPhoneAPISpec.2026-07.json", []string{
		"/phone/users/{userId}", "/phone/users/{userId}/settings", "/phone/users/{userId}/call_history", "/phone/users/{userId}/call_logs",
		"/phone/users/{userId}/voice_mails", "/phone/users/{userId}/recordings", "/phone/recording/download/{fileId}", "/phone/voice_mails/download/{fileId}",
		"/phone/users/{userId}/sms/sessions", "/phone/sms/sessions/{sessionId}", "/phone/sms/sessions/{sessionId}/sync",
		"/phone/voice_mails/{voicemailId}", "/phone/recording_transcript/download/{recordingId}"}},
	// Written by hand from Zoom's reference (see summaries.go): none of
	// the specs in shared/zoom-openapi has these operations.
	{"summaries.json", "", []string{"/meetings/meeting_summaries", "/meetings/{meetingId}/meeting_summary"}},
	{"team-chat.json", "team-chat/ZoomTeamChatAPISpec.2026-02.json", []string{
		"/chat/users/{userId}/sessions", "/chat/users/{userId}/channels", "/chat/users/{userId}/messages", "/chat/users/{userId}/messages/{messageId}/thread"}},
}

// TestTrimmedSpecs rebuilds the trimmed specs with -update, and otherwise
// checks that they cover every emulated operation.
func TestTrimmedSpecs(t *testing.T) {
	if *update {
		for _, f := range specFiles {
			if f.source == "" {
				continue
			}
			trimSpec(t, filepath.Join("..", "..", "..", "shared", "zoom-openapi", f.source), filepath.Join("testdata", "openapi", f.name), f.paths)
		}
	}
	covered := map[string]bool{}
	for _, f := range specFiles {
		for _, p := range f.paths {
			covered["GET "+p] = true
		}
	}
	for _, o := range zoomtest.Operations() {
		if !covered[o.Method+" "+o.Path] {
			t.Errorf("%s %s is in no trimmed spec", o.Method, o.Path)
		}
	}
}

// trimSpec keeps only the GET operations of paths, the security schemes,
// and repairs the defects listed in shared/zoom-openapi/SOURCES.md.
func trimSpec(t *testing.T, src, dst string, paths []string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	all, _ := spec["paths"].(map[string]any)
	out := map[string]any{}
	for _, p := range paths {
		item, ok := all[p].(map[string]any)
		if !ok || item["get"] == nil {
			t.Fatalf("%s: no GET %s", src, p)
		}
		kept := map[string]any{"get": item["get"]}
		if ps, ok := item["parameters"]; ok {
			kept["parameters"] = ps
		}
		out[p] = kept
	}
	trimmed := map[string]any{"openapi": spec["openapi"], "info": spec["info"], "servers": spec["servers"], "paths": out}
	if c, ok := spec["components"].(map[string]any); ok {
		schemes, _ := c["securitySchemes"].(map[string]any)
		repairSchemes(schemes)
		trimmed["components"] = map[string]any{"securitySchemes": schemes}
	}
	repair(trimmed)
	if strings.Contains(string(mustMarshal(t, trimmed)), `"$ref"`) {
		t.Fatalf("%s: the kept operations use $ref; keep the components they name", src)
	}
	if err := os.WriteFile(dst, append(mustIndent(t, trimmed), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// repair walks the spec and fixes what a strict validator rejects: a oneOf
// becomes anyOf (the user settings branches overlap, SOURCES.md; anyOf is
// looser, never stricter), an enum put on an array moves to its items
// (phone delegation.privileges), a default outside its enum goes (a
// validator would apply it), and upper-case styles become lower-case.
func repair(v any) {
	switch x := v.(type) {
	case map[string]any:
		if one, ok := x["oneOf"]; ok {
			x["anyOf"] = one
			delete(x, "oneOf")
		}
		if style, ok := x["style"].(string); ok {
			x["style"] = strings.ToLower(style) // "SIMPLE" in the Meetings spec
		}
		if enum, ok := x["enum"].([]any); ok && x["default"] != nil && !slices.Contains(enum, x["default"]) {
			delete(x, "default") // call_history recording_status: default "" outside its enum
		}
		if x["type"] == "array" && x["enum"] != nil {
			if items, ok := x["items"].(map[string]any); ok {
				items["enum"] = x["enum"]
			}
			delete(x, "enum")
		}
		for _, c := range x {
			repair(c)
		}
	case []any:
		for _, c := range x {
			repair(c)
		}
	}
}

// repairSchemes fixes what OpenAPI 3.0 forbids in Zoom's security schemes:
// an upper-case apiKey "in" and OAuth flows without URLs.
func repairSchemes(schemes map[string]any) {
	for _, v := range schemes {
		s, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if in, ok := s["in"].(string); ok {
			s["in"] = strings.ToLower(in)
		}
		flows, _ := s["flows"].(map[string]any)
		for _, f := range flows {
			flow, ok := f.(map[string]any)
			if !ok {
				continue
			}
			if flow["tokenUrl"] == nil || flow["tokenUrl"] == "" {
				flow["tokenUrl"] = "https://zoom.us/oauth/token"
			}
			if flow["authorizationUrl"] == nil || flow["authorizationUrl"] == "" {
				flow["authorizationUrl"] = "https://zoom.us/oauth/authorize"
			}
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustIndent(t *testing.T, v any) []byte {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
