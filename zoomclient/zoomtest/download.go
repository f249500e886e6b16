package zoomtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// fileContent is the bytes of a generated file: deterministic from the
// file id, produced on demand in 4 KiB blocks so that no file is ever held
// in memory whole and any offset can be read (Range requests).
type fileContent struct {
	seed uint64
	size int64
	off  int64
	blk  int64 // index of the block in buf, -1 if none
	buf  [4096]byte
}

func newFileContent(id string, size int64) *fileContent {
	h := fnv.New64a()
	h.Write([]byte(id))
	return &fileContent{seed: h.Sum64(), size: size, blk: -1}
}

// FileBytes returns the content of a generated recording or voicemail file,
// so tests can check what they downloaded.
func FileBytes(id string, size int64) []byte {
	b, _ := io.ReadAll(io.LimitReader(newFileContent(id, size), size))
	return b
}

func (f *fileContent) Read(p []byte) (int, error) {
	if f.off >= f.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && f.off < f.size {
		blk := f.off / int64(len(f.buf))
		if blk != f.blk {
			r := rand.New(rand.NewPCG(f.seed, uint64(blk)))
			for i := 0; i < len(f.buf); i += 8 {
				binary.LittleEndian.PutUint64(f.buf[i:], r.Uint64())
			}
			f.blk = blk
		}
		in := f.off % int64(len(f.buf))
		c := copy(p[n:], f.buf[in:min(int64(len(f.buf)), in+f.size-f.off)])
		n += c
		f.off += int64(c)
	}
	return n, nil
}

func (f *fileContent) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, errors.New("zoomtest: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("zoomtest: negative offset")
	}
	f.off = offset
	return offset, nil
}

var contentTypes = map[string]string{
	"MP4": "video/mp4", "M4A": "audio/mp4", "TXT": "text/plain", "VTT": "text/vtt", "CSV": "text/csv",
	"JSON": "application/json", "JPG": "image/jpeg", "MP3": "audio/mpeg",
}

// serveFile writes a generated file, honouring Range and If-Range
// (206, Content-Range, 416) through http.ServeContent.
func serveFile(w http.ResponseWriter, r *http.Request, f fileRef) {
	ct, ok := contentTypes[f.ext]
	if !ok {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+f.id+"."+f.ext+`"`)
	http.ServeContent(w, r, "", f.mod, newFileContent(f.id, f.size))
}

// downloadLinkTTL is how long the redirect target of a cloud recording
// download stays valid.
const downloadLinkTTL = 5 * time.Minute

// downloadRedirect is a recording's download_url: like Zoom it answers
// with a redirect to where the bytes are, which needs no token.
// Authentication is a Bearer token or, as the 2023 spec still allows on
// download URLs, access_token in the query.
func (e *Emulator) downloadRedirect(w http.ResponseWriter, r *http.Request, le *LogEntry) {
	_, info, zerr := e.authenticate(r, true)
	if zerr != nil {
		writeError(w, le, zerr)
		return
	}
	le.Account = info.account
	id := r.PathValue("fileId")
	f, ok := e.index.files[id]
	if !ok || f.account != info.account {
		writeError(w, le, &zoomError{http.StatusNotFound, 3301, "There is no recording for this meeting."})
		return
	}
	exp := strconv.FormatInt(e.clock.Now().Add(downloadLinkTTL).Unix(), 10)
	http.Redirect(w, r, "/rec/file/"+id+"?expires="+exp+"&sig="+e.fileSig(id, exp), http.StatusFound)
}

func (e *Emulator) fileSig(id, exp string) string {
	m := hmac.New(sha256.New, e.pageKey)
	m.Write([]byte("file\x00" + id + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// downloadFile serves the bytes behind a signed, expiring link.
func (e *Emulator) downloadFile(w http.ResponseWriter, r *http.Request, le *LogEntry) {
	id, q := r.PathValue("fileId"), r.URL.Query()
	exp := q.Get("expires")
	f, ok := e.index.files[id]
	t, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || !hmac.Equal([]byte(q.Get("sig")), []byte(e.fileSig(id, exp))) || e.clock.Now().Unix() >= t {
		writeError(w, le, &zoomError{http.StatusForbidden, 403, "The download link is invalid or has expired."})
		return
	}
	le.Account = f.account
	if fault, delay := e.faults.pick("GET /rec/download/{fileId}"); fault != "" {
		if fileFault(w, r, le, fault, delay) {
			return
		}
	}
	serveFile(w, r, f)
}

// fileFault applies a fault to a file download; truncate and garble have
// no meaning for a binary body and become resets.
func fileFault(w http.ResponseWriter, r *http.Request, le *LogEntry, f Fault, delay time.Duration) bool {
	le.Fault = string(f)
	switch f {
	case FaultSlow:
		return sleepCtx(r.Context(), delay) != nil
	case FaultReset, FaultTruncate, FaultGarble:
		le.Fault = string(FaultReset)
		resetMidBody(w)
		return false
	case FaultRevoke, Fault500:
		writeError(w, le, &zoomError{http.StatusInternalServerError, 500, "Internal server error."})
		return true
	default:
		status, _ := strconv.Atoi(string(f))
		w.WriteHeader(status)
		return true
	}
}

func (e *Emulator) downloadPhoneRecording(c *call) { e.phoneFile(c, e.index.phone) }

func (e *Emulator) downloadVoicemail(c *call) { e.phoneFile(c, e.index.voice) }

// phoneFile serves a phone recording or voicemail: unknown files are
// 400 with code 404 [PH26].
func (e *Emulator) phoneFile(c *call, files map[string]fileRef) {
	if !phoneOn(c) {
		return
	}
	f, ok := files[c.r.PathValue("fileId")]
	if !ok || f.account != c.ai.a.ID {
		c.fail(&zoomError{http.StatusBadRequest, 404, "File does not exist."})
		return
	}
	switch Fault(c.le.Fault) {
	case FaultTruncate, FaultGarble:
		c.le.Fault = string(FaultReset)
		resetMidBody(c.w)
	}
	serveFile(c.w, c.r, f)
}
