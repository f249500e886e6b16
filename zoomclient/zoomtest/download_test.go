package zoomtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

type fileInfo struct {
	ID          string `json:"id"`
	FileSize    int64  `json:"file_size"`
	DownloadURL string `json:"download_url"`
}

// firstFile lists jane's February recordings and returns the first file.
func firstFile(t *testing.T, srv *zoomtest.Server, tok string) fileInfo {
	t.Helper()
	r := get(t, srv, tok, "/users/"+zoomtest.JaneEmail+"/recordings?from=2025-12-01&to=2025-12-31")
	var body struct {
		Meetings []struct {
			Files []fileInfo `json:"recording_files"`
		} `json:"meetings"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || len(body.Meetings) == 0 {
		t.Fatalf("recordings: %d %s", r.status, r.body)
	}
	return body.Meetings[0].Files[0]
}

func download(t *testing.T, url, tok, rng string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req) // follows the redirect
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestCloudRecordingDownload(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	f := firstFile(t, srv, tok)
	if !strings.HasPrefix(f.DownloadURL, srv.URL+"/rec/download/") {
		t.Fatalf("download_url %q does not point at the emulator", f.DownloadURL)
	}
	want := zoomtest.FileBytes(f.ID, f.FileSize)
	tests := []struct {
		name   string
		tok    string
		url    string
		rng    string
		status int
		body   []byte
	}{
		{"whole", tok, f.DownloadURL, "", 200, want},
		{"range", tok, f.DownloadURL, "bytes=100-199", 206, want[100:200]},
		{"open range", tok, f.DownloadURL, fmt.Sprintf("bytes=%d-", f.FileSize-10), 206, want[f.FileSize-10:]},
		{"range past the end", tok, f.DownloadURL, fmt.Sprintf("bytes=%d-", f.FileSize+10), 416, nil},
		{"token in query", "", f.DownloadURL + "?access_token=" + tok, "", 200, want},
		{"no token", "", f.DownloadURL, "", 401, nil},
		{"unknown file", tok, srv.URL + "/rec/download/nope", "", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := download(t, tt.url, tt.tok, tt.rng)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.body != nil && !bytes.Equal(b, tt.body) {
				t.Errorf("body: %d bytes, want %d (equal %v)", len(b), len(tt.body), bytes.Equal(b, tt.body))
			}
			if tt.status == 206 && !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes ") {
				t.Errorf("Content-Range %q", resp.Header.Get("Content-Range"))
			}
		})
	}
	var redirects int
	for _, e := range srv.Log() {
		if strings.HasPrefix(e.Path, "/rec/download/") && e.Status == http.StatusFound {
			redirects++
			if e.Category != "" {
				t.Errorf("download counted as %q", e.Category)
			}
		}
	}
	if redirects == 0 {
		t.Error("no redirect logged")
	}
}

func TestDownloadLinkExpires(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	f := firstFile(t, srv, tok)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.DownloadURL, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || loc == "" {
		t.Fatalf("want a redirect, got %d", resp.StatusCode)
	}
	srv.Clock().Advance(6 * 60e9)
	if resp, _ := download(t, srv.URL+loc, "", ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired link: %d, want 403", resp.StatusCode)
	}
}

func TestPhoneDownloads(t *testing.T) {
	srv := zoomtest.NewServer(t, zoomtest.WithStartTime(start), zoomtest.WithFrozenClock())
	tok := token(t, srv, srv.Account())
	jane := srv.Dataset().User(zoomtest.JaneEmail)
	tests := []struct {
		list, field string
		id          string
		size        int64
		day         string
	}{
		{"/voice_mails", "voice_mails", jane.Phone.Voicemails[0].ID, jane.Phone.Voicemails[0].FileSize, jane.Phone.Voicemails[0].DateTime.Format("2006-01-02")},
		{"/recordings", "recordings", jane.Phone.Recordings[0].ID, jane.Phone.Recordings[0].FileSize, jane.Phone.Recordings[0].DateTime.Format("2006-01-02")},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			// A window that holds the record.
			r := get(t, srv, tok, "/phone/users/"+zoomtest.JaneEmail+tt.list+"?page_size=300&from="+tt.day+"&to="+tt.day)
			var body map[string][]struct {
				ID          string `json:"id"`
				DownloadURL string `json:"download_url"`
			}
			_ = json.Unmarshal(r.body, &body)
			var url string
			for _, x := range body[tt.field] {
				if x.ID == tt.id {
					url = x.DownloadURL
				}
			}
			if url == "" {
				t.Fatalf("record %s not listed: %s", tt.id, r.body)
			}
			resp, b := download(t, url, tok, "bytes=0-99")
			if resp.StatusCode != 206 || !bytes.Equal(b, zoomtest.FileBytes(tt.id, tt.size)[:100]) {
				t.Errorf("range: %d, %d bytes", resp.StatusCode, len(b))
			}
			log := srv.Log()
			if last := log[len(log)-1]; !last.Phone || last.Category != "Medium" {
				t.Errorf("download logged as %+v, want Phone Medium", last)
			}
		})
	}
}
