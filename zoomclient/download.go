package zoomclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// EndpointDownload names media downloads in errors, logs and events. File
// URLs are not API calls and are not throttled, except Phone files served
// under the API URL, which count in a Phone bucket (phoneDownloads).
var EndpointDownload = Endpoint{Name: "download", Path: "{download_url}", Category: Medium}

// phoneDownloads are the categories of the Phone file operations by path
// prefix (PH26): a recording's and a voicemail's audio are Medium, a
// recording's transcript Light. Counting a transcript as Medium spent the
// Medium bucket on calls Zoom does not count there.
var phoneDownloads = map[string]Category{
	"/phone/recording/download/":            Medium,
	"/phone/voice_mails/download/":          Medium,
	"/phone/recording_transcript/download/": Light,
}

// Download writes the file at fileURL (a recording's or voicemail's
// download_url) to w from byte offset on, with the account's bearer token,
// following redirects, under the same retry policy as API calls (do). A
// connection lost mid-file is resumed with a Range request from the last
// byte written. size is the expected total size of the file (≤ 0 if
// unknown); a file of another size is an error. It returns the bytes
// written to w by this call, so a caller whose context ended may resume at
// offset+n.
func (c *Client) Download(ctx context.Context, fileURL string, offset int64, w io.Writer, size int64) (int64, error) {
	return c.download(ctx, &request{ep: EndpointDownload}, fileURL, offset, w, size)
}

// download is Download counting its HTTP calls in r.calls.
func (c *Client) download(ctx context.Context, r *request, fileURL string, offset int64, w io.Writer, size int64) (int64, error) {
	ep := r.ep
	if strings.HasPrefix(fileURL, c.api+"/phone/") {
		ep.Phone = true
		for prefix, cat := range phoneDownloads {
			if strings.HasPrefix(fileURL, c.api+prefix) {
				ep.Category = cat
			}
		}
	}
	r.ep = ep
	if offset < 0 || (size > 0 && offset > size) {
		return 0, c.newError(r, Invalid, "offset outside the file")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fileURL, nil)
	if err != nil {
		return 0, c.newError(r, Invalid, "malformed download URL") // not quoted: it may hold a token
	}
	if size > 0 && offset == size {
		return 0, nil
	}
	var th *throttle
	if strings.HasPrefix(fileURL, c.api+"/") {
		th = c.limits.get(ep.Bucket())
	}
	var n int64
	_, err = c.do(ctx, r, th, func(_ context.Context, tok string) result {
		got, res := c.fetchRange(req, tok, offset+n, w)
		r.calls++
		n += got
		if res.err != nil && size > 0 && offset+n == size {
			res.err = nil // cut after its last byte: the file is whole
		}
		return res
	})
	if err != nil {
		return n, err
	}
	if size > 0 && offset+n != size {
		return n, c.newError(r, Invalid, fmt.Sprintf("file has %d bytes, expected %d", offset+n, size))
	}
	return n, nil
}

// fetchRange makes one GET of the file from byte from on and copies the
// body to w. It returns the bytes written and the outcome; a body cut
// short is a transient failure.
func (c *Client) fetchRange(file *http.Request, tok string, from int64, w io.Writer) (int64, result) {
	req := file.Clone(file.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, result{err: transportError(err)}
	}
	defer resp.Body.Close()
	res := result{status: resp.StatusCode, header: resp.Header, rateLimit: resp.Header.Get("X-RateLimit-Type"),
		tracking: resp.Header.Get("X-Zm-Trackingid")}
	switch resp.StatusCode {
	case http.StatusOK:
		// The server ignored Range: skip what we already have.
		if from > 0 {
			if _, err := io.CopyN(io.Discard, resp.Body, from); err != nil {
				res.err = fmt.Errorf("skipping to offset: %w", transportError(err))
				return 0, res
			}
		}
	case http.StatusPartialContent:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != from {
			res.status, res.err = 0, errors.New("answer to a range request starts at the wrong offset")
			return 0, res
		}
	case http.StatusRequestedRangeNotSatisfiable:
		res.message = "offset past the end of the file"
		return 0, res
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		res.code, res.message = parseZoomError(body, resp.StatusCode, "")
		return 0, res
	}
	var want int64 = -1
	if resp.ContentLength >= 0 {
		want = resp.ContentLength
		if resp.StatusCode == http.StatusOK {
			want -= from
		}
	}
	ww := &watchWriter{w: w}
	n, err := io.Copy(ww, resp.Body)
	switch {
	case ww.err != nil:
		res.werr = ww.err
	case err != nil:
		res.err = fmt.Errorf("reading the file: %w", transportError(err))
	case want >= 0 && n != want:
		res.err = fmt.Errorf("reading the file: %w", io.ErrUnexpectedEOF)
	}
	return n, res
}

// watchWriter tells a failure of the caller's writer (not retried) from
// one of the connection (resumed).
type watchWriter struct {
	w   io.Writer
	err error
}

func (ww *watchWriter) Write(p []byte) (int, error) {
	n, err := ww.w.Write(p)
	if err != nil {
		ww.err = err
	}
	return n, err
}

// contentRangeStart parses the first byte of "bytes 100-199/200".
func contentRangeStart(s string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(first, 10, 64)
	return v, err == nil
}
