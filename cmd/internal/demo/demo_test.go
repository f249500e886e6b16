package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zip"

	"github.com/zoomdsar/zoom-dsar/cmd/internal/demo"
	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
)

// pageCheck is what testdata/browser.html finds on one page of the report,
// loaded in headless Chromium in a frame 375 px wide.
type pageCheck struct {
	Page        string           `json:"page"`
	Error       string           `json:"error"`
	ScrollWidth int              `json:"scrollWidth"`
	Overflow    []string         `json:"overflow"`
	Rows        map[string]int64 `json:"rows"`
	Objects     []string         `json:"objects"`
	Links       [][2]string      `json:"links"`
	Audio       int              `json:"audio"`
}

// TestReportInBrowser runs the demo and opens its extracted bundle in
// headless Chromium as the data subject would: every page of the report
// fits 375 px, every record of the data is a row, every media file is
// linked from the report and its link resolves, and the console stays
// empty.
func TestReportInBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := demo.Run(t.Context(), []string{"-dir", dir}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s", err, errOut.String())
	}
	root := filepath.Join(dir, "bundle")
	index := filepath.Join(root, bundle.IndexPath)
	abs, _ := filepath.Abs(index)
	if !strings.Contains(out.String(), "\n"+abs+"\n") {
		t.Errorf("the demo does not name the extracted report %s:\n%s", abs, out.String())
	}
	zr, err := zip.OpenReader(filepath.Join(dir, "bundle.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	pages := []string{bundle.IndexPath}
	var media []string
	for _, f := range zr.File {
		switch {
		case strings.HasPrefix(f.Name, "pages/"):
			pages = append(pages, f.Name)
		case strings.HasPrefix(f.Name, "media/"):
			media = append(media, f.Name)
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(f.Name))); err != nil {
			t.Errorf("entry %s is not extracted: %v", f.Name, err)
		}
	}
	if len(pages) < 3 || len(media) == 0 {
		t.Fatalf("the demo's bundle has %d report pages and %d media files: it no longer exercises further pages and media", len(pages), len(media))
	}

	checks, console := runHarness(t, browser, root, pages)
	if len(checks) != len(pages) {
		t.Fatalf("the browser checked %d of %d pages", len(checks), len(pages))
	}
	for _, line := range console {
		t.Errorf("console: %s", line)
	}
	rows := map[string]int64{}
	objects := map[string]bool{}
	linked := map[string]bool{}
	audio := 0
	for _, c := range checks {
		if c.Error != "" {
			t.Errorf("%s: %s", c.Page, c.Error)
			continue
		}
		if c.ScrollWidth > 375 || len(c.Overflow) > 0 {
			t.Errorf("%s at 375 px: page %d px wide, %d elements overflowing, first %v", c.Page, c.ScrollWidth, len(c.Overflow), c.Overflow[:min(len(c.Overflow), 5)])
		}
		for p, n := range c.Rows {
			rows[p] += n
		}
		for _, p := range c.Objects {
			objects[p] = true
		}
		audio += c.Audio
		for _, l := range c.Links {
			u, err := url.Parse(l[1])
			if err != nil || u.Scheme != "file" {
				if !strings.HasPrefix(l[0], "#") {
					t.Errorf("%s links %q, outside the bundle", c.Page, l[0])
				}
				continue
			}
			rel, err := filepath.Rel(root, u.Path)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links %q, outside the bundle", c.Page, l[0])
				continue
			}
			if _, err := os.Stat(u.Path); err != nil {
				t.Errorf("%s links %q, which does not resolve: %v", c.Page, l[0], err)
			}
			linked[filepath.ToSlash(rel)] = true
		}
	}
	for _, m := range media {
		if !linked[m] {
			t.Errorf("media file %s is not linked from the report", m)
		}
	}
	if audio == 0 {
		t.Error("no voicemail or call recording plays from its row")
	}
	// Every record of the data is a row of the report, across its pages.
	for _, f := range zr.File {
		section, ok := strings.CutSuffix(strings.TrimPrefix(f.Name, "data/"), ".json")
		if !ok || !strings.HasPrefix(f.Name, "data/") {
			continue
		}
		for part, want := range partRecords(t, f, section) {
			key := section + "/" + part
			if want < 0 {
				if !objects[key] {
					t.Errorf("%s: the object is not shown", key)
				}
				continue
			}
			if rows[key] != want {
				t.Errorf("%s: %d rows in the report, %d records in %s", key, rows[key], want, f.Name)
			}
		}
	}
}

// partRecords counts the records of each part in a data entry as the
// report shows them: a list's elements, an item's object or its list's
// elements; -1 for an object part, shown as a table of its fields.
func partRecords(t *testing.T, f *zip.File, section string) map[string]int64 {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var whole json.RawMessage
	if err := json.NewDecoder(rc).Decode(&whole); err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	parts := map[string]json.RawMessage{}
	names := dsar.PartsOf(section)
	if len(names) == 1 {
		parts[names[0]] = whole
	} else if err := json.Unmarshal(whole, &parts); err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	count := func(v json.RawMessage) int64 {
		var list []json.RawMessage
		if json.Unmarshal(v, &list) == nil {
			return int64(len(list))
		}
		return 1
	}
	out := map[string]int64{}
	for name, v := range parts {
		switch {
		case string(v) == "null":
			out[name] = 0
		case dsar.ItemsFrom(section, name) != nil:
			var items map[string]json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				t.Fatalf("%s part %s: %v", f.Name, name, err)
			}
			for _, it := range items {
				out[name] += count(it)
			}
		case bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")):
			out[name] = count(v)
		default:
			out[name] = -1
		}
	}
	return out
}

// chromium finds the browser; its absence fails the test: .ci/run
// installs it (apt-get install -y chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium on PATH: the report is tested in a real browser; install it (Debian: apt-get install -y chromium), as .ci/run does")
	return ""
}

var consoleLine = regexp.MustCompile(`:CONSOLE(:\d+)?\]`)

// runHarness loads every page of the report in testdata/browser.html and
// returns what it found and the lines the pages wrote to the console.
func runHarness(t *testing.T, browser, root string, pages []string) ([]pageCheck, []string) {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "browser.html"))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := json.Marshal(pages)
	harness := filepath.Join(root, "harness.html")
	if err := os.WriteFile(harness, bytes.Replace(tmpl, []byte("PAGES"), list, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	args := []string{
		"--headless", "--disable-gpu", "--no-first-run", "--user-data-dir=" + t.TempDir(),
		// The harness reads the frames of file: pages.
		"--allow-file-access-from-files",
		"--enable-logging=stderr", "--v=0",
		// Virtual time runs only while nothing loads: the harness finishes
		// before the DOM is dumped, however slow the machine.
		"--virtual-time-budget=600000",
		"--dump-dom", (&url.URL{Scheme: "file", Path: harness}).String(),
	}
	if os.Getuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses its sandbox to root
	}
	cmd := exec.CommandContext(ctx, browser, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(stderr.String()))
	}
	m := regexp.MustCompile(`(?s)<pre id="out">(.*?)</pre>`).FindSubmatch(stdout.Bytes())
	if m == nil || len(m[1]) == 0 {
		t.Fatalf("the harness wrote no result; chromium's log:\n%s", tail(stderr.String()))
	}
	var checks []pageCheck
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &checks); err != nil {
		t.Fatalf("harness result: %v", err)
	}
	var console []string
	for line := range strings.SplitSeq(stderr.String(), "\n") {
		if consoleLine.MatchString(line) {
			console = append(console, line)
		}
	}
	slices.Sort(console)
	return checks, slices.Compact(console)
}

func tail(s string) string {
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return fmt.Sprint(s)
}
