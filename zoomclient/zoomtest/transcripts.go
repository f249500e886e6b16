package zoomtest

import (
	"net/http"
	"strconv"
)

// getVoicemail is GET /phone/voice_mails/{voicemailId}: the voicemail with
// its transcription; an unknown id is 400/300 [PH26]. The list of
// voicemails does not say whether a transcription exists, so a client
// asks for each voicemail it keeps.
func (e *Emulator) getVoicemail(c *call) {
	if !phoneOn(c) {
		return
	}
	id := c.r.PathValue("voicemailId")
	raw := c.ai.x.voicemails[id]
	if raw == nil {
		c.fail(&zoomError{http.StatusBadRequest, 300, "Voice mail does not exist: " + id + "."})
		return
	}
	c.reply(raw)
}

// downloadRecordingTranscript is GET
// /phone/recording_transcript/download/{recordingId}: a 302 to the
// transcript file, for the recordings whose list entry carries a
// transcript_download_url; others are 400/404 "File does not exist."
// [PH26]. The file host serves the bytes as it serves recordings.
func (e *Emulator) downloadRecordingTranscript(c *call) {
	if !phoneOn(c) {
		return
	}
	fid, ok := c.ai.x.transcripts[c.r.PathValue("recordingId")]
	if !ok {
		c.fail(&zoomError{http.StatusBadRequest, 404, "File does not exist."})
		return
	}
	exp := strconv.FormatInt(c.now.Add(downloadLinkTTL).Unix(), 10)
	http.Redirect(c.w, c.r, "/rec/file/"+fid+"?expires="+exp+"&sig="+e.fileSig(fid, exp), http.StatusFound)
}
