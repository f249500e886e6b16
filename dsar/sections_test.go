package dsar_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"html"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/zoomdsar/zoom-dsar/dsar"
	"github.com/zoomdsar/zoom-dsar/dsar/bundle"
	"github.com/zoomdsar/zoom-dsar/zoomclient"
	"github.com/zoomdsar/zoom-dsar/zoomclient/zoomtest"
)

// TestCollectItemSections collects the sections fetched item by item
// (meetings attended, summaries, groups, SMS, transcriptions,
// participant audio) and checks records and media against the dataset,
// that nothing was fetched twice, and that the account's summaries of
// other hosts never reach the bundle.
func TestCollectItemSections(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMedia(envConfig{}, nil))
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	m := e.verify(r)
	d := e.srv.Dataset()
	u := d.User(jane)
	sixAgo := time.Date(t0.Year(), t0.Month()-6, t0.Day(), 0, 0, 0, 0, time.UTC)
	in := func(at time.Time) bool { return !at.Before(sixAgo) }

	var attended, sms, smsFiles, summaries, transcripts, audio int64
	for _, mt := range u.Meetings {
		if mt.Past() && mt.ParticipantsCount >= 2 && in(mt.StartTime) {
			attended++
		}
	}
	for _, j := range u.Joined {
		if in(j.StartTime) {
			attended++
		}
	}
	for _, s := range u.SMS {
		if in(s.Last()) {
			sms += 1 + int64(len(s.Messages))
			for _, msg := range s.Messages {
				smsFiles += int64(len(msg.Attachments))
			}
		}
	}
	for _, s := range u.Summaries {
		if in(s.MeetingStart) {
			summaries++
		}
	}
	for _, rec := range u.Phone.Recordings {
		if rec.Transcript > 0 {
			transcripts++
		}
	}
	for _, rec := range u.Recordings {
		audio += int64(len(rec.ParticipantAudio))
	}

	want := map[string]int64{
		dsar.SectionMeetingsAttended: attended,
		dsar.SectionPhoneSMS:         sms,
		dsar.SectionMeetingSummaries: summaries,
		dsar.SectionGroups:           int64(len(u.GroupIDs) + len(u.IMGroupIDs)),
	}
	got := records(m)
	for s, n := range want {
		if n == 0 {
			t.Errorf("%s: the dataset holds nothing to collect", s)
		}
		if got[s] != n {
			t.Errorf("%s: %d records in the bundle, the dataset has %d", s, got[s], n)
		}
	}

	media := map[string]int64{}
	for _, en := range m.Entries {
		switch {
		case strings.HasPrefix(en.Path, "media/"+dsar.SectionPhoneRecordings+"/") && strings.HasSuffix(en.Path, "transcript.json"):
			media["transcripts"]++
		case strings.HasPrefix(en.Path, "media/"):
			media[strings.Split(en.Path, "/")[1]]++
		}
	}
	for k, n := range map[string]int64{
		"transcripts":        transcripts,
		dsar.SectionPhoneSMS: smsFiles,
	} {
		if n == 0 || media[k] != n {
			t.Errorf("media %s: %d files in the bundle, the dataset has %d", k, media[k], n)
		}
	}
	var recFiles int64
	for _, rec := range u.Recordings {
		recFiles += int64(len(rec.Files))
	}
	if audio == 0 || media[dsar.SectionCloudRecordings] != recFiles+audio {
		t.Errorf("cloud recording media: %d files, want %d recording files and %d participant audio files",
			media[dsar.SectionCloudRecordings], recFiles, audio)
	}
	if dups := refetched(e.srv); len(dups) > 0 {
		t.Errorf("fetched twice: %v", dups)
	}

	var ms struct {
		Summaries []struct {
			Host string `json:"meeting_host_id"`
		} `json:"summaries"`
		Summary map[string]json.RawMessage `json:"summary"`
	}
	readEntry(t, nil, r, bundle.DataPath(dsar.SectionMeetingSummaries), &ms)
	for _, s := range ms.Summaries {
		if s.Host != u.ID {
			t.Errorf("a summary of host %s is in jane's bundle", s.Host)
		}
	}
	if int64(len(ms.Summaries)) != summaries || int64(len(ms.Summary)) != summaries {
		t.Errorf("%d summaries listed, %d fetched, want %d", len(ms.Summaries), len(ms.Summary), summaries)
	}
	var others int
	for _, v := range d.Accounts[0].Users {
		if v != u {
			others += len(v.Summaries)
		}
	}
	if others == 0 {
		t.Error("no other host has summaries: the filter is not tested")
	}
}

// bundleEntry returns the bytes of one entry of a bundle.
func bundleEntry(t *testing.T, path, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHeavyQuotaParksOnlyHeavy spends the Heavy daily cap during
// meetings_attended: that section waits for 00:00 UTC while the other
// sections, in other buckets, are collected; no Heavy call is made before
// the reset, and the request then completes with nothing fetched twice,
// its oldest window moved forward to the day Zoom's six months begin on
// the second day, and the manifest says so.
// heavyCap is an emulator whose Heavy bucket has a daily cap of n and
// fast per-second limits, and a client that uses them.
func heavyCap(n int) envConfig {
	fast := zoomtest.Rate{N: 200, Per: time.Second}
	return envConfig{
		zoom: []zoomtest.Option{zoomtest.WithLimits(zoomtest.Limits{
			Rate:  map[string]zoomtest.Rate{zoomtest.Light: fast, zoomtest.Medium: fast, zoomtest.Heavy: fast},
			Daily: map[string]int{zoomtest.Heavy: n},
		})},
		client: func(c *zoomclient.Config) {
			c.Limits = map[zoomclient.Bucket]float64{
				{Category: zoomclient.Light}: 200, {Category: zoomclient.Medium}: 200, {Category: zoomclient.Heavy}: 200,
			}
		},
	}
}

func TestHeavyQuotaParksOnlyHeavy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, heavyCap(5)) // meetings_attended needs 7 windows: two days
	r := e.wait(e.create(jane).ID, inState(dsar.StateWaitingQuota, dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateWaitingQuota {
		t.Fatalf("state %s (%s), want WAITING_QUOTA", r.State, r.Reason)
	}
	_, secs, err := e.proc.Request(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		want := dsar.SectionComplete
		if s.Name == dsar.SectionMeetingsAttended {
			want = dsar.SectionWaitingQuota
		}
		if s.State != want && s.State != dsar.SectionNotApplicable {
			t.Errorf("%s: %s (%s), want %s", s.Name, s.State, s.Reason, want)
		}
	}
	parkedAt := len(e.srv.Log())
	midnight := time.Date(t0.Year(), t0.Month(), t0.Day()+1, 0, 0, 0, 0, time.UTC)
	if d := r.WaitingUntil.Sub(midnight); d < -time.Second || d > time.Second {
		t.Fatalf("waiting until %v, want %v", r.WaitingUntil, midnight)
	}
	if d := r.WaitingUntil.Sub(midnight); d < -time.Second || d > time.Second {
		t.Fatalf("waiting until %v, want %v", r.WaitingUntil, midnight)
	}
	e.srv.Clock().Set(midnight.Add(time.Minute))
	r = e.wait(r.ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	var heavyBefore, heavyAfter int
	for i, le := range e.srv.Log() {
		switch {
		case le.Category != zoomtest.Heavy || le.Status == 429:
		case le.Time.Before(midnight):
			heavyBefore++
		case i >= parkedAt:
			heavyAfter++
		}
	}
	if heavyBefore != 5 || heavyAfter == 0 {
		t.Errorf("%d Heavy calls answered before the reset (want the cap, 5), %d after it", heavyBefore, heavyAfter)
	}
	if d := refetched(e.srv); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}
	// The second day's start was moved to Zoom's horizon then; the
	// manifest claims no more than that.
	m := e.verify(r)
	for _, ms := range m.Sections {
		if ms.Name != dsar.SectionMeetingsAttended {
			continue
		}
		want := time.Date(midnight.Year(), midnight.Month()-6, midnight.Day(), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		if n := len(ms.Windows); n == 0 || ms.Windows[n-1].From != want {
			t.Errorf("manifest windows of meetings_attended %v, want the oldest from %s", ms.Windows, want)
		}
	}
}

// TestItemGone: a voicemail deleted between the list and the fetch of its
// transcription (Zoom's documented "does not exist" answer) is passed
// over: the section completes with every other transcription, the list
// keeps the voicemail, and the call that found it gone is counted.
func TestItemGone(t *testing.T) {
	t.Parallel()
	var gone string
	e := newEnv(t, envConfig{proc: func(c *dsar.Config) {
		z := c.Accounts["main"]
		c.Accounts["main"] = &zoomFn{Zoom: z, fetchFn: func(ctx context.Context, subject dsar.Subject, section, part string, cur dsar.Cursor) (dsar.Fetched, error) {
			if part == dsar.PartTranscriptions && (gone == "" || gone == cur.Item) {
				gone = cur.Item
				return dsar.Fetched{}, &dsar.ZoomError{Kind: dsar.ZoomExpired, Code: 300, Message: "Voice mail does not exist.", Calls: 1}
			}
			return z.Fetch(ctx, subject, section, part, cur)
		}}
	}})
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	s := section(t, e, r.ID, dsar.SectionPhoneVoicemails)
	vms := int64(len(e.srv.Dataset().User(jane).Phone.Voicemails))
	tr := s.Part(dsar.PartTranscriptions)
	if s.State != dsar.SectionComplete || s.Records != vms || tr == nil || !tr.Done || tr.Pages != vms-1 || tr.Calls != vms {
		t.Errorf("voicemails %s, %d records, transcriptions %+v; want COMPLETE, %d records, %d pages in %d calls",
			s.State, s.Records, tr, vms, vms-1, vms)
	}
	var v struct {
		List []struct {
			ID string `json:"id"`
		} `json:"phone_voicemails"`
		Transcriptions map[string]json.RawMessage `json:"transcriptions"`
	}
	readEntry(t, nil, r, bundle.DataPath(dsar.SectionPhoneVoicemails), &v)
	if _, ok := v.Transcriptions[gone]; ok || int64(len(v.List)) != vms || int64(len(v.Transcriptions)) != vms-1 {
		t.Errorf("bundle: %d voicemails, %d transcriptions (the gone one: %v)", len(v.List), len(v.Transcriptions), ok)
	}
}

// TestFreePlanNotApplicable: on a free plan Zoom answers the report of
// meetings attended, the AI summaries, the groups and Team Chat with its
// paid-plan or permission code: those sections end NOT_APPLICABLE with
// Zoom's reason, and the request completes.
func TestFreePlanNotApplicable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{zoom: []zoomtest.Option{zoomtest.WithPlan(zoomtest.Free)}})
	r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
	if r.State != dsar.StateCompleted {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	for _, name := range []string{dsar.SectionMeetingsAttended, dsar.SectionMeetingSummaries, dsar.SectionGroups, dsar.SectionTeamChat} {
		s := section(t, e, r.ID, name)
		if s.State != dsar.SectionNotApplicable || s.ReasonCode != 200 || s.Reason == "" {
			t.Errorf("%s: %s, code %d (%s); want NOT_APPLICABLE with Zoom's code 200", name, s.State, s.ReasonCode, s.Reason)
		}
	}
	e.verify(r)
}

// TestTeamChatPolicies collects jane's Team Chat under each policy: the
// store and the bundle hold exactly the messages the policy keeps (what it
// drops is never stored), with their files, and the manifest and report
// say what was left out.
func TestTeamChatPolicies(t *testing.T) {
	t.Parallel()
	for _, policy := range []dsar.ChatPolicy{dsar.ChatOwn, dsar.ChatConversations, dsar.ChatChannels} {
		t.Run(string(policy), func(t *testing.T) {
			t.Parallel()
			// The stored pages are read once completed.
			keep := func(c *dsar.Config) { c.Retention.KeepCollected = true }
			e := newEnv(t, withMedia(envConfig{client: func(c *zoomclient.Config) { c.ChatPolicy = policy }, proc: keep}, nil))
			r := e.wait(e.create(jane).ID, inState(dsar.StateCompleted, dsar.StateFailed))
			if r.State != dsar.StateCompleted {
				t.Fatalf("state %s (%s)", r.State, r.Reason)
			}
			sixAgo := time.Date(t0.Year(), t0.Month()-6, t0.Day(), 0, 0, 0, 0, time.UTC)
			want, files := e.srv.Dataset().User(jane).ChatKept(string(policy), sixAgo)
			stored := map[string]bool{}
			err := e.db.Pages(t.Context(), r.ID, dsar.SectionTeamChat, dsar.PartMessages, func(pg dsar.Page) error {
				for _, id := range pg.IDs {
					if !want[id] {
						t.Errorf("message %s is stored; the policy drops it", id)
					}
					stored[id] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(stored) != len(want) || len(want) == 0 {
				t.Errorf("%d messages stored, the policy keeps %d", len(stored), len(want))
			}
			m := e.verify(r)
			for _, s := range m.Sections {
				if s.Name == dsar.SectionTeamChat && (s.Note != policy.Words() || s.MediaFiles != len(files)) {
					t.Errorf("manifest: note %q, %d files; want %q, %d", s.Note, s.MediaFiles, policy.Words(), len(files))
				}
			}
			var data struct {
				Messages map[string][]struct {
					ID string `json:"id"`
				} `json:"messages"`
			}
			readEntry(t, nil, r, bundle.DataPath(dsar.SectionTeamChat), &data)
			n := 0
			for _, msgs := range data.Messages {
				for _, msg := range msgs {
					n++
					if !want[msg.ID] {
						t.Errorf("the bundle holds message %s, which the policy drops", msg.ID)
					}
				}
			}
			if n != len(want) {
				t.Errorf("the bundle holds %d messages, want %d", n, len(want))
			}
			if report := string(bundleEntry(t, r.Bundle.Path, "index.html")); !strings.Contains(report, html.EscapeString(policy.Words())) {
				t.Error("the report does not say what the policy left out")
			}
		})
	}
}
