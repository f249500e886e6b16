package zoomclient

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParsePage(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		ids     []string
		next    string
		wantErr bool
	}{
		{"last page", `{"page_size":300,"next_page_token":"","meetings":[{"uuid":"a=="},{"uuid":"b"}]}`, []string{"a==", "b"}, "", false},
		{"more pages", `{"next_page_token":"tok","meetings":[{"uuid":"a"}]}`, []string{"a"}, "tok", false},
		{"no token field", `{"meetings":[]}`, []string{}, "", false},
		{"null list", `{"meetings":null,"next_page_token":null}`, []string{}, "", false},
		{"numeric id beyond float64", `{"meetings":[{"uuid":98765432109876543}]}`, []string{"98765432109876543"}, "", false},
		{"record without id", `{"meetings":[{"topic":"x"}]}`, []string{""}, "", false},
		{"list field missing", `{"next_page_token":""}`, nil, "", true},
		{"truncated", `{"next_page_token":"","meetings":[{"uuid":"a"}`, nil, "", true},
		{"garbled", `{"next_page_token":"","meet\x00ngs":[{"uuid":"a"}]}`, nil, "", true},
		{"list not an array", `{"meetings":{"uuid":"a"}}`, nil, "", true},
		{"not an object", `[1,2]`, nil, "", true},
		{"empty", ``, nil, "", true},
		{"token not a string", `{"meetings":[],"next_page_token":5}`, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePage([]byte(tt.body), "meetings", "uuid", "next_page_token")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !slices.Equal(p.IDs, tt.ids) || p.Next.PageToken != tt.next || p.Last != (tt.next == "") {
				t.Errorf("got ids %q next %q last %v; want %q %q", p.IDs, p.Next.PageToken, p.Last, tt.ids, tt.next)
			}
		})
	}
}

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`{"next_page_token":"t","meetings":[{"uuid":"a"},{"uuid":1}]}`))
	f.Add([]byte(`{"meetings":null}`))
	f.Add([]byte(`{"meetings":[{"uuid":{}}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePage(b, "meetings", "uuid", "next_page_token")
		if err == nil && p.Last != (p.Next.PageToken == "") {
			t.Fatalf("Last %v with token %q", p.Last, p.Next.PageToken)
		}
	})
}

func TestResetTime(t *testing.T) {
	now := time.Date(2026, 3, 15, 22, 0, 0, 0, time.UTC) // the client's clock
	tests := []struct {
		name string
		hdr  map[string]string
		want time.Time
	}{
		{"absolute, same clock", map[string]string{"Retry-After": "2026-03-16T00:00:00Z", "Date": "Sun, 15 Mar 2026 22:00:00 GMT"},
			time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)},
		{"absolute, server clock 5 min ahead", map[string]string{"Retry-After": "2026-03-16T00:00:00Z", "Date": "Sun, 15 Mar 2026 22:05:00 GMT"},
			time.Date(2026, 3, 15, 23, 55, 0, 0, time.UTC)},
		{"absolute without Date", map[string]string{"Retry-After": "2026-03-16T00:00:00Z"},
			time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)},
		{"HTTP date", map[string]string{"Retry-After": "Mon, 16 Mar 2026 00:00:00 GMT", "Date": "Sun, 15 Mar 2026 23:00:00 GMT"},
			time.Date(2026, 3, 15, 23, 0, 0, 0, time.UTC)},
		{"seconds", map[string]string{"Retry-After": "120", "Date": "Sun, 15 Mar 2026 10:00:00 GMT"},
			now.Add(2 * time.Minute)},
		{"missing: next midnight UTC", nil, time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)},
		{"garbage: next midnight UTC", map[string]string{"Retry-After": "soon"}, time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.hdr {
				h.Set(k, v)
			}
			if got := resetTime(h, now); !got.Equal(tt.want) {
				t.Errorf("resetTime = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseZoomError(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		status   int
		userID   string
		wantCode int
		wantMsg  string
	}{
		{"redacts the addressed user", `{"code":1001,"message":"User does not exist: Jane.Doe@example.com"}`, 404, "Jane.Doe@example.com", 1001, "User does not exist: {userId}"},
		{"redacts other emails", `{"code":1001,"message":"User bob@example.org not exist or not belong to this account."}`, 404, "", 1001, "User [email] not exist or not belong to this account."},
		{"html gateway page", `<html><body>502 Bad Gateway</body></html>`, 502, "", 0, "Bad Gateway"},
		{"string code", `{"code":"124","message":"Invalid access token."}`, 401, "", 124, "Invalid access token."},
		{"empty", ``, 500, "", 0, "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := parseZoomError([]byte(tt.body), tt.status, tt.userID)
			if code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("got %d %q, want %d %q", code, msg, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	tests := []struct {
		msg  string
		want []string
	}{
		{"Invalid access token, does not contain scopes:[user:read:user:admin].", []string{"user:read:user:admin"}},
		{"Invalid access token, does not contain scopes: [report:read:admin, phone:read:admin].", []string{"report:read:admin", "phone:read:admin"}},
		{"Invalid access token.", nil},
	}
	for _, tt := range tests {
		if got := parseScopes(tt.msg); !slices.Equal(got, tt.want) {
			t.Errorf("parseScopes(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Op: "recordings", Path: "/users/{userId}/recordings", Status: 404, Code: 1001,
		Message: "User does not exist: {userId}", Kind: NotFound, Attempts: 1}
	got := e.Error()
	want := "zoomclient: recordings (/users/{userId}/recordings): not found: HTTP 404 code 1001: User does not exist: {userId}"
	if got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	if !IsNotFound(e) || Retryable(e) || IsNotApplicable(e) {
		t.Errorf("predicates wrong for %v", e)
	}
	q := &QuotaError{Op: "call_history", Category: Medium, Phone: true, Reset: time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)}
	if !Retryable(q) || !strings.Contains(q.Error(), "phone Medium") || !strings.Contains(q.Error(), "2026-03-16T00:00:00Z") {
		t.Errorf("QuotaError: %q retryable %v", q.Error(), Retryable(q))
	}
}
