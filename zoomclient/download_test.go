package zoomclient

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// firstFile returns the download_url and file_size of the largest file of
// jane's newest recordings window.
func firstFile(t *testing.T, c *Client) (string, int64) {
	t.Helper()
	for _, w := range c.Windows(EndpointRecordings) {
		p, err := c.Page(t.Context(), EndpointRecordings, jane, w)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Meetings []struct {
				Files []struct {
					URL  string `json:"download_url"`
					Size int64  `json:"file_size"`
				} `json:"recording_files"`
			} `json:"meetings"`
		}
		if err := json.Unmarshal(p.Body, &page); err != nil {
			t.Fatal(err)
		}
		var url string
		var size int64
		for _, m := range page.Meetings {
			for _, f := range m.Files {
				if f.Size > size {
					url, size = f.URL, f.Size
				}
			}
		}
		if url != "" {
			return url, size
		}
	}
	t.Fatal("no recording file")
	return "", 0
}

// TestDownload: whole files, a resume from an offset, a reset mid-file
// resumed with Range, and a wrong expected size.
func TestDownload(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv, nil)
	ctx := t.Context()
	url, size := firstFile(t, c)

	var whole bytes.Buffer
	n, err := c.Download(ctx, url, 0, &whole, size)
	if err != nil || n != size || int64(whole.Len()) != size {
		t.Fatalf("Download = %d, %v; %d bytes written; want %d", n, err, whole.Len(), size)
	}

	t.Run("from offset", func(t *testing.T) {
		var tail bytes.Buffer
		off := size / 3
		n, err := c.Download(ctx, url, off, &tail, size)
		if err != nil || n != size-off || !bytes.Equal(tail.Bytes(), whole.Bytes()[off:]) {
			t.Fatalf("Download from %d = %d, %v; content equal %v", off, n, err, bytes.Equal(tail.Bytes(), whole.Bytes()[off:]))
		}
	})
	t.Run("reset mid-file", func(t *testing.T) {
		srv.SetFaults(zoomtest.Faults{Script: map[string][]zoomtest.Fault{"GET /rec/download/{fileId}": {zoomtest.FaultReset}}})
		start := len(srv.Log())
		var got bytes.Buffer
		n, err := c.Download(ctx, url, 0, &got, size)
		if err != nil || n != size || !bytes.Equal(got.Bytes(), whole.Bytes()) {
			t.Fatalf("Download = %d, %v; content equal %v", n, err, bytes.Equal(got.Bytes(), whole.Bytes()))
		}
		log := srv.Log()[start:]
		var served []int64
		for _, e := range log {
			if strings.HasPrefix(e.Path, "/rec/file/") {
				served = append(served, e.Bytes)
			}
		}
		// Two requests: the first cut short, the second a Range request
		// for less than the whole file. The server may have written more
		// of the first than reached the client before the reset, so the
		// two may overlap.
		if len(served) != 2 || served[0] <= 0 || served[0] >= size || served[1] >= size || served[0]+served[1] < size {
			t.Errorf("bytes served per request %v, want a cut first part and a ranged rest of %d", served, size)
		}
	})
	t.Run("wrong size", func(t *testing.T) {
		var got bytes.Buffer
		_, err := c.Download(ctx, url, 0, &got, size+1)
		if e, ok := err.(*Error); !ok || e.Kind != Invalid {
			t.Fatalf("err = %v, want Invalid size error", err)
		}
	})
	t.Run("malformed URL", func(t *testing.T) {
		bad := url + "%zz?access_token=secret-value"
		before := len(srv.Log())
		_, err := c.Download(ctx, bad, 0, &bytes.Buffer{}, size)
		if e, ok := err.(*Error); !ok || e.Kind != Invalid || strings.Contains(err.Error(), "secret-value") {
			t.Fatalf("err = %v, want an Invalid error that does not quote the URL", err)
		}
		if n := len(srv.Log()) - before; n != 0 {
			t.Errorf("%d requests for a malformed URL, want 0", n)
		}
	})
	t.Run("voicemail", func(t *testing.T) {
		p, err := c.Page(ctx, EndpointVoicemails, jane, c.Windows(EndpointVoicemails)[0])
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			VMs []struct {
				URL string `json:"download_url"`
			} `json:"voice_mails"`
		}
		if err := json.Unmarshal(p.Body, &page); err != nil || len(page.VMs) == 0 {
			t.Fatalf("no voicemail in the newest window: %v", err)
		}
		var got bytes.Buffer
		n, err := c.Download(ctx, page.VMs[0].URL, 0, &got, 0)
		if err != nil || n == 0 || int64(got.Len()) != n {
			t.Fatalf("Download = %d, %v", n, err)
		}
		log := srv.Log()
		if last := log[len(log)-1]; last.Category != "Medium" || !last.Phone || last.Bytes != n {
			t.Errorf("voicemail download logged as %+v, want a Phone Medium call of %d bytes", last, n)
		}
	})
}

// TestPhoneDownloadBuckets: a Phone recording's audio counts in the Phone
// Medium bucket and its transcript in Phone Light, as Zoom counts them, so
// transcripts spend no Medium call.
func TestPhoneDownloadBuckets(t *testing.T) {
	srv := newServer(t)
	var got []Bucket
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Observe = func(ev Event) { got = append(got, ev.Bucket) }
	})
	var rec *zoomtest.PhoneRecording
	for i, r := range srv.Dataset().User(jane).Phone.Recordings {
		if r.Transcript > 0 {
			rec = &srv.Dataset().User(jane).Phone.Recordings[i]
			break
		}
	}
	if rec == nil {
		t.Fatal("jane has no phone recording with a transcript")
	}
	for _, tt := range []struct {
		path string
		want Bucket
	}{
		{"/phone/recording/download/" + rec.ID, Bucket{Medium, true}},
		{"/phone/recording_transcript/download/" + rec.ID, Bucket{Light, true}},
	} {
		got = nil
		if _, err := c.Download(t.Context(), srv.APIURL+tt.path, 0, io.Discard, 0); err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if len(got) == 0 || got[0] != tt.want {
			t.Errorf("%s: buckets %v, want %v", tt.path, got, tt.want)
		}
		if n := srv.RateLimited(); len(n) != 0 {
			t.Errorf("%s: 429s %v", tt.path, n)
		}
	}
	// Zoom's own count agrees.
	for _, le := range srv.Log() {
		if strings.Contains(le.Path, "/recording_transcript/") && le.Category != "Light" {
			t.Errorf("the emulator counts %s as %s", le.Path, le.Category)
		}
	}
}
