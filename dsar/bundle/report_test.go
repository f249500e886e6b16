package bundle

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

func TestReportEscapes(t *testing.T) {
	req, src := testRequest()
	src.pages["meetings/upcoming"] = []dsar.Page{page(`{"meetings":[{"id":99,"topic":"<script>alert(\"x\")</script>","start_time":"<img src=x onerror=alert(1)>"}]}`)}
	src.pages["settings/settings"] = []dsar.Page{page(`{"<b>key</b>":"</td></tr></table><iframe>"}`)}
	req.Request.Email = `"><script>alert(2)</script>@example.test`
	req.Sections[3] = section(dsar.Section{Name: "webinars", State: dsar.SectionComplete, Calls: 1}, "w:webinars")
	src.pages["webinars/w"] = []dsar.Page{page(`{"webinars":[{"<i>":"<link rel=stylesheet href=https://evil.test/x.css>"}]}`)}
	b, _ := writeBundle(t, req, src, testKey(1))
	_, content, _ := readZip(t, b)
	html := string(content[IndexPath])

	// Every tag is one the template writes: Zoom's text never makes one.
	allowed := regexp.MustCompile(`^</?(!DOCTYPE|html|head|meta|title|style|body|h[123]|p|table|thead|tbody|tr|th|td|a|code|strong)[ >]`)
	for i := strings.IndexByte(html, '<'); i >= 0; i = strings.IndexByte(html[i+1:], '<') + i + 1 {
		if !allowed.MatchString(html[i:]) {
			t.Errorf("index.html has a tag the template does not write: %.40q", html[i:])
		}
		if strings.IndexByte(html[i+1:], '<') < 0 {
			break
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"&lt;img src=x onerror=alert(1)&gt;",
		"&lt;b&gt;key&lt;/b&gt;",
		"&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;iframe&gt;",
		"&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;@example.test",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks the escaped text %q", want)
		}
	}
}

func TestReportContent(t *testing.T) {
	req, src := testRequest()
	b, _ := writeBundle(t, req, src, testKey(1))
	_, content, _ := readZip(t, b)
	html := string(content[IndexPath])
	for _, want := range []string{
		"<td>subject@example.test</td>", "<td>acct-1</td>", "<td>req-0001</td>",
		"2026-01-02 03:04 UTC to 2026-01-02 03:09 UTC",
		`<td><a href="#s-meetings">Meetings</a></td><td>Collected</td><td>6</td>`,
		"2025-11-01 to 2026-01-01 (2 windows)",
		"<tr><td>Licence</td><td>Licensed</td></tr>", "<tr><td>Last login</td><td>2025-12-30 08:15 UTC</td></tr>",
		"<tr><td>Groups</td><td>g1, g2</td></tr>", "<tr><td>Role</td><td>Member</td></tr>",
		"<td>Meeting 6</td><td>2025-11-07 10:00 UTC</td><td>30 min</td>",
		"Zoom Phone is not enabled for this account.",
		"This person has no Zoom Phone licence",
		`<h2 id="s-webinars">Webinars</h2>`, "No records.",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(html, "Meeting 1</td><td>2025-11-02 10:00 UTC</td><td>30 min</td><td>Europe/Berlin</td><td>1</td></tr>\n<tr><td>Meeting 1") {
		t.Error("a dropped record is shown")
	}
	if n := strings.Count(html, "<td>Meeting 1</td>"); n != 1 {
		t.Errorf("Meeting 1 shown %d times, want once (dropped from previous_meetings)", n)
	}
}

func TestReportRowLimit(t *testing.T) {
	var pages []dsar.Page
	for p := range 4 {
		var recs []string
		for i := range 300 {
			recs = append(recs, fmt.Sprintf(`{"id":%d,"topic":"t%d"}`, p*300+i, p*300+i))
		}
		pages = append(pages, page(`{"meetings":[`+strings.Join(recs, ",")+`]}`))
	}
	req := Input{Request: &dsar.Request{ID: "r"}, Version: "v", Sections: []Section{section(dsar.Section{Name: "meetings", State: dsar.SectionComplete}, "scheduled:meetings")}}
	b, res := writeBundle(t, req, &memSource{pages: map[string][]dsar.Page{"meetings/scheduled": pages}}, testKey(1))
	_, content, _ := readZip(t, b)
	html := string(content[IndexPath])
	if n := strings.Count(html, "<tr><td>t"); n != reportRows {
		t.Errorf("%d rows shown, want %d", n, reportRows)
	}
	if !strings.Contains(html, "Showing the first 1000 of 1200 records") {
		t.Error("no note that the table is cut")
	}
	if res.Manifest.Sections[0].Records != 1200 {
		t.Errorf("records = %d, want 1200", res.Manifest.Sections[0].Records)
	}
}

func TestReasonWords(t *testing.T) {
	tests := []struct {
		section string
		code    int
		msg     string
		want    string
	}{
		{"phone_profile", 2031, "Zoom Phone has not been enabled for this account.", "Zoom Phone is not enabled for this account."},
		{"phone_settings", 124, "Zoom Phone has not been enabled for this account.", "Zoom Phone is not enabled for this account."},
		{"phone_voicemails", 1001, "User does not exist: x", "This person has no Zoom Phone licence"},
		{"phone_call_history", 300, "User does not exist", "This person has no Zoom Phone licence"},
		{"webinars", 200, "Webinar plan is missing", "does not have the Zoom Webinars add-on"},
		{"cloud_recordings", 200, "Only available for paid account", "only available on a paid Zoom plan"},
		{"cloud_recordings", 3303, "Cloud recording is not enabled", "Cloud recording is not enabled"},
		{"meetings", 1001, "User does not exist: x", "Zoom has no user with this email address"},
		{"settings", 2001, "Account does not exist", "The Zoom account does not exist."},
		{"settings", 4711, "Invalid access token", `Zoom answered: "Invalid access token" (code 4711).`},
		{"settings", 0, "", "Zoom reported that this does not apply"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.section, tt.code), func(t *testing.T) {
			if got := reasonWords(tt.section, tt.code, tt.msg); !strings.Contains(got, tt.want) {
				t.Errorf("reasonWords = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPeriod(t *testing.T) {
	tests := []struct {
		ws   []dsar.Span
		want string
	}{
		{nil, "\u2014"},
		{[]dsar.Span{{From: "2025-01-01", To: "2025-02-01"}}, "2025-01-01 to 2025-02-01"},
		{[]dsar.Span{{From: "2025-03-01", To: "2025-04-01"}, {From: "2025-01-01", To: "2025-02-01"}, {From: "2025-02-01", To: "2025-03-01"}}, "2025-01-01 to 2025-04-01 (3 windows)"},
	}
	for _, tt := range tests {
		if got := period(tt.ws); got != tt.want {
			t.Errorf("period(%v) = %q, want %q", tt.ws, got, tt.want)
		}
	}
}

// TestFormatNames: a list of people or files reads as their names, with a
// person's number; any other list of objects stays JSON.
func TestFormatNames(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{`[{"display_name":"Jane Doe","phone_number":"14155555481","owner":{"id":"x"}},{"display_name":"Mika Berg","phone_number":"12125559708"}]`,
			"Jane Doe (14155555481), Mika Berg (12125559708)"},
		{`[{"phone_number":"12125559708"}]`, "12125559708"},
		{`[{"id":"a1","name":"photo.png","size":12}]`, "photo.png"},
		{`[{"id":"a1"}]`, `[{"id":"a1"}]`},
		{`[]`, ""},
	}
	for _, tt := range tests {
		var v any
		if err := json.Unmarshal([]byte(tt.in), &v); err != nil {
			t.Fatal(err)
		}
		if got := formatValue(v); got != tt.want {
			t.Errorf("formatValue(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
