package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
	req.Sections = append(req.Sections, section(dsar.Section{Name: "groups", State: dsar.SectionComplete, Calls: 1}, "groups:groups"))
	src.pages["groups/groups"] = []dsar.Page{page(`{"groups":[{"id":"g1","name":"Engineering","total_members":3}]}`)}
	b, _ := writeBundle(t, req, src, testKey(1))
	_, content, _ := readZip(t, b)
	html := string(content[IndexPath])
	for _, want := range []string{
		"<td>subject@example.test</td>", "<td>acct-1</td>", "<td>req-0001</td>",
		// Times in the zone of the subject's profile, with the zone named.
		"<tr><th>Times shown in</th><td>Europe/Berlin</td></tr>",
		"2026-01-02 04:04 CET to 2026-01-02 04:09 CET",
		`<td><a href="#s-meetings">Meetings</a></td><td>Collected</td><td>6</td>`,
		"<td>1 November 2025 to 1 January 2026</td>",
		"<tr><td>Licence</td><td>Licensed</td></tr>", "<tr><td>Last login</td><td>2025-12-30 09:15 CET</td></tr>",
		"<tr><td>Groups</td><td>Engineering, g2</td></tr>", "<tr><td>Role</td><td>Member</td></tr>",
		"<td>Meeting 6</td><td>2025-11-07 11:00 CET</td><td>0:30:00</td>",
		// On a narrow screen a row is a card, each cell headed by its column.
		`[data-part="meetings\2f scheduled"] td:nth-child(2)::before{content:"Start\3a  "}`,
		// Settings grouped and in words.
		`<h3>In meeting</h3>`, "<tr><td>Chat</td><td>yes</td></tr>", "<h3>Recording</h3>", "<tr><td>Cloud recording</td><td>yes</td></tr>",
		// A recording's file, linked from its row; one Zoom no longer had is not.
		`<td><a href="media/cloud_recordings/2025-11-05%201100%20Recorded/video.mp4">Video</a> </td>`,
		"data/meetings.scheduled.csv",
		"has not configured the information that Art. 15(1) GDPR requires",
		"Zoom Phone is not enabled for this account.",
		"This person has no Zoom Phone licence",
		`<h2 id="s-webinars">Webinars</h2>`, "No records.",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if n := strings.Count(html, ">Meeting 1</td>"); n != 1 {
		t.Errorf("Meeting 1 shown %d times, want once (dropped from previous_meetings)", n)
	}
	if strings.Contains(html, "gone") {
		t.Error("a file the bundle does not hold is linked")
	}
}

// TestReportPages: a part of more than reportRows records continues on
// further pages, linked from index.html and from each other, and every
// record is a row of one page and of the CSV.
func TestReportPages(t *testing.T) {
	var pages []dsar.Page
	for p := range 8 {
		var recs []string
		for i := range 300 {
			recs = append(recs, fmt.Sprintf(`{"id":%d,"topic":"t%d"}`, p*300+i, p*300+i))
		}
		pages = append(pages, page(`{"meetings":[`+strings.Join(recs, ",")+`]}`))
	}
	tmp := t.TempDir()
	req := Input{Request: &dsar.Request{ID: "r"}, Version: "v", Sections: []Section{section(dsar.Section{Name: "meetings", State: dsar.SectionComplete}, "scheduled:meetings")}, TempDir: tmp}
	src := &memSource{pages: map[string][]dsar.Page{"meetings/scheduled": pages}}
	b, res := writeBundle(t, req, src, testKey(1))
	if left, err := os.ReadDir(tmp); err != nil || len(left) > 0 {
		t.Errorf("the pages' temporary file is left in TempDir: %v, %v", left, err)
	}
	req.TempDir = filepath.Join(tmp, "missing")
	if _, err := Write(t.Context(), io.Discard, req, src, testKey(1)); err == nil || !strings.Contains(err.Error(), "report pages") {
		t.Errorf("Write with a missing TempDir: error = %v, want one about the report pages", err)
	}
	_, content, _ := readZip(t, b)
	html := string(content[IndexPath])
	if n := strings.Count(html, "<tr><td>t"); n != reportRows {
		t.Errorf("index.html shows %d rows, want %d", n, reportRows)
	}
	for _, want := range []string{"Records 1 to 1000 of 2400.", `<a href="pages/meetings-scheduled-2.html">2</a><a href="pages/meetings-scheduled-3.html">3</a></p>`} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	seen := map[string]int{}
	for i, name := range []string{IndexPath, "pages/meetings-scheduled-2.html", "pages/meetings-scheduled-3.html"} {
		for _, m := range regexp.MustCompile(`<tr><td>(t\d+)</td>`).FindAllStringSubmatch(string(content[name]), -1) {
			seen[m[1]]++
		}
		if i > 0 && !strings.Contains(string(content[name]), `<a href="../index.html#s-meetings">Back to the report</a>`) {
			t.Errorf("%s does not lead back to the report", name)
		}
	}
	if len(seen) != 2400 {
		t.Errorf("%d records shown across the pages, want 2400", len(seen))
	}
	for rec, n := range seen {
		if n != 1 {
			t.Errorf("%s shown %d times", rec, n)
		}
	}
	if p2 := string(content["pages/meetings-scheduled-2.html"]); !strings.Contains(p2, `<a href="../index.html#s-meetings">Previous</a><a href="meetings-scheduled-3.html">Next</a>`) ||
		!strings.Contains(p2, "records 1001 to 2000 of 2400") {
		t.Errorf("page 2's navigation or heading is wrong:\n%.600s", p2)
	}
	if p3 := string(content["pages/meetings-scheduled-3.html"]); strings.Contains(p3, ">Next<") || !strings.Contains(p3, "records 2001 to 2400 of 2400") {
		t.Error("page 3 links a next page or has the wrong heading")
	}
	if lines := strings.Count(string(content["data/meetings.csv"]), "\n"); lines != 2401 {
		t.Errorf("data/meetings.csv has %d lines, want a header and 2400 records", lines)
	}
	if res.Manifest.Sections[0].Records != 2400 {
		t.Errorf("records = %d, want 2400", res.Manifest.Sections[0].Records)
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
		{[]dsar.Span{{From: "2025-01-01", To: "2025-02-01"}}, "1 January 2025 to 1 February 2025"},
		{[]dsar.Span{{From: "2025-03-01", To: "2025-04-01"}, {From: "2025-01-01", To: "2025-02-01"}, {From: "2025-02-01", To: "2025-03-01"}}, "1 January 2025 to 1 April 2025"},
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
		if got := formatValue(v, time.UTC); got != tt.want {
			t.Errorf("formatValue(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReportGolden pins the report's HTML: the templates and what fills
// them, the Art. 15(1) information included. After an intended change run:
// go test ./dsar/bundle -run ReportGolden -update
func TestReportGolden(t *testing.T) {
	req, src := testRequest()
	req.Controller = &ControllerInfo{
		Controller: "Example Ltd, 1 Example Street, privacy@example.test",
		Purposes:   "Running the company's meetings and phone system.",
		Categories: "Profile, meetings, recordings, chat, phone calls.",
		Recipients: "Zoom Video Communications (processor).",
		Retention:  "Recordings 90 days; chat 1 year.",
		Rights:     "Write to privacy@example.test.",
		Complaint:  "The data protection authority where you live or work.",
		Source:     "You, and the people you meet, call or chat with.",
	}
	b, _ := writeBundle(t, req, src, testKey(1))
	_, content, _ := readZip(t, b)
	golden := filepath.Join("testdata", "report.golden.html")
	if *update {
		if err := os.WriteFile(golden, content[IndexPath], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(content[IndexPath], want) {
		t.Errorf("index.html differs from %s (run with -update after an intended change):\n%s", golden, firstDiff(string(content[IndexPath]), string(want)))
	}
	if html := string(content[IndexPath]); !strings.Contains(html, "<dt>Automated decision-making</dt><dd>Not given by the controller.</dd>") {
		t.Error("a point the controller left empty is not said to be missing")
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

// TestReportPagesMediaLinks: a further page links a record's media files
// from pages/ ("../media/..."), while the CSV, written by the same scan,
// names them from the bundle's root.
func TestReportPagesMediaLinks(t *testing.T) {
	var recs, ids []string
	for i := range 1200 {
		recs = append(recs, fmt.Sprintf(`{"id":%d,"topic":"t%d"}`, i, i))
		ids = append(ids, fmt.Sprint(i))
	}
	src := &memSource{
		pages: map[string][]dsar.Page{"meetings/scheduled": {idPage(`{"meetings":[`+strings.Join(recs, ",")+`]}`, ids...)}},
		media: []memMedia{{path: "media/meetings/a.mp3", data: []byte("x")}},
	}
	req := Input{Request: &dsar.Request{ID: "r"}, Version: "v", TempDir: t.TempDir(),
		Sections: []Section{section(dsar.Section{Name: "meetings", State: dsar.SectionComplete}, "scheduled:meetings")},
		Files: func(section, part string, body []byte) ([]dsar.MediaFile, error) {
			return []dsar.MediaFile{{Record: "1100", Name: "a.mp3"}}, nil
		}}
	b, res := writeBundle(t, req, src, testKey(1))
	var media string
	for _, e := range res.Manifest.Entries {
		if strings.HasPrefix(e.Path, "media/") {
			media = e.Path
		}
	}
	if media == "" {
		t.Fatal("no media entry in the bundle")
	}
	_, content, _ := readZip(t, b)
	href := (&url.URL{Path: media}).EscapedPath()
	if p2 := string(content["pages/meetings-scheduled-2.html"]); !strings.Contains(p2, `<a href="../`+href+`">`) || strings.Contains(p2, `"`+href) {
		t.Errorf("page 2 does not link %s from pages/:\n%s", media, p2[strings.Index(p2, "t1100"):][:300])
	}
	if csv := string(content["data/meetings.csv"]); !strings.Contains(csv, media) || strings.Contains(csv, "../") {
		t.Errorf("the CSV does not name %s from the bundle's root", media)
	}
}
