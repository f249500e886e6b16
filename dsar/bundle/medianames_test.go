package bundle

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
)

// TestMediaNames: a media file's name in the bundle says when, who or what
// and which kind of file, in the subject's zone; files that would share a
// name are numbered, and a meeting's files from two parts share its folder.
func TestMediaNames(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	in := Input{
		Request: &dsar.Request{ID: "r"},
		Sections: []Section{
			section(dsar.Section{Name: "phone_voicemails", State: dsar.SectionComplete}, "voice_mails:voice_mails"),
			section(dsar.Section{Name: "phone_recordings", State: dsar.SectionComplete}, "recordings:recordings"),
			section(dsar.Section{Name: "cloud_recordings", State: dsar.SectionComplete}, "recordings:meetings", "participant_audio:meetings"),
		},
		Files: func(section, part string, body []byte) ([]dsar.MediaFile, error) {
			switch section {
			case "phone_voicemails":
				return []dsar.MediaFile{{Record: "v1", Name: "v1.mp3"}, {Record: "v1", Name: "v1-transcript.json"}, {Record: "v2", Name: "v2.mp3"}}, nil
			case "phone_recordings":
				return []dsar.MediaFile{{Record: "c1", Name: "c1.mp3"}}, nil
			case "cloud_recordings":
				if part == "participant_audio" {
					return []dsar.MediaFile{{Record: "m1==", Name: "m1==/pa1.m4a"}}, nil
				}
				return []dsar.MediaFile{{Record: "m1==", Name: "m1==/f1.mp4"}, {Record: "m1==", Name: "m1==/audio_only.m4a"}, {Record: "m2==", Name: "m2==/f2.mp4"}}, nil
			}
			return nil, nil
		},
	}
	src := &memSource{pages: map[string][]dsar.Page{
		"phone_voicemails/voice_mails":       {idPage(`{"voice_mails":[{"id":"v1","date_time":"2026-05-03T12:32:00Z","caller_name":"Alice Smith"},{"id":"v2","date_time":"2026-05-03T12:32:00Z","caller_name":"Alice/Smith"}]}`, "v1", "v2")},
		"phone_recordings/recordings":        {idPage(`{"recordings":[{"id":"c1","date_time":"2026-01-10T08:00:00Z","direction":"outbound","caller_name":"Subject","callee_name":"Bob"}]}`, "c1")},
		"cloud_recordings/recordings":        {idPage(`{"meetings":[{"uuid":"m1==","start_time":"2026-05-04T08:00:00Z","topic":"Weekly sync"},{"uuid":"m2==","start_time":"2026-05-04T08:00:00Z","topic":"Weekly sync"}]}`, "m1==", "m2==")},
		"cloud_recordings/participant_audio": {idPage(`{"meetings":[{"uuid":"m1==","start_time":"2026-05-04T08:00:00Z","topic":"Weekly sync"}]}`, "m1==")},
	}}
	got, err := mediaNames(t.Context(), in, src, berlin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"media/phone_voicemails/v1.mp3":              "media/phone_voicemails/2026-05-03 1432 voicemail from Alice Smith - audio.mp3",
		"media/phone_voicemails/v1-transcript.json":  "media/phone_voicemails/2026-05-03 1432 voicemail from Alice Smith - transcript.json",
		"media/phone_voicemails/v2.mp3":              "media/phone_voicemails/2026-05-03 1432 voicemail from Alice-Smith - audio.mp3",
		"media/phone_recordings/c1.mp3":              "media/phone_recordings/2026-01-10 0900 call with Bob - audio.mp3",
		"media/cloud_recordings/m1==/f1.mp4":         "media/cloud_recordings/2026-05-04 1000 Weekly sync/video.mp4",
		"media/cloud_recordings/m1==/audio_only.m4a": "media/cloud_recordings/2026-05-04 1000 Weekly sync/audio only (audio).m4a",
		"media/cloud_recordings/m1==/pa1.m4a":        "media/cloud_recordings/2026-05-04 1000 Weekly sync/audio.m4a",
		"media/cloud_recordings/m2==/f2.mp4":         "media/cloud_recordings/2026-05-04 1000 Weekly sync 2/video.mp4",
	}
	if !maps.Equal(got, want) {
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				t.Errorf("%s: got %q, want %q", k, got[k], want[k])
			}
		}
		t.Errorf("%d names, want %d", len(got), len(want))
	}
	for _, n := range got {
		if !validMediaPath(n) || !dsar.ValidMediaName(n[len("media/"):]) {
			t.Errorf("%q is no valid media path", n)
		}
	}
}
